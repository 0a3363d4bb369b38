"""Deciding whether claimed entries equal true derivatives.

Order of work per claim: expand line atoms, evaluate every residual modulo a
prime at a random point of the mask/label variety (microseconds; a non-zero
value settles "not identically zero"), and only when all vanish run the exact
normal form, which alone can say PROVED.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator, Sequence
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

EXP_FORMS = ("sigmoid", "tanh")  # smooth ops written through exp where exp atoms are present
PATIENCE = 1.0  # seconds for the plain normal form before splitting by polynomial variables


@dataclass
class Equality:
    """Exact equality tests against one network's atoms, masks and label rows."""

    net: Network
    rng: random.Random = field(default_factory=lambda: random.Random(20261121))
    _point: dict[sp.Basic, int] = field(default_factory=dict)  # the fixed fingerprint point
    _memo: dict[sp.Basic, int] = field(default_factory=dict)
    progress: Callable[[int, int], None] | None = None  # told (entries proved, total) by `proves`: see `telling`

    def fingerprint(self, expr: sp.Expr) -> int:
        """`expr` modulo the prime at one fixed random point of the mask/label variety (memo shared)."""
        atoms = self.net.backend.atoms
        discrete = sorted(set(atoms.masks) | set(atoms.indicators), key=str)
        if any(m not in self._point for m in discrete) or not self._point:
            fixed = random_assignment([], [m for m in discrete if m not in self._point], [], random.Random(0))
            self._point.update(fixed)
            if not any(y in self._point for row in self.net.label_rows for y in row):
                self._point.update(random_assignment([], [], self.net.label_rows, random.Random(7)))
            self._memo.clear()
        try:
            return evaluate_mod(atoms.expand(expr), self._point, self._memo)
        except Singular:
            return 1  # cannot tell at this point: treat as non-zero so the exact engine decides

    def quick_zero(self, residuals: Sequence[sp.Expr]) -> bool:
        """Whether every residual vanishes at the fingerprint point (a filter, never a proof; a budget's safe point
        per residual: at large sizes each one costs tens of milliseconds)."""
        for residual in residuals:
            check()
            if self.fingerprint(residual) != 0:
                return False
        return True

    def residuals(self, truth: Sequence[sp.Expr], claimed: Sequence[sp.Expr]) -> list[sp.Expr]:
        """true - claimed for each entry, with line atoms expanded to base symbols (a safe point per entry)."""
        expand = self.net.backend.atoms.expand
        found = []
        for t, c in zip(truth, claimed, strict=True):
            check()
            found.append(expand(as_expr(t) - as_expr(c)))
        return self.exp_form(found)

    def exp_form(self, residuals: Sequence[sp.Expr]) -> list[sp.Expr]:
        """A sigmoid or tanh atom whose exp(u) meets an exp atom of the residual (or another such atom's) written
        through exp: σ(u) = e/(1 + e), tanh(u) = (e² - 1)/(e² + 1), e = exp(u). Identities, so `1 / (1 + exp(-z))`
        and `sigmoid(z)` meet; every other atom keeps its polynomial form (a tanh beside an unrelated softmax)."""
        atoms = self.net.backend.atoms
        found = leaves(residuals).symbols
        smooth = [a for a in found if a in atoms.smooth and atoms.smooth[a][0] in EXP_FORMS]
        if not smooth:
            return list(residuals)
        through = {a: atoms.exp(atoms.smooth[a][1], f"exp({a})") for a in smooth}
        present = found & atoms.exp_argument.keys()
        change: dict[sp.Basic, sp.Basic] = {}
        for atom, e in through.items():  # only atoms whose exp meets another exp: elsewhere it adds denominators
            others = set().union(*(f.free_symbols for b, f in through.items() if b != atom))
            if e.free_symbols & (present | others):
                kind = atoms.smooth[atom][0]
                change[atom] = e / (1 + e) if kind == "sigmoid" else (e**2 - 1) / (e**2 + 1)
        if not change:
            return list(residuals)
        memo: dict[sp.Basic, sp.Basic] = {}
        return [substitute(r, change, memo) for r in residuals]

    def first_nonzero(self, residuals: Sequence[sp.Expr], rounds: int = 2) -> int | None:
        """The index of an entry not identically zero, or None if all vanish at random points (where square roots
        are involved, a non-zero value counts only if the normal form with s^2 = u is not zero either)."""
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
                    if evaluate_mod(r, values, memo) and not self._zero_by_roots(r):
                        return k
                except Singular:
                    break
        return None

    def _zero_by_roots(self, residual: sp.Expr) -> bool:
        """Whether a residual that is not zero with square roots as free symbols is zero once s^2 = u is used
        (random values cannot keep s^2 = u, so a non-zero value there is no evidence)."""
        if not self.roots(leaves([residual]).symbols):
            return False
        try:
            return self.normal_form([residual]).residual_is_zero(residual)
        except (NotRational, ZeroDivisionError):
            return False

    def normal_form(self, residuals: Sequence[sp.Expr]) -> NormalForm:
        """A normal-form engine whose ring covers every symbol and opaque atom of `residuals`."""
        found = leaves(residuals)
        gens: set[sp.Basic] = found.symbols | found.applications
        atoms = self.net.backend.atoms
        ordered = sorted(gens, key=str)
        discrete = [m for m in [*atoms.masks, *atoms.indicators] if m in gens]  # whole rows, as the reduction needs
        roots = self.roots(gens)
        extra = sorted(leaves(list(roots.values())).symbols - gens, key=str)
        rows = [row for row in self.net.label_rows if any(y in gens or y in extra for y in row)]
        return NormalForm([*ordered, *extra], discrete, rows, roots)

    def roots(self, gens: set[sp.Basic]) -> dict[sp.Symbol, sp.Expr]:
        """The square-root atoms among `gens`, each with its argument (line atoms opened)."""
        atoms = self.net.backend.atoms
        found = {
            a: atoms.expand(atoms.smooth[a][1]) for a in gens if a in atoms.smooth and atoms.smooth[a][0] == "sqrt"
        }
        return {a: u for a, u in found.items() if not (leaves([u]).applications)}

    @contextlib.contextmanager
    def telling(self, progress: Callable[[int, int], None] | None) -> Iterator[None]:
        """Inside the block, `proves` tells `progress(proved, total)` how many entries it has proved so far, from
        (0, total) on: the engine's own decision on a claim, not the many a diagnosis search asks for."""
        self.progress = progress
        try:
            yield
        finally:
            self.progress = None

    def proves(
        self, truth: Sequence[sp.Expr], claimed: Sequence[sp.Expr], residuals: Sequence[sp.Expr] | None = None
    ) -> bool | None:
        """`all_zero` for entries whose fully expanded residuals are `residuals`, trying the shallow form first
        (telling `progress`, if set, how many entries are proved so far; `residuals` None: expanded here, only for
        the entries the shallow form does not prove).

        Over shallow atoms (polynomial line atoms kept as symbols) the residuals are far smaller; a zero there
        is a proof. A non-zero there is not a disproof, so the fully expanded residuals decide.
        """
        expand = self.net.backend.atoms.shallow
        shallows = [expand(as_expr(t) - as_expr(c)) for t, c in zip(truth, claimed, strict=True)]
        shallows = self.reparametrised(self.exp_form(shallows))

        def shallow_zero(k: int) -> bool:
            shallow = shallows[k]
            try:
                return self.normal_form([shallow]).residual_is_zero(shallow)
            except (NotRational, ZeroDivisionError):
                return False

        total, progress = len(truth), self.progress
        if progress:
            progress(0, total)
        passed = (lambda n: progress(n, total)) if progress else None
        left = failing(total, shallow_zero, passed=passed)  # on every core
        if left and residuals is None:  # all of them: which atoms `exp_form` rewrites depends on the whole set
            residuals = self.residuals(truth, claimed)
        undecided = [residuals[k] for k in left] if residuals is not None else []
        base = total - len(undecided)
        proved = (lambda n: progress(base + n, total)) if progress else None
        return self.all_zero(undecided, proved) if undecided else True

    def reparametrised(self, residuals: Sequence[sp.Expr]) -> list[sp.Expr]:
        """The residuals with each softmax row written as scale × probabilities (`verify.decide.reparam`)."""
        rows = softmax_rows(residuals, set(self.net.backend.atoms.exp_argument))
        if not rows:
            return list(residuals)
        change, memo = substitution(rows), dict[sp.Basic, sp.Basic]()
        return [substitute(r, change, memo) for r in residuals]

    def all_zero(self, residuals: Sequence[sp.Expr], proved: Callable[[int], None] | None = None) -> bool | None:
        """True if every residual normalises to zero, False if one does not, None if it cannot be normalised;
        `proved(n)` hears how many residuals are zero so far (progress)."""
        if self.first_nonzero(residuals) is not None:
            return False
        residuals = self.reparametrised(residuals)
        engine = self.normal_form(residuals)
        tell = _growing(proved)
        try:
            try:  # the plain normal form is fastest when it works; give it a short patience first
                with time_budget(PATIENCE) as attempt:
                    return all(engine.residual_is_zero(r) and tell(n) for n, r in enumerate(residuals, 1))
            except BudgetExceeded as exc:
                if exc.owner != attempt:
                    raise
            return all(
                all(engine.residual_is_zero(part) for part in self.coefficients(r)) and tell(n)
                for n, r in enumerate(residuals, 1)
            )
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
        roots = self.roots(expanded.free_symbols)  # s^2 = u mixes monomials in s and in u's symbols
        tied = set(roots) | leaves(list(roots.values())).symbols
        split = sorted(expanded.free_symbols - in_denominators - discrete - tied - set(atoms.calls), key=str)
        if not split:
            return [expanded]
        groups: dict[sp.Expr, list[sp.Expr]] = {}
        for term in terms:
            check()
            coefficient, monomial = term.as_independent(*split, as_Add=False)
            groups.setdefault(monomial, []).append(coefficient)
        return [sp.Add(*parts) for parts in groups.values()]


def _growing(report: Callable[[int], None] | None) -> Callable[[int], bool]:
    """A teller passing on to `report` each count above all before it (a second pass counts from 1 again); it
    returns True, to sit inside `all(...)`."""
    best = 0

    def tell(n: int) -> bool:
        nonlocal best
        if n > best:
            best = n
            if report:
                report(n)
        return True

    return tell
