"""Exact evaluation modulo a 61-bit prime: a fast test that a residual is not zero.

Masks are drawn from {0, 1} and label rows as one-hot vectors, so a point is a
point of the same variety the normal form reduces modulo; every other symbol
(exp atoms and logs included) gets an independent random residue. A non-zero
value proves the normal form cannot reach zero, so the expensive
normalisation is skipped and the engine goes looking for a real
counterexample. A zero value proves nothing; the normal form decides.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import sympy as sp

PRIME = 2**61 - 1


class Singular(ArithmeticError):
    """A denominator vanished modulo the prime at this point; draw another."""


def random_assignment(
    symbols: Iterable[sp.Basic],
    masks: Iterable[sp.Symbol],
    label_rows: Sequence[Sequence[sp.Symbol]],
    rng: random.Random,
) -> dict[sp.Basic, int]:
    """Residues for every symbol: 0/1 masks, one-hot label rows, uniform elsewhere."""
    values: dict[sp.Basic, int] = {s: rng.randrange(1, PRIME) for s in sorted(symbols, key=str)}
    for m in sorted(masks, key=str):  # sorted: draws must not depend on PYTHONHASHSEED
        values[m] = rng.randrange(2)
    for row in label_rows:
        hot = rng.randrange(len(row))
        for c, y in enumerate(row):
            values[y] = int(c == hot)
    return values


def evaluate_mod(expr: sp.Expr, values: dict[sp.Basic, int], memo: dict[sp.Basic, int] | None = None) -> int:
    """The value of `expr` modulo PRIME; unknown function applications get fresh random residues."""
    memo = {} if memo is None else memo
    return _eval(expr, values, memo)


def _eval(expr: sp.Basic, values: dict[sp.Basic, int], memo: dict[sp.Basic, int]) -> int:
    found = memo.get(expr)
    if found is not None:
        return found
    if expr in values:
        result = values[expr]
    elif expr.is_Rational:
        result = int(expr.p) * pow(int(expr.q), -1, PRIME) % PRIME
    elif expr.is_Add:
        result = sum(_eval(a, values, memo) for a in expr.args) % PRIME
    elif expr.is_Mul:
        result = 1
        for a in expr.args:
            result = result * _eval(a, values, memo) % PRIME
    elif expr.is_Pow and expr.exp.is_Integer:
        base = _eval(expr.base, values, memo)
        if base == 0 and expr.exp < 0:
            raise Singular("a denominator vanished")
        result = pow(base, int(expr.exp), PRIME)
    else:  # an opaque application (Log(...)) or anything else: an independent atom
        result = values.setdefault(expr, random.Random(str(expr)).randrange(1, PRIME))
    memo[expr] = result
    return result
