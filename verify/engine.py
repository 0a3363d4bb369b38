"""Checking claims: from a derivation file to one verdict per claim.

Each claim is evaluated in the network's environment (forward quantities and
earlier claims), its shape compared with the gradient's, its residuals routed
through the modular test and then either the exact normal form (PROVED) or a
real counterexample search (REFUTED), all inside the claim's time budget.
A claim that fails never stops the others.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from derive.errors import InputError, ShapeError
from derive.evaluate import evaluate, shape_text
from derive.gradient import true_gradient
from derive.model import ClaimSpec, load_file
from derive.network import Network, build_network
from derive.ops import Array
from derive.source import formula_location
from derive.tree import refs
from verify.budget import BudgetExceeded, time_budget
from verify.counterexample import find_counterexample
from verify.diagnose import diagnose
from verify.equality import Equality
from verify.results import ClaimResult, Counterexample, FileResult, Verdict

DEFAULT_BUDGET = 10.0


@dataclass
class Session:
    """One built network and what claims have computed so far."""

    net: Network
    eq: Equality
    env: dict[str, Array]
    truths: dict[str, Array] = field(default_factory=dict)

    def truth(self, target: str) -> Array:
        """The true gradient for `target`, computed once."""
        if target not in self.truths:
            self.truths[target] = true_gradient(self.net, target)
        return self.truths[target]


@dataclass(frozen=True)
class _Outcome:
    """A verdict being assembled for one claim; `done` stamps the elapsed time."""

    claim: ClaimSpec
    started: float

    def done(
        self,
        verdict: Verdict,
        message: str,
        *,
        entries: int = 0,
        detail: str = "",
        counterexample: Counterexample | None = None,
        diagnosis: str = "",
    ) -> ClaimResult:
        c = self.claim
        return ClaimResult(
            c.name,
            c.target,
            c.text,
            verdict,
            c.where.line,
            entries,
            time.perf_counter() - self.started,
            message,
            detail,
            counterexample,
            diagnosis,
            c.source,
        )


def check_path(path: Path, budget: float = DEFAULT_BUDGET, progress: Callable[[str], None] | None = None) -> FileResult:
    """Load, build and check one derivation file; input errors become the file's error."""
    started = time.perf_counter()
    try:
        spec = load_file(path)
        net = build_network(spec)
    except InputError as exc:
        return FileResult(str(path), path.stem, (), error=exc.render(), seconds=time.perf_counter() - started)
    session = Session(net, Equality(net), dict(net.values))
    claims = []
    for claim in spec.claims:
        if progress:
            progress(claim.name)
        claims.append(check_claim(session, claim, budget))
    return FileResult(
        str(path), spec.title, tuple(spec.sizes.items()), tuple(claims), seconds=time.perf_counter() - started
    )


def check_claim(session: Session, claim: ClaimSpec, budget: float) -> ClaimResult:
    """The verdict on one claim."""
    out = _Outcome(claim, time.perf_counter())
    if claim.expr is None:
        error = claim.error or InputError("formula did not parse", claim.where)
        return out.done(Verdict.ERROR, error.message, detail=error.render())
    missing = sorted(n for n in refs(claim.expr) if n not in session.env)
    if missing:
        return out.done(Verdict.ERROR, f"uses {', '.join(missing)}, which could not be evaluated")
    try:
        value = np.asarray(
            evaluate(claim.expr, session.env, session.net.backend, formula_location(claim.where, claim.text)),
            dtype=object,
        )
    except ShapeError as exc:
        return out.done(Verdict.SHAPE_ERROR, exc.message, detail=exc.render())
    except InputError as exc:
        return out.done(Verdict.ERROR, exc.message, detail=exc.render())
    session.env[claim.name] = value
    try:
        with time_budget(budget):
            return _decide(session, claim, value, out)
    except BudgetExceeded as exc:
        return out.done(Verdict.UNDECIDED, f"{exc}; neither a proof nor a counterexample yet")


def _decide(session: Session, claim: ClaimSpec, value: Array, out: _Outcome) -> ClaimResult:
    eq, net = session.eq, session.net
    truth = session.truth(claim.target)
    mentions = refs(claim.expr) if claim.expr is not None else set()
    if value.shape != truth.shape:
        why = (
            f"the gradient has the shape of {claim.target} ({shape_text(truth)}), "
            f"the claim has shape {shape_text(value)}"
        )
        return out.done(
            Verdict.SHAPE_ERROR, why, entries=truth.size, diagnosis=diagnose(eq, claim.target, truth, value, mentions)
        )
    residuals = eq.residuals(list(truth.flat), list(value.flat))
    first = eq.first_nonzero(residuals)
    if first is None:
        if eq.all_zero(residuals):
            return out.done(Verdict.PROVED, "every entry's residual normalises to 0", entries=len(residuals))
        return out.done(
            Verdict.UNDECIDED,
            "no counterexample at random points, but the normal form is not zero "
            "(an identity between exponentials may be needed)",
            entries=len(residuals),
        )
    found = find_counterexample(net, claim, net.spec.claims, truth, value, residuals, first, random.Random(first))
    diagnosis = diagnose(eq, claim.target, truth, value, mentions)
    if found is None:
        return out.done(
            Verdict.UNDECIDED,
            "the residual is not identically zero, but no real point shows a difference",
            entries=len(residuals),
            diagnosis=diagnosis,
        )
    return out.done(
        Verdict.REFUTED,
        f"{found.entry} differs from the true derivative",
        entries=len(residuals),
        counterexample=found,
        diagnosis=diagnosis,
    )
