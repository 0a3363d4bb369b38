"""Code mode: forward/backward pairs of Python code (numpy layers, torch autograd Functions) read with `ast`,
never imported or run, into the same resolved model a derivation file gives (`derive.code.lower`).

Modules in the order data flows: `pairs` (find the pairs and helpers of a file), `declare` (their shape
declarations), `spelling` (torch names as numpy ones), `interpret` with `values`, `control`, `aliasing`,
`expressions`, `updates` and `shapes` (statements to model lines), `lower` and `toml_text` (the model, validated
by the derivation loader).
"""
