"""The stated sizes, once a claim is proved for all sizes: a cross-check whose cost follows the sizes.

The index-notation proof (`verify.decide.claim_proof`) already covers the stated sizes; what they add is a
second opinion from an engine that shares nothing with it. Where the exact normal form is cheap it is that
second opinion, the design card's own method: at small stated sizes (a model of at most EXACT_MODEL_ENTRIES
entries in all its quantities, as the canonical file and the seeds are) and for claims of at most EXACT_ENTRIES
entries. The rule reads only the sizes, so which cross-check runs never depends on the machine's speed; a time
slice only guards against a pathological claim. Elsewhere every entry is evaluated exactly modulo a 61-bit
prime at random points of the mask/label variety (`verify.decide.modular_point`), on the unexpanded DAGs:
seconds become milliseconds. The report says which cross-check ran.

Neither cross-check decides on its own account: when one does not confirm, the engine decides the claim at
the stated sizes exactly, as it does for claims not proved for all sizes, and a real counterexample there
against an all-sizes proof is reported as INCONSISTENT (a bug in derive-check).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive_check.derive.budget import BudgetExceeded, time_budget
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.tree import Node
from derive_check.verify.check.entries import Entry
from derive_check.verify.check.session import Session
from derive_check.verify.decide.modular_point import Point, first_difference, modular_cross_check, points
from derive_check.verify.results import Counterexample

EXACT_MODEL_ENTRIES = 250  # larger models (all inputs, parameters and forward quantities) get the modular one
EXACT_ENTRIES = 64  # and so do claims with more entries
EXACT_SLICE = 5.0  # a guard: seconds the exact cross-check may take before the modular one runs instead
NORMAL_FORM = "every entry's residual normalises to 0"


@dataclass(frozen=True)
class CrossCheck:
    """Which cross-check confirmed the stated sizes ("normal form" or "modular") and what it found, in words."""

    kind: str
    words: str


def cross_check(
    session: Session, claim: ClaimSpec, tree: Node, raw: list[Entry], transport: dict[sp.Symbol, sp.Expr] | None
) -> CrossCheck | None:
    """How the stated sizes confirmed the all-sizes proof of `claim`, or None if they did not (`raw`: its entries,
    over the cut's atoms when `transport` is given)."""
    if not session.randomized and len(raw) <= EXACT_ENTRIES and not large(session):
        try:
            with time_budget(EXACT_SLICE) as attempt:
                entries = raw if transport is None else session.entries(claim, tree, bound=True)
                if not _normal_form_zero(session, claim, entries):
                    return None
                session.checked[claim.name] = entries
                return CrossCheck("normal form", NORMAL_FORM)
        except BudgetExceeded as exc:
            if exc.owner != attempt:
                raise
    pairs = [(e.truth, e.claimed) for e in raw]
    found = modular_cross_check(shared_points(session), pairs, transport, session.progress(claim))
    return CrossCheck("modular", found.words) if found.agreed else None


def large(session: Session) -> bool:
    """Whether the stated sizes are past what the exact normal form handles cheaply (see EXACT_MODEL_ENTRIES)."""
    return model_entries(session) > EXACT_MODEL_ENTRIES


def difference_hint(session: Session, raw: list[Entry]) -> int | None:
    """An entry that differs modulo the prime at a random point (on the unexpanded DAGs), or None: where to look
    for a counterexample first at large sizes, before any residual is expanded."""
    return first_difference(shared_points(session), [(e.truth, e.claimed) for e in raw])


def shared_points(session: Session) -> list[Point]:
    """The session's random points for modular evaluation, made on first use and shared by its claims."""
    if not session.points:
        session.points = points(session.net.backend.atoms, session.net.label_rows)
    return session.points


def smooth_there(found: Counterexample) -> bool:
    """Whether the float oracle's central difference agrees with the exact true value at a counterexample found
    from a hint: if not, the point may sit on a kink (a tie of a max, a ReLU at 0), where no derivative exists to
    be wrong about, and the engine's exact path decides instead."""
    if found.oracle_value is None:
        return False
    true = float(found.true_value)
    return abs(found.oracle_value - true) <= 1e-5 * max(1.0, abs(true))


def model_entries(session: Session) -> int:
    """How many entries the model's inputs, parameters and forward quantities hold at the stated sizes."""
    net = session.net
    return sum(int(np.size(v)) for v in {**net.symbols, **net.values}.values())


def _normal_form_zero(session: Session, claim: ClaimSpec, entries: Sequence[Entry]) -> bool:
    """Whether every entry's residual normalises to 0 (the engine's exact path, without the search that follows).
    The quick look at random points that the engine's path starts with is left out: it only saves time when the
    cross-check fails, which it does only when the engines disagree."""
    eq = session.eq
    eq.rng.seed(zlib.crc32(claim.name.encode()))
    with eq.telling(session.progress(claim)):  # residuals are expanded only where the shallow form proves nothing
        return bool(eq.proves([e.truth for e in entries], [e.claimed for e in entries]))
