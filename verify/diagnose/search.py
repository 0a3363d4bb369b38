"""Diagnosis: the nearest correct reading of a wrong claim, proved, never guessed.

Candidate corrected formulas come from `verify.diagnose.rewrites` (tree edits and
whole-formula shape fixes) plus two parametric readings: a constant factor,
recovered modulo a prime by rational reconstruction, and a missing or extra
multiple of `scalar · parameter` (the L2 term). Candidates are screened by a
modular fingerprint that shares its memo across candidates, and a candidate
is reported only when the corrected formula is PROVED.

A candidate that passes the screen is proved the way a claim at the same sizes is. At large sizes (`points`
given: past what the normal form handles cheaply) that is the index engine for every size (milliseconds), confirmed at
the stated sizes by exact evaluation modulo a prime at random points; where the index calculus does not reach
(masks summed per sample, labels, Jacobians), and at small sizes always, the fixed-size normal form decides.
The modular cross-check draws each 0/1 mask at random, so it can miss a difference that shows only on a rare
mask pattern: at small sizes, where the normal form is cheap, it is the normal form that stands behind a reading
shown as PROVED, as it stands behind a claim. The witness then checks the reading numerically as well.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

import sympy as sp

from derive_check.derive.budget import BudgetExceeded
from derive_check.derive.errors import InputError
from derive_check.derive.exact.network import Network
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref, walk
from derive_check.verify.check.entries import Entry, ShapeMismatch
from derive_check.verify.decide.equality import Equality
from derive_check.verify.decide.modular import PRIME
from derive_check.verify.decide.modular_point import Point, modular_cross_check
from derive_check.verify.diagnose.derivatives import jacobian_readings, slope_readings
from derive_check.verify.diagnose.residual import proved_residual
from derive_check.verify.diagnose.rewrites import (
    Vocabulary,
    dropped_terms,
    edits,
    every_axis,
    scalings,
    size_swaps,
    wrappers,
)
from derive_check.verify.diagnose.slips import slips
from derive_check.verify.diagnose.tidy import tidy

MAX_CANDIDATES = 400  # readings tried per claim: a count, so a cached and a fresh run search the same readings
SEARCH_SECONDS = 4.0  # a safety bound only (idle, every reading found in the corpus is found within 0.8 s)


@dataclass(frozen=True)
class Diagnosis:
    """A proved reading: what the slip is, and the corrected formula that is PROVED."""

    words: str
    formula: str
    residual: Node | None = None  # claim − dL/dX as a matrix formula, PROVED at the stated sizes
    residual_everywhere: bool = False  # ... and for every size (index engine)


Evaluate = Callable[[Node], list[Entry]]


def diagnose(
    eq: Equality,
    model: Vocabulary,
    tree: Node,
    entries: list[Entry] | None,
    evaluate: Evaluate,
    scalars: list[str],
    target: str,
    for_all_sizes: Callable[[Node], bool] | None = None,
    points: Callable[[], list[Point]] | None = None,
) -> Diagnosis | None:
    """The first candidate reading that the exact engine proves, or None. A candidate that reads a size name the
    claim does not (`/ N` for `/ 2`) must also hold for every size (`for_all_sizes`): at N = 2 the number and the
    name agree, and the reading would otherwise teach a formula that is wrong at every other N."""
    deadline = time.perf_counter() + SEARCH_SECONDS
    sizes = Counter(n.name for n in walk(tree) if isinstance(n, Ref) and n.name in model.sizes)
    general = _Confirm(for_all_sizes, points)
    for tried, (words, written) in enumerate(_candidates(eq, tree, evaluate, model, scalars, target)):
        if tried >= MAX_CANDIDATES or time.perf_counter() > deadline:
            return None
        candidate = tidy(written)  # the tidy form is the one proved and shown
        try:
            checks = evaluate(candidate)
        except (ShapeMismatch, InputError, ValueError, ZeroDivisionError):
            continue
        if not _proves(eq, checks, candidate, general):
            continue
        reads_a_size = Counter(n.name for n in walk(candidate) if isinstance(n, Ref) and n.name in model.sizes) != sizes
        if reads_a_size and not general.everywhere(candidate):  # proved here, not everywhere
            continue
        residual, everywhere = _residual(eq, tree, candidate, evaluate, general)
        return Diagnosis(_sentence(words, model, scalars), to_text(candidate), residual, everywhere)
    return None


def _sentence(words: str, model: Vocabulary, scalars: list[str]) -> str:
    """The words as a sentence: capitalised, unless they start with a name from the file (xc stays xc)."""
    first, *rest = words.split(" ", 2)
    first = first.removesuffix("'s")  # softmax's: capitalised; xc's: a name, kept
    article = first in ("a", "an") and rest[:1] in (["transpose"], ["term"], ["square"], ["activation"], ["extra"])
    names = {*model.quantities, *model.sizes, *scalars, *model.names}
    if (first in names and not article) or not first.isalpha():
        return words
    return words[:1].upper() + words[1:]


class _Confirm:
    """The all-sizes proof of a candidate (remembered: a reading is asked about more than once) and, at large
    sizes, its cross-check at the stated sizes modulo a prime at the session's random points (`points`)."""

    def __init__(self, for_all_sizes: Callable[[Node], bool] | None, points: Callable[[], list[Point]] | None) -> None:
        self.for_all_sizes, self.points = for_all_sizes, points
        self.proved: dict[Node, bool] = {}

    def everywhere(self, candidate: Node) -> bool:
        """Whether the index engine proves the candidate for every size."""
        if self.for_all_sizes is None:
            return False
        if candidate not in self.proved:
            self.proved[candidate] = self.for_all_sizes(candidate)
        return self.proved[candidate]

    def confirmed(self, candidate: Node, checks: list[Entry]) -> bool:
        """At large sizes: proved for every size, and every entry agrees modulo the prime at the stated sizes."""
        if self.points is None or not self.everywhere(candidate):
            return False
        return modular_cross_check(self.points(), [(e.truth, e.claimed) for e in checks]).agreed


