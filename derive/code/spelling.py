"""Torch spellings read as the formula language's numpy spellings, as tables: one entry per name.

`x.mm(w)` is `x @ w`, `x.t()` is `x.T`, `x.sum(0)` is `np.sum(x, axis=0)`, `dim=`/`keepdim=` are
`axis=`/`keepdims=`, `x.clamp(min=0)` is `np.maximum(x, 0)`, `torch.where` is `np.where`, `x.exp()` is
`np.exp(x)`, `.float()` and `.type_as(y)` change only the dtype. Every rewrite is to a spelling whose meaning the
op table already fixes, so the op table stays the one description of each operation; a torch name without an
entry here is left as written, and the formula parser then names it as unknown. The rewrite is a pure tree
transformation: nothing is imported or called.
"""

from __future__ import annotations

import ast
from typing import ClassVar

from derive_check.derive.code.source import error_at
from derive_check.derive.errors import InputError

# torch.NAME(...) / F.NAME(...) -> the formula language's function of the same meaning
FUNCTIONS = {
    "exp": "np.exp", "log": "np.log", "tanh": "np.tanh", "sqrt": "np.sqrt", "abs": "np.abs", "sign": "np.sign",
    "where": "np.where", "maximum": "np.maximum", "minimum": "np.minimum", "sum": "np.sum", "mean": "np.mean",
    "zeros_like": "np.zeros_like", "ones_like": "np.ones_like", "arange": "np.arange", "eye": "np.eye",
    "sigmoid": "sigmoid", "relu": "relu", "softmax": "softmax", "softplus": "softplus", "square": "np.square",
    "log1p": "np.log1p", "expm1": "np.expm1", "reciprocal": "np.reciprocal", "cat": "np.concatenate",
}  # fmt: skip
# x.NAME() -> FUNCTION(x)
ELEMENTWISE_METHODS = {
    "exp": "np.exp", "log": "np.log", "tanh": "np.tanh", "sqrt": "np.sqrt", "abs": "np.abs", "sign": "np.sign",
    "sigmoid": "sigmoid", "relu": "relu", "square": "np.square", "log1p": "np.log1p", "reciprocal": "np.reciprocal",
}  # fmt: skip
REDUCTIONS = ("sum", "mean", "max", "min", "var", "std")
NOT_NUMPY = ("sigmoid", "relu", "softmax", "softplus", "leaky_relu", "identity")  # language names numpy lacks or
# means otherwise (np.identity(n) is the identity matrix)
DTYPE_ONLY = ("float", "double", "type_as", "contiguous", "detach", "to")
KEYWORDS = {"dim": "axis", "keepdim": "keepdims"}
MATMUL = ("mm", "matmul")


