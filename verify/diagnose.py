"""Diagnosis: the nearest correct reading of a wrong claim, proved, never guessed.

Readings are tried as data: first a shape fix (none, transpose, sum or mean
over the batch axis), then on top of it an exact match, a constant factor, or
a missing/extra multiple of `scalar · parameter` (the L2 term). Constants are
found by evaluating modulo a prime and recovering the small fraction by
rational reconstruction; every candidate is then checked with the same exact
engine that proves claims, and only a PROVED corrected formula is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import isqrt

import numpy as np
import sympy as sp

from derive.atoms import as_expr
from derive.network import Network
from derive.ops import Array
from verify.equality import Equality
from verify.modular import PRIME, Singular, evaluate_mod, random_assignment


@dataclass(frozen=True)
class ShapeFix:
    """A way a claim's shape may be wrong, and the repair that would make it right."""

    words: str
    repair: Callable[[Array], Array]


SHAPE_FIXES = (
    ShapeFix("", lambda v: v),
    ShapeFix("transposed", lambda v: v.T),
    ShapeFix("not summed over the batch (axis 0)", lambda v: np.sum(v, axis=0) if v.ndim == 2 else v),
    ShapeFix("not averaged over the batch (axis 0)", lambda v: np.sum(v, axis=0) / v.shape[0] if v.ndim == 2 else v),
)


def diagnose(eq: Equality, target: str, truth: Array, value: Array, mentions: set[str]) -> str:
    """A proved description of how `value` relates to the true gradient, or ''."""
    for fix in SHAPE_FIXES:
        fixed = np.asarray(fix.repair(value), dtype=object)
        if fixed.shape != truth.shape:
            continue
        words = [fix.words] if fix.words else []
        if fix.words and eq.all_zero(eq.residuals(list(truth.flat), list(fixed.flat))):
            return _join([*words, "otherwise equal to the true gradient"])
        found = _scale(eq, truth, fixed) or _extra_term(eq, target, truth, fixed, mentions)
        if found:
            return _join([*words, found])
    return ""


def _join(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _scale(eq: Equality, truth: Array, value: Array) -> str:
    ratio = _ratio(eq, list(value.flat), list(truth.flat))
    if ratio is None or ratio in (0, 1):
        return ""
    corrected = [v / sp.Rational(ratio.numerator, ratio.denominator) for v in value.flat]
    if not eq.all_zero(eq.residuals(list(truth.flat), corrected)):
        return ""
    return f"equals the true gradient times {ratio}{_size_hint(eq.net, ratio)}"


def _extra_term(eq: Equality, target: str, truth: Array, value: Array, mentions: set[str]) -> str:
    theta = eq.net.values.get(target)
    if theta is None or np.shape(theta) != truth.shape:
        return ""
    scalars = [name for name, arr in eq.net.symbols.items() if np.ndim(arr) == 0]
    for s in scalars:
        term = [as_expr(eq.net.symbols[s].item()) * t for t in theta.flat]
        gap = _ratio(eq, eq.residuals(list(truth.flat), list(value.flat)), term)
        if gap is None or gap == 0:
            continue
        k = sp.Rational(gap.numerator, gap.denominator)
        if not eq.all_zero(eq.residuals(list(truth.flat), [v + k * u for v, u in zip(value.flat, term, strict=True)])):
            continue
        if s not in mentions:
            return f"missing the {gap}·{s}·{target} term"
        symbol = as_expr(eq.net.symbols[s].item())
        own = _ratio(eq, [v - as_expr(v).xreplace({symbol: 0}) for v in value.flat], term)
        if own is not None:
            return f"{s} factor {own} instead of {own + gap} on the {s}·{target} term"
        return f"the {s}·{target} term is off by {gap}·{s}·{target}"
    return ""


def _ratio(eq: Equality, top: list[sp.Expr], bottom: list[sp.Expr]) -> Fraction | None:
    """The constant c with top = c·bottom entry-wise at a random point, as a small fraction."""
    atoms = eq.net.backend.atoms
    expand = atoms.expand
    pairs = [(expand(as_expr(a)), expand(as_expr(b))) for a, b in zip(top, bottom, strict=True)]
    symbols = set().union(*(a.free_symbols | b.free_symbols for a, b in pairs)) if pairs else set()
    values = random_assignment(symbols, atoms.masks.keys() | atoms.indicators.keys(), eq.net.label_rows, eq.rng)
    memo: dict[sp.Basic, int] = {}
    for a, b in pairs:
        try:
            below = evaluate_mod(b, values, memo)
            if below:
                return _reconstruct(evaluate_mod(a, values, memo) * pow(below, -1, PRIME) % PRIME)
        except Singular:
            return None
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
