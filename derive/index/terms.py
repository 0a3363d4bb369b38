"""Terms of index notation: a sum of `coeff · Σ_{bound indices} Π factors`, and what a factor is.

The data only; `derive.index.form` writes formulas in it and `verify.decide.general` normalises it. An index is
a variable ("p", "k3"), a literal position ("0" of a size-1 axis, "2" of x[2]), or a variable shifted by a size
expression ("k3+2*H", from a slice or a concatenation at an offset); every rule reads the variable of a shifted
index through `variable_of`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import sympy as sp

from derive_check.derive.ops.dims import combine, nonnegative
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

    def variables(self) -> set[str]:
        """The index variables the factor is written in ("k" of "k+H" too)."""
        return {variable_of(i) for i in self.indices}

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


def split_index(index: str) -> tuple[str, str | int]:
    """An index as (variable, offset): "k3+2*H" is k3 shifted by 2H (a slice at an offset); "p" has offset 0."""
    variable, _, offset = index.partition("+")
    return variable, (offset or 0)


def variable_of(index: str) -> str:
    """The index variable an index is written in ("k3" in "k3+2*H")."""
    return index.partition("+")[0]


def shifted(index: str, offset: str | int) -> str:
    """index + offset, the offset a canonical size expression (`derive.ops.dims`) that is at least 0."""
    variable, own = split_index(index)
    total = combine(own, offset)
    if total == 0:
        return variable
    if variable.isdigit() and isinstance(total, int) and total >= 0:
        return str(int(variable) + total)  # a literal position shifted by a number is a literal position
    if variable.isdigit() or not nonnegative(total):
        raise NotGeneral(f"an index shifted by {total} is not in the index calculus")
    return f"{variable}+{total}"


def renamed_index(index: str, rename: Mapping[str, str]) -> str:
    """The index with its variable renamed (and its offset kept)."""
    variable, offset = split_index(index)
    new = rename.get(variable)
    return index if new is None else shifted(new, offset)
