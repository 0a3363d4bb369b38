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
from verify.results import ClaimResult, FileResult, Verdict

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


def check_path(path: Path, budget: float = DEFAULT_BUDGET,
               progress: Callable[[str], None] | None = None) -> FileResult:
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
    return FileResult(str(path), spec.title, tuple(spec.sizes.items()), tuple(claims),
                      seconds=time.perf_counter() - started)


def check_claim(session: Session, claim: ClaimSpec, budget: float) -> ClaimResult:
    """The verdict on one claim."""
    started = time.perf_counter()

    def result(verdict: Verdict, message: str, **extra: object) -> ClaimResult:
        return ClaimResult(claim.name, claim.target, claim.text, verdict, claim.where.line,
                           seconds=time.perf_counter() - started, message=message, source=claim.source,
                           **extra)  # type: ignore[arg-type]

    net = session.net
    if claim.expr is None:
        error = claim.error or InputError("formula did not parse", claim.where)
        return result(Verdict.ERROR, error.message, detail=error.render())
    missing = sorted(n for n in refs(claim.expr) if n not in session.env)
    if missing:
        return result(Verdict.ERROR, f"uses {', '.join(missing)}, which could not be evaluated")
    try:
        value = np.asarray(evaluate(claim.expr, session.env, net.backend,
                                    formula_location(claim.where, claim.text)), dtype=object)
    except ShapeError as exc:
        return result(Verdict.SHAPE_ERROR, exc.message, detail=exc.render())
    except InputError as exc:
        return result(Verdict.ERROR, exc.message, detail=exc.render())
    expected = net.values[claim.target]
    session.env[claim.name] = value
    try:
        with time_budget(budget):
            return _decide(session, claim, value, expected, result)
    except BudgetExceeded as exc:
        return result(Verdict.UNDECIDED, f"{exc}; neither a proof nor a counterexample yet")


def _decide(session: Session, claim: ClaimSpec, value: Array, expected: Array, result) -> ClaimResult:  # type: ignore[no-untyped-def]
    eq = session.eq
    truth = session.truth(claim.target)
    mentions = set(refs(claim.expr)) if claim.expr is not None else set()
    if value.shape != np.shape(expected):
        why = (f"the gradient has the shape of {claim.target} ({shape_text(expected)}), "
               f"the claim has shape {shape_text(value)}")
        return result(Verdict.SHAPE_ERROR, why, entries=int(np.size(expected)),
                      diagnosis=diagnose(eq, claim.target, truth, value, mentions))
    residuals = eq.residuals(list(truth.flat), list(value.flat))
    first = eq.first_nonzero(residuals)
    if first is None:
        decided = eq.all_zero(residuals)
        if decided:
            return result(Verdict.PROVED, "every entry's residual normalises to 0", entries=len(residuals))
        return result(Verdict.UNDECIDED, "no counterexample at random points, but the normal form is not zero "
                      "(an identity between exponentials may be needed)", entries=len(residuals))
    found = find_counterexample(session.net, claim, session.net.spec.claims, truth, value, residuals, first,
                                random.Random(first))
    diagnosis = diagnose(eq, claim.target, truth, value, mentions)
    if found is None:
        return result(Verdict.UNDECIDED, "the residual is not identically zero, but no real point shows a "
                      "difference", entries=len(residuals), diagnosis=diagnosis)
    return result(Verdict.REFUTED, f"{found.entry} differs from the true derivative", entries=len(residuals),
                  counterexample=found, diagnosis=diagnosis)


