"""Shapes with symbolic dimensions: a wrong shape is wrong whatever sizes are chosen.

Evaluation at the file's sizes catches most shape slips, but not one that only
type-checks because two sizes happen to be equal (H = C). This pass infers every
shape with dimensions as size *names* (`("N", "C")`), following numpy's rules
(broadcasting right-aligned, 1 broadcasts, `@` contracts the inner names), and
reports the first operation whose operands disagree, with expected and actual.
"""

from __future__ import annotations

from collections.abc import Mapping

from derive_check.derive.tree import Apply, Const, Node, Ref

Dim = str | int
Shape = tuple[Dim, ...]
_SAME = {"exp", "log", "relu", "leaky_relu", "sigmoid", "tanh", "identity", "softmax", "neg", "function"}
_BROADCAST = {"add": "+", "sub": "-", "mul": "*", "div": "/", "gt": ">"}


class SymbolicShapeError(ValueError):
    """Operands whose shapes disagree for symbolic sizes; `node` is the failing operation."""

    def __init__(self, message: str, node: Node) -> None:
        super().__init__(message)
        self.node = node


def text(shape: Shape) -> str:
    """A symbolic shape as people write it: 'scalar', 'H', 'N x C'."""
    return " x ".join(map(str, shape)) if shape else "scalar"


def infer(node: Node, shapes: Mapping[str, Shape]) -> Shape:
    """The symbolic shape of `node`; names not in `shapes` are scalars (sizes, index variables)."""
    if isinstance(node, Const):
        return ()
    if isinstance(node, Ref):
        return shapes.get(node.name, ())
    assert isinstance(node, Apply)
    if node.op == "index_sum":
        index = str(node.option("index"))
        return infer(node.args[0], {**shapes, index: (), f"range:{index}": (str(node.option("size")),)})
    args = [infer(a, shapes) for a in node.args]
    if node.op in _SAME:
        return args[0]
    if node.op in _BROADCAST:
        return _broadcast(args[0], args[1], _BROADCAST[node.op], node)
    if node.op == "pow":
        return args[0]
    if node.op == "transpose":
        return tuple(reversed(args[0]))
    if node.op == "matmul":
        return _matmul(args[0], args[1], node)
    if node.op == "product":  # LaTeX juxtaposition: scalar product or matrix product, by shape
        return (
            _broadcast(args[0], args[1], "*", node) if not args[0] or not args[1] else _matmul(args[0], args[1], node)
        )
    if node.op in ("sum", "mean"):
        axis = node.option("axis")
        if axis is None:
            return ()
        k = int(axis) % max(len(args[0]), 1)
        return args[0][:k] + args[0][k + 1 :]
    if node.op == "entry":  # as evaluation does: x[j] of a column vector is x[j, 0], a scalar; X[i] is a row
        if len(node.args) - 1 > len(args[0]):
            raise SymbolicShapeError(f"{len(node.args) - 1} index(es) for shape {text(args[0])}", node)
        for k, position in enumerate(node.args[1:]):
            ranges = shapes.get(f"range:{position.name}") if isinstance(position, Ref) else None
            if isinstance(position, Ref) and ranges is not None and args[0][k] != ranges[0]:
                raise SymbolicShapeError(
                    f"the index {position.name} runs over {ranges[0]}, but axis {k} of this quantity has size "
                    f"{args[0][k]}",
                    node,
                )
        rest = args[0][len(node.args) - 1 :]
        return () if all(d == 1 for d in rest) else rest
    if node.op == "scalar_function":
        return ()
    return args[0]


def _broadcast(a: Shape, b: Shape, op: str, node: Node) -> Shape:
    out: list[Dim] = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise SymbolicShapeError(
                f"operands of '{op}' have shapes {text(a)} and {text(b)}, which do not "
                f"broadcast for all sizes ({x} vs {y})",
                node,
            )
    return tuple(reversed(out))


def _matmul(a: Shape, b: Shape, node: Node) -> Shape:
    if not a or not b:
        return _broadcast(a, b, "@", node)
    if a[-1] != b[0]:
        raise SymbolicShapeError(
            f"'@' contracts {a[-1]} with {b[0]} ({text(a)} @ {text(b)}): equal only if {a[-1]} = {b[0]}", node
        )
    return a[:-1] + b[1:]


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
