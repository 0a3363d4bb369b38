"""The witness over other sizes, and whole files judged by it (for tests, benchmarks and the fuzzer).

A proof "for all sizes" is a theorem about every size tuple, so its witness re-checks the claim at size tuples
the file does not state (`other_sizes`): all 1, all distinct and new, and the first 1 with the rest new, each
raised where a shape needs it (`N x T-K+1` needs T >= K). Sizes that coincide (H = C) or degenerate (N = 1) are
where an index slip hides. Fewer than two tuples confirm nothing: the claim is then reported at the stated sizes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.declarations import MAX_SIZE
from derive_check.derive.model.spec import ModelSpec, load_file
from derive_check.derive.ops.dims import linear, value
from derive_check.derive.tree import Node
from derive_check.verify.witness.check import witness_claim
from derive_check.verify.witness.report import WitnessReport

MIN_TUPLES = 2  # a proof for all sizes is confirmed at two size tuples at least, or it is reported "stated"


def other_sizes(spec: ModelSpec) -> list[dict[str, int]]:
    """Size tuples besides the stated ones: all 1, all distinct and new (small), and the first 1 with the rest new."""
    names = list(spec.sizes)
    stated = set(spec.sizes.values())
    pool = [v for v in range(2, 7) if v not in stated] + [v for v in range(2, MAX_SIZE + 1) if v in stated or v > 6]
    distinct: dict[str, int] = {}
    for name in names:  # new values while they last (a file may declare more sizes than there are values)
        fresh = [v for v in pool if v not in distinct.values() and v != spec.sizes[name]]
        distinct[name] = fresh[0] if fresh else next(v for v in pool if v != spec.sizes[name])
    tuples = [dict.fromkeys(names, 1), distinct]
    if len(names) > 1:
        tuples.append({**distinct, names[0]: 1})
    shapes = [d.dims for d in [*spec.inputs.values(), *spec.params.values()]]
    tuples.append({k: v + 1 for k, v in distinct.items()})  # tried when a fitted tuple coincides with another
    out: list[dict[str, int]] = []
    for t in tuples:
        if len(out) == 3:
            break
        fitted = _fitted(t, shapes)  # a shape T - K + 1 needs T >= K: sizes are raised until every shape fits
        if fitted is not None and fitted != dict(spec.sizes) and fitted not in out:
            out.append(fitted)
    return out


def _fitted(sizes: dict[str, int], shapes: list[tuple[str | int, ...]]) -> dict[str, int] | None:
    """The tuple with sizes raised, one short dimension at a time, until every shape is at least 1 (None if not)."""
    sizes = dict(sizes)
    for _ in range(64):
        short = [d for shape in shapes for d in shape if value(d, sizes) < 1]
        if not short:
            return sizes
        form = linear(short[0])
        growing = [k for k, c in form.items() if k and c > 0]
        if not growing:
            return None
        k = growing[0]
        sizes[k] += -(-(1 - value(short[0], sizes)) // form[k])
        if sizes[k] > MAX_SIZE:
            return None
    return None


def witness_all_sizes(
    spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: Mapping[str, Node], *, seed: int = 0
) -> WitnessReport:
    """witness_claim at every tuple of other_sizes; the first disagreement, else the first doubt, decides.

    One point per tuple (more where a one-hot input needs them for every class to appear): a wrong identity
    shows at almost every point, and the three tuples already give three independent points.
    """
    tuples = other_sizes(spec)
    if len(tuples) < MIN_TUPLES:
        message = f"only {len(tuples)} size tuple(s) besides the stated one fit the file's shapes"
        return WitnessReport(agrees=None, message=message, checks=0, sizes=())
    reports = [witness_claim(spec, claim, tree, earlier, sizes=s, seed=seed, points=1) for s in tuples]
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
