"""Checking claims: from a derivation file to one verdict per claim.

Each claim becomes a list of scalar comparisons (`verify.check.entries`). Their
residuals are routed through the modular test and then either the exact normal
form (PROVED) or a real counterexample search (REFUTED), all inside the claim's
time budget. A claim that fails never stops the others.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import sympy as sp
import sympy.tensor.tensor  # imported on SymPy's first Add; here, so that forked workers inherit it

import derive_check.verify.witness.check  # every pass's witness; likewise imported before forking
import derive_check.verify.witness.sizes  # noqa: F401
from derive_check.derive.budget import BudgetExceeded, time_budget
from derive_check.derive.errors import InputError, ShapeError
from derive_check.derive.exact.network import build_network, shape_findings
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Node
from derive_check.verify.check.binding import Binding, bind
from derive_check.verify.check.entries import IndexOutOfRange, ShapeMismatch
from derive_check.verify.check.session import Session
from derive_check.verify.decide.equality import Equality
from derive_check.verify.decide.randomized import RandomizedZero, randomized_or_none
from derive_check.verify.diagnose.search import Diagnosis
from derive_check.verify.refute.counterexample import find_counterexample
from derive_check.verify.results import ClaimResult, Counterexample, FileResult, GeneralProof, Verdict
from derive_check.verify.run.cache import Keys, ProofCache, file_keys
from derive_check.verify.run.explain import RAN_OUT, diagnosis_of, general_of, residual_scope, shape_result
from derive_check.verify.run.load import failed_result, load
from derive_check.verify.run.replay import assemble
from derive_check.verify.run.shards import Part
from derive_check.verify.run.stated import NORMAL_FORM, cross_check, difference_hint, large, smooth_there
from derive_check.verify.witness.crosscheck import Said

DEFAULT_BUDGET = 10.0
GENERAL_SHARE = 0.3  # of a claim's budget for the all-sizes proof, tried first; the rest if it runs out
BUILD_BUDGET = 60.0


@dataclass(frozen=True)
class _Outcome:
    """A verdict being assembled for one claim; `done` stamps the elapsed time."""

    claim: ClaimSpec
    started: float
    loss: str = "L"
    budget: float = DEFAULT_BUDGET

    def done(
        self,
        verdict: Verdict,
        message: str,
        *,
        entries: int = 0,
        detail: str = "",
        counterexample: Counterexample | None = None,
        diagnosis: Diagnosis | None = None,
    ) -> ClaimResult:
        c = self.claim
        return ClaimResult(
            name=c.name,
            target=c.target,
            formula=c.text,
            verdict=verdict,
            line=c.where.line,
            entries=entries,
            seconds=time.perf_counter() - self.started,
            message=message,
            detail=detail,
            counterexample=counterexample,
            diagnosis=diagnosis.words if diagnosis else "",
            source=c.source,
            corrected=diagnosis.formula if diagnosis else "",
            residual=to_text(diagnosis.residual) if diagnosis and diagnosis.residual else "",
            derivative=f"d{c.of_text or self.loss}/d{c.target}",
            residual_scope=residual_scope(diagnosis),
            reading=c.reading,
            intent=c.intent,
        )


def check_path(
    path: Path,
    budget: float = DEFAULT_BUDGET,
    progress: Callable[[str], None] | None = None,
    build_budget: float = BUILD_BUDGET,
    typeset: bool = False,
    cache: ProofCache | None = None,
    randomized: bool = False,
    stated_only: bool = False,
) -> FileResult:
    """Load, build and check one derivation file; input errors become the file's error."""
    loaded = load(path)
    if isinstance(loaded, FileResult):
        return loaded
    return check_model(
        loaded, path, budget, progress, build_budget, typeset, cache, randomized, stated_only=stated_only
    )


