"""Deciding whether claimed entries equal true derivatives.

Order of work per claim: expand line atoms, evaluate every residual modulo a
prime at a random point of the mask/label variety (microseconds; a non-zero
value settles "not identically zero"), and only when all vanish run the exact
normal form, which alone can say PROVED.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from derive.atoms import as_expr
from derive.network import Network
from verify.modular import Singular, evaluate_mod, random_assignment
from verify.normal_form import NormalForm, NotRational


@dataclass
class Equality:
    """Exact equality tests against one network's atoms, masks and label rows."""

    net: Network
    rng: random.Random = field(default_factory=lambda: random.Random(20261121))

    def residuals(self, truth: Sequence[sp.Expr], claimed: Sequence[sp.Expr]) -> list[sp.Expr]:
        """true - claimed for each entry, with line atoms expanded to base symbols."""
        expand = self.net.backend.atoms.expand
        return [expand(as_expr(t) - as_expr(c)) for t, c in zip(truth, claimed, strict=True)]

    def first_nonzero(self, residuals: Sequence[sp.Expr], rounds: int = 2) -> int | None:
        """The index of an entry certainly not identically zero, or None if all vanish at random points."""
        symbols = set().union(*(r.free_symbols for r in residuals)) if residuals else set()
        atoms = self.net.backend.atoms
        for _ in range(rounds):
            values = random_assignment(
                symbols, atoms.masks.keys() | atoms.indicators.keys(), self.net.label_rows, self.rng
            )
            memo: dict[sp.Basic, int] = {}
            for k, r in enumerate(residuals):
                try:
                    if evaluate_mod(r, values, memo):
                        return k
                except Singular:
                    break
        return None

    def normal_form(self, residuals: Sequence[sp.Expr]) -> NormalForm:
        """A normal-form engine whose ring covers every symbol and opaque atom of `residuals`."""
        gens: set[sp.Basic] = set()
        for r in residuals:
            gens |= r.free_symbols
            gens |= {f for f in r.atoms(sp.Function)}
        atoms = self.net.backend.atoms
        ordered = sorted(gens, key=str)
        return NormalForm(ordered, list(atoms.masks) + list(atoms.indicators), self.net.label_rows)

    def all_zero(self, residuals: Sequence[sp.Expr]) -> bool | None:
        """True if every residual normalises to zero, False if one does not, None if it cannot be normalised."""
        if self.first_nonzero(residuals) is not None:
            return False
        engine = self.normal_form(residuals)
        try:
            return all(engine.residual_is_zero(r) for r in residuals)
        except (NotRational, ZeroDivisionError):
            return None
