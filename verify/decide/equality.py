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

from derive_check.derive.budget import BudgetExceeded, check, time_budget
from derive_check.derive.exact.atoms import as_expr
from derive_check.derive.exact.network import Network
from derive_check.derive.exact.walk import leaves, substitute
from derive_check.verify.decide.modular import Singular, evaluate_mod, random_assignment
from derive_check.verify.decide.normal_form import NormalForm, NotRational
from derive_check.verify.decide.parallel import failing
from derive_check.verify.decide.reparam import softmax_rows, substitution

PATIENCE = 1.0  # seconds for the plain normal form before splitting by polynomial variables


@dataclass
class Equality:
    """Exact equality tests against one network's atoms, masks and label rows."""

    net: Network
    rng: random.Random = field(default_factory=lambda: random.Random(20261121))
    _point: dict[sp.Basic, int] = field(default_factory=dict)  # the fixed fingerprint point
    _memo: dict[sp.Basic, int] = field(default_factory=dict)

    def fingerprint(self, expr: sp.Expr) -> int:
        """`expr` modulo the prime at one fixed random point of the mask/label variety (memo shared)."""
        atoms = self.net.backend.atoms
        discrete = sorted(set(atoms.masks) | set(atoms.indicators), key=str)
        if any(m not in self._point for m in discrete) or not self._point:
            fixed = random_assignment(
                [], [m for m in discrete if m not in self._point], [], random.Random(len(discrete))
            )
            self._point.update(fixed)
            if not any(y in self._point for row in self.net.label_rows for y in row):
                self._point.update(random_assignment([], [], self.net.label_rows, random.Random(7)))
            self._memo.clear()
        try:
            return evaluate_mod(atoms.expand(expr), self._point, self._memo)
        except Singular:
            return 1  # cannot tell at this point: treat as non-zero so the exact engine decides

    def quick_zero(self, residuals: Sequence[sp.Expr]) -> bool:
        """Whether every residual vanishes at the fingerprint point (a filter, never a proof)."""
        return all(self.fingerprint(r) == 0 for r in residuals)

    def residuals(self, truth: Sequence[sp.Expr], claimed: Sequence[sp.Expr]) -> list[sp.Expr]:
        """true - claimed for each entry, with line atoms expanded to base symbols."""
        expand = self.net.backend.atoms.expand
        return [expand(as_expr(t) - as_expr(c)) for t, c in zip(truth, claimed, strict=True)]

    def first_nonzero(self, residuals: Sequence[sp.Expr], rounds: int = 2) -> int | None:
        """The index of an entry certainly not identically zero, or None if all vanish at random points."""
        symbols = leaves(residuals).symbols
        atoms = self.net.backend.atoms
        for _ in range(rounds):
            values = random_assignment(
                symbols, atoms.masks.keys() | atoms.indicators.keys(), self.net.label_rows, self.rng
            )
            memo: dict[sp.Basic, int] = {}
            for k, r in enumerate(residuals):
                check()  # a safe point for the time budget
                try:
                    if evaluate_mod(r, values, memo):
                        return k
                except Singular:
                    break
        return None

    def normal_form(self, residuals: Sequence[sp.Expr]) -> NormalForm:
        """A normal-form engine whose ring covers every symbol and opaque atom of `residuals`."""
        found = leaves(residuals)
        gens: set[sp.Basic] = found.symbols | found.applications
        atoms = self.net.backend.atoms
        ordered = sorted(gens, key=str)
        discrete = [m for m in [*atoms.masks, *atoms.indicators] if m in gens]  # whole rows, as the reduction needs
        rows = [row for row in self.net.label_rows if any(y in gens for y in row)]
        return NormalForm(ordered, discrete, rows)

    def proves(self, truth: Sequence[sp.Expr], claimed: Sequence[sp.Expr], residuals: Sequence[sp.Expr]) -> bool | None:
        """`all_zero` for entries whose fully expanded residuals are `residuals`, trying the shallow form first.

        Over shallow atoms (polynomial line atoms kept as symbols) the residuals are far smaller; a zero there
        is a proof. A non-zero there is not a disproof, so the fully expanded residuals decide.
        """
        expand = self.net.backend.atoms.shallow
        shallows = self.reparametrised([expand(as_expr(t) - as_expr(c)) for t, c in zip(truth, claimed, strict=True)])

        def shallow_zero(k: int) -> bool:
            shallow = shallows[k]
            try:
                return self.normal_form([shallow]).residual_is_zero(shallow)
            except (NotRational, ZeroDivisionError):
                return False

        undecided = [residuals[k] for k in failing(len(residuals), shallow_zero)]  # on every core
        return self.all_zero(undecided) if undecided else True

    def reparametrised(self, residuals: Sequence[sp.Expr]) -> list[sp.Expr]:
        """The residuals with each softmax row written as scale × probabilities (`verify.decide.reparam`)."""
        rows = softmax_rows(residuals, set(self.net.backend.atoms.exp_argument))
        if not rows:
            return list(residuals)
        change, memo = substitution(rows), dict[sp.Basic, sp.Basic]()
        return [substitute(r, change, memo) for r in residuals]

    def all_zero(self, residuals: Sequence[sp.Expr]) -> bool | None:
        """True if every residual normalises to zero, False if one does not, None if it cannot be normalised."""
        if self.first_nonzero(residuals) is not None:
            return False
        residuals = self.reparametrised(residuals)
        engine = self.normal_form(residuals)
        try:
            try:  # the plain normal form is fastest when it works; give it a short patience first
                with time_budget(PATIENCE) as attempt:
                    return all(engine.residual_is_zero(r) for r in residuals)
            except BudgetExceeded as exc:
                if exc.owner != attempt:
                    raise
            return all(engine.residual_is_zero(part) for r in residuals for part in self.coefficients(r))
        except (NotRational, ZeroDivisionError):
            return None

    def coefficients(self, residual: sp.Expr) -> list[sp.Expr]:
        """The residual split by monomials in its free polynomial variables; it is zero iff every part is.

        A variable may be split on when it appears in no denominator and is not discrete (masks and labels
        obey m^2 = m, which mixes monomials) or opaque: then the residual is a polynomial in those variables
        with rational-function coefficients, and such a polynomial is zero iff each coefficient is. The
        parts have far fewer distinct denominators than the whole, which keeps the normal form small.
        """
        expanded = sp.expand(residual)
        terms = sp.Add.make_args(expanded)
        if len(terms) < 2:
            return [expanded]
        in_denominators: set[sp.Basic] = set()
        for term in terms:
            for factor in sp.Mul.make_args(term):
                if factor.is_Pow and factor.exp.is_negative:
                    in_denominators |= factor.base.free_symbols
        atoms = self.net.backend.atoms
        discrete = set(atoms.masks) | set(atoms.indicators) | {y for row in self.net.label_rows for y in row}
        split = sorted(expanded.free_symbols - in_denominators - discrete - set(atoms.calls), key=str)
        if not split:
            return [expanded]
        groups: dict[sp.Expr, list[sp.Expr]] = {}
        for term in terms:
            check()
            coefficient, monomial = term.as_independent(*split, as_Add=False)
            groups.setdefault(monomial, []).append(coefficient)
        return [sp.Add(*parts) for parts in groups.values()]
