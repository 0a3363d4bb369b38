"""Finding a concrete point where a claimed entry and the true derivative differ."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
import sympy as sp

from derive.atoms import as_expr
from derive.model import ClaimSpec
from derive.network import Network
from derive.ops import Array
from verify.display import readable_residual
from verify.oracle import finite_difference, numeric_claims
from verify.points import NoPoint, Point, draw_point
from verify.results import Counterexample

POINTS = 4
ENTRIES_PER_POINT = 24


def find_counterexample(
    net: Network,
    claim: ClaimSpec,
    claims: Sequence[ClaimSpec],
    truth: Array,
    value: Array,
    residuals: Sequence[sp.Expr],
    first: int,
    rng: random.Random,
) -> Counterexample | None:
    """A real point (masks consistent with it) where some entry differs, cross-checked by the oracle."""
    expand = net.backend.atoms.expand
    order = [first, *[k for k in range(len(residuals)) if k != first][: ENTRIES_PER_POINT - 1]]
    for _ in range(POINTS):
        try:
            point = draw_point(net, rng)
        except NoPoint:
            return None
        for k in order:
            t, c = point.at(expand(truth.flat[k])), point.at(expand(value.flat[k]))
            if _differ(t, c):
                index = tuple(int(i) for i in np.unravel_index(k, truth.shape))
                labels = {y: point.values[y] for row in net.label_rows for y in row}
                residual = readable_residual(as_expr(truth.flat[k] - value.flat[k]), net.backend.atoms, labels)
                return _report(net, claim, claims, point, index, t, c, residual)
    return None


def _differ(a: sp.Expr, b: sp.Expr) -> bool:
    if a.is_Rational and b.is_Rational:
        return bool(a != b)
    gap, scale = abs(sp.N(a - b, 50)), 1 + abs(sp.N(a, 50)) + abs(sp.N(b, 50))
    return bool(gap > sp.Float(10) ** -40 * scale)


def _report(
    net: Network,
    claim: ClaimSpec,
    claims: Sequence[ClaimSpec],
    point: Point,
    index: tuple[int, ...],
    true_value: sp.Expr,
    claimed: sp.Expr,
    residual: str,
) -> Counterexample:
    entry = f"{claim.name}[{','.join(map(str, index))}]" if index else claim.name
    literals = tuple((name, point.literal(net, name)) for name in net.symbols)
    labels = "; ".join(f"{name} rows are classes {cls}" for name, cls in point.classes.items())
    oracle, oracle_claim = _oracle(net, claim, claims, point, index)
    return Counterexample(
        entry, literals, labels, _decimal(true_value), _decimal(claimed), residual, oracle, oracle_claim
    )


def _oracle(
    net: Network, claim: ClaimSpec, claims: Sequence[ClaimSpec], point: Point, index: tuple[int, ...]
) -> tuple[float | None, float | None]:
    arrays = point.arrays(net)
    upto = tuple(claims[: list(claims).index(claim) + 1])
    try:
        with np.errstate(all="raise"):
            fd = finite_difference(net.spec, arrays, claim.target, index)
            numeric = float(numeric_claims(net.spec, arrays, upto)[claim.name][index])
    except (FloatingPointError, ValueError, KeyError):
        return None, None
    return fd, numeric


def _decimal(value: sp.Expr) -> str:
    return str(sp.N(value, 15))
