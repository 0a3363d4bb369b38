"""Shapes with symbolic dimensions: a wrong shape is wrong whatever sizes are chosen.

Evaluation at the file's sizes catches most shape slips, but not one that only
type-checks because two sizes happen to be equal (H = C). This pass infers every
shape with dimensions as size *names* (`("N", "C")`), following numpy's rules
(broadcasting right-aligned, 1 broadcasts, `@` contracts the inner names), and
reports the first operation whose operands disagree, with expected and actual.
"""

from __future__ import annotations

from collections.abc import Mapping

from derive.model import ModelSpec
from derive.tree import Apply, Const, Node, Ref

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
    if node.op == "entry":  # as evaluation does: x[j] of a column vector is x[j, 0], a scalar
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


def model_shapes(spec: ModelSpec) -> dict[str, Shape]:
    """Symbolic shapes of every declared and forward quantity (and declared gradients) of a file."""
    shapes: dict[str, Shape] = {d.name: d.dims for d in [*spec.inputs.values(), *spec.params.values()]}
    for line in spec.forward:
        try:
            shapes[line.name] = infer(line.expr, shapes)
        except SymbolicShapeError:
            shapes[line.name] = ()  # the concrete evaluation reports forward-pass errors with a caret
        for node in _applications(line.expr):
            for gradient, function in spec.gradients.items():
                if dict(node.options).get("name") == function:
                    shapes[gradient] = infer(node.args[0], shapes)
    return shapes


def _applications(node: Node) -> list[Apply]:
    if not isinstance(node, Apply):
        return []
    own = [node] if node.op == "scalar_function" else []
    return own + [a for child in node.args for a in _applications(child)]


def resolve_products(node: Node, shapes: Mapping[str, Shape]) -> Node:
    """Every LaTeX `product` made a `mul` (a scalar on either side) or a `matmul`, by symbolic shape."""
    if not isinstance(node, Apply):
        return node
    args = tuple(resolve_products(a, shapes) for a in node.args)
    if node.op != "product":
        return Apply(node.op, args, node.options, span=node.span)
    left, right = infer(args[0], shapes), infer(args[1], shapes)
    op = "mul" if not left or not right else "matmul"
    resolved = Apply(op, args, span=node.span)
    infer(resolved, shapes)  # raises SymbolicShapeError with the operands' shapes when neither reading fits
    return resolved
