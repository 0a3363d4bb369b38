"""Terms of index notation: a sum of `coeff · Σ_{bound indices} Π factors`, and what a factor is.

The data only; `derive.index.form` writes formulas in it and `verify.decide.general` normalises it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import sympy as sp

from derive_check.derive.ops.spec import Dim
from derive_check.derive.tree import Node


class NotGeneral(ValueError):
    """The formula uses something the index calculus does not cover (the message says what)."""


class Kind(enum.IntEnum):
    """What a factor is."""

    TENSOR = 0  # a declared or forward quantity at indices: W2[j,c]
    DELTA = 1  # a Kronecker delta δ(a, b)
    MASK = 2  # a ReLU mask [z > 0] at indices; `node` is z
    ATOM = 3  # an opaque application (log(P), softmax(scores)) at indices; `node` is the application
    SELECT = 4  # the first maximal entry of a max along its axis, 0/1 (a row sums to one); `node` is the max


@dataclass(frozen=True, order=True)
class Factor:
    """name[indices]**power. Masks and atoms are named by their formula (forward names opened), so equal ones
    meet; `node` keeps the tree for printing and differentiation (not part of equality)."""

    kind: Kind = field(default=Kind.TENSOR, kw_only=True)  # compared first: tensors, then deltas, masks, atoms
    name: str
    indices: tuple[str, ...]
    power: int = 1
    node: Node | None = field(default=None, compare=False, repr=False)

    def at(self, indices: tuple[str, ...], power: int | None = None) -> Factor:
        """The same factor at other indices (and power)."""
        return replace(self, indices=indices, power=self.power if power is None else power)


def delta(a: str, b: str) -> Factor:
    """The Kronecker delta δ(a, b), its indices in a canonical order."""
    return Factor("δ", tuple(sorted((a, b))), kind=Kind.DELTA)


@dataclass(frozen=True)
class Term:
    """coeff · Σ over `bound` (index, range) of the product of `factors`."""

    coeff: sp.Expr
    bound: tuple[tuple[str, Dim], ...] = ()
    factors: tuple[Factor, ...] = ()

    def times(self, other: Term) -> Term:
        """The product of two terms (their bound indices never clash: they are fresh names)."""
        return Term(self.coeff * other.coeff, self.bound + other.bound, self.factors + other.factors)

    def scaled(self, k: sp.Expr) -> Term:
        """The term times a scalar coefficient."""
        return Term(self.coeff * k, self.bound, self.factors)


Sum = list[Term]


def size_symbol(dim: Dim) -> sp.Expr:
    """A size as a SymPy value: a positive integer symbol for a size name."""
    return sp.Symbol(dim, positive=True, integer=True) if isinstance(dim, str) else sp.Integer(dim)


def product(a: Sum, b: Sum) -> Sum:
    """The distributed product of two sums."""
    return [x.times(y) for x in a for y in b]
