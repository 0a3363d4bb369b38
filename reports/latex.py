"""The LaTeX proof report: a self-contained article that compiles with pdflatex from texlive-latex-base.

Only packages from texlive-latex-base are used (amsmath, amssymb, longtable, geometry, hyperref, graphicx).
Wide formulas are scaled to the line width only when they would overflow (`\\fitmath`), so no overfull
boxes; text from the sources goes through `tex_text`, which escapes LaTeX's special characters and maps
the Unicode mathematics the seeds use (∂, ᵀ, ⊙, ŷ, λ, …) to LaTeX. Chinese text cannot be set by base
pdflatex and is marked as omitted.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from derive_check.reports.tex_text import tex_text, tt
from derive_check.verify.results import ClaimResult, FileResult, GeneralProof, Verdict

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage[margin=2.2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{longtable}
\usepackage{graphicx}
\usepackage[hidelinks]{hyperref}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{4pt}
\newsavebox{\fitbox}
\newcommand{\fitmath}[1]{\savebox{\fitbox}{$\displaystyle #1$}%
  \ifdim\wd\fitbox>\linewidth\resizebox{\linewidth}{!}{\usebox{\fitbox}}\else\usebox{\fitbox}\fi}
"""

METHOD = r"""\section*{Method}
Each model is built symbolically at the stated sizes with one symbol per entry of every input and parameter.
Every entry of every forward quantity is an atom with a recorded definition; $\mathbf{1}[z > 0]$ is a free 0/1
symbol per pre-activation entry, so $\operatorname{ReLU}(z) = \mathbf{1}[z>0]\,z$ and $\operatorname{ReLU}'(0) = 0$;
$e^{u}$, $\sigma(u)$ and $\tanh(u)$ are atoms whose derivatives are $e^{u}$, $\sigma(1-\sigma)$ and $1-\tanh^2$.
The ground truth is \texttt{sympy.diff} of the scalar loss with respect to each entry, with the chain rule routed
through the atoms. For every entry the residual (true $-$ claimed), with forward quantities expanded, is brought to
an exact normal form: one numerator over a product of factored denominators, in a sparse polynomial ring over
$\mathbb{Q}$, reduced modulo $m^2 = m$ for every mask and modulo ``each label row is one-hot''. \textbf{PROVED}
means every reduced numerator is the zero polynomial, which makes the claim exact for every value of the symbols,
every activation pattern and every label assignment. Atoms are independent variables in the normal form, which
can only miss a true identity, never accept a false one. \textbf{REFUTED} means an entry differs at a concrete
point whose masks agree with the signs of their pre-activations; the point is cross-checked by central finite
differences of the loss in float64 with numpy. A diagnosis is reported only when the corrected formula is itself
PROVED. A claimed gradient $\partial\mathbf{h}$ inside a formula denotes the claim about
$\partial L/\partial\mathbf{h}$.

\textbf{For all sizes.} A claim proved at the stated sizes is then written in index notation with every size a
symbol: its generic entry $[p, q]$ and $\partial L/\partial W_{pq}$, derived by the product rule with Kronecker
deltas, are sums of terms $c\sum_{s_0<N}\cdots\prod(\text{factors})$. The difference is normalised by rewrites
that hold for every size $\ge 1$: a delta with a summed index substitutes it, a sum over an index no factor
mentions becomes its size, masks are idempotent, one-hot rows and softmax rows sum to one, and terms equal up to a
renaming of summed indices are collected. Each rewrite is an identity of finite sums that holds for every value
of the sizes and every value of the entries, so a zero difference proves the claim for all sizes. The rewrites are
not complete: a difference they leave non-zero is not a refutation, and the report then says that the proof at the
stated sizes stands alone. A proof at the stated sizes is never extended to other sizes by itself.
"""


def to_latex_document(results: Sequence[FileResult], title: str = "derive-check proof report") -> str:
    """The whole report as a LaTeX document."""
    parts = [
        PREAMBLE,
        r"\title{" + tex_text(title) + r"}",
        r"\author{derive-check " + tex_text(tool_version()) + r"}\date{" + _date() + "}",
        r"\begin{document}",
        r"\maketitle",
        METHOD,
        _summary(results),
    ]
    parts += [_file(r) for r in results]
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


def tool_version() -> str:
    """The installed tool's version."""
    try:
        return version("derive-check")
    except PackageNotFoundError:
        return "(version unknown)"


