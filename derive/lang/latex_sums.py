"""LaTeX sums as notes write them: how far \\sum_i extends, and where its index counts from.

\\sum_i x_i y_i extends over the products to its right (parentheses close it), and \\sum_{i=1}^{N} counts i
from 1: as a subscript x_i is row i - 1 of x, and as a number i is i, so the 0-based index the sum binds is
shifted by one wherever i is used as a number.
"""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.errors import InputError, Location
from derive_check.derive.tree import Apply, Const, Node, Ref


def at_columns(where: Location, text: str, start: int, end: int) -> Location:
    """A location inside a LaTeX string, for a caret under its columns [start, end): columns of the file's line
    when `where` holds that line (the LaTeX starting at where.col_start), else of the LaTeX string itself."""
    if where.text is not None and where.text != text:
        return where.shifted(where.col_start + start, where.col_start + end)
    return Location(where.file, where.line, where.key, text, start, end)


def find_word(text: str, word: str) -> tuple[int, int]:
    """The columns of the first occurrence of `word` in `text` (the first column if it is absent)."""
    at = text.find(word)
    return (at, at + len(word)) if at >= 0 else (0, 1)


def counted(node: Node, starts: dict[str, int], text: str, where: Location) -> Node:
    r"""A LaTeX summation index used as a number counts from where the sum starts: \sum_{i=1}^{N} i x_i is
    sum((i + 1) * x[i] for i in range(N)); as a subscript (x_i: row i) it is already read that way."""
    if isinstance(node, Ref) and node.name in starts:
        start = starts[node.name]
        if start < 0:
            raise InputError(
                f"the index {node.name} is used as a number, so its range matters: write \\sum_{{{node.name}=1}}^{{N}} "
                f"or \\sum_{{{node.name}=0}}^{{N-1}}",
                at_columns(where, text, *find_word(text, node.name)),
            )
        return Apply("add", (node, Const(Fraction(start)))) if start else node
    if not isinstance(node, Apply):
        return node
    if node.op == "entry":  # subscripts are positions, not numbers
        return Apply("entry", (counted(node.args[0], starts, text, where), *node.args[1:]), node.options)
    if node.op == "index_sum" and node.option("from") is not None:
        inner = {**starts, str(node.option("index")): int(node.option("from") or 0)}
        options = tuple(kv for kv in node.options if kv[0] != "from")
        return Apply("index_sum", (counted(node.args[0], inner, text, where),), options)
    return Apply(node.op, tuple(counted(a, starts, text, where) for a in node.args), node.options)


def extended(op: str, left: Node, right: Node) -> Node:
    """A product whose left factor is an open sum: the sum's body extends over it (\\sum_i x_i y_i)."""
    if isinstance(left, Apply) and left.op == "index_sum" and left.option("open"):
        return Apply("index_sum", (extended(op, left.args[0], right),), left.options)
    if isinstance(left, Apply) and left.op in ("product", "mul") and ends_open(left.args[1]):
        return Apply(left.op, (left.args[0], extended(op, left.args[1], right)))  # a (Σ_i x_i) r = a Σ_i (x_i r)
    return Apply(op, (left, right))


def ends_open(node: Node) -> bool:
    """Whether a product ends in a sum that is still open to its right."""
    if isinstance(node, Apply) and node.op == "index_sum":
        return bool(node.option("open"))
    return isinstance(node, Apply) and node.op in ("product", "mul") and ends_open(node.args[1])