def _residual(
    eq: Equality, tree: Node, candidate: Node, evaluate: Evaluate, general: _Confirm
) -> tuple[Node | None, bool]:
    """The proved matrix residual of a diagnosed claim and whether it holds for every size; (None, False) when it is
    not proved or the claim's budget runs out (the diagnosis itself stands)."""
    try:
        residual = proved_residual(tree, candidate, lambda c: _proves(eq, _entries(evaluate, c), c, general))
        return residual, bool(residual and general.everywhere(Apply("sub", (tree, residual))))
    except BudgetExceeded:
        return None, False


def _entries(evaluate: Evaluate, candidate: Node) -> list[Entry]:
    """The candidate's entries against the truth, or none when it cannot be evaluated."""
    try:
        return evaluate(candidate)
    except (ShapeMismatch, InputError, ValueError, ZeroDivisionError):
        return []


def _proves(eq: Equality, checks: list[Entry], candidate: Node, general: _Confirm) -> bool:
    """Whether `candidate` (with these entries against the truth, at least one) is proved: for every size and
    cross-checked (`_Confirm`), or else by the exact engine at the stated sizes."""
    if not checks:
        return False
    residuals = eq.residuals([e.truth for e in checks], [e.claimed for e in checks])
    if not eq.quick_zero(residuals):
        return False
    if general.confirmed(candidate, checks):
        return True
    truth, claimed = [e.truth for e in checks], [e.claimed for e in checks]
    return bool(eq.proves(truth, claimed, residuals))


