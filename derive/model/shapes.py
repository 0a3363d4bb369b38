"""Shapes with symbolic dimensions: a wrong shape is wrong whatever sizes are chosen.

Evaluation at the file's sizes catches most shape slips, but not one that only
type-checks because two sizes happen to be equal (H = C). This pass infers every
shape with dimensions as size *names* (`("N", "C")`), following numpy's rules
(broadcasting right-aligned, 1 broadcasts, `@` contracts the inner names), and
reports the first operation whose operands disagree, with expected and actual.
"""

from __future__ import annotations

from collections.abc import Mapping

from derive_check.derive.ops.spec import Kind, Shape, SymbolicShapeError
from derive_check.derive.ops.table import OPS
from derive_check.derive.tree import Apply, Const, Node, Ref


def infer(node: Node, shapes: Mapping[str, Shape]) -> Shape:
    """The symbolic shape of `node`; names not in `shapes` are scalars (sizes, index variables)."""
    if isinstance(node, Const):
        return ()
    if isinstance(node, Ref):
        return shapes.get(node.name, ())
    assert isinstance(node, Apply)
    op = OPS[node.op]
    if op.kind is Kind.BINDER:  # sum(body for i in range(N)): the body's shape, with i a scalar over N
        index = str(node.option("index"))
        return infer(node.args[0], {**shapes, index: (), f"range:{index}": (str(node.option("size")),)})
    return op.shape([infer(a, shapes) for a in node.args], node, shapes)


def resolve_products(node: Node, shapes: Mapping[str, Shape]) -> Node:
    """Every LaTeX `product` made a `mul` (a scalar on either side) or a `matmul`, by symbolic shape."""
    if not isinstance(node, Apply):
        return node
    if node.op == "index_sum":
        index, size, body = str(node.option("index")), str(node.option("size") or ""), node.args[0]
        size = size or _subscripted_size(body, index, shapes)
        if not size:
            raise SymbolicShapeError(f"cannot tell what the sum over {index} ranges over: give its range", node)
        if node.option("rows"):  # LaTeX: a quantity whose first axis runs over the sum's range is read as its row
            body = _rows(body, index, size, shapes)
        inner = {**shapes, index: (), f"range:{index}": (size,)}
        options = (("index", index), ("size", size))
        return Apply("index_sum", (resolve_products(body, inner),), options, span=node.span)
    args = tuple(resolve_products(a, shapes) for a in node.args)
    if node.op == "pow" and node.option("latex"):  # LaTeX A^2: a matrix power or an element-wise square?
        if any(d != 1 for d in infer(args[0], shapes)):
            raise SymbolicShapeError(
                "a power of a matrix or vector in LaTeX is ambiguous (A^2 may mean A A or A ⊙ A): write "
                "A A (or A \\cdot A) for the matrix product, A \\odot A for the element-wise square",
                node,
            )
        return Apply("pow", args, span=node.span)
    if node.op != "product":
        return Apply(node.op, args, node.options, span=node.span)
    left, right = infer(args[0], shapes), infer(args[1], shapes)
    op = "mul" if not left or not right else "matmul"
    resolved = Apply(op, args, span=node.span)
    infer(resolved, shapes)  # raises SymbolicShapeError with the operands' shapes when neither reading fits
    return resolved


def _subscripted_size(node: Node, index: str, shapes: Mapping[str, Shape]) -> str:
    """The size of the first axis of a quantity subscripted with `index` (what \\sum_i ranges over), or ''."""
    if isinstance(node, Apply):
        if node.op == "entry" and isinstance(node.args[0], Ref) and Ref(index) in node.args[1:2]:
            dims = shapes.get(node.args[0].name, ())
            if dims and isinstance(dims[0], str):
                return dims[0]
        for arg in node.args:
            found = _subscripted_size(arg, index, shapes)
            if found:
                return found
    return ""


def _rows(node: Node, index: str, size: str, shapes: Mapping[str, Shape]) -> Node:
    """Every quantity not already subscripted whose first axis is `size`, read as its row `index`."""
    if isinstance(node, Ref):
        dims = shapes.get(node.name, ())
        return Apply("entry", (node, Ref(index)), span=node.span) if dims and dims[0] == size else node
    if not isinstance(node, Apply):
        return node
    if node.op == "entry":
        return node
    return Apply(node.op, tuple(_rows(a, index, size, shapes) for a in node.args), node.options, span=node.span)
