"""The witness over other sizes, and whole files judged by it (for tests, benchmarks and the fuzzer).

A proof "for all sizes" is a theorem about every size tuple, so its witness re-checks the claim at size tuples
the file does not state (`other_sizes`): all 1, all distinct and new, and the first 1 with the rest new. Sizes
that coincide (H = C) or degenerate (N = 1) are where an index slip hides.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.declarations import MAX_SIZE
from derive_check.derive.model.spec import ModelSpec, load_file
from derive_check.derive.ops.dims import positive
from derive_check.derive.tree import Node
from derive_check.verify.witness.check import witness_claim
from derive_check.verify.witness.report import WitnessReport


def other_sizes(spec: ModelSpec) -> list[dict[str, int]]:
    """Size tuples besides the stated ones: all 1, all distinct and new (small), and the first 1 with the rest new."""
    names = list(spec.sizes)
    stated = set(spec.sizes.values())
    pool = [v for v in range(2, 7) if v not in stated] + [v for v in range(2, MAX_SIZE + 1) if v in stated or v > 6]
    distinct: dict[str, int] = {}
    for name in names:
        distinct[name] = next(v for v in pool if v not in distinct.values() and v != spec.sizes[name])
    tuples = [dict.fromkeys(names, 1), distinct]
    if len(names) > 1:
        tuples.append({**distinct, names[0]: 1})
    shapes = [d.dims for d in [*spec.inputs.values(), *spec.params.values()]]
    return [t for t in tuples if positive(shapes, t)]  # a shape T - K + 1 needs T >= K


def witness_all_sizes(
    spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: Mapping[str, Node], *, seed: int = 0
) -> WitnessReport:
    """witness_claim at every tuple of other_sizes; the first disagreement, else the first doubt, decides.

    One point per tuple (more where a one-hot input needs them for every class to appear): a wrong identity
    shows at almost every point, and the three tuples already give three independent points.
    """
    reports = [witness_claim(spec, claim, tree, earlier, sizes=s, seed=seed, points=1) for s in other_sizes(spec)]
    checks = sum(r.checks for r in reports)
    for verdict in (False, None):
        for r in reports:
            if r.agrees is verdict:
                return WitnessReport(agrees=verdict, message=r.message, checks=checks, sizes=r.sizes)
    at = "; ".join(", ".join(f"{k}={v}" for k, v in r.sizes) for r in reports)
    return WitnessReport(agrees=True, message=f"agrees at {at}", checks=checks, sizes=reports[-1].sizes)


def _judge(path: Path, seed: int, points: int, all_sizes: bool) -> dict[str, bool | None]:
    spec = load_file(path)
    verdicts: dict[str, bool | None] = {}
    earlier: dict[str, Node] = {}
    for claim in spec.claims:
        if claim.expr is None:
            continue
        if all_sizes:
            report = witness_all_sizes(spec, claim, claim.expr, earlier, seed=seed)
        else:
            report = witness_claim(spec, claim, claim.expr, earlier, points=points, seed=seed)
        verdicts[claim.name] = report.agrees
        earlier[claim.name] = claim.expr
    return verdicts


def judge_file(path: Path, *, points: int = 3, seed: int = 0) -> dict[str, bool | None]:
    """Whether each parsed claim of the file is true at its stated sizes (None: cannot be judged)."""
    return _judge(path, seed, points, all_sizes=False)


def judge_all_sizes(path: Path, *, seed: int = 0) -> dict[str, bool | None]:
    """Whether each parsed claim of the file is true at the sizes of other_sizes too."""
    return _judge(path, seed, 2, all_sizes=True)
