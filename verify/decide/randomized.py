"""The opt-in randomized verdict: exact arithmetic at random points, with its error bound stated.

A residual that is the zero rational function is zero everywhere; a non-zero one
whose numerator has total degree at most d vanishes at a uniformly random point
of F_p^n with probability at most d/p (Schwartz–Zippel), so after k independent
points the chance of a wrong "equal" is at most (d/p)^k. Three conditions make
that bound honest here, and each is checked, never assumed:

- discrete symbols must be evaluated as field elements, not as 0/1: that is only
  right if the residual is already multilinear in every mask (each mask of degree
  at most 1) and has degree at most 1 in each one-hot row, whose last entry is set
  to 1 - (the others); such a polynomial is zero on the masks/labels variety iff it
  is the zero polynomial. Every other entry of a row is drawn, whether the residual
  mentions it or not: valued 0, an absent entry would pin the last entry to 1 - (the
  present ones) and the point would only represent the assignments where the absent
  classes never occur (a residual equal to y_6 on the variety, written without y_6,
  would vanish at every point);
- d is a bound computed on the expression DAG (sums: max, products: sum, with
  numerator and denominator degrees tracked for quotients);
- a point where a denominator vanishes is not used.
When a condition fails, the randomized check does not apply and the exact path runs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.walk import leaves
from derive_check.verify.decide.modular import PRIME, Singular, evaluate_mod

POINTS = 3  # independent points per claim


@dataclass(frozen=True)
class Degrees:
    """Bounds on an expression's numerator and denominator degrees and on each discrete group's degree."""

    num: int
    den: int
    groups: dict[int, int]


@dataclass(frozen=True)
class RandomizedZero:
    """Every residual vanished at `points` independent points; the chance this is wrong is ≤ 2**log2_error."""

    points: int
    degree: int
    log2_error: float

    def words(self) -> str:
        """The verdict's reason, with the bound."""
        return (
            f"zero at {self.points} independent random points mod 2^61-1 (randomized, not a proof); "
            f"numerator degree <= {self.degree}, so P(wrong) <= 2^{self.log2_error:.0f} (Schwartz-Zippel)"
        )


class NotApplicable(ValueError):
    """The bound would not be honest for these residuals (the message says why)."""


def randomized_zero(
    residuals: Sequence[sp.Expr],
    masks: Sequence[sp.Symbol],
    label_rows: Sequence[Sequence[sp.Symbol]],
    rng: random.Random,
    points: int = POINTS,
) -> RandomizedZero | int:
    """A bound if every residual vanishes at `points` random points, else the index of one that does not.

    A non-zero value is a certain answer: the residual is not the zero polynomial, so (being multilinear
    in masks and affine in label rows) it is non-zero somewhere on the masks/labels variety. Raises
    NotApplicable when the bound would not be honest.
    """
    group_of = {m: k for k, m in enumerate(masks)}
    for k, row in enumerate(label_rows, start=len(masks)):
        group_of.update({y: k for y in row})
    memo: dict[sp.Basic, Degrees] = {}
    degree = 0
    for r in residuals:
        found = _degrees(r, group_of, memo)
        if any(d > 1 for d in found.groups.values()):
            raise NotApplicable("a mask or label row occurs squared, so 0/1 values cannot be replaced by field values")
        degree = max(degree, found.num)
    found_leaves = leaves(residuals)
    # opaque applications (Log(u)) are variables too: each point draws them afresh
    symbols = sorted(found_leaves.symbols | found_leaves.applications, key=str)
    used = 0
    for _ in range(4 * points):
        if used == points:
            break
        values = {s: rng.randrange(PRIME) for s in symbols}
        for row in label_rows:  # every other entry of the row is free, whether the residual mentions it or not:
            for y in row[:-1]:  # an absent entry valued 0 would force the last one to 1, i.e. one class only
                values.setdefault(y, rng.randrange(PRIME))
            values[row[-1]] = (1 - sum(values[y] for y in row[:-1])) % PRIME
        cache: dict[sp.Basic, int] = {}
        try:
            for k, r in enumerate(residuals):
                if evaluate_mod(r, values, cache):
                    return k
        except Singular:
            continue
        used += 1
    if used < points:
        raise NotApplicable("denominators vanished at too many random points")
    per_point = math.log2(max(degree, 1)) - math.log2(PRIME)
    return RandomizedZero(used, degree, per_point * used)


def randomized_or_none(
    residuals: Sequence[sp.Expr],
    masks: Sequence[sp.Symbol],
    label_rows: Sequence[Sequence[sp.Symbol]],
    rng: random.Random,
) -> RandomizedZero | int | None:
    """`randomized_zero`, or None where its bound would not be honest (the exact path decides those)."""
    try:
        return randomized_zero(residuals, masks, label_rows, rng)
    except NotApplicable:
        return None


def _degrees(expr: sp.Basic, group_of: dict[sp.Basic, int], memo: dict[sp.Basic, Degrees]) -> Degrees:
    found = memo.get(expr)
    if found is not None:
        return found
    check()
    if expr.is_Symbol:
        k = group_of.get(expr)
        found = Degrees(1, 0, {} if k is None else {k: 1})
    elif expr.is_number:
        found = Degrees(0, 0, {})
    elif expr.is_Add:
        parts = [_degrees(a, group_of, memo) for a in expr.args]
        den = sum(p.den for p in parts)
        num = max(p.num + den - p.den for p in parts)
        found = Degrees(num, den, _merge(parts, max))
    elif expr.is_Mul:
        parts = [_degrees(a, group_of, memo) for a in expr.args]
        found = Degrees(sum(p.num for p in parts), sum(p.den for p in parts), _merge(parts, sum))
    elif expr.is_Pow and expr.exp.is_Integer:
        base, k = _degrees(expr.base, group_of, memo), int(expr.exp)
        if k < 0 and base.groups:
            raise NotApplicable("a denominator depends on a mask or a label")
        scaled = {g: d * k for g, d in base.groups.items()}
        found = Degrees(base.num * k, base.den * k, scaled) if k >= 0 else Degrees(base.den * -k, base.num * -k, {})
    elif isinstance(expr, sp.Function):  # an opaque application: one more independent variable
        found = Degrees(1, 0, {})
    else:
        raise NotApplicable(f"cannot bound the degree of {type(expr).__name__}")
    memo[expr] = found
    return found


def _merge(parts: list[Degrees], combine: Callable[[list[int]], int]) -> dict[int, int]:
    out: dict[int, list[int]] = {}
    for p in parts:
        for g, d in p.groups.items():
            out.setdefault(g, []).append(d)
    return {g: combine(ds) for g, ds in out.items()}