def check_model(
    spec: ModelSpec,
    path: Path,
    budget: float = DEFAULT_BUDGET,
    progress: Callable[[str], None] | None = None,
    build_budget: float = BUILD_BUDGET,
    typeset: bool = False,
    cache: ProofCache | None = None,
    randomized: bool = False,
    keys: Keys | None = None,
    entries: Callable[[str, int, int], None] | None = None,
    stated_only: bool = False,
    part: Part | None = None,
    said: Mapping[str, Said] | None = None,
) -> FileResult:
    """Build and check one resolved model (what `load` returns): every claim, in order (`keys`: its cache keys,
    if the caller has computed them already; `entries(claim, proved, total)`: progress inside a claim; `part`:
    the claims it takes, as one of several workers sharing the file, `verify.run.shards`; `said`: the witness's
    reports worked out ahead, `verify.run.ahead`)."""
    started = time.perf_counter()
    if cache and keys is None:
        keys = file_keys(spec, budget, typeset, randomized, stated_only)
    try:
        with time_budget(build_budget):
            net = build_network(spec)
    except InputError as exc:
        return failed_result(path, exc.render(), started)
    except (BudgetExceeded, MemoryError, RecursionError) as exc:
        why = "ran out of memory" if isinstance(exc, MemoryError) else f"took longer than {build_budget:g} s"
        return failed_result(path, f"{path}: error: building the model {why}; use smaller sizes", started)
    except Exception as exc:  # last resort, as in check_claim
        return failed_result(path, f"{path}: error: {INTERNAL}: {type(exc).__name__}: {exc}"[:400], started)
    session = Session(net, Equality(net), dict(net.values), randomized, entries_proved=entries, stated_only=stated_only)
    if part is not None:
        session.heard, session.tell = part.board.heard, part.board.tell
    hits = {c.name: cache.get(keys.claims[c.name], c) for c in spec.claims} if cache and keys else {}
    if any(hits.get(c.name) is None and c.of is None and c.target in net.symbols for c in spec.claims):
        try:  # the loss's reverse pass is the network's work: the build budget pays for it, not the first claim
            session.prepare(build_budget - (time.perf_counter() - started))
        except (MemoryError, RecursionError):
            return failed_result(path, f"{path}: error: the loss's reverse pass ran out of memory", started)
    first = part is None or part.first
    results = [shape_result(line, words) for line, words in shape_findings(spec, net.values)] if first else []
    if cache and keys and first:
        cache.put_all(keys.shapes, results)
    taken = part.board.take() if part is not None else 0  # a shard checks the claims it takes, in file order
    for k, claim in enumerate(spec.claims):
        if part is not None and k != taken:
            bind(session, claim)  # every shard binds every claim, in file order
            continue
        if progress:
            progress(claim.name)
        binding = bind(session, claim)  # the same step whether the verdict is cached or not
        hit = hits.get(claim.name)
        if hit is not None:
            results.append(hit)
            session.note(hit)
        else:
            result = check_claim(session, claim, budget, binding=binding)
            results.append(result)
            if cache and keys:
                cache.put(keys.claims[claim.name], result)
        taken = part.board.take() if part is not None else k + 1
    return assemble(spec, path, results, started, typeset, session if typeset else None, said)


INTERNAL = "internal error (a bug in derive-check; please report it)"


def check_claim(
    session: Session, claim: ClaimSpec, budget: float, explain: bool = True, binding: Binding | None = None
) -> ClaimResult:
    """The verdict on one claim; `explain=False` skips the diagnosis search (for mutation runs)."""
    try:
        result = _check_claim(session, claim, budget, explain, binding or bind(session, claim))
    except Exception as exc:  # last resort: a verdict, never a traceback; the fuzz tests require this is unused
        why = f"{INTERNAL}: {type(exc).__name__}: {exc}"[:300]
        result = _Outcome(claim, time.perf_counter()).done(Verdict.ERROR, why)
    session.note(result)  # every verdict, this one too: a worker checking a later claim may be waiting for it
    return result


def _check_claim(session: Session, claim: ClaimSpec, budget: float, explain: bool, binding: Binding) -> ClaimResult:
    out = _Outcome(claim, time.perf_counter(), session.net.spec.loss, budget)
    if binding.problem is not None or binding.tree is None:
        verdict, message, detail = binding.problem or (Verdict.ERROR, "formula could not be resolved", "")
        reading = None
        if verdict is Verdict.SHAPE_ERROR and binding.tree is not None and explain:  # shapes that never fit
            with contextlib.suppress(BudgetExceeded), time_budget(budget):
                reading = diagnosis_of(session, binding.tree, None, lambda c: session.entries(claim, c), claim)
        return out.done(verdict, message, detail=detail, diagnosis=reading)
    try:
        with time_budget(budget):
            return _decide(session, claim, binding.tree, out, explain)
    except BudgetExceeded:
        return out.done(
            Verdict.UNDECIDED,
            f"the claim's time budget of {budget:g} s ran out; neither a proof nor a counterexample yet: "
            f"raise it with --budget {4 * budget:g}, or use --randomized at large sizes",
        )
    except (MemoryError, RecursionError) as exc:
        return out.done(Verdict.UNDECIDED, f"the work outgrew the machine ({type(exc).__name__}); not decided")


