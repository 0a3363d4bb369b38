"""derive-check: prove or refute hand-derived backprop gradient formulas.

This package is the shell: the command line (`cli`), the pytest plugin and `python -m derive_check`. It is the
only place that imports all three layers, which data flows through in one direction:
`derive` (file -> resolved model -> symbolic forms) -> `verify` (decisions) -> `reports` (renderings).
"""
