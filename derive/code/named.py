"""A pair named in a derivation file: `[code]` with the file and the functions, shapes in `[inputs]`.

    [code]
    file = "layers.py"            # in this file's folder or below it
    forward = "affine_forward"    # or a torch.autograd.Function class: forward = "LinearFunction"
    backward = "affine_backward"  # omitted for a loss function or a Function class

    [sizes]
    N = 3

    [inputs]                      # every input of the forward, as in a derivation file
    x = "N x D"

The code is read exactly as in code mode (`derive.code.lower`); only the pair and its shapes come from here, so a
file of layers without `# derive-check:` comments can be checked, one pair per derivation file.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

from derive_check.derive.code.declare import Declarations, Declared
from derive_check.derive.code.lower import lower
from derive_check.derive.code.pairs import Pair, read_module
from derive_check.derive.errors import InputError, Location, did_you_mean
from derive_check.derive.model.declarations import read_sizes, table
from derive_check.derive.model.spec import ModelSpec, inside, read_source
from derive_check.derive.source import locate

KEYS = {"code", "sizes", "inputs", "title", "source", "note"}
CODE_KEYS = {"file", "forward", "backward"}


def load_named(path: Path, text: str, data: dict[str, Any]) -> ModelSpec:
    """The pair a derivation file's [code] table names, as a model (whose `file` is the Python file)."""
    file = str(path)
    for key in sorted(set(data) - KEYS):
        raise InputError(
            f"[{key}] is not read beside [code]{did_you_mean(key, KEYS)} (known: {', '.join(sorted(KEYS))})",
            locate(file, text, "", key),
        )
    code = table(data, "code", file, text)
    for key in sorted(set(code) - CODE_KEYS):
        raise InputError(
            f"unknown key '{key}' of [code]{did_you_mean(key, CODE_KEYS)}", locate(file, text, "code", key)
        )
    for key in ("file", "forward"):
        if not isinstance(code.get(key), str):
            raise InputError(
                f'[code] needs {key} = "..."', locate(file, text, "code", key) if key in code else Location(file)
            )
    source = inside(path, str(code["file"]), locate(file, text, "code", "file", str(code["file"])), "file", ".py")
    py = str(source)
    python = read_source(source.resolve(), py).removeprefix("\ufeff")  # read once, where `inside` resolved it
    module = read_module(py, python)
    lines = python.splitlines()
    pair = _pair(file, text, module.helpers, ast.parse(python), code)
    sizes = read_sizes(file, text, table(data, "sizes", file, text), None)
    decls = {
        str(name): Declared(str(name), str(value), locate(file, text, "inputs", str(name), str(value)))
        for name, value in table(data, "inputs", file, text).items()
    }
    spec = lower(py, lines, module.helpers, module.modules, module.constants, pair, Declarations(decls, sizes))
    return replace(
        spec,
        title=str(data.get("title", spec.title)),
        source=str(data.get("source", spec.source)),
        note=str(data.get("note", spec.note)),
    )


def _pair(file: str, text: str, helpers: dict[str, ast.FunctionDef], tree: ast.Module, code: dict[str, Any]) -> Pair:
    forward, backward = str(code["forward"]), code.get("backward")
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    if forward in classes:
        methods = {n.name: n for n in classes[forward].body if isinstance(n, ast.FunctionDef)}
        if "forward" not in methods or "backward" not in methods:
            raise InputError(
                f"class {forward} has no forward and backward methods", locate(file, text, "code", "forward")
            )
        return Pair(forward, "torch Function", methods["forward"], methods["backward"], line=classes[forward].lineno)
    if forward not in helpers:
        hint = did_you_mean(forward, [*helpers, *classes])
        raise InputError(
            f"no function {forward} in the code file{hint}", locate(file, text, "code", "forward", forward)
        )
    if backward is None:
        return Pair(forward, "loss function", helpers[forward], None, line=helpers[forward].lineno)
    if not isinstance(backward, str) or backward not in helpers:
        hint = did_you_mean(str(backward), list(helpers))
        raise InputError(f"no function {backward} in the code file{hint}", locate(file, text, "code", "backward"))
    stem = forward.removesuffix("_forward")
    return Pair(stem, "numpy pair", helpers[forward], helpers[backward], line=helpers[forward].lineno)
