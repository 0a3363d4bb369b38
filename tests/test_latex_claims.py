"""Claims written in LaTeX: parsed with matrix meaning, into the same tree as formulas, with carets on errors."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from derive_check.derive.errors import InputError, Location
from derive_check.derive.exact.network import build_network
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.lang.latex import read_latex
from derive_check.derive.model.spec import load_file
from derive_check.derive.printing.text import to_text
from derive_check.verify.check.session import Session
from derive_check.verify.decide.equality import Equality
from derive_check.verify.results import Verdict
from derive_check.verify.run.engine import check_claim
from tests.conftest import EXAMPLES, TWO_LAYER_HEAD, check_text

NAMES = {"X", "Y", "P", "h", "h1", "W1", "W2", "b1", "b2", "reg", "N", "L", "z", "yhat", "y", "lam", "m"}


def read(text: str, aliases: dict[str, str] | None = None, index: set[str] | None = None) -> str:
    parsed = {k: parse_formula(v, Location()) for k, v in (aliases or {}).items()}
    return to_text(
        read_latex(
            text,
            Location("f.toml", 3, "claims.dW1.latex", text),
            NAMES,
            {"f": "elementwise"},
            parsed,
            index or set(),
            {"N", "m"},
        ).expr
    )


@pytest.mark.parametrize(
    ("latex", "formula"),
    [
        (r"X^T", "X.T"),
        (r"X^\top", "X.T"),
        (r"X^{\top}", "X.T"),
        (r"X^{\mathsf T}", "X.T"),
        (r"X^{\mathsf{T}}", "X.T"),
        (r"P \odot Y", "P * Y"),
        (r"P \circ Y", "P * Y"),
        (r"\frac{P - Y}{N}", "(P - Y) / N"),
        (r"\sum_{i=1}^{N} (P_i - Y_i)", "sum(P[i] - Y[i] for i in range(N))"),
        (r"\sum_{i=0}^{N-1} P_i", "sum(P[i] for i in range(N))"),
        (r"\sum_i P_i", "sum(P[i] for i in range(?))"),
        (r"\mathbb{1}[h_1 > 0]", "(h1 > 0)"),
        (r"1\{h1 > 0\}", "(h1 > 0)"),
        (r"\text{ReLU}'(X W_1 + b_1)", "(product(X, W1) + b1 > 0)"),
        (r"\left( P - Y \right)", "P - Y"),
        (r"\mathbf{W}_2 \, \boldsymbol{h}", "product(W2, h)"),
        (r"W_{1}", "W1"),
        (r"\hat{y}_t", "yhat[t]"),
        (r"f'(z)", "df(z)"),
        (r"\frac{\lambda}{m} W_2", "product(lam / m, W2)"),
        (r"\sigma(z) \odot (1 - \sigma(z))", "sigmoid(z) * (1 - sigmoid(z))"),
        (r"P − Y", "P - Y"),
    ],
)
def test_latex_construct_means_the_formula(latex: str, formula: str) -> None:
    assert read(latex, index={"t"}) == formula


@pytest.mark.parametrize(
    "latex",
    [r"\sum_{i=1}^{N-1} P_i", r"\sum_{i=1}^{1} P_i", r"\sum_{i=2}^{N} P_i", r"\sum_{i=1}^{L} P_i", r"\sum P"],
)
def test_a_sum_over_anything_but_a_full_range_of_a_size_is_rejected_with_a_caret(latex: str) -> None:
    with pytest.raises(InputError) as caught:
        read(latex)
    assert "sum" in caught.value.message and caught.value.where.col_start == latex.index("\\sum")


PER_SAMPLE = """
title = "per-sample logistic regression"
[sizes]
N = 3
D = 2
C = 2
[inputs]
X = "N x D"
y = "N"
[params]
w = "D"
[forward]
s = "sigmoid(X @ w)"
L = "-sum(y * log(s) + (1 - y) * log(1 - s)) / N"
[claims]
"""


@pytest.mark.parametrize(
    ("latex", "verdict"),
    [
        (r"\frac{1}{N} \sum_{i=1}^{N} (\sigma(X_i w) - y_i) X_i", Verdict.PROVED),  # once misread as a double sum
        (r"\frac{1}{N} \sum_{i=1}^{N} X_i (\sigma(X_i w) - y_i)", Verdict.PROVED),
        (r"\sum_{i=1}^{N} (\sigma(X_i w) - y_i) X_i", Verdict.REFUTED),  # the 1/N is missing
        (r"\frac{1}{N} \sum_{c=1}^{C} (\sigma(X_c w) - y_c) X_c", Verdict.SHAPE_ERROR),  # c runs over C, not N
    ],
)
def test_a_per_sample_sum_is_read_sample_by_sample(latex: str, verdict: Verdict) -> None:
    text = PER_SAMPLE + f"dw = {{ latex = '{latex}' }}\n"
    [result] = check_text(text)
    assert result.verdict is verdict, result.message
    if verdict is Verdict.PROVED:
        assert "sum(" in result.read_as and "X[i]" in result.read_as and "for i in range(N)" in result.read_as


def test_aliases_map_prose_and_chinese_text_to_the_model() -> None:
    aliases = {r"\text{one-hot label}": "Y", r"\text{ReLU 的导数}": "(h1 > 0)"}
    assert (
        read(r"(P - \text{one-hot label}) \cdot W2^T \odot \text{ReLU 的导数}", aliases)
        == "product(P - Y, W2.T) * (h1 > 0)"
    )


@pytest.mark.parametrize(
    ("latex", "message", "caret"),
    [
        (r"h1^T \cdot (P - onehot)", "unknown name 'onehot'", "onehot"),
        (r"X^T \cdot (P", "cannot read the LaTeX here", ""),
        (r"\frac{P}{", "cannot read the LaTeX here", ""),
    ],
)
def test_errors_point_into_the_latex(latex: str, message: str, caret: str) -> None:
    with pytest.raises(InputError) as info:
        read(latex)
    assert message in info.value.message
    header, line, marks = info.value.render().splitlines()
    assert header.startswith("f.toml:3: error [claims.dW1.latex]") and line.strip() == latex
    position = line.index(caret) if caret else len(line.rstrip())
    assert marks.index("^") == position


SQUARE = TWO_LAYER_HEAD.replace("N = 2", "N = 3").replace("H = 4", "H = 3").replace("C = 5", "C = 3")


def test_h_transpose_times_p_minus_y_is_not_p_minus_y_times_h_transpose() -> None:
    # The failure of scalar readers (math-verify, latex2sympy): they call these equal. Here every size is 3,
    # so both products exist; only the first is the gradient.
    claims = (
        '[claims.right]\nwrt = "W2"\nlatex = \'\\frac{\\partial L}{\\partial W_2} = \\frac{1}{N} h_1^T (P - Y) '
        "+ 2 \\, \\text{reg} \\, W_2'\n"
        '[claims.swapped]\nwrt = "W2"\nlatex = \'\\frac{\\partial L}{\\partial W_2} = \\frac{1}{N} (P - Y) h_1^T '
        "+ 2 \\, \\text{reg} \\, W_2'\n"
    )
    right, swapped = check_text(SQUARE + claims)
    assert right.verdict is Verdict.PROVED
    # not equal: the swapped product contracts C with H, which exists only because both sizes are 3 here
    assert swapped.verdict is Verdict.SHAPE_ERROR and "equal only if C = H" in swapped.message


def seed_claims() -> list[tuple[Path, str]]:
    return [
        (p, name)
        for p in sorted((EXAMPLES / "seeds").glob("*.toml"))
        for name, c in tomllib.loads(p.read_text()).get("claims", {}).items()
        if isinstance(c, dict) and "latex" in c and "formula" in c
    ]


@pytest.mark.parametrize(("path", "name"), seed_claims(), ids=lambda v: getattr(v, "name", v))
def test_each_seed_latex_line_gets_the_verdict_of_its_formula_twin(path: Path, name: str) -> None:
    spec = load_file(path)
    net = build_network(spec)
    session = Session(net, Equality(net), dict(net.values))
    verdicts = {}
    for claim in spec.claims:  # earlier claims first, so later ones can use them
        result = check_claim(session, claim, 30.0, explain=False)
        if claim.name == name:
            assert claim.twin is not None and claim.text.startswith("\\frac")
            twin = check_claim(session, replace(claim, name=f"{name}~twin", expr=claim.twin), 30.0, explain=False)
            verdicts = {"latex": result.verdict, "formula": twin.verdict}
    assert verdicts["latex"] is verdicts["formula"], verdicts


def test_the_seed_suite_reads_most_gradients_from_their_latex() -> None:
    assert len(seed_claims()) >= 12


def test_every_seed_line_not_read_from_latex_says_why() -> None:
    for path in sorted((EXAMPLES / "seeds").glob("*.toml")):
        for name, claim in tomllib.loads(path.read_text()).get("claims", {}).items():
            if isinstance(claim, dict) and "latex_as_written" in claim:
                assert claim.get("latex_note", "").startswith("not used:"), (path.name, name)


def test_a_remembered_parse_tree_is_never_changed_by_reading_it() -> None:
    """The parse of a LaTeX string is shared between reads (a file that extends another reads its claims again):
    reading must leave the shared tree as the parser made it, and two reads give the same formula."""
    from derive_check.derive.lang.latex import parsed
    from derive_check.derive.lang.latex_grammar import PARSER, prepare

    text = r"\frac{\partial L}{\partial W_2} = h_1^T (P - Y) / N + \sum_{i=1}^{N} 2 lam W_2"
    prepared = str(prepare(text, {}, {})[0])
    first = read(text)
    assert parsed(prepared) is parsed(prepared)  # the tree the read used, remembered
    assert read(text) == first
    assert parsed(prepared) == PARSER.parse(prepared)  # unchanged by both reads
