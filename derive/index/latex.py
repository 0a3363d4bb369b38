"""Index normal forms as LaTeX: what the report shows as the steps of a proof for all sizes."""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from derive_check.derive.index.form import Factor, IndexContext, Kind, Sum
from derive_check.derive.printing.latex import to_latex
from derive_check.derive.printing.names import name_latex
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply

NORMAL_FORM_TERMS = 24  # terms shown; longer normal forms are cut with a count
TERMS_PER_LINE = 3
LINE_SOURCE = 260  # LaTeX characters a displayed line may take before its next term starts a new line


def normal_form_latex(form: Mapping[tuple[tuple[str, ...], tuple[Factor, ...]], sp.Expr], ctx: IndexContext) -> str:
    """`coeff · Σ_{s0<N} ... Π factors` for each term of a normal form, three terms a line ('\n'); '0' if empty."""
    ordered = sorted(form.items(), key=lambda kv: repr(kv[0]))
    return _terms([([(f"s{k}", r) for k, r in enumerate(ranges)], factors, c) for (ranges, factors), c in ordered], ctx)


def raw_latex(terms: Sum, ctx: IndexContext) -> str:
    """A sum of terms as built, before any rewrite (deltas and all), in the same notation."""
    return _terms([([(i, str(d)) for i, d in t.bound], t.factors, t.coeff) for t in terms], ctx)


def _terms(items: list[tuple[list[tuple[str, str]], tuple[Factor, ...], sp.Expr]], ctx: IndexContext) -> str:
    if not items:
        return "0"
    masks = _mask_labels(ctx)
    parts = []
    for bound, factors, coeff in items[:NORMAL_FORM_TERMS]:
        sums = "".join(rf"\sum_{{{_index(i)} < {name_latex(r)}}}" for i, r in bound)
        body = " ".join(_factor(f, masks) for f in factors) or "1"
        sign = "-" if coeff.could_extract_minus_sign() else "+"
        magnitude = -coeff if sign == "-" else coeff
        scale = "" if magnitude == 1 else sp.latex(magnitude) + r"\,"
        parts.append(f"{sign} {scale}{sums} {body}")
    lines: list[list[str]] = []
    for part in parts:  # at most three terms a line, fewer when terms are long (nested sums, many factors)
        if not lines or len(lines[-1]) >= TERMS_PER_LINE or len(" ".join([*lines[-1], part])) > LINE_SOURCE:
            lines.append([])
        lines[-1].append(part)
    # a continuation line starts with '-' or with the '+' the report adds
    text = "\n".join(" ".join(line).removeprefix("+ ") for line in lines)
    if len(items) > NORMAL_FORM_TERMS:
        text += rf" + \dots\ (\text{{{len(items) - NORMAL_FORM_TERMS} more terms}})"
    return text


def _mask_labels(ctx: IndexContext) -> dict[str, str]:
    """A mask's LaTeX by its name: the ReLU line that applies it, where there is one."""
    labels = {}
    for name, definition in ctx.definitions.items():
        if isinstance(definition, Apply) and definition.op == "relu":
            labels[to_text(ctx.opened(definition.args[0]))] = name_latex(name)
    return labels


def _factor(f: Factor, masks: Mapping[str, str]) -> str:
    indices = ",".join(_index(i) for i in f.indices)
    if f.kind is Kind.DELTA:
        return rf"\delta_{{{indices}}}"
    if f.kind is Kind.MASK and f.name in masks:
        return rf"\mathbf{{1}}[{{{masks[f.name]}}}_{{{indices}}} > 0]"
    if f.kind is Kind.SELECT and isinstance(f.node, Apply):  # the first maximal entry of a max, as a 0/1 selection
        text = rf"\mathbf{{1}}[\operatorname{{argmax}} {to_latex(f.node.args[0])}]_{{{indices}}}"
    elif f.kind is Kind.MASK and f.node is not None:
        text = rf"\mathbf{{1}}[{to_latex(f.node)} > 0]_{{{indices}}}"
    elif f.kind is Kind.TENSOR or f.name.isidentifier():  # a declared or forward name: W_1 at its indices
        text = rf"{{{name_latex(f.name)}}}_{{{indices}}}" if indices else name_latex(f.name)
    else:  # an atom named by its formula: (log(P))_{i,c}
        text = rf"\left({to_latex(f.node) if f.node is not None else name_latex(f.name)}\right)_{{{indices}}}"
    return text + (rf"^{{{f.power}}}" if f.power != 1 else "")


def _index(i: str) -> str:
    variable, _, offset = i.partition("+")
    name = f"{variable[0]}_{{{variable[1:]}}}" if variable[:1] in ("s", "k") and variable[1:].isdigit() else variable
    return f"{name}+{offset.replace('*', '')}" if offset else name
