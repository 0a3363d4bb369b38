"""The second line of defence: no pass without the independent witness agreeing.

Every claim the engine passes (PROVED or PROBABLE, fresh or from the proof cache) is re-checked by
`verify.witness.check`, which shares no evaluation code with the engine: at random points it compares
the claim with high-precision central differences of the loss, and for a proof "for all sizes" it
does so at other size tuples too. A disagreement is never a pass: the verdict becomes INCONSISTENT
(a bug in derive-check; exit code 3) with both numbers and the point. Where the witness cannot
evaluate the claim, the engine's word alone is not enough either: the verdict becomes UNDECIDED.

This runs after a file's results exist, on both the engine's path and the cache's fast path, so a
cached run and a fresh run go through the same check. It needs the claims' trees only, which are
resolved here from the model without SymPy.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from derive_check.derive.errors import InputError
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.shapes import infer, resolve_products
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.spec import SymbolicShapeError
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Node
from derive_check.verify.results import ClaimResult, GeneralProof, Verdict
from derive_check.verify.witness.report import WitnessReport

BUG = "the proof engine and the numeric witness disagree: this is a bug in derive-check (please report it)"


def claim_trees(spec: ModelSpec, extra: ClaimSpec | None = None) -> dict[str, Node]:
    """Every claim's formula (and `extra`'s, after them) with LaTeX products resolved by symbolic shape, in order."""
    shapes = dict(spec.shapes)
    trees: dict[str, Node] = {}
    for claim in (*spec.claims, *((extra,) if extra is not None else ())):
        if claim.expr is None:
            continue
        local = {**shapes, **{v: () for v, _ in claim.index_vars}}
        try:
            tree = resolve_products(claim.expr, local)
            shapes[claim.name] = infer(tree, local)
        except SymbolicShapeError:
            continue
        trees[claim.name] = tree
    return trees


@dataclass(frozen=True)
class Said:
    """What the witness says of a claim as written, which does not depend on the engine's verdict: so it can be
    worked out ahead, while the engine is still loading (`verify.run.ahead`)."""

    stated: WitnessReport  # at the stated sizes
    other: WitnessReport | None  # at other sizes; None where the stated sizes did not agree (never asked then)


def said_of(spec: ModelSpec, claim: ClaimSpec, tree: Node, trees: Mapping[str, Node]) -> Said:
    """The witness's reports on one claim (`trees`: every claim's, from `claim_trees`), exactly as `crosscheck`
    would compute them for a passing claim: the same earlier claims, the same seed."""
    from derive_check.verify.witness.check import witness_claim
    from derive_check.verify.witness.sizes import witness_all_sizes

    earlier, seed = _context(spec, claim, trees)
    stated = witness_claim(spec, claim, tree, earlier, seed=seed)
    other = witness_all_sizes(spec, claim, tree, earlier, seed=seed) if stated.agrees is True else None
    return Said(stated, other)


def crosscheck(
    spec: ModelSpec, results: list[ClaimResult], said: Mapping[str, Said] | None = None
) -> list[ClaimResult]:
    """`results` with every passing claim checked by the witness (INCONSISTENT or UNDECIDED where it does not agree);
    `said`: reports already worked out for some claims of this very model (`said_of`), used instead of new ones."""
    from derive_check.verify.witness.check import witness_claim
    from derive_check.verify.witness.sizes import witness_all_sizes

    trees = claim_trees(spec)
    by_name = {c.name: c for c in spec.claims}
    out = []
    for result in results:
        claim = by_name.get(result.name)
        tree = trees.get(result.name)
        if claim is not None and tree is not None and claim.from_latex:
            result = replace(result, read_as=to_text(tree))
        if claim is None or tree is None or not (result.verdict.passed or result.corrected or result.residual):
            out.append(result)
            continue
        earlier, seed = _context(spec, claim, trees)
        if not result.verdict.passed:  # a refuted claim's proved reading: its corrected formula and its residual
            out.append(_witnessed_reading(spec, claim, tree, earlier, result, seed))
            continue
        ahead = (said or {}).get(claim.name)
        report = ahead.stated if ahead is not None else witness_claim(spec, claim, tree, earlier, seed=seed)
        if report.agrees is False:
            out.append(_inconsistent(result, report.message))
            continue
        if report.agrees is None:
            message = (
                f"the independent witness could not check this claim ({report.message}); "
                f"the engine's {result.verdict.label} alone is not reported as a pass"
            )
            out.append(replace(result, verdict=Verdict.UNDECIDED, message=message, general=None))
            continue
        words = f"agrees at {report.checks} random point(s), 60 digits"
        general = result.general
        if general is not None and general.proved:
            known = ahead.other if ahead is not None else None
            other = known if known is not None else witness_all_sizes(spec, claim, tree, earlier, seed=seed)
            sizes = ", ".join(f"{k}={v}" for k, v in other.sizes) or "other sizes"
            if other.agrees is False:
                out.append(_inconsistent(result, f"proved for all sizes, but at {sizes}: {other.message}"))
                continue
            if other.agrees is None:
                general = GeneralProof(False, f"{general.summary}; not confirmed at other sizes: {other.message}")
            else:
                words += f"; also at other sizes ({other.checks} checks)"
        out.append(replace(result, witness=words, general=general))
    return out


def _context(spec: ModelSpec, claim: ClaimSpec, trees: Mapping[str, Node]) -> tuple[dict[str, Node], int]:
    """The earlier claims a claim may use by name (without index variables), and the witness's seed for it."""
    earlier = {}
    for previous in spec.claims:
        if previous.name == claim.name:
            break
        if previous.name in trees and not previous.index_vars:
            earlier[previous.name] = trees[previous.name]
    return earlier, zlib.crc32(f"{spec.file}:{claim.name}".encode())


