"""The expression tree every formula is parsed into.

Three node kinds only: constants, references to names, and applications of a
registered operation. The tree is frozen and hashable, so it can be cached and
compared; the column span is excluded from equality so two formulas that say
the same thing in different places compare equal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Node:
    """Base of all expression nodes; `span` is the [start, end) column range in the formula."""

    span: tuple[int, int] = field(default=(0, 0), compare=False, kw_only=True)


@dataclass(frozen=True)
class Const(Node):
    """An exact rational constant (floats in the source are read as their decimal value)."""

    value: Fraction


@dataclass(frozen=True)
class Ref(Node):
    """A reference to a declared input, parameter, forward quantity or earlier claim."""

    name: str


@dataclass(frozen=True)
class Apply(Node):
    """An operation from the registry applied to sub-expressions, with literal keyword options."""

    op: str
    args: tuple[Node, ...]
    options: tuple[tuple[str, int | Fraction | str], ...] = ()

    def option(self, key: str, default: int | Fraction | str | None = None) -> int | Fraction | str | None:
        """The literal value of keyword option `key`, or `default`."""
        return dict(self.options).get(key, default)


def walk(node: Node) -> Iterator[Node]:
    """`node` and every node below it, parents first."""
    yield node
    if isinstance(node, Apply):
        for a in node.args:
            yield from walk(a)


def refs(node: Node) -> set[str]:
    """All names referenced anywhere in `node`."""
    if isinstance(node, Ref):
        return {node.name}
    if isinstance(node, Apply):
        inner = set().union(*(refs(a) for a in node.args)) if node.args else set()
        if node.op == "index_sum":  # sum(body for i in range(N)): i is bound inside, N is a size it uses
            size = str(node.option("size") or "")
            inner = (inner - {str(node.option("index"))}) | ({size} if size else set())
        return inner
    return set()


def substitute_free(node: Node, values: dict[str, Node]) -> Node:
    """`node` with the FREE occurrences of the names in `values` replaced: inside `sum(body for i in range(N))` the
    name i is the sum's own index, so a value for i is not put there."""
    if isinstance(node, Ref):
        return values.get(node.name, node)
    if isinstance(node, Apply):
        if node.op == "index_sum" and str(node.option("index")) in values:
            values = {k: v for k, v in values.items() if k != str(node.option("index"))}
        return Apply(node.op, tuple(substitute_free(a, values) for a in node.args), node.options, span=node.span)
    return node


def substitute(node: Node, values: dict[str, Node]) -> Node:
    """`node` with the names in `values` replaced by trees (no binder shadows them: `_`-names are never bound)."""
    if isinstance(node, Ref):
        return values.get(node.name, node)
    if isinstance(node, Apply):
        return Apply(node.op, tuple(substitute(a, values) for a in node.args), node.options, span=node.span)
    return node
