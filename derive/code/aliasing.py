"""Which arrays share memory, and which statements change nothing: numpy's aliasing rules, as the reader needs them.

numpy's basic slicing (`x[:, 1:]`, `x[0]`), `.T`, `reshape` and `transpose` return views: a later in-place update
of either array changes both. The reader marks a view and the array it views as shared and refuses to update a
shared array in place (`Reader.unshared`); advanced indexing (an array or a mask as the index) copies. An
`assert` is skipped only when it can change nothing: no `:=`, and calls only of pure functions.
"""

from __future__ import annotations

import ast

from derive_check.derive.code.values import Ctx, Obj, Reading, Tup, Value, names_in

MODULES = ("np", "torch", "F")
COPIES = ("copy", "clone")
ACTIVATIONS = ("tanh", "exp", "sigmoid", "relu", "softplus", "sqrt", "log", "abs")
VIEW_METHODS = ("transpose", "reshape", "view", "swapaxes", "squeeze", "ravel", "t", "unsqueeze", "narrow", "expand")
PURE_CALLS = ("len", "isinstance", "np.all", "np.any", "np.allclose", "np.isclose", "np.isfinite", "np.shape")


def viewed(node: ast.expr, env: dict[str, Value]) -> Obj | None:
    """The object a numpy (or torch) view expression shares memory with: basic slicing `x[:, 1:]`, `x.T`,
    `x.reshape(...)`, `np.transpose(x)`, chained (`x[:, 1:].T`); None for an expression that makes a new array."""
    if isinstance(node, ast.Name):
        held = env.get(node.id)
        return held if isinstance(held, Obj) else None
    if isinstance(node, ast.Subscript) and _basic(node.slice, env):
        return viewed(node.value, env)
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT", "real"):
        return viewed(node.value, env)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in MODULES:
            return viewed(node.args[0], env) if node.func.attr in VIEW_METHODS and node.args else None
        return viewed(owner, env) if node.func.attr in VIEW_METHODS else None
    return None


def _basic(index: ast.expr, env: dict[str, Value]) -> bool:
    """Basic indexing (slices, numbers, None, a loop's index): numpy returns a view; an array or a mask as an
    index (advanced indexing) makes a copy."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            continue
        for name in names_in(part):
            held = env.get(name)
            if not (isinstance(held, Obj) and isinstance(held.expr, ast.Constant)):
                return False  # an array (or anything but a number) as an index
    return True


def pure(reader: Reading, stmt: ast.Assert) -> None:
    """An `assert` is skipped only when it cannot change anything: no `:=`, and calls only of pure functions."""
    for node in ast.walk(stmt):
        if isinstance(node, ast.NamedExpr) or (isinstance(node, ast.Call) and ast.unparse(node.func) not in PURE_CALLS):
            raise reader.error(
                "an assert that calls a function or assigns (:=) is not read; move it out of the assert", node
            )


def activation(expr: ast.expr) -> bool:
    """`f(arg)` for an element-wise function f of one argument that is a formula, not a name."""
    if not isinstance(expr, ast.Call) or len(expr.args) != 1 or expr.keywords:
        return False
    func = expr.func
    name = (
        func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else getattr(func, "id", "")
    )
    return name in ACTIVATIONS and not isinstance(expr.args[0], ast.Name | ast.Constant)


def in_tuples(obj: Obj, env: dict[str, Value]) -> list[str]:
    found = []
    for name, value in env.items():
        stack: list[Value] = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, Tup):
                if any(i is obj for i in item.items):
                    found.append(name)
                    break
                stack.extend(item.items)
            elif isinstance(item, Ctx):
                stack.extend([*item.attrs.values(), *([item.saved] if item.saved else [])])
    return found


def copied(node: ast.Call) -> ast.expr | None:
    """`x.copy()`, `x.clone()`, `np.copy(x)`: the copied expression."""
    func = node.func
    if not isinstance(func, ast.Attribute):
        return None
    module = isinstance(func.value, ast.Name) and func.value.id in MODULES
    if func.attr in COPIES and not node.args and not node.keywords and not module:
        return func.value
    if func.attr == "copy" and len(node.args) == 1 and isinstance(func.value, ast.Name) and func.value.id == "np":
        return node.args[0]
    return None
