"""The exact normal form: a residual is zero iff its reduced numerator is.

A residual (true derivative minus claimed entry) is a rational function of
independent symbols: inputs, parameters, exp atoms, ReLU masks, one-hot
labels. It is converted to numerator / (product of factor^k) over a sparse
polynomial ring with rational coefficients, keeping denominators factored so
additions only multiply by the missing factors (no gcd work). The numerator is
then reduced modulo the facts the symbols obey:

- a mask m is 0 or 1, so m^k = m (a multilinear polynomial that vanishes on
  {0,1}^k is the zero polynomial);
- each label row is one-hot, so y_a*y_b = 0 for a != b in a row, y^k = y, and
  the row's last entry is 1 - (sum of the others); what remains is affine in
  the other entries of each row, and an affine function vanishing on every
  one-hot vertex is zero.

So for free continuous symbols the test is complete for the discrete ones, and
it is sound: a zero numerator means the residual is zero for every real value,
every activation pattern and every label assignment where it is defined.
- a square root s = sqrt(u) obeys s^2 = u: powers of s above the first are
  replaced (the numerator changes by a multiple of s^2 - u, zero where s is defined).

Exp atoms are independent beyond their normal form (`derive.exact.exp_form`),
which can only make the test miss a true equality, never accept a false one.

The polynomials are `verify.decide.packed`'s: one integer per monomial, masks and labels kept 0/1 as they
multiply (m^k = m applied after each product rather than at the end: the same representative, smaller on the way).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive_check.derive.budget import check
from derive_check.verify.decide.packed import DegreeTooHigh, Poly, Space


class NotRational(ValueError):
    """The residual contains something other than + - * / and integer powers of atoms."""


@dataclass
class RatFunc:
    """num / prod(f**k for f, k in den.items()), each f monic and non-constant."""

    num: Poly
    den: dict[Poly, int]


class NormalForm:
    """Converts SymPy residuals to reduced numerators over one polynomial ring."""

    def __init__(
        self,
        gens: Sequence[sp.Basic],
        masks: Iterable[sp.Symbol],
        label_rows: Iterable[Sequence[sp.Symbol]],
        roots: Mapping[sp.Symbol, sp.Expr] | None = None,
    ) -> None:
        mask_list, rows = list(masks), [list(r) for r in label_rows if r]
        # Every mask and every whole label row is a generator, mentioned or not: reducing a row
        # with one of its entries missing would take the wrong entry for "1 - the others".
        present = set(gens)
        extra = [s for s in [*mask_list, *(y for r in rows for y in r)] if s not in present]
        self.symbols = [*gens, *extra]
        self.index = {s: i for i, s in enumerate(self.symbols)}
        self.rows = [[self.index[y] for y in row] for row in rows]
        self.discrete = {self.index[m] for m in mask_list} | {i for r in self.rows for i in r}
        self.space = Space(self.symbols, self.discrete)
        self._memo: dict[sp.Expr, RatFunc] = {}
        self.roots: list[tuple[int, Poly]] = []  # (sqrt atom s, u) with s^2 = u, u a polynomial
        for root, radicand in (roots or {}).items():
            if root in self.index:
                value = self.convert(radicand)
                if not value.den:
                    self.roots.append((self.index[root], value.num))

    def residual_is_zero(self, expr: sp.Expr) -> bool:
        """Whether `expr` reduces to exactly zero (raises NotRational if it cannot be normalised)."""
        return not self.reduced_numerator(expr)

    def reduced_numerator(self, expr: sp.Expr) -> Poly:
        """The numerator of `expr` reduced modulo the mask and one-hot facts."""
        value = self.convert(expr)
        for factor in value.den:
            if factor.mentions(self.space.discrete_fields):
                raise NotRational("a denominator depends on an activation mask or a label")
        return self.reduce(value.num)

    def convert(self, expr: sp.Expr) -> RatFunc:
        """`expr` as a RatFunc (memoised on sub-expressions)."""
        found = self._memo.get(expr)
        if found is None:
            try:
                found = self._convert(expr)
            except DegreeTooHigh as exc:
                raise NotRational(str(exc)) from exc
            self._memo[expr] = found
        return found

    def _convert(self, expr: sp.Expr) -> RatFunc:
        check()  # a safe point for the time budget
        space = self.space
        if expr.is_Rational:
            return RatFunc(space.constant(int(expr.p), int(expr.q)), {})
        if expr in self.index:  # a symbol, or an opaque atom such as Log(...)
            return RatFunc(space.gen(self.index[expr]), {})
        if expr.is_Add:
            parts = [self.convert(a) for a in expr.args]
            return _sum(parts, space)
        if expr.is_Mul:
            result = RatFunc(space.one(), {})
            for a in expr.args:
                result = _mul(result, self.convert(a))
            return result
        if expr.is_Pow and expr.exp.is_Integer:
            return _pow(self.convert(expr.base), int(expr.exp), space)
        raise NotRational(f"cannot normalise {type(expr).__name__}: {str(expr)[:80]}")

    def reduce(self, poly: Poly) -> Poly:
        """Apply s^2 = u for square roots, then the one-hot row rules to every term (m^k = m already holds)."""
        poly = self._reduce_roots(poly)
        if not self.rows:
            return poly
        out: dict[int, object] = {}
        rows = [(self.space.fields(row), [self.space.field(i) for i in row]) for row in self.rows]
        for monom, coeff in poly.terms.items():
            check()  # a safe point for the time budget: a numerator can have many thousand terms
            for m, c in _one_hot(monom, coeff, rows):
                total = out.get(m, 0) + c  # type: ignore[operator]
                if total:
                    out[m] = total
                else:
                    out.pop(m, None)
        return self.space.poly(out, poly.degree_bound)

    def _reduce_roots(self, poly: Poly) -> Poly:
        """Every power s^k (k >= 2) of a square root s = sqrt(u) replaced by u^(k // 2) s^(k % 2).

        Sound: the result differs from `poly` by a multiple of s^2 - u, which is zero wherever s is defined.
        It terminates because u never mentions s (an argument is built before its root).
        """
        for _ in range(len(self.roots) + 1):
            changed = False
            for i, radicand in self.roots:
                if poly.degree(i) < 2:
                    continue
                changed = True
                one = self.space.field(i)
                by_power: dict[int, dict[int, object]] = {}  # s^k's terms, with s^(k % 2) kept
                for monom, coeff in poly.terms.items():
                    k = self.space.exponent(monom, i)
                    by_power.setdefault(k // 2, {})[monom - (k - k % 2) * one] = coeff
                out = self.space.zero()
                for half, terms in sorted(by_power.items()):
                    check()  # multiplying by a large radicand is the costly step: a safe point for the budget
                    part = self.space.poly(terms, poly.degree_bound)
                    out += part * radicand**half if half else part
                poly = out
            if not changed:
                break
        return poly


def _one_hot(monom: int, coeff: object, rows: list[tuple[int, list[int]]]) -> list[tuple[int, object]]:
    """One term reduced by the one-hot rules, row by row: two entries of a row are never both 1 (the term is 0),
    and the row's last entry is 1 - (sum of the others). Each entry's exponent is already 0 or 1, so a row's
    part of a monomial is a sum of distinct field bits. Each row is read from the terms as they are after the
    rows before it (rows never share an entry in a model, but the rule holds even if they did)."""
    terms = [(monom, coeff)]
    for whole, bits in rows:
        out: list[tuple[int, object]] = []
        for m, c in terms:
            present = m & whole
            if present & (present - 1):  # two entries of one row
                continue
            if present and present == bits[-1]:  # y_last = 1 - sum(other entries of the row)
                base = m - bits[-1]
                out.append((base, c))
                out += [(base + b, -c) for b in bits[:-1]]  # type: ignore[operator]
            else:
                out.append((m, c))
        terms = out
    return terms


def _monic(poly: Poly) -> tuple[Any, Poly]:
    lc = poly.leading()
    return lc, poly.scaled(1 / lc)


def _mul(a: RatFunc, b: RatFunc) -> RatFunc:
    den = dict(a.den)
    for f, k in b.den.items():
        den[f] = den.get(f, 0) + k
    return _cancel_variables(RatFunc(a.num * b.num, den))


def _cancel_variables(value: RatFunc) -> RatFunc:
    """Cancel denominator factors that are single continuous variables (softmax scales) against the numerator.

    Exact and cheap: dividing by a variable that divides every numerator term only shifts exponents.
    Without it those factors pile up and every later product carries them. A mask or label is never cancelled:
    its exponent in the numerator is kept at most 1, so the numerator no longer says how often it divides; such
    a denominator makes the residual not normalisable (`NormalForm.reduced_numerator`).
    """
    if not value.num or not value.den:
        return value
    den = dict(value.den)
    num = value.num
    space = num.space
    for f, k in value.den.items():
        i = f.variable()
        if i is None or f.mentions(space.discrete_fields):
            continue
        shift = min(k, min(space.exponent(m, i) for m in num.terms))
        if shift:
            step = shift * space.field(i)
            num = space.poly({m - step: c for m, c in num.terms.items()}, num.degree_bound)
            den[f] = k - shift
            if not den[f]:
                del den[f]
    return RatFunc(num, den)


def _sum(parts: list[RatFunc], space: Space) -> RatFunc:
    den: dict[Poly, int] = {}
    for p in parts:
        for f, k in p.den.items():
            den[f] = max(den.get(f, 0), k)
    num = space.zero()
    for p in parts:
        term = p.num
        for f, k in den.items():
            missing = k - p.den.get(f, 0)
            if missing:
                term = term * f**missing
        num += term
    return _cancel_variables(RatFunc(num, den))


def _pow(base: RatFunc, k: int, space: Space) -> RatFunc:
    if k >= 0:
        return RatFunc(base.num**k, {f: e * k for f, e in base.den.items()})
    if not base.num:
        raise ZeroDivisionError("division by an expression that is identically zero")
    numerator = space.one()
    for f, e in base.den.items():
        numerator *= f ** (e * -k)
    if base.num.is_ground():
        return RatFunc(numerator.scaled(1 / base.num.leading() ** -k), {})
    lc, monic = _monic(base.num)
    return RatFunc(numerator.scaled(1 / lc**-k), {monic: -k})
