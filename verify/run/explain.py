"""The proof for all sizes and the diagnosis of a wrong claim, for the engine (`verify.run.engine`).

The all-sizes proof is tried first, before any fixed-size work (`general_of` with a share of the claim's
budget): when it succeeds the stated sizes only need a cross-check. Running out of time there, or in the
diagnosis search, costs only the stronger theorem or the reading, never a verdict.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from derive_check.derive.budget import BudgetExceeded, time_budget
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.shapes import infer, resolve_products
from derive_check.derive.model.spec import Line
from derive_check.derive.ops.spec import SymbolicShapeError
from derive_check.derive.tree import Node
from derive_check.verify.check.entries import Entry, ShapeMismatch
from derive_check.verify.check.session import Session
from derive_check.verify.decide.claim_proof import general_proof
from derive_check.verify.diagnose.rewrites import vocabulary_of
from derive_check.verify.diagnose.search import Diagnosis, diagnose
from derive_check.verify.results import ClaimResult, GeneralProof, Verdict
from derive_check.verify.run.stated import large, shared_points
from derive_check.verify.run.upstream import upstream

RAN_OUT = "not proved for all sizes: the claim's time budget ran out first"


def general_of(session: Session, claim: ClaimSpec, tree: Node, seconds: float | None = None) -> GeneralProof:
    """The proof for all sizes (`verify.decide.general`), given the earlier claims' formulas, within `seconds`
    if given (else within whatever budget is open)."""
    earlier = {k: v for k, v in session.trees.items() if k != claim.name}
    try:
        with time_budget(seconds or 0):
            return general_proof(session.net.spec, claim, tree, earlier)
    except BudgetExceeded:
        return GeneralProof(False, RAN_OUT)


def diagnosis_of(
    session: Session,
    tree: Node,
    entries: list[Entry] | None,
    entries_of: Callable[[Node], list[Entry]],
    claim: ClaimSpec,
) -> Diagnosis | None:
    """A proved reading of a formula already found wrong, or None; running out of time loses only the reading,
    never the verdict (a SHAPE ERROR or a refutation stays what it is)."""
    scalars = [n for n, a in session.net.symbols.items() if np.ndim(a) == 0]

    def fitting(candidate: Node) -> list[Entry]:  # a correction must have the gradient's shape for every size
        mismatch = _symbolic_mismatch(session, claim, candidate)
        if mismatch:
            raise ShapeMismatch(mismatch)
        return entries_of(candidate)

    try:
        reading = upstream(session, claim, tree) if entries is not None else None
        return reading or diagnose(
            session.eq,
            vocabulary_of(session.net.spec),
            tree,
            entries,
            fitting,
            scalars,
            claim.target,
            lambda candidate: general_of(session, claim, candidate).proved,
            (lambda: shared_points(session)) if large(session) else None,
        )
    except BudgetExceeded:
        return None


def _symbolic_mismatch(session: Session, claim: ClaimSpec, candidate: Node) -> str:
    """Why a candidate's symbolic shape is not the gradient's, or '' (plain gradients of the loss only)."""
    if claim.of is not None or claim.wrt_index or claim.index_vars:
        return ""
    expected = session.shapes.get(claim.target, ())
    expected = tuple(reversed(expected)) if claim.layout == "numerator" else expected
    try:
        shape = infer(resolve_products(candidate, session.shapes), session.shapes)
    except SymbolicShapeError as exc:
        return str(exc)
    return "" if shape == expected else f"shape {shape} for all sizes, not {expected}"


def residual_scope(diagnosis: Diagnosis | None) -> str:
    """Where a diagnosis's matrix residual is proved: "all" sizes, the "stated" ones, or "" (there is none)."""
    if diagnosis is None or diagnosis.residual is None:
        return ""
    return "all" if diagnosis.residual_everywhere else "stated"


def shape_result(line: Line, words: str) -> ClaimResult:
    """A declared shape that cannot hold, as the SHAPE ERROR finding the file's report lists first."""
    return ClaimResult(
        name=f"shape of {line.name}",
        target=line.name,
        formula=line.text,
        verdict=Verdict.SHAPE_ERROR,
        line=line.where.line,
        message=words,
        source=line.provenance.source,
    )
