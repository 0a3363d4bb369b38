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
VIEW_METHODS = (
    "transpose",
    "reshape",
    "view",
    "swapaxes",
    "squeeze",
    "ravel",
    "t",
    "unsqueeze",
    "narrow",
    "expand",
    "contiguous",
    "detach",
    "float",
    "double",
    "to",
    "type_as",
    "view_as",
    "expand_as",
    "asarray",
    "asanyarray",
    "broadcast_to",
    "atleast_1d",
    "atleast_2d",
    "expand_dims",
    "moveaxis",
    "squeeze",
)  # fmt: skip  (views, or the array itself where nothing changes: torch's .float() of a float tensor is self)
PURE_CALLS = ("len", "isinstance", "np.all", "np.any", "np.allclose", "np.isclose", "np.isfinite", "np.shape")


def viewed(node: ast.expr, env: dict[str, Value], arrays: set[str]) -> Obj | None:
    """The object a numpy (or torch) view expression shares memory with: basic slicing `x[:, 1:]`, `x.T`,
    `x.reshape(...)`, `np.transpose(x)`, chained (`x[:, 1:].T`); None for an expression that makes a new array."""
    if isinstance(node, ast.Name):
        held = env.get(node.id)
        return held if isinstance(held, Obj) else None
    if isinstance(node, ast.Subscript) and _basic(node.slice, env, arrays):
        return viewed(node.value, env, arrays)
    if isinstance(node, ast.Attribute) and node.attr in ("T", "mT", "real"):
        return viewed(node.value, env, arrays)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        owner = node.func.value
        if isinstance(owner, ast.Name) and owner.id in MODULES:
            return viewed(node.args[0], env, arrays) if node.func.attr in VIEW_METHODS and node.args else None
        return viewed(owner, env, arrays) if node.func.attr in VIEW_METHODS else None
    return None


def _basic(index: ast.expr, env: dict[str, Value], arrays: set[str]) -> bool:
    """Whether an index may be basic (numpy then returns a view): anything but a clearly advanced index, an array
    (a name holding one, a list, a call such as np.arange) or a comparison (a mask), which copies. Erring
    toward a view only refuses more in-place updates, never fewer."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for part in parts:
        if isinstance(part, ast.Slice):
            continue
        if isinstance(part, ast.List | ast.Compare) or (isinstance(part, ast.Call) and not _shape_call(part)):
            return False
        for name in _index_names(part):
            held = env.get(name)
            if isinstance(held, Obj) and names_in(held.expr) & arrays:
                return False  # an array as an index
    return True


def _shape_call(node: ast.Call) -> bool:
    """`len(x)` or torch's `x.size(k)`: a number from a shape."""
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "len") or (
        isinstance(func, ast.Attribute) and func.attr == "size"
    )


def _index_names(node: ast.AST) -> set[str]:
    """The names an index reads as values: not an array whose shape it only asks (`x.shape[0] - 1`, `len(x)`)."""
    if isinstance(node, ast.Attribute) and node.attr == "shape":
        return set()
    if isinstance(node, ast.Call) and _shape_call(node):
        return set()
    if isinstance(node, ast.Name):
        return {node.id}
    return set().union(*(_index_names(child) for child in ast.iter_child_nodes(node)))


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
    """The names whose tuple or ctx holds `obj` (at any depth): other holders of the same object."""
    found = []
    for name, value in env.items():
        stack: list[Value] = [value]
        while stack:
            item = stack.pop()
            inside = list(item.items) if isinstance(item, Tup) else []
            if isinstance(item, Ctx):
                inside = [*item.attrs.values(), *([item.saved] if item.saved else [])]
            if any(i is obj for i in inside):
                found.append(name)
                break
            stack.extend(inside)
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
