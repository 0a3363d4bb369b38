"""Which arrays of the code hold booleans or integers: numpy keeps an array's dtype in an in-place update.

`g = x > 0; g[x > 0] = 0.5` stores True, and `c = (x > 0) * 1; c[...] = 0.5` stores 0: the formula for the update
would be about real numbers, the code is not. So an in-place update is read only for an array known to hold
floats. The rules follow numpy's promotion, bool < int < float: a comparison is bool; labels, sizes and
np.arange are int; a declared input or parameter, a float literal, a true division and the smooth functions
are float; arithmetic takes the larger of its operands; a selection or a transpose keeps its array's dtype.
Anything else is unknown, and unknown is not float.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

ORDER = ("bool", "int", "float")
FLOAT_CALLS = {
    "exp", "log", "tanh", "sqrt", "sigmoid", "softmax", "softplus", "relu", "leaky_relu", "mean", "var", "std",
    "log1p", "expm1", "reciprocal", "eye", "ones", "zeros",
}  # fmt: skip
KEEP = {"sum", "max", "min", "maximum", "minimum", "clip", "abs", "zeros_like", "ones_like", "transpose", "copy",
        "concatenate", "hstack", "where", "dot", "matmul", "outer", "square", "power", "sign"}  # fmt: skip


def dtype(node: ast.expr, name: Callable[[str], str]) -> str:
    """ "bool", "int", "float" or "unknown" for a formula; `name` gives a model name's dtype."""
    if isinstance(node, ast.Constant):
        value = node.value
        return (
            "bool"
            if isinstance(value, bool)
            else "int"
            if isinstance(value, int)
            else "float"
            if isinstance(value, float)
            else "unknown"
        )
    if isinstance(node, ast.Name):
        return name(node.id)
    if isinstance(node, ast.Compare):
        return "bool"
    if isinstance(node, ast.UnaryOp):
        inner = dtype(node.operand, name)
        return "int" if inner == "bool" and isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Div):
            return "float"
        return _larger(dtype(node.left, name), dtype(node.right, name))
    if isinstance(node, ast.Subscript | ast.Starred):
        return dtype(node.value, name)
    if isinstance(node, ast.Attribute):
        return dtype(node.value, name) if node.attr == "T" else "unknown"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else func.id
        own = func.value if isinstance(func, ast.Attribute) and not _module(func.value) else None
        operands = [own, *node.args] if own is not None else list(node.args)
        if called == "arange":
            return "int"
        if called == "astype" and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == "float":
            return "float"
        if called in KEEP:
            found = [dtype(a, name) for a in operands if not isinstance(a, ast.List | ast.Tuple)]
            found += [dtype(e, name) for a in operands if isinstance(a, ast.List | ast.Tuple) for e in a.elts]
            widest = _widest(found) if found else "unknown"
            return "int" if called == "sum" and widest == "bool" else widest  # a count of True values
        if called in FLOAT_CALLS:
            return "float"
    return "unknown"


def _module(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "torch", "F")


def _larger(a: str, b: str) -> str:
    if "unknown" in (a, b):
        return "unknown"
    return max(a, b, key=ORDER.index)


def _widest(found: list[str]) -> str:
    out = found[0]
    for item in found[1:]:
        out = _larger(out, item)
    return out
