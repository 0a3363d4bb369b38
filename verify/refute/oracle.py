"""The independent oracle: central finite differences of the loss in float64.

It shares only the parser with the symbolic engine: the forward pass is
re-evaluated with numpy (np.maximum for relu, np.exp, float softmax) and the
derivative is (L(x + h) - L(x - h)) / 2h. It never decides a verdict; it
cross-checks every counterexample the exact engine reports.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from derive_check.derive.errors import Location
from derive_check.derive.exact.backend import NumericBackend
from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.exact.network import numeric_forward
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.tree import Node

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
    trees: Mapping[str, Node],
) -> dict[str, np.ndarray]:
    """Claims (name -> resolved formula, in file order) evaluated in float64 at `point`; later ones may use earlier."""
    env = dict(numeric_forward(spec, point))
    backend = NumericBackend()
    out = {}
    for name, tree in trees.items():
        value = evaluate(tree, env, backend, Location(spec.file))
        env[name] = out[name] = np.asarray(value, dtype=np.float64)
    return out
