"""Sparse polynomials over QQ whose monomials are packed into one integer, masks and labels kept 0/1 as they multiply.

The normal form multiplies polynomials over hundreds of generators (every input, parameter, exp atom, mask and
label entry the residual mentions). A dense exponent tuple costs a Python-level add per generator for every pair
of terms multiplied; here a monomial is one integer holding every exponent in a field of WIDTH bits, so the
product of two monomials is one integer addition, done in C, whatever the number of generators.

Why this is exact:
- A field never overflows into its neighbour: every polynomial carries an upper bound on its total degree (sums:
  the larger bound; products: the sum of the bounds), and a product whose bound would reach 2**WIDTH raises
  `DegreeTooHigh` instead of packing. Any one exponent is at most the total degree, so all fields stay in range.
- Masks and one-hot label entries are 0 or 1, so for them x**2 = x. Their exponents are kept at most 1 as
  polynomials multiply: a discrete field of a product is the sum of two fields that are each 0 or 1, so it is 2
  exactly when bit 1 of the field is set, and subtracting that bit's half turns every 2 back into 1. This is the
  reduction m**k = m applied after every product instead of once at the end; it is a ring homomorphism onto the
  polynomials that are multilinear in the discrete variables, so the final representative is the same either way
  and the intermediate ones are smaller.
- The one-hot row rules (y_a*y_b = 0 in a row, y_last = 1 - the others) and square roots (s**2 = u) are applied
  by the normal form on the final numerator (`verify.decide.normal_form`), as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sympy as sp
from sympy.polys.domains import QQ

from derive_check.derive.budget import check

WIDTH = 16  # bits per exponent field
MAX_DEGREE = (1 << WIDTH) - 1
SAFE_POINT_PAIRS = 1024  # a product of more pairs of terms checks the time budget once per term of its left side

Coeff = Any  # QQ's element type (PythonMPQ, or gmpy2's mpq when SymPy uses gmpy)
Terms = dict[int, Coeff]


class DegreeTooHigh(ValueError):
    """A product's total degree could overflow an exponent field (the normal form then gives no answer)."""


class Poly:
    """A polynomial: packed monomial -> non-zero coefficient, with an upper bound on its total degree."""

    __slots__ = ("_hash", "degree_bound", "space", "terms")

    def __init__(self, space: Space, terms: Terms, degree_bound: int) -> None:
        self.space, self.terms, self.degree_bound = space, terms, degree_bound
        self._hash: int | None = None

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Poly) and self.terms == other.terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self.terms.items()))
        return self._hash

    def __add__(self, other: Poly) -> Poly:
        terms = dict(self.terms)
        for m, c in other.terms.items():
            total = terms.get(m, 0) + c
            if total:
                terms[m] = total
            else:
                terms.pop(m, None)
        return Poly(self.space, terms, max(self.degree_bound, other.degree_bound))

    def __mul__(self, other: Poly) -> Poly:
        bound = self.degree_bound + other.degree_bound
        if bound > MAX_DEGREE:
            raise DegreeTooHigh(f"a product of total degree up to {bound}")
        twos, out = self.space.twos, Terms()
        get = out.get
        large = len(self.terms) * len(other.terms) > SAFE_POINT_PAIRS
        for a, ca in self.terms.items():
            if large:
                check()  # a safe point for the time budget, row by row of a large product
            for b, cb in other.terms.items():
                s = a + b
                if s & twos:  # a mask or label squared: x**2 = x
                    s -= (s & twos) >> 1
                out[s] = get(s, 0) + ca * cb
        return Poly(self.space, {m: c for m, c in out.items() if c}, bound)

    def __pow__(self, k: int) -> Poly:
        result, base = self.space.one(), self
        while k:
            if k & 1:
                result = result * base
            k >>= 1
            if k:
                base = base * base
        return result

    def scaled(self, factor: Coeff) -> Poly:
        """Every coefficient times `factor` (a non-zero rational)."""
        return Poly(self.space, {m: c * factor for m, c in self.terms.items()}, self.degree_bound)

    def is_ground(self) -> bool:
        """Whether this is a constant (zero included)."""
        return not self.terms or list(self.terms) == [0]

    def leading(self) -> Coeff:
        """The coefficient of the largest packed monomial: a choice that depends only on the set of terms."""
        return self.terms[max(self.terms)]

    def degree(self, i: int) -> int:
        """The largest exponent of generator i."""
        shift, field = WIDTH * i, MAX_DEGREE
        return max(((m >> shift) & field for m in self.terms), default=0)

    def variable(self) -> int | None:
        """The generator's number if this polynomial is exactly one generator (coefficient 1), else None."""
        if len(self.terms) != 1:
            return None
        [(m, c)] = self.terms.items()
        if c != 1 or m == 0 or m & (m - 1):
            return None
        position = m.bit_length() - 1
        return position // WIDTH if position % WIDTH == 0 else None

    def mentions(self, mask: int) -> bool:
        """Whether some term has a non-zero exponent in a field of `mask` (a union of whole fields)."""
        return any(m & mask for m in self.terms)

    def as_expr(self) -> sp.Expr:
        """The polynomial as a SymPy expression (for display)."""
        gens = self.space.gens
        out = []
        for m, c in self.terms.items():
            factors = [sp.Rational(int(c.numerator), int(c.denominator))]
            for i, e in self.space.exponents(m):
                factors.append(gens[i] ** e)
            out.append(sp.Mul(*factors))
        return sp.Add(*out)


class Space:
    """The generators of one normal form, which of them are discrete (0/1), and the packing of their exponents."""

    def __init__(self, gens: Sequence[sp.Basic], discrete: Iterable[int]) -> None:
        self.gens = list(gens)
        indices = set(discrete)
        self.twos = sum(2 << (WIDTH * i) for i in indices)  # bit 1 of every discrete field
        self.discrete_fields = self.fields(indices)

    def one(self) -> Poly:
        """The constant 1."""
        return Poly(self, {0: QQ(1)}, 0)

    def zero(self) -> Poly:
        """The constant 0."""
        return Poly(self, {}, 0)

    def constant(self, p: int, q: int = 1) -> Poly:
        """The rational constant p/q."""
        return Poly(self, {0: QQ(p, q)} if p else {}, 0)

    def gen(self, i: int) -> Poly:
        """Generator i."""
        return Poly(self, {1 << (WIDTH * i): QQ(1)}, 1)

    def field(self, i: int) -> int:
        """The packed monomial of generator i to the first power (also: the lowest bit of its field)."""
        return 1 << (WIDTH * i)

    def fields(self, indices: Iterable[int]) -> int:
        """The union of the whole fields of these generators."""
        return sum(MAX_DEGREE << (WIDTH * i) for i in set(indices))

    def exponent(self, m: int, i: int) -> int:
        """The exponent of generator i in the packed monomial m."""
        return (m >> (WIDTH * i)) & MAX_DEGREE

    def exponents(self, m: int) -> Iterator[tuple[int, int]]:
        """(generator, exponent) for every non-zero exponent of the packed monomial m."""
        i = 0
        while m:
            e = m & MAX_DEGREE
            if e:
                yield i, e
            m >>= WIDTH
            i += 1

    def poly(self, terms: Terms, degree_bound: int) -> Poly:
        """A polynomial from packed terms (zero coefficients dropped)."""
        return Poly(self, {m: c for m, c in terms.items() if c}, degree_bound)