def _date() -> str:
    """Today's date (UTC), or SOURCE_DATE_EPOCH's for reproducible reports."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch.isdigit() else dt.datetime.now(dt.UTC)
    return moment.strftime("%Y-%m-%d")


def _summary(results: Sequence[FileResult]) -> str:
    rows = [
        r"\begin{tabular}{p{0.38\linewidth}rrrrrrr}",
        r"file & proved & probable & refuted & shape & undecided & error & inconsistent \\ \hline",
    ]
    for r in results:
        counts = {v: sum(c.verdict is v for c in r.claims) for v in Verdict}
        counts[Verdict.ERROR] += bool(r.error)
        rows.append(
            f"{tex_text(r.title)} & "
            + " & ".join(
                str(counts[v])
                for v in (
                    Verdict.PROVED,
                    Verdict.PROBABLE,
                    Verdict.REFUTED,
                    Verdict.SHAPE_ERROR,
                    Verdict.UNDECIDED,
                    Verdict.ERROR,
                    Verdict.INCONSISTENT,
                )
            )
            + r" \\"
        )
    rows.append(r"\end{tabular}")
    return (
        r"\section*{Summary}"
        + "\n"
        + r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%"
        + "\n"
        + "\n".join(rows)
        + "}\n"
    )


def _file(result: FileResult) -> str:
    out = [r"\section{" + tex_text(result.title) + "}", r"\textbf{File:} " + tt(result.file)]
    if result.source:
        out.append(r"\\ \textbf{Source:} " + tex_text(result.source))
    if result.sizes:
        out.append(r"\\ \textbf{Sizes:} $" + ",\\ ".join(f"{k} = {v}" for k, v in result.sizes) + "$")
    if result.error:
        out.append(r"\par\textbf{This file could not be checked:}\par" + tt(result.error))
        return "\n".join(out)
    if result.model is not None:
        out.append(_model(result))
    out.append(_verdicts(result))
    out += [_claim(c) for c in result.claims]
    if result.notes:
        out.append(
            r"\subsection*{Notes}{\sloppy\begin{itemize}"  # notes quote formulas and names: let lines stretch
            + "".join(r"\item " + tex_text(n) for n in result.notes)
            + r"\end{itemize}\par}"
        )
    return "\n".join(out)


def _model(result: FileResult) -> str:
    model = result.model
    assert model is not None
    rows = [f"${name}$ & {tex_text(shape)} & {tex_text(role)}" + r" \\" for name, shape, role in model.declarations]
    forward = [rf"\fitmath{{{name} = {formula}}}" for name, formula in model.forward]
    out = [
        r"\subsection*{Model}",
        r"\begin{tabular}{lll}",
        r"quantity & shape & role \\ \hline",
        *rows,
        r"\end{tabular}\par Forward pass, top to bottom; the scalar loss is $" + model.loss + "$:",
        r"\begin{center}" + r"\\[2pt]".join(forward) + r"\end{center}",
        r"Assumptions:\begin{itemize}",
    ]
    out += [r"\item " + tex_text(a) for a in model.assumptions]
    out.append(r"\end{itemize}")
    return "\n".join(out)


def _verdicts(result: FileResult) -> str:
    rows = [
        r"\subsection*{Verdicts}",
        r"\begin{longtable}{p{0.2\linewidth}lrlp{0.34\linewidth}}",
        r"claim & verdict & entries & sizes & why \\ \hline \endhead",
    ]
    for c in result.claims:
        rows.append(
            f"{tt(c.name)} & \\textbf{{\\mbox{{{c.verdict.label}}}}} & {c.entries} & {c.scope} & "
            f"{tex_text(c.diagnosis or c.message)}" + r" \\"
        )
    rows.append(r"\end{longtable}")
    return "\n".join(rows)


def _claim(claim: ClaimResult) -> str:
    out = [r"\subsection*{" + tex_text(claim.name) + r" \hfill " + claim.verdict.label + "}"]
    out.append(
        r"\begin{center}\fitmath{" + claim.statement + r"}\end{center}"
        if claim.statement
        else r"Claim: " + tt(claim.formula)
    )
    if claim.source:
        out.append(r"{\sloppy\textit{As the source writes it:} " + tex_text(claim.source) + r"\par}")
    if claim.reading:
        out.append(r"\par\textit{" + tex_text(claim.reading_heading.capitalize()) + ":} " + tex_text(claim.reading))
    if claim.read_as:
        out.append(r"\par\textit{LaTeX read as:} " + tt(claim.read_as))
    if claim.departs:
        out.append(r"\par\textit{Where:} " + tex_text(claim.departs))
    if claim.verdict in (Verdict.ERROR, Verdict.SHAPE_ERROR, Verdict.UNDECIDED, Verdict.PROBABLE, Verdict.INCONSISTENT):
        out.append(r"\par " + tex_text(claim.message))
    general = claim.general
    if general is not None and general.proved:  # the strongest theorem first
        out.append(_general(general, "Theorem, for every size"))
    if claim.verdict is Verdict.REFUTED or claim.diagnosis:
        out.append(_refutation(claim))
    elif claim.worked is not None:
        if claim.verdict is not Verdict.PROVED:
            heading = "One entry at the stated sizes"
        else:
            proved_everywhere = general is not None and general.proved
            heading = "Illustration at the stated sizes" if proved_everywhere else "Proof at the stated sizes"
        out.append(_worked(claim, heading))
    if general is not None and not general.proved:
        out.append(r"\par\textit{For every size:} " + tex_text(general.summary) + ".")
    return "\n".join(out)


def _general(general: GeneralProof, heading: str) -> str:
    """The index-notation proof, step by step, ending in 0, with the identities it used."""
    summary = general.summary[:1].upper() + general.summary[1:]
    out = [r"\par\textbf{" + heading + r".} " + tex_text(summary) + "."]
    for caption, latex in general.steps:
        out.append(r"\par " + tex_text(caption))
        out.append(_lines(latex.split("\n")))
    if general.rules:
        out.append(r"\par Identities used (each holds for every size): " + _rules(general.rules) + ".")
    return "\n".join(out)


def _rules(text: str) -> str:
    """The identities a proof used, typeset: `Σ_k δ(k,p) f(k) = f(p) (9x)` as mathematics with its count."""
    shown = []
    for rule, count in re.findall(r"(.+?) \((\d+)x\)(?:, |$)", text):
        if re.search(r"[A-Za-z]{3,}", rule.replace("argmax", "")):  # words: "δ = 0 between disjoint blocks"
            shown.append(f"{tex_text(rule)} ({count}\\,$\\times$)")
            continue
        math = re.sub(r"Σ_\{([^}]*)\}", r"\\sum_{\1} ", rule)
        math = re.sub(r"Σ_(\w)", r"\\sum_{\1} ", math)
        math = math.replace("δ", r"\delta ").replace("argmax", r"\operatorname{argmax}")
        shown.append(f"${math}$ ({count}\\,$\\times$)")
    return ", ".join(shown) if shown else tex_text(text)


def _worked(claim: ClaimResult, heading: str) -> str:
    """One entry at the stated sizes: both sides and the exact normal form of their difference."""
    worked = claim.worked
    assert worked is not None
    out = [r"\par\textbf{" + heading + r".} One entry, " + rf"${worked.entry} L$" + r" by SymPy:"]
    out.append(_lines(worked.truth))
    out.append(r"The claimed entry:")
    out.append(_lines(worked.claimed))
    if claim.verdict is not Verdict.PROVED:
        out.append(r"Their difference does not reduce to $0$; it is")
        out.append(_lines(worked.residual))
        return "\n".join(out)
    out.append(r"Their difference, brought over the common denominator")
    out.append(_lines([worked.denominator]))
    out.append(
        r"and reduced modulo $m^2 = m$ and the one-hot rows, has numerator $0$: the entries agree"
        r" exactly. The same holds for every entry of the claim."
    )
    return "\n".join(out)


def _refutation(claim: ClaimResult) -> str:
    """What is wrong: the proved diagnosis, the matrix residual, the corrected formula, a small counterexample."""
    out = []
    if claim.diagnosis:
        out.append(r"\par\textbf{Diagnosis (proved).} " + tex_text(claim.diagnosis) + ".")
    if claim.residual_latex:
        where = "for every size" if claim.residual_scope == "all" else "at the stated sizes"
        out.append(r"\par The claim minus the true gradient, as a matrix formula (PROVED " + where + "):")
        out.append(_lines([claim.residual_latex]))
    if claim.corrected:
        scope = "for every size" if claim.residual_scope == "all" else "at the stated sizes"
        out.append(r"\par{\raggedright Corrected formula, PROVED " + scope + ": " + tt(claim.corrected) + r"\par}")
    cx = claim.counterexample
    if cx is not None:
        labels = f" ({tex_text(cx.labels)})" if cx.labels else ""
        out.append(r"\par\textbf{Counterexample.} At the point below" + labels + ":")
        rows = [r"\begin{center}\begin{tabular}{lll}", r"entry & true & claimed \\ \hline"]
        rows.append(f"{tt(cx.entry)} & {tex_text(cx.true_value)} & {tex_text(cx.claimed_value)}" + r" \\")
        if cx.oracle_value is not None and cx.oracle_claim is not None:
            rows.append(rf"finite differences (float64) & {cx.oracle_value:.10g} & {cx.oracle_claim:.10g} \\")
        rows.append(r"\end{tabular}\end{center}")
        out.append("\n".join(rows))
        out.append(r"\begin{flushleft}\small " + r"\\".join(tt(f"{n} = {v}") for n, v in cx.point) + r"\end{flushleft}")
    elif claim.worked is not None and claim.worked.residual and not claim.residual_latex:
        out.append(r"\par The difference of one entry, at the stated sizes:")
        out.append(_lines(claim.worked.residual))
    return "\n".join(out)


def _lines(lines: Sequence[str]) -> str:
    """Display lines, each scaled down only if it would not fit; continuation lines start with +."""
    if not lines:
        return ""
    shown = [
        rf"\fitmath{{{line}}}"
        if k == 0
        else rf"\fitmath{{\quad + {line}}}"
        if not line.lstrip().startswith("-")
        else rf"\fitmath{{\quad {line}}}"
        for k, line in enumerate(lines)
    ]
    return r"\begin{center}" + r"\\[2pt]".join(shown) + r"\end{center}"
