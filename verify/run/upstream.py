"""A claim wrong only because an earlier claim it uses is wrong: "fix dz1 first".

A slip in `dz1` refutes `dW1 = X.T @ dz1` and `db1 = sum(dz1, axis=0)` too. For each earlier plain gradient E
that the refuted claim names, the claim is checked again with E's value replaced by E's true derivative (the
entries the engine computed for E). If the exact engine then PROVES the claim, its own formula is right and E is
what is wrong: that is the diagnosis, and no corrected formula is offered for it. E must itself have been found
wrong (REFUTED or SHAPE ERROR) earlier in the run: a correct E that the engine could not decide (a Huber `where`
it cannot normalise) also "makes the claim provable" when replaced by its truth, and naming it wrong would be a
lie. E's truth is recomputed here, not taken from an earlier check, so a claim answered from the cache leaves its
successors' readings as a fresh run would (its verdict, cached or fresh, says whether it was found wrong).
"""

from __future__ import annotations

import numpy as np

from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.tree import Node, refs
from derive_check.verify.check.session import Session
from derive_check.verify.diagnose.search import Diagnosis


def upstream(session: Session, claim: ClaimSpec, tree: Node) -> Diagnosis | None:
    """The earlier claim whose true value makes this one PROVED, as a diagnosis; None if there is none."""
    earlier = {c.name: c for c in session.net.spec.claims if c.name in session.trees and c.name != claim.name}
    for name in sorted(refs(tree) & earlier.keys()):
        used = earlier[name]
        plain = used.of is None and not (used.index_vars or used.labels or used.wrt_index)
        if not plain or used.layout != "denominator" or not session.was_wrong(name):
            continue
        true_value = _true_value(session, used)
        if true_value is None:
            continue
        written = session.env[name]
        session.env[name] = true_value
        try:
            checks = session.entries(claim, tree)
        finally:
            session.env[name] = written
        truth, claimed = [e.truth for e in checks], [e.claimed for e in checks]
        residuals = session.eq.residuals(truth, claimed)
        if session.eq.quick_zero(residuals) and session.eq.proves(truth, claimed, residuals):
            return Diagnosis(f"Correct once {name} is: {name}, which it uses, is wrong (fix {name} first)", "")
    return None


def _true_value(session: Session, used: ClaimSpec) -> np.ndarray | None:
    """The true derivative the earlier claim states, as an array of its shape, or None if it has none."""
    written = np.asarray(session.env[used.name], dtype=object)
    try:
        entries = session.entries(used, session.trees[used.name])
    except Exception:  # an earlier claim with a shape or input error has no truth to offer
        return None
    out = np.empty(written.shape, dtype=object)
    if len(entries) != out.size:
        return None
    for k, entry in enumerate(entries):
        out[entry.index if entry.index else np.unravel_index(k, out.shape)] = entry.truth
    return out
