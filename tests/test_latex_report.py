"""The LaTeX proof report: it compiles with pdflatex, has no overfull boxes worth mentioning, leaks no internals."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from derive_check.cli import main
from derive_check.derive.printing.names import name_latex
from derive_check.derive.printing.symbols import Label, symbol_latex
from derive_check.reports.latex import to_latex_document, tool_version
from derive_check.reports.tex_text import tex_text
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES

NEEDS_PDFLATEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None and not os.environ.get("CI"),
    reason="pdflatex is not installed (CI installs it and runs this)",
)


@pytest.fixture(scope="module")
def seed_document() -> str:
    return to_latex_document([check_path(p, typeset=True) for p in sorted((EXAMPLES / "seeds").glob("*.toml"))])


def test_no_sympy_internals_leak_into_the_report(seed_document: str) -> None:
    for internal in ("Dummy", "Mul(", "Add(", "Symbol(", "_e1", "zoo", "nan"):
        assert internal not in seed_document


def test_the_report_has_every_part_a_reader_needs(seed_document: str) -> None:
    for part in (
        r"\section*{Method}",
        r"\subsection*{Model}",
        r"\subsection*{Verdicts}",
        r"\textbf{Theorem, for every size.}",  # the strongest theorem first
        r"\textbf{Illustration at the stated sizes.}",  # then one entry, short
        r"\textbf{Counterexample.}",
        r"\textbf{Diagnosis (proved).}",
        "as a matrix formula (PROVED for every size)",  # a refutation's residual, proved
        "derive-check " + tool_version(),  # the tool's version, and a date
        "Reading taken",
        "Assumptions",
    ):
        assert part in seed_document, part
    assert seed_document.count(r"\section{") == 7  # one per seed file


@NEEDS_PDFLATEX
def test_the_seed_suite_report_compiles_without_overfull_boxes(seed_document: str, tmp_path: Path) -> None:
    (tmp_path / "report.tex").write_text(seed_document)
    for _ in range(2):
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-2000:]
    log = (tmp_path / "report.log").read_text(errors="replace")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert all(width < 2.0 for width in overfull), overfull
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")


@NEEDS_PDFLATEX
def test_the_cli_writes_tex_and_pdf(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [str(EXAMPLES / "two_layer.toml"), "--latex", str(tmp_path / "r.tex"), "--pdf", str(tmp_path / "r.pdf")]
    )
    assert code == 0
    assert r"\begin{document}" in (tmp_path / "r.tex").read_text()
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_text_from_sources_is_made_safe_for_latex() -> None:
    assert tex_text("50% of ∂L/∂W_2 & more #1 {x}") == r"50\% of $\partial$L/$\partial$W\_2 \& more \#1 \{x\}"
    assert tex_text("ReLU 的导数") == "ReLU [Chinese text]"


def test_names_and_invented_symbols_read_as_mathematics() -> None:
    assert name_latex("W1", bold=True) == r"\mathbf{W}_{1}"
    assert name_latex("yhat") == r"\hat{y}"
    assert name_latex("lam") == r"\lambda"
    mask, scores, z1 = Label("mask", "h1", (0, 1)), Label("entry", "scores", (0, 1)), Label("entry", "z1", (0, 0))
    assert (mask.text(), mask.latex()) == ("mask(h1)[0,1]", r"\mathbf{1}[{h_{1}}_{0,1} > 0]")
    exp = Label("apply", "exp", of=scores)
    assert (exp.text(), exp.latex()) == ("exp(scores[0,1])", r"e^{{\mathrm{scores}}_{0,1}}")
    derivative = Label("call", "f", primes=1, of=z1)
    assert (derivative.text(), derivative.latex()) == ("f'(z1[0,0])", r"f'({z_{1}}_{0,0})")
    assert Label("apply", "tanh", of=z1).latex() == r"\tanh({z_{1}}_{0,0})"  # through the op table's LaTeX form
    assert symbol_latex("W1~[0,2]") == r"{W_{1}}_{0,2}"