def _decide(session: Session, claim: ClaimSpec, tree: Node, out: _Outcome, explain: bool) -> ClaimResult:
    eq, net = session.eq, session.net
    entries_of = functools.partial(session.entries, claim)
    symbolic = session.gradient_mismatch(claim)
    transport = session.transport(claim)  # for a forward quantity: the first look stays over the cut's atoms
    try:
        entries = entries_of(tree, transport=transport is None, bound=True)
        if symbolic:
            raise ShapeMismatch(symbolic)
    except ShapeError as exc:
        reading = diagnosis_of(session, tree, None, entries_of, claim) if explain else None
        return out.done(Verdict.SHAPE_ERROR, exc.message, detail=exc.render(), diagnosis=reading)
    except ShapeMismatch as exc:
        reading = diagnosis_of(session, tree, None, entries_of, claim) if explain else None
        return out.done(Verdict.SHAPE_ERROR, str(exc), diagnosis=reading)
    except InputError as exc:
        return out.done(Verdict.ERROR, exc.message, detail=exc.render())
    except IndexOutOfRange as exc:
        return out.done(Verdict.ERROR, str(exc))
    if not entries:
        return out.done(
            Verdict.ERROR,
            "the claim checks nothing: no index assignment satisfies its condition (a claim that checks "
            "nothing is never a pass)",
        )
    general = _first_general(session, claim, tree, out.budget)  # the strongest theorem first
    if general.proved:
        confirmed = cross_check(session, claim, tree, entries, transport)
        if confirmed is not None:  # the theorem for all sizes, and an independent look at the stated sizes
            done = out.done(Verdict.PROVED, confirmed.words, entries=len(entries))
            return replace(done, general=general, crosscheck=confirmed.kind)
    if not general.proved and transport is None and large(session):  # a quick look before expanding anything
        hint = difference_hint(session, entries)
        found = find_counterexample(net, claim, entries, [], hint, random.Random(hint)) if hint is not None else None
        if found is not None and smooth_there(found):
            diagnosis = diagnosis_of(session, tree, entries, entries_of, claim) if explain else None
            message = f"{found.entry} differs from the true derivative"
            return out.done(Verdict.REFUTED, message, entries=len(entries), counterexample=found, diagnosis=diagnosis)
    if transport is not None:  # both sides over the canonical atoms, for the exact path
        entries = entries_of(tree, bound=True)
    session.checked[claim.name] = entries
    residuals = eq.residuals([e.truth for e in entries], [e.claimed for e in entries])
    eq.rng.seed(zlib.crc32(claim.name.encode()))  # the decision depends on this claim only, not on how long
    first = eq.first_nonzero(residuals)  # earlier claims' diagnosis searches (stopped by a clock) happened to run
    if first is None and session.randomized and not general.proved:
        outcome = _randomized(session, residuals)
        if isinstance(outcome, RandomizedZero):
            done = out.done(Verdict.PROBABLE, outcome.words(), entries=len(entries))
            return replace(done, general=_retried(session, claim, tree, general))
        first = outcome
    unseen = first is None  # no random point of the mask/label variety showed a difference
    if first is None:
        with eq.telling(session.progress(claim)):  # progress: how many entries are proved so far
            proved = eq.proves([e.truth for e in entries], [e.claimed for e in entries], residuals)
        if proved:
            done = out.done(Verdict.PROVED, NORMAL_FORM, entries=len(entries))
            kind = "normal form" if general.proved else ""  # without the all-sizes proof, it is the proof itself
            return replace(done, general=_retried(session, claim, tree, general), crosscheck=kind)
        first = 0  # the random points may have missed the masks or labels where it differs: real points next
    found = find_counterexample(net, claim, entries, residuals, first, random.Random(first))
    if found is None and unseen and not net.label_rows:
        why = "no counterexample at random points, but the normal form is not zero (an identity between "
        return out.done(Verdict.UNDECIDED, why + "exponentials may be needed)", entries=len(entries))
    diagnosis = diagnosis_of(session, tree, entries, entries_of, claim) if explain else None
    if found is None:
        return out.done(
            Verdict.UNDECIDED,
            "the residual is not identically zero, but no real point shows a difference",
            entries=len(entries),
            diagnosis=diagnosis,
        )
    if general.proved:  # an exact counterexample against a proof for all sizes: one of the engines is wrong
        return out.done(
            Verdict.INCONSISTENT,
            f"the proof for all sizes and the stated sizes disagree: {found.entry} differs from the true "
            f"derivative at a real point; {INTERNAL}",
            entries=len(entries),
            counterexample=found,
        )
    return out.done(
        Verdict.REFUTED,
        f"{found.entry} differs from the true derivative",
        entries=len(entries),
        counterexample=found,
        diagnosis=diagnosis,
    )


def _first_general(session: Session, claim: ClaimSpec, tree: Node, budget: float) -> GeneralProof:
    """The all-sizes proof, tried before any fixed-size work with a share of the claim's budget (or not at all,
    with --stated-only)."""
    if session.stated_only:
        return GeneralProof(False, "not attempted for all sizes (--stated-only)")
    return general_of(session, claim, tree, budget * GENERAL_SHARE)


def _retried(session: Session, claim: ClaimSpec, tree: Node, general: GeneralProof) -> GeneralProof:
    """The first attempt at the all-sizes proof, or a second one with the rest of the budget if the first ran
    out of its share (the verdict at the stated sizes is decided by now)."""
    return general_of(session, claim, tree) if general.summary == RAN_OUT and not session.stated_only else general


def _randomized(session: Session, residuals: list[sp.Expr]) -> RandomizedZero | int | None:
    """The randomized verdict, the index of a certainly non-zero entry, or None where the bound would not hold."""
    atoms, rows = session.net.backend.atoms, session.net.label_rows
    masks = [*atoms.masks, *atoms.indicators]
    return randomized_or_none(session.eq.reparametrised(residuals), masks, rows, random.Random(len(residuals)))
