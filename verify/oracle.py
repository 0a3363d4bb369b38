"""The independent oracle: central finite differences of the loss in float64.

It shares only the parser with the symbolic engine: the forward pass is
re-evaluated with numpy (np.maximum for relu, np.exp, float softmax) and the
derivative is (L(x + h) - L(x - h)) / 2h. It never decides a verdict; it
cross-checks every counterexample the exact engine reports.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from derive.backend import NumericBackend
from derive.claims import ClaimSpec
from derive.evaluate import evaluate
from derive.model import ModelSpec
from derive.network import numeric_forward
from derive.source import formula_location

STEP = 1e-6


def finite_difference(
    spec: ModelSpec,
    point: Mapping[str, np.ndarray],
    target: str,
    index: tuple[int, ...],
) -> float:
    """dL/d target[index] by central differences at `point`."""
    base = numeric_forward(spec, point)

    def loss_with(delta: float) -> float:
        if target in point:
            moved = {k: np.array(v, dtype=np.float64) for k, v in point.items()}
            moved[target][index] += delta
            return float(numeric_forward(spec, moved)[spec.loss])
        shifted = np.array(base[target], dtype=np.float64)
        shifted[index] += delta
        return float(numeric_forward(spec, point, {target: shifted})[spec.loss])

    return (loss_with(STEP) - loss_with(-STEP)) / (2 * STEP)


def numeric_claims(
    spec: ModelSpec,
    point: Mapping[str, np.ndarray],
    claims: tuple[ClaimSpec, ...],
) -> dict[str, np.ndarray]:
    """Every claim evaluated in float64 at `point` (claims may use earlier claims)."""
    env = dict(numeric_forward(spec, point))
    backend = NumericBackend()
    out = {}
    for claim in claims:
        if claim.expr is None:
            continue
        value = evaluate(claim.expr, env, backend, formula_location(claim.where, claim.text))
        env[claim.name] = out[claim.name] = np.asarray(value, dtype=np.float64)
    return out
