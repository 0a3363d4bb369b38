"""Label vectors in formulas: `y = "N, labels C"` is reached only through its one-hot rows.

A label vector holds class indices, not numbers, so a formula may use it in three ways, each an identity for
every assignment of labels: `np.eye(C)[y]` (its one-hot rows, `onehot(y)`), `x[np.arange(N), y]` (each row's
entry at its label, `sum(x * onehot(y), axis=1)`) and `W[y]` (rows looked up, `onehot(y) @ W`). Anything else —
`y` in arithmetic, `onehot` of a quantity that is not a label vector — is an input error with a caret, never a
silent reading of class indices as numbers.
"""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.errors import InputError, Location
from derive_check.derive.model.names import Namespace
from derive_check.derive.ops.spellings import is_indicator
from derive_check.derive.ops.table import OPS
from derive_check.derive.source import formula_location
from derive_check.derive.tree import Apply, Const, Node, Ref

USES = "np.eye(C)[y] (its one-hot rows), x[np.arange(N), y] (each row's entry at its label) or W[y] (rows of W)"


def resolve_labels(expr: Node, names: Namespace, where: Location, formula: str) -> Node:
    """`expr` with W[y] read as onehot(y) @ W, checked so label vectors appear only inside onehot(...), and
    np.where's branches checked to be defined everywhere (`_check_branches`)."""
    return _Resolver(names, formula_location(where, formula)).visit(expr)


def may_be_undefined(node: Node, partial: set[str]) -> bool:
    """Whether a formula can be undefined somewhere: a division, log, sqrt, a negative or fractional power, or a
    forward line that can."""
    if isinstance(node, Ref):
        return node.name in partial
    if not isinstance(node, Apply):
        return False
    whole_power = node.op == "pow" and isinstance(node.args[1], Const) and node.args[1].value >= 0  # x ** 2
    if OPS[node.op].partial and not whole_power:  # the op table's own facet: 1 / 0, log 0, sqrt of a negative
        return True
    return any(may_be_undefined(a, partial) for a in node.args)


class _Resolver:
    labels: dict[str, str | int]

    def __init__(self, names: Namespace, at: Location) -> None:
        self.labels, self.partial, self.at = names.labels, names.partial, at

    def fail(self, message: str, node: Node) -> InputError:
        start, end = node.span
        return InputError(message, self.at.shifted(self.at.col_start + start, self.at.col_start + max(end, start + 1)))

    def visit(self, node: Node) -> Node:
        if isinstance(node, Ref) and node.name in self.labels:
            raise self.fail(f"'{node.name}' is a label vector (class indices, not numbers): write {USES}", node)
        if not isinstance(node, Apply):
            return node
        if node.op == "onehot":
            inner = node.args[0]
            if not (isinstance(inner, Ref) and inner.name in self.labels):
                raise self.fail(
                    'one-hot rows are taken of a label vector declared as y = "N, labels C" under [inputs]', node
                )
            return self.onehot(inner, node)
        self._check_branches(node)
        if node.op == "entry" and len(node.args) == 2 and isinstance(node.args[1], Ref):
            y = node.args[1]
            if y.name in self.labels:  # W[y]: the rows of W at the labels
                base = self.visit(node.args[0])
                return Apply("matmul", (self.onehot(y, Apply("onehot", (y,), span=y.span)), base), span=node.span)
        return Apply(node.op, tuple(self.visit(a) for a in node.args), node.options, span=node.span)

    def onehot(self, y: Ref, node: Apply) -> Apply:
        """onehot(y) with its classes stated, so it prints as np.eye(C)[y] (a `classes` the formula wrote stays,
        and the shape rule checks it against the declaration)."""
        given = dict(node.options)
        given.setdefault("classes", self.labels[y.name])
        return Apply("onehot", (y,), tuple(sorted(given.items())), span=node.span)

    def _check_branches(self, node: Apply) -> None:
        """np.where(c, a, b) is c a + (1 - c) b only where both branches have values: numpy evaluates both and
        keeps one, so a branch undefined where it is not selected (1 / h where h = 0) has no algebraic reading.
        SymPy would cancel m / (m z) to 1 / z and prove a formula numpy disagrees with; it is refused instead."""
        if node.op != "add" or len(node.args) != 2:
            return
        chosen, other = node.args
        if not (isinstance(chosen, Apply) and chosen.op == "mul" and isinstance(other, Apply) and other.op == "mul"):
            return
        condition, complement = chosen.args[0], other.args[0]
        if not (is_indicator(condition) and complement == Apply("sub", (Const(Fraction(1)), condition))):
            return
        if may_be_undefined(chosen.args[1], self.partial) or may_be_undefined(other.args[1], self.partial):
            raise self.fail(
                "np.where(c, a, b) with a branch that can be undefined (a division, log or sqrt) is not supported: "
                "numpy keeps the other branch where it is undefined, which has no algebraic reading; write the "
                "branch so that it is defined everywhere",
                node,
            )
