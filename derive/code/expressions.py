"""An expression of the code as a formula over model names.

Variables become their objects' current values (model names), `x.shape[k]`, `x.size(k)` and `len(x)` become the
declared size, `ctx.attr` and `cache[k]` become what they hold, helper calls are inlined and copies read as their
value. What remains is handed to the formula language as it is written (after `derive.code.spelling` has read
torch names as numpy ones): an operation the language does not know is an input error there, never a guess here.
"""

from __future__ import annotations

import ast
import copy

from derive_check.derive.code.values import Ctx, Fresh, Obj, Reading, Tup, Value

MODULES = ("np", "torch", "F")


def formula(reader: Reading, node: ast.expr, env: dict[str, Value]) -> ast.expr:
    """`node` with every variable replaced by its value (a copy; the code's tree is not changed)."""
    spelled = reader.spelling.visit(copy.deepcopy(node))
    return _Formula(reader, env).visit(spelled)  # type: ignore[no-any-return]


def dim_formula(dim: str | int) -> ast.expr:
    """A declared dimension (a size name, a number, or arithmetic such as 4*H) as a formula."""
    return ast.parse(str(dim), mode="eval").body


class _Formula(ast.NodeTransformer):
    def __init__(self, reader: Reading, env: dict[str, Value]) -> None:
        self.reader, self.env = reader, env

    def _array(self, value: Value, node: ast.AST) -> ast.expr:
        if isinstance(value, Obj | Fresh):
            return copy.deepcopy(value.expr)
        kind = "a tuple" if isinstance(value, Tup) else "ctx" if isinstance(value, Ctx) else "None"
        raise self.reader.error(f"{kind} is used here as an array", node)

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in MODULES or getattr(node, "language", False):  # a module, or torch's sigmoid read as ours
            return node
        return self._array(self.reader.lookup(node.id, self.env, node), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if node.attr == "shape":
            raise self.reader.error("x.shape is read only as x.shape[k]", node)
        if isinstance(node.value, ast.Name) and isinstance(self.env.get(node.value.id), Ctx):
            return self._array(self.reader.value(node, self.env), node)
        if isinstance(node.value, ast.Name) and node.value.id in MODULES:
            return node
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.expr:
        owner, index = node.value, node.slice
        if isinstance(owner, ast.Attribute) and owner.attr == "shape" and isinstance(index, ast.Constant):
            return self._dim(owner.value, index.value, node)
        ctx_attr = isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name)
        ctx_attr = ctx_attr and isinstance(self.env.get(owner.value.id), Ctx)  # type: ignore[attr-defined]
        if isinstance(index, ast.Constant) and ((isinstance(owner, ast.Name) and not _is_module(owner)) or ctx_attr):
            held = self.reader.value(owner, self.env)
            if isinstance(held, Tup):
                return self._array(self.reader.value(node, self.env), node)
        self.generic_visit(node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.expr:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1:
            return self._dim(node.args[0], 0, node)
        torch_size = isinstance(func, ast.Attribute) and func.attr == "size" and self.reader.spelling.torch_file
        sized = torch_size and len(node.args) == 1  # numpy's x.size is the number of entries, not a method
        if sized and isinstance(func, ast.Attribute) and isinstance(node.args[0], ast.Constant):
            return self._dim(func.value, node.args[0].value, node)
        if isinstance(func, ast.Name) and func.id in self.reader.helpers:
            return self._array(self.reader.value(node, self.env), node)
        if isinstance(func, ast.Attribute) and func.attr in ("copy", "clone") and not node.args:
            return self.visit(func.value)  # type: ignore[no-any-return]
        if isinstance(func, ast.Attribute) and func.attr == "astype":  # its argument is a dtype, not a variable
            node.func = self.visit(func)
            return node
        self.generic_visit(node)
        return node

    def _dim(self, array: ast.expr, k: object, node: ast.AST) -> ast.expr:
        value = self.visit(copy.deepcopy(array))
        shape = self.reader.shape_of(value)
        if shape is None:
            raise self.reader.error("the shape of this array is not known here", node)
        if not isinstance(k, int) or not -len(shape) <= k < len(shape):
            raise self.reader.error(f"the array has {len(shape)} dimension(s); index {k!r} is outside them", node)
        return dim_formula(shape[k])


def _is_module(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in MODULES