class TorchSpelling(ast.NodeTransformer):
    """Rewrites torch spellings into numpy ones, bottom-up; `modules` maps the file's import aliases to
    'np', 'torch' or 'F' (torch.nn.functional)."""

    TORCH: ClassVar[tuple[str, ...]] = ("torch", "F")

    def __init__(self, file: str, lines: list[str], modules: dict[str, str]) -> None:
        self.file, self.lines, self.modules = file, lines, modules
        self.torch_file = "torch" in modules.values()

    def _error(self, message: str, node: ast.AST) -> InputError:
        return error_at(self.file, self.lines, node, message)

    def visit_Name(self, node: ast.Name) -> ast.expr:
        """A module alias (`numpy`, `th`) as its canonical name."""
        canonical = self.modules.get(node.id)
        return ast.copy_location(ast.Name(canonical, ast.Load()), node) if canonical else node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        """`x.max(dim=1).values`: torch's (values, indices) pair read as its values."""
        if self.torch_file and node.attr == "values" and _reduction_with_dim(node.value):
            return self.visit(node.value)  # type: ignore[no-any-return]
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        """`x.max(dim=1)[0]`: the same pair's values."""
        index = node.slice
        torch_pair = self.torch_file and isinstance(index, ast.Constant) and index.value == 0
        if torch_pair and _reduction_with_dim(node.value):
            return self.visit(node.value)  # type: ignore[no-any-return]
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        """One call rewritten by the tables above (its arguments first)."""
        self.generic_visit(node)
        func = node.func
        if not isinstance(func, ast.Attribute):
            return node
        if isinstance(func.value, ast.Name) and func.value.id == "np" and func.attr in NOT_NUMPY:
            raise self._error(
                f"numpy has no np.{func.attr} (the formula language's {func.attr} is not numpy's): define it in this "
                f"file, e.g. def {func.attr}(x): ...",
                node,
            )
        if not self.torch_file:  # numpy: only x.sum(0) for x.sum(axis=0), which numpy means too
            module = isinstance(func.value, ast.Name) and func.value.id in ("np", *self.TORCH)
            return node if module else self._positional_axis(node, func.attr)
        for keyword in node.keywords:
            if keyword.arg in KEYWORDS:
                keyword.arg = KEYWORDS[keyword.arg]
        owner, name = func.value, func.attr
        if isinstance(owner, ast.Name) and owner.id in self.TORCH:
            return self._function(node, name)
        if isinstance(owner, ast.Name) and owner.id == "np":
            return node
        return self._method(node, owner, name)

    def _function(self, node: ast.Call, name: str) -> ast.expr:
        if name in MATMUL and len(node.args) == 2:
            return _at(ast.BinOp(node.args[0], ast.MatMult(), node.args[1]), node)
        if name == "t" and len(node.args) == 1:
            return _at(ast.Attribute(node.args[0], "T", ast.Load()), node)
        if name == "clamp" and node.args:
            return self._clamp(node, node.args[0], node.args[1:])
        if name == "one_hot" and len(node.args) == 2:
            eye = ast.Call(_name("np.eye"), [node.args[1]], [])
            return _at(ast.Subscript(eye, node.args[0], ast.Load()), node)
        if name in FUNCTIONS:
            return _at(ast.Call(_name(FUNCTIONS[name]), node.args, node.keywords), node)
        return node

    def _method(self, node: ast.Call, owner: ast.expr, name: str) -> ast.expr:
        if name in MATMUL and len(node.args) == 1:
            return _at(ast.BinOp(owner, ast.MatMult(), node.args[0]), node)
        if name == "t" and not node.args:
            return _at(ast.Attribute(owner, "T", ast.Load()), node)
        if name in ELEMENTWISE_METHODS and not node.args and not node.keywords:
            return _at(ast.Call(_name(ELEMENTWISE_METHODS[name]), [owner], []), node)
        if name in DTYPE_ONLY:
            return owner
        if name == "pow" and len(node.args) == 1:
            return _at(ast.BinOp(owner, ast.Pow(), node.args[0]), node)
        if name == "clamp":
            return self._clamp(node, owner, list(node.args))
        if name == "unsqueeze" and len(node.args) == 1 and isinstance(node.args[0], ast.Constant):
            axis = node.args[0].value
            if axis in (0, 1, -1):
                parts: list[ast.expr] = [ast.Slice(), ast.Constant(None)]
                index = ast.Tuple(parts if axis != 0 else parts[::-1], ast.Load())
                return _at(ast.Subscript(owner, index, ast.Load()), node)
        self._positional_axis(node, name)
        if name in ("max", "min") and self.torch_file and node.keywords and not getattr(node, "picked", False):
            raise self._error(f"torch's x.{name}(dim) returns (values, indices): write x.{name}(dim=...).values", node)
        if name in ("var", "std") and not any(k.arg == "unbiased" and _false(k.value) for k in node.keywords):
            raise self._error(
                f"torch's {name} divides by n - 1 unless unbiased=False: write {name}(..., unbiased=False)", node
            )
        node.keywords = [k for k in node.keywords if k.arg != "unbiased"]
        return node

    @staticmethod
    def _positional_axis(node: ast.Call, name: str) -> ast.Call:
        """`x.sum(0)` as `x.sum(axis=0)` (numpy and torch both mean the axis)."""
        if name in REDUCTIONS and len(node.args) == 1 and not any(k.arg in ("axis", "dim") for k in node.keywords):
            node.keywords.append(ast.keyword("axis", node.args[0]))
            node.args = []
        return node

    def _clamp(self, node: ast.Call, owner: ast.expr, args: list[ast.expr]) -> ast.expr:
        bounds = dict(zip(("min", "max"), args, strict=False))
        bounds.update({k.arg: k.value for k in node.keywords if k.arg in ("min", "max")})
        if set(bounds) == {"min"}:
            return _at(ast.Call(_name("np.maximum"), [owner, bounds["min"]], []), node)
        if set(bounds) == {"max"}:
            return _at(ast.Call(_name("np.minimum"), [owner, bounds["max"]], []), node)
        if set(bounds) == {"min", "max"}:
            return _at(ast.Call(_name("np.clip"), [owner, bounds["min"], bounds["max"]], []), node)
        raise self._error("clamp needs min= or max=", node)


def _reduction_with_dim(node: ast.expr) -> bool:
    """A torch `x.max(dim)` call (marked picked: its values are what is read)."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    picked = node.func.attr in ("max", "min") and bool(node.args or node.keywords)
    if picked:
        node.picked = True  # type: ignore[attr-defined]
    return picked


def _false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _name(dotted: str) -> ast.expr:
    """A function of the formula language as a tree; a bare name (torch's sigmoid read as the language's) is
    marked, so the reader does not look it up as a variable."""
    module, _, name = dotted.rpartition(".")
    if module:
        return ast.Attribute(ast.Name(module, ast.Load()), name, ast.Load())
    bare = ast.Name(name, ast.Load())
    bare.language = True  # type: ignore[attr-defined]
    return bare


def _at(new: ast.expr, old: ast.expr) -> ast.expr:
    return ast.fix_missing_locations(ast.copy_location(new, old))
