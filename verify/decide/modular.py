"""Exact evaluation modulo a 61-bit prime: a fast test that a residual is not zero.

Masks are drawn from {0, 1} and label rows as one-hot vectors, so a point is a
point of the same variety the normal form reduces modulo; every other symbol
(exp atoms and logs included) gets an independent random residue. A non-zero
value proves the normal form cannot reach zero, so the expensive
normalisation is skipped and the engine goes looking for a real
counterexample. A zero value proves nothing; the normal form decides.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable, Sequence

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
    """Residues for every symbol: 0/1 masks, one-hot label rows, uniform elsewhere.

    A mask's bit depends on one draw and its own name, not on which other masks exist: the network's atoms grow
    as claims are checked, so with one draw per mask the bits (and with them the entry a claim is first found
    wrong at) depended on which claims the process had checked before (another worker's, or cached ones)."""
    values: dict[sp.Basic, int] = {s: rng.randrange(1, PRIME) for s in sorted(symbols, key=str)}
    salt = rng.getrandbits(64)
    for m in masks:
        values[m] = hashlib.blake2b(f"{salt}:{m}".encode(), digest_size=1).digest()[0] & 1
    for row in label_rows:
        hot = rng.randrange(len(row))
        for c, y in enumerate(row):
            values[y] = int(c == hot)
    return values


def evaluate_mod(expr: sp.Expr, values: dict[sp.Basic, int], memo: dict[sp.Basic, int] | None = None) -> int:
    """The value of `expr` modulo PRIME; unknown function applications get fresh random residues."""

    def leaf(node: sp.Basic) -> int:  # a symbol of `values`, or an opaque application: an independent atom
        return values[node] if node in values else values.setdefault(node, random.Random(str(node)).randrange(1, PRIME))

    return reduce_mod(expr, {} if memo is None else memo, leaf)


def reduce_mod(expr: sp.Basic, memo: dict[sp.Basic, int], leaf: Callable[[sp.Basic], int]) -> int:
    """`expr` modulo PRIME through sums, products, integer powers and rationals, each shared node once (`memo`);
    every other node (a symbol, a function application) is worth `leaf(node)`. Singular if a denominator is 0."""
    found = memo.get(expr)
    if found is not None:
        return found
    if expr.is_Rational:
        result = int(expr.p) * pow(int(expr.q), -1, PRIME) % PRIME
    elif expr.is_Add:
        result = sum(reduce_mod(a, memo, leaf) for a in expr.args) % PRIME
    elif expr.is_Mul:
        result = 1
        for a in expr.args:
            result = result * reduce_mod(a, memo, leaf) % PRIME
    elif expr.is_Pow and expr.exp.is_Integer:
        base = reduce_mod(expr.base, memo, leaf)
        if base == 0 and expr.exp < 0:
            raise Singular("a denominator vanished")
        result = pow(base, int(expr.exp), PRIME)
    else:
        result = leaf(expr)
    memo[expr] = result
    return result