def _candidates(
    eq: Equality, tree: Node, evaluate: Evaluate, model: Vocabulary, scalars: list[str], target: str
) -> Iterator[tuple[str, Node]]:
    """Readings in order of how much they explain: a shape slip, a size swapped, a factor, a term, an edit."""
    shaped = [("", tree), *wrappers(tree)]
    yield from ((w, t) for w, t in shaped if w)
    for words, edited in size_swaps(tree, model):
        yield from ((_join(w, words), t) for w, t in [("", edited), *wrappers(edited)])
    for words, fixed in shaped:
        scale = _scale(eq, fixed, evaluate)
        if scale is not None:
            yield _join(words, f"equals the true derivative times {scale[0]}{scale[2]}"), scale[1]
            numeric = Apply("div", (fixed, Const(Fraction(scale[0]))))  # the number itself, if the size fails
            yield _join(words, f"equals the true derivative times {scale[0]}"), numeric
        for s in scalars:
            term = _extra_term(eq, fixed, evaluate, s, target)
            if term is not None:
                yield _join(words, term[0]), term[1]
    yield from slope_readings(tree, model, loss=False, target=target)
    yield from jacobian_readings(tree, model, target)
    for words, edited in edits(tree, model):
        yield from ((_join(w, words), t) for w, t in [("", edited), *wrappers(edited)])
    yield from every_axis(tree)
    for words, fixed in shaped:  # a scalar factor or a whole term the claim lacks
        yield from ((_join(words, w), t) for w, t in [*scalings(fixed, model, scalars), *dropped_terms(fixed, model)])
    for words, fixed in shaped:  # one slip in one place: a sign, an operator, a factor, a quantity
        yield from ((_join(words, w), t) for w, t in slips(fixed, model, scalars))
    yield from slope_readings(tree, model, loss=True, target=target)


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first else second


def _scale(eq: Equality, tree: Node, evaluate: Evaluate) -> tuple[str, Node, str] | None:
    try:
        checks = evaluate(tree)
    except (ShapeMismatch, InputError, ValueError, ZeroDivisionError):
        return None
    ratio = _ratio(eq, [e.claimed for e in checks], [e.truth for e in checks])
    if ratio is None or ratio in (0, 1):
        return None
    return str(ratio), Apply("div", (tree, _constant(eq.net, ratio))), _size_hint(eq.net, ratio)


def _constant(net: Network, value: Fraction) -> Node:
    """A constant written with the file's size name where it equals one (N rather than 2)."""
    for name, size in net.spec.sizes.items():
        if size > 1 and value == size:
            return Ref(name)
        if size > 1 and value == Fraction(1, size):
            return Apply("div", (Const(Fraction(1)), Ref(name)))
    return Const(value)


def _extra_term(eq: Equality, tree: Node, evaluate: Evaluate, scalar: str, target: str) -> tuple[str, Node] | None:
    try:
        checks = evaluate(tree)
        unit = evaluate(Apply("mul", (Ref(scalar), Ref(target))))
    except (ShapeMismatch, InputError, ValueError, ZeroDivisionError):
        return None
    if len(unit) != len(checks):
        return None
    gap = _ratio(eq, [e.truth - e.claimed for e in checks], [u.claimed for u in unit])
    if gap is None or gap == 0:
        return None
    unit_term: Node = Apply("mul", (Ref(scalar), Ref(target)))
    corrected = Apply("add", (tree, unit_term if gap == 1 else Apply("mul", (Const(gap), unit_term))))
    symbol = eq.net.symbols[scalar].item()
    own = _ratio(eq, [e.claimed - e.claimed.xreplace({symbol: 0}) for e in checks], [u.claimed for u in unit])
    if own == 0 or own is None:
        return f"missing the {gap}·{scalar}·{target} term", corrected
    return f"{scalar} factor {own} instead of {own + gap} on the {scalar}·{target} term", corrected


def _ratio(eq: Equality, top: list[sp.Expr], bottom: list[sp.Expr]) -> Fraction | None:
    """The constant c with top = c·bottom entry-wise at the fingerprint point, as a small fraction."""
    for a, b in zip(top, bottom, strict=True):
        below = eq.fingerprint(b)
        if below:
            return _reconstruct(eq.fingerprint(a) * pow(below, -1, PRIME) % PRIME)
    return None


def _reconstruct(residue: int) -> Fraction | None:
    """The fraction a/b ≡ residue (mod PRIME) with |a|, b ≤ sqrt(PRIME/2), if one exists."""
    bound = isqrt(PRIME // 2)
    r0, r1, s0, s1 = PRIME, residue, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound:
        return None
    return Fraction(r1, s1)


def _size_hint(net: Network, value: Fraction) -> str:
    """Where a factor equals a size, say so: ' (= N: a missing 1/N?)'."""
    for name, size in net.spec.sizes.items():
        if size > 1 and value == size:
            return f" (= {name}: a missing 1/{name}?)"
        if size > 1 and value == Fraction(1, size):
            return f" (= 1/{name}: an extra 1/{name}?)"
    return " (sign flipped)" if value == -1 else ""
