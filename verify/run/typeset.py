"""Typesetting results for the LaTeX report: the model, each claim's equation, one worked entry.

Computed only when a LaTeX report is asked for (it costs a few SymPy printing passes per claim), and
kept as LaTeX strings in the frozen results so that `reports/` renders without touching the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import sympy as sp

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.spec import Kind
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.latex import expr_latex, to_latex
from derive_check.derive.printing.names import name_latex
from derive_check.derive.printing.symbols import Label, symbol_latex
from derive_check.derive.tree import Apply, walk
from derive_check.verify.check.entries import Entry
from derive_check.verify.check.session import Session
from derive_check.verify.refute.display import readable_expr
from derive_check.verify.results import ClaimResult, FileResult, ModelSummary, Verdict, WorkedEntry

TERMS_PER_LINE = 3
WORKED_TERMS = 6  # terms of a worked entry shown (an illustration, kept short); the rest are counted


def vocabulary(spec: ModelSpec) -> tuple[set[str], set[str]]:
    """(names typeset bold: matrices and vectors, names that are scalars)."""
    decls = [*spec.inputs.values(), *spec.params.values()]
    scalars = {d.name for d in decls if not d.dims} | set(spec.sizes)
    bold = {d.name for d in decls if d.dims} | {line.name for line in spec.forward if line.name != spec.loss}
    for claim in spec.claims:
        scalars |= {v for v, _ in claim.index_vars}
    return bold, scalars


def model_summary(spec: ModelSpec) -> ModelSummary:
    """Declarations, forward pass and assumptions, typeset."""
    bold, scalars = vocabulary(spec)
    roles = [*((d, "input") for d in spec.inputs.values()), *((d, "parameter") for d in spec.params.values())]
    declarations = tuple(
        (
            name_latex(d.name, d.name in bold),
            " x ".join(map(str, d.dims)) or "scalar",
            role + (", one-hot" if d.onehot else ""),
        )
        for d, role in roles
    )
    forward = tuple(
        (name_latex(line.name, line.name in bold), to_latex(line.expr, bold, scalars)) for line in spec.forward
    )
    assumptions = []
    trees = [line.expr for line in spec.forward] + [c.expr for c in spec.claims if c.expr is not None]
    used = {n.op for tree in trees for n in walk(tree) if isinstance(n, Apply)}
    if any(OPS[op].kind is Kind.PIECEWISE for op in used if op in OPS):
        assumptions.append(
            "Piecewise functions hold almost everywhere: each ReLU (and each comparison) is a free 0/1 mask, so one "
            "proof covers every activation pattern, with relu'(0) = 0; a max over an axis selects its first "
            "maximal entry."
        )
    if any(d.onehot for d in spec.inputs.values()):
        assumptions.append(
            "Labels are one-hot: each row sums to 1 and two entries of a row are never both 1; "
            "the proof covers every label assignment."
        )
    if spec.functions:
        assumptions.append(
            f"{', '.join(sorted(spec.functions))} are arbitrary smooth functions: their values and "
            "derivatives are free symbols, so the proofs hold for every choice."
        )
    layouts = {c.layout for c in spec.claims}
    assumptions.append(
        "Gradients are in " + " and ".join(sorted(layouts)) + " layout (denominator: shaped like "
        "the quantity; numerator: transposed)."
    )
    return ModelSummary(declarations, forward, name_latex(spec.loss), tuple(assumptions))


def statement(spec: ModelSpec, claim: ClaimSpec) -> str:
    """The claim as an equation: dL/dW2 = (formula)."""
    bold, scalars = vocabulary(spec)
    target = name_latex(claim.target, claim.target in bold)
    top = to_latex(claim.of, bold, scalars) if claim.of is not None else name_latex(spec.loss)
    lhs = rf"\frac{{\partial {top}}}{{\partial {target}}}"
    rhs = to_latex(claim.expr, bold, scalars | {v for v, _ in claim.index_vars}) if claim.expr is not None else ""
    return f"{lhs} = {rhs}"


def residual_equation(spec: ModelSpec, claim: ClaimSpec, residual: str) -> str:
    """The matrix residual as an equation: dW2 - dL/dW2 = (its formula), typeset (empty if it does not parse)."""
    bold, scalars = vocabulary(spec)
    try:
        tree = parse_formula(residual, Location(spec.file, 0, claim.name, residual), spec.functions)
    except InputError:
        return ""
    lhs = statement(spec, replace(claim, expr=None)).removesuffix(" = ")
    name = claim.name.replace("_", r"\_")
    return rf"\mathtt{{{name}}} - {lhs} = {to_latex(tree, bold, scalars)}"


def worked_entry(session: Session, claim: ClaimSpec, result: ClaimResult, entries: list[Entry]) -> WorkedEntry | None:
    """One entry of the claim: both sides, the common denominator and the reduced numerator of the residual."""
    if not entries:
        return None
    chosen = entries[0]
    if result.counterexample is not None:
        chosen = next((e for e in entries if e.label == result.counterexample.entry), chosen)
    label = chosen.label.split(" ")[0].replace(claim.name, claim.target, 1)
    entry = rf"\frac{{\partial}}{{\partial\, {symbol_latex(label)}}}"
    residual = session.eq.residuals([chosen.truth], [chosen.claimed])[0]
    labels = session.net.backend.atoms.labels
    denominator: str = "1"
    numerator: tuple[str, ...] = ("0",)
    try:
        value = session.eq.normal_form([residual]).convert(residual)
        denominator = (
            r" \cdot ".join(
                rf"\left({expr_latex(f.as_expr(), labels)}\right)" + (f"^{{{k}}}" if k > 1 else "")
                for f, k in value.den.items()
            )
            or "1"
        )
        if result.verdict is not Verdict.PROVED:
            numerator = _lines(
                readable_expr(chosen.truth - chosen.claimed, session.net.backend.atoms, chosen.fixed), labels
            )
    except Exception:  # the normal form cannot be shown (a mask in a denominator): keep the other parts
        denominator = r"\text{(not shown)}"
    truth = readable_expr(chosen.truth, session.net.backend.atoms, {})
    return WorkedEntry(entry, _lines(truth, labels), _lines(chosen.claimed, labels), denominator, numerator)


def _lines(expr: sp.Expr, labels: Mapping[sp.Symbol, Label]) -> tuple[str, ...]:
    terms = list(sp.Add.make_args(sp.expand(expr)))  # a product of sums too: one long line would be unreadable
    shown, hidden = terms[:WORKED_TERMS], len(terms) - WORKED_TERMS
    lines = []
    for start in range(0, len(shown), TERMS_PER_LINE):
        chunk = sp.Add(*shown[start : start + TERMS_PER_LINE], evaluate=False) if len(shown) > 1 else shown[0]
        lines.append(expr_latex(chunk, labels))
    if hidden > 0:
        lines.append(rf"\dots\ \text{{({hidden} more term{'s' if hidden > 1 else ''})}}")
    return tuple(lines)


def typeset(result: FileResult, session: Session | None, spec: ModelSpec) -> FileResult:
    """`result` with the typeset model, claim equations and worked entries filled in (cached ones kept)."""
    by_name = {c.name: c for c in spec.claims}
    claims = []
    for claim_result in result.claims:
        claim = by_name.get(claim_result.name)
        if claim_result.worked is not None or not isinstance(session, Session):
            claims.append(replace(claim_result, statement=statement(spec, claim) if claim and claim.expr else ""))
            continue
        if claim is None or claim.expr is None or claim_result.verdict in (Verdict.ERROR, Verdict.SHAPE_ERROR):
            claims.append(replace(claim_result, statement=statement(spec, claim) if claim and claim.expr else ""))
            continue
        try:
            entries = session.checked.get(claim.name) or session.entries(claim, claim.expr)  # the engine's own
            worked = worked_entry(session, claim, claim_result, entries)
        except Exception:
            worked = None
        residual = residual_equation(spec, claim, claim_result.residual) if claim_result.residual else ""
        claims.append(replace(claim_result, statement=statement(spec, claim), worked=worked, residual_latex=residual))
    return replace(result, claims=tuple(claims), model=model_summary(spec))
