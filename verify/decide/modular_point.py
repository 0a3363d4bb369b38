"""The cross-check of an all-sizes proof at the stated sizes, by exact evaluation modulo a prime.

When the index engine proves a claim for every size, the claim holds at the stated sizes as a consequence;
what is left to do there is an independent second opinion whose cost follows the stated sizes. Small claims
get the exact normal form (the design card's method, a second engine); large ones get this check: every
entry's true derivative and claimed value are evaluated modulo the 61-bit prime at a few random points of the
mask/label variety, on the unexpanded expression DAGs. A line atom is evaluated through its definition (each
atom once per point), so nothing is ever expanded: at 650 entries one point costs a fraction of a second,
where expanding the residuals costs seconds.

What a point is: every base symbol (inputs, parameters, exp, smooth and function atoms) an independent
uniform residue; masks and free indicators 0 or 1; each label row one-hot. That is the variety the normal form
reduces over, so a residual that normalises to zero vanishes at every such point, and a residual that does
not normalise to zero is non-zero at a random point with probability at least 1 − deg/p per mask pattern.

The check never decides on its own. A non-zero value (or a vanishing denominator) only means this check did
not confirm the all-sizes proof: the engine then takes the fixed-size path, which decides the claim exactly
and turns a real disagreement into an INCONSISTENT verdict (a bug in derive-check). Atoms the normal form
relates (σ(u) written through exp(u), softmax rows rescaled, s² = u for square roots) are independent here,
so such claims can fail this check while being true; they then take the exact path, which relates them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.atoms import Atoms, positive_part
from derive_check.verify.decide.modular import PRIME, Singular, reduce_mod

ROUNDS = 3  # random points; masks and labels are drawn afresh at each


@dataclass(frozen=True)
class ModularCheck:
    """What the evaluation found: whether every entry vanished at every point, and the words for the report."""

    agreed: bool
    words: str


def points(atoms: Atoms, rows: Sequence[Sequence[sp.Symbol]]) -> list[Point]:
    """The ROUNDS random points of one network (shared by its claims: a claim's values never depend on which
    claims were evaluated before it, only the time does)."""
    return [Point(atoms, rows, f"point {k}") for k in range(ROUNDS)]


def modular_cross_check(
    at: Sequence[Point],
    pairs: Sequence[tuple[sp.Expr, sp.Expr]],
    transport: dict[sp.Symbol, sp.Expr] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ModularCheck:
    """Evaluate truth − claimed of every pair modulo the prime at the points `at`; `transport` gives the free
    symbols of a network cut their values (entries of the network); `progress(done, total)` hears how many
    entries' worth of evaluations are done (all points together, scaled to the number of entries)."""
    total, done, rounds = len(pairs), 0, max(len(at), 1)
    for point in at:
        point.extra.update(transport or {})
        for truth, claimed in pairs:
            check()  # a safe point for the time budget
            try:
                difference = point.value(truth) - point.value(claimed)
            except Singular:
                return ModularCheck(False, "a denominator vanished at a random point")
            if difference % PRIME:
                return ModularCheck(False, "an entry is not zero modulo the prime at a random point")
            done += 1
            if progress and done % rounds == 0:
                progress(done // rounds, total)
    return ModularCheck(
        True,
        f"cross-check: every entry 0 mod 2^61-1 at {len(at)} random points",
    )


def first_difference(at: Sequence[Point], pairs: Sequence[tuple[sp.Expr, sp.Expr]]) -> int | None:
    """The index of the first pair whose sides differ modulo the prime at one of the points, or None. A hint
    where to look for a real counterexample, never a verdict (atoms the normal form relates are independent here)."""
    for point in at:
        for k, (truth, claimed) in enumerate(pairs):
            check()  # a safe point for the time budget
            try:
                if (point.value(truth) - point.value(claimed)) % PRIME:
                    return k
            except Singular:
                break
    return None


class Point:
    """One random point, valued lazily: base symbols uniform, label rows one-hot, line atoms through their
    definitions, and every other atom (exp, smooth, mask, declared function, opaque application) a random
    function of its arguments' values: atoms that are the same function of the inputs get the same value,
    however they were built (a cut's recomputed softmax and the network's own)."""

    def __init__(self, atoms: Atoms, rows: Sequence[Sequence[sp.Symbol]], seed: str) -> None:
        self.atoms, self.seed = atoms, seed
        self.extra: dict[sp.Symbol, sp.Expr] = {}  # the free symbols of network cuts, with their values
        self.memo: dict[sp.Basic, int] = {}
        for k, row in enumerate(rows):
            hot = self._draw(f"row {k}") % len(row)
            self.memo.update((y, int(c == hot)) for c, y in enumerate(row))

    def value(self, expr: sp.Basic) -> int:
        """`expr` modulo the prime at this point (Singular if a denominator vanishes)."""
        return reduce_mod(expr, self.memo, self._leaf)

    def _leaf(self, expr: sp.Basic) -> int:
        if expr.is_Symbol:
            return self._symbol(expr)
        return self._oracle(type(expr).__name__, *(self.value(a) for a in expr.args))

    def _symbol(self, symbol: sp.Basic) -> int:
        a = self.atoms
        if symbol in a.definition:
            return self.value(a.definition[symbol])
        if symbol in self.extra:
            return self.value(self.extra[symbol])
        if symbol in a.exp_argument:
            return self._oracle("exp", self.value(a.exp_argument[symbol]))
        if symbol in a.smooth:
            kind, argument = a.smooth[symbol]
            return self._oracle(kind, self.value(argument))
        if symbol in a.masks or symbol in a.indicators:
            key = a.masks.get(symbol, a.indicators.get(symbol))
            return self._oracle("mask", self.value(positive_part(key))) % 2
        if symbol in a.calls:
            call = a.calls[symbol]
            return self._oracle(f"{call.name}{call.partial}", *(self.value(x) for x in call.args))
        return 1 + self._draw(str(symbol)) % (PRIME - 1)

    def _oracle(self, kind: str, *arguments: int) -> int:
        return 1 + self._draw(f"{kind}{arguments}") % (PRIME - 1)

    def _draw(self, text: str) -> int:
        digest = hashlib.blake2b(f"{self.seed}:{text}".encode(), digest_size=16).digest()
        return int.from_bytes(digest, "big")