def _witnessed_reading(
    spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: dict[str, Node], result: ClaimResult, seed: int
) -> ClaimResult:
    """A diagnosis survives only if the witness agrees: the corrected formula, and claim − R for the matrix residual
    R, are each the gradient at the stated sizes (and claim − R at other sizes when it is said to hold for every
    size). A disagreement is a bug (INCONSISTENT); a reading the witness cannot evaluate is not shown, and neither
    is a residual where the claim itself has no value at some point (sqrt of a negative): claim − R then has none
    there either, which says nothing against R."""
    from derive_check.verify.witness.check import witness_claim
    from derive_check.verify.witness.sizes import witness_all_sizes

    readings = [("corrected", result.corrected)] if result.corrected else []
    readings += [("residual", result.residual)] if result.residual else []
    for kind, text in readings:
        try:
            parsed = resolve_products(parse_formula(text, claim.where, spec.functions), dict(spec.shapes))
        except (InputError, SymbolicShapeError):
            return replace(result, diagnosis="", corrected="", residual="", residual_scope="")
        formula = Apply("sub", (tree, parsed)) if kind == "residual" else parsed
        report = witness_claim(spec, claim, formula, earlier, seed=seed)
        if report.agrees is True and result.residual_scope == "all":  # both said to hold for every size
            report = witness_all_sizes(spec, claim, formula, earlier, seed=seed)
            if report.agrees is None:
                result = replace(result, residual_scope="stated")
                continue
        if report.agrees is False and kind == "residual" and report.undefined:
            return replace(result, residual="", residual_scope="")  # claim − R has no value where the claim has none
        if report.agrees is False:
            return _inconsistent(result, f"the {kind} formula {text} of the diagnosis: {report.message}")
        if report.agrees is None:
            return replace(result, diagnosis="", corrected="", residual="", residual_scope="")
    return result


def _inconsistent(result: ClaimResult, message: str) -> ClaimResult:
    text = message if message.startswith("the proof engine") else f"{BUG}: {message}"
    return replace(
        result,
        verdict=Verdict.INCONSISTENT,
        message=text,
        general=None,
        diagnosis="",
        corrected="",
        residual="",
        residual_scope="",
    )
