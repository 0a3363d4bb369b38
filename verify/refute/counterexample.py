"""Finding a concrete point where a claimed entry and the true derivative differ."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import numpy as np
import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.atoms import as_expr
from derive_check.derive.exact.backend import NotNumeric, NumericBackend
from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.exact.network import Network, numeric_forward, one_hot_groups
from derive_check.derive.exact.walk import leaves
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.source import formula_location
from derive_check.verify.check.entries import Entry
from derive_check.verify.refute.display import readable_residual
from derive_check.verify.refute.oracle import finite_difference, numeric_claims
from derive_check.verify.refute.points import NoPoint, Point, draw_point, exact_decimal
from derive_check.verify.results import Counterexample
from derive_check.verify.witness.crosscheck import claim_trees

POINTS = 4
LEGIBLE_POINTS = 2
WIDER = (4, 8, 16)  # spreads tried when inputs in [-2, 2] show no difference
MAX_LABELINGS = 256  # label assignments tried one by one when random ones show no difference
ENTRIES_PER_POINT = 24


def find_counterexample(
    net: Network,
    claim: ClaimSpec,
    entries: Sequence[Entry],
    residuals: Sequence[sp.Expr],
    first: int,
    rng: random.Random,
) -> Counterexample | None:
    """A real point (masks consistent with it) where some entry differs, cross-checked by the oracle.

    The first point that shows a difference is kept unless it is hard to read by hand (a saturated softmax makes
    both sides 1e-10); then the POINTS draws of the search go on, and LEGIBLE_POINTS more with inputs in [-1, 1],
    and the most legible wins. The first POINTS draws are the same as without this choice, so no difference the
    search would find is lost (inputs in [-1, 1] alone can miss an activation pattern that needs x > 1)."""
    order = [first, *[k for k in range(len(entries)) if k != first][: ENTRIES_PER_POINT - 1]]
    best = _search(net, entries, order, rng, [2] * POINTS + [1] * LEGIBLE_POINTS, strict=False)
    if best is None:  # nothing with other formulas' undefined atoms left out: points where every atom is defined
        best = _search(net, entries, order, rng, [2] * POINTS, strict=True)
    for spread in WIDER:  # a difference only beyond a threshold (a clip at 3): inputs up to 4, 8, 16 apart
        if best is None:
            best = _search(net, entries, order, rng, [spread] * POINTS, strict=False)
    for labels in _label_assignments(net) if best is None else []:  # a difference at some labels only (repeats)
        best = _search(net, entries, order, rng, [2, 2], strict=False, labels=labels)
        if best is not None:
            break
    if best is None:
        return None
    _, point, entry, t, c = best
    labels = {y: point.values[y] for row in net.label_rows for y in row}
    residual = readable_residual(entry.truth - entry.claimed, net.backend.atoms, {**labels, **entry.fixed})
    return _report(net, claim, point, entry, t, c, residual)


Found = tuple[tuple[float, ...], Point, Entry, sp.Expr, sp.Expr]  # (legibility, point, entry, true, claimed)


def _label_assignments(net: Network) -> list[dict[str, list[int]]]:
    """Every assignment of classes to the one-hot groups, when there are at most MAX_LABELINGS of them."""
    groups = [(d.name, one_hot_groups(net.symbols[d.name], d.dims)) for d in net.spec.inputs.values() if d.onehot]
    choices = [range(len(group)) for _, found in groups for group in found]
    if not choices or math.prod(len(c) for c in choices) > MAX_LABELINGS:
        return []
    out = []
    for picked in itertools.product(*choices):
        assignment, k = {}, 0
        for name, found in groups:
            assignment[name] = list(picked[k : k + len(found)])
            k += len(found)
        out.append(assignment)
    return out


def _search(
    net: Network,
    entries: Sequence[Entry],
    order: list[int],
    rng: random.Random,
    spreads: list[int],
    strict: bool,
    labels: dict[str, list[int]] | None = None,
) -> Found | None:
    """The most legible difference over one draw per spread; a draw with inputs in [-1, 1] (spread 1) only makes
    an already found difference legible, it never searches for one."""
    expand = net.backend.atoms.expand
    best: Found | None = None
    for spread in spreads:
        if spread == 1 and best is None:
            break
        try:
            point = draw_point(net, rng, spread=spread, strict=strict, labels=labels)
        except NoPoint:
            break
        for k in order:
            check()  # a safe point for the time budget
            entry = entries[k]
            t, c = point.at(expand(entry.truth)), point.at(expand(entry.claimed))
            if t.is_finite and c.is_finite and _differ(t, c):
                score = _legibility(t, c)
                if best is None or score > best[0]:
                    best = (score, point, entry, t, c)
                break
        if best is not None and best[0][0]:
            break
    return best


def _legibility(true_value: sp.Expr, claimed: sp.Expr) -> tuple[float, ...]:
    """How easily a person checks the difference: both sides between 0.001 and 1000 and apart in the first digit
    first, then the relative gap, then magnitudes near 1."""
    t, c = abs(float(sp.N(true_value, 20))), abs(float(sp.N(claimed, 20)))
    gap = abs(float(sp.N(true_value - claimed, 20)))
    size = max(t, c, 1e-300)
    relative = min(gap / size, 1.0)
    readable = all(v == 0 or 1e-3 <= v <= 1e3 for v in (t, c)) and relative >= 0.1
    return (float(readable), relative, -abs(np.log10(size)))


def _differ(a: sp.Expr, b: sp.Expr) -> bool:
    if a.is_Rational and b.is_Rational:
        return bool(a != b)
    gap, scale = abs(sp.N(a - b, 50)), 1 + abs(sp.N(a, 50)) + abs(sp.N(b, 50))
    return bool(gap > sp.Float(10) ** -40 * scale)


def _report(
    net: Network, claim: ClaimSpec, point: Point, entry: Entry, true_value: sp.Expr, claimed: sp.Expr, residual: str
) -> Counterexample:
    literals = tuple((name, point.literal(net, name)) for name in net.symbols)
    atoms = net.backend.atoms  # the function atoms this entry uses, by name: not those other claims created
    used = leaves([atoms.expand(as_expr(entry.truth)), atoms.expand(as_expr(entry.claimed))]).symbols
    calls = sorted((a for a in atoms.calls if a in used and a in point.values), key=str)
    literals += tuple((str(a), exact_decimal(point.values[a])) for a in calls)
    labels = (
        "; ".join(f"{name} rows are classes {cls}" for name, cls in point.classes.items())
        if not entry.fixed
        else "labels as the claim binds them"
    )
    oracle, oracle_claim = _oracle(net, claim, point, entry)
    return Counterexample(
        entry.label, literals, labels, _decimal(true_value), _decimal(claimed), residual, oracle, oracle_claim
    )


def _oracle(net: Network, claim: ClaimSpec, point: Point, entry: Entry) -> tuple[float | None, float | None]:
    plain = claim.of is None and not claim.index_vars and not claim.labels and claim.layout == "denominator"
    if not plain or claim.expr is None:
        return None, None  # the finite-difference oracle checks gradients of the loss only
    arrays = point.arrays(net)
    trees = claim_trees(net.spec)  # LaTeX products and per-sample sums resolved, as the engine reads them
    names = [c.name for c in net.spec.claims]
    before = names[: names.index(claim.name)] if claim.name in names else names
    earlier = {n: trees[n] for n in before if n in trees}
    tree = trees.get(claim.name) if claim.name in names else claim_trees(net.spec, extra=claim).get(claim.name)
    if tree is None:
        return None, None
    try:
        with np.errstate(all="raise"):
            fd = finite_difference(net.spec, arrays, claim.target, entry.index)
            env = {**numeric_forward(net.spec, arrays), **numeric_claims(net.spec, arrays, earlier)}
            value = evaluate(tree, env, NumericBackend(), formula_location(claim.where, claim.text))
            numeric = float(np.asarray(value, dtype=float)[entry.index])
    except (FloatingPointError, ValueError, KeyError, IndexError, NotNumeric, ArithmeticError):
        return None, None
    return fd, numeric


def _decimal(value: sp.Expr) -> str:
    """An exact value at the oracle's precision (10 significant digits), so the two rows read alike."""
    return format(float(sp.N(value, 30)), ".10g")
