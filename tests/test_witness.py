"""The independent numeric witness: true claims agree, false ones disagree with a localised entry."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import pytest

from derive_check.derive.errors import Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.spec import ModelSpec, load_file
from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.witness.check import witness_claim
from derive_check.verify.witness.report import WitnessReport
from derive_check.verify.witness.sizes import judge_all_sizes, judge_file, other_sizes, witness_all_sizes
from tests.conftest import SOFTMAX_HEAD

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SEEDS = EXAMPLES / "seeds"


def formula(spec: ModelSpec, text: str) -> Node:
    return parse_formula(text, Location("test"), spec.functions)


def claim_named(spec: ModelSpec, name: str) -> ClaimSpec:
    return next(c for c in spec.claims if c.name == name)


def earlier_of(spec: ModelSpec, name: str) -> dict[str, Node]:
    earlier: dict[str, Node] = {}
    for c in spec.claims:
        if c.name == name:
            return earlier
        if c.expr is not None:
            earlier[c.name] = c.expr
    raise KeyError(name)


def witness(spec: ModelSpec, name: str, text: str | None = None, **kwargs: object) -> WitnessReport:
    claim = claim_named(spec, name)
    tree = claim.expr if text is None else formula(spec, text)
    assert tree is not None
    return witness_claim(spec, claim, tree, earlier_of(spec, name), **kwargs)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> ModelSpec:
    path = tmp_path / "model.toml"
    path.write_text(text)
    return load_file(path)


def test_two_layer_claims_all_agree_and_fast() -> None:
    """dscores = (P - Y)/N, dW2 = h1ᵀ(P - Y)/N + 2 reg W2, ... (examples/two_layer.toml) are the true gradients."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    earlier: dict[str, Node] = {}
    reports = {}
    for claim in spec.claims:
        assert claim.expr is not None
        reports[claim.name] = witness_claim(spec, claim, claim.expr, earlier, points=2)
        earlier[claim.name] = claim.expr
    assert {n: r.agrees for n, r in reports.items()} == dict.fromkeys(reports, True), reports
    assert all(r.checks == 3 for r in reports.values())  # 2 asked; 3 so that each of C = 5 classes shows in N = 2 rows
    assert dict(reports["dW2"].sizes) == {"N": 2, "D": 3, "H": 4, "C": 5}


def test_dw2_without_the_mean_disagrees_and_names_an_entry() -> None:
    """dW2 = h1ᵀ(P - Y) + 2 reg W2 (no 1/N) is N times the data term: the witness refutes it entry by entry."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    wrong = replace(claim_named(spec, "dW2"), expr=formula(spec, "h1.T @ (P - Y) + 2 * reg * W2"))
    report = witness_claim(spec, wrong, wrong.expr or Const(Fraction(0)), {})
    assert report.agrees is False
    assert report.message.startswith(
        "the proof engine and the numeric witness disagree: this is a bug in derive-check."
    )
    assert re.search(
        r"dW2\[\d,\d\] at N=2, D=3, H=4, C=5: claimed -?[\d.]+(e-?\d+)?, central difference", report.message
    )
    assert "(100 digits, step 1e-40); point: X = [[" in report.message
    assert len(report.message.split("point: ", 1)[1]) <= 600


def test_numerator_layout_transposes() -> None:
    """In numerator layout dW2 is (h1ᵀ(P - Y)/N + 2 reg W2)ᵀ; the denominator-layout formula is then a shape error."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    claim = replace(claim_named(spec, "dW2"), layout="numerator")
    assert witness(replace(spec, claims=(claim,)), "dW2", "((P - Y).T @ h1) / N + 2 * reg * W2.T").agrees is True
    report = witness(replace(spec, claims=(claim,)), "dW2")
    assert report.agrees is None and "shape" in report.message


SOFTMAX = SOFTMAX_HEAD + '[claims]\ndP = "-Y / P / N"\n'


def test_softmax_probabilities_gradient(tmp_path: Path) -> None:
    """d/dP of -sum(Y log P)/N is -Y/P/N with P's own value the variable; 0 * P is refuted."""
    spec = write(tmp_path, SOFTMAX)
    assert witness(spec, "dP").agrees is True
    assert witness(spec, "dP", "0 * P").agrees is False


SIGMOID = """
[sizes]
N = 3
[inputs]
x = "N"
[params]
w = "N"
[forward]
z = "w * x"
s = "sigmoid(z)"
h = "identity(z)"
L = "sum(s * x) + sum(sigmoid(z) ** 2) + sum(h ** 2) + sum(z * x)"
[claims]
ds = "x"
dh = "2 * h"
dz = "x * s * (1 - s) + 2 * s * s * (1 - s) + 2 * h + x"
"""


def test_partial_with_respect_to_a_line_keeps_written_out_copies_fixed(tmp_path: Path) -> None:
    """dL/ds = x: sigmoid(z) written out in the loss is not s, so it is not perturbed (2 s + x is the total reading)."""
    spec = write(tmp_path, SIGMOID)
    assert witness(spec, "ds").agrees is True
    assert witness(spec, "ds", "x + 2 * s").agrees is False
    assert witness(spec, "ds", "2 * s").agrees is False


def test_identity_line_is_its_own_variable(tmp_path: Path) -> None:
    """h = identity(z): dL/dh = 2h excludes the z path (x); dL/dz includes every path."""
    spec = write(tmp_path, SIGMOID)
    assert witness(spec, "dh").agrees is True
    assert witness(spec, "dh", "2 * h + x").agrees is False
    assert witness(spec, "dz").agrees is True
    assert witness(spec, "dz", "x * s * (1 - s) + 2 * h + x").agrees is False


AFTER_LOSS = """
[sizes]
N = 3
[inputs]
x = "N"
[params]
w = "N"
[forward]
L = "sum(w * w * x)"
extra = "L * 3 + sum(w)"
[claims]
dw = "2 * w * x"
dextra = "0 * extra"
"""


def test_line_after_the_loss_changes_nothing(tmp_path: Path) -> None:
    """dL/dw = 2 w x although a line follows L; dL/dextra = 0; with spec.loss = extra, dw is 6 w x + 1."""
    spec = write(tmp_path, AFTER_LOSS)
    assert spec.loss == "L" and spec.forward[-1].name == "extra"
    assert witness(spec, "dw").agrees is True
    assert witness(spec, "dextra").agrees is True
    assert witness(spec, "dextra", "1 + 0 * extra").agrees is False
    other = replace(spec, loss="extra")
    assert witness(other, "dw").agrees is False
    assert witness(other, "dw", "6 * w * x + 1").agrees is True


def test_a_claim_true_only_at_the_stated_sizes() -> None:
    """db2 = sum(P - Y, axis=0) / 2 equals sum(P - Y, axis=0) / N only at N = 2: all-sizes refutes it."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    text = "sum(P - Y, axis=0) / 2"
    assert witness(spec, "db2", text).agrees is True
    report = witness_all_sizes(spec, claim_named(spec, "db2"), formula(spec, text), {})
    assert report.agrees is False
    assert dict(report.sizes)["N"] != 2 and "db2[" in report.message
    good = witness_all_sizes(spec, claim_named(spec, "db2"), formula(spec, "sum(P - Y, axis=0) / N"), {})
    assert good.agrees is True and good.checks >= 2 * len(other_sizes(spec))


def test_other_sizes_has_a_one_and_a_distinct_new_tuple() -> None:
    """other_sizes: one tuple with a size 1, one with all sizes distinct, new and at most 6."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    tuples = other_sizes(spec)
    assert len(tuples) >= 2 and all(set(t) == set(spec.sizes) for t in tuples)
    assert any(1 in t.values() for t in tuples)
    assert any(
        len(set(t.values())) == len(t) and all(v <= 6 and v != spec.sizes[k] for k, v in t.items()) for t in tuples
    )


def test_index_sum_is_a_sum_over_the_bound_index() -> None:
    """db2 = (sum over i < N of (P - Y)[i]) / N, with (P - Y)[i] the i-th row; without / N it is refuted."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    row = Apply("entry", (Apply("sub", (Ref("P"), Ref("Y"))), Ref("i")))
    total = Apply("index_sum", (row,), (("index", "i"), ("size", "N")))
    claim = claim_named(spec, "db2")
    assert witness_claim(spec, claim, Apply("div", (total, Ref("N"))), {}).agrees is True
    assert witness_claim(spec, claim, total, {}).agrees is False


def test_latex_products_resolved_or_not() -> None:
    """A LaTeX `product` is a scalar product when either side is a scalar, else a matrix product."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    claim = claim_named(spec, "dW2")
    data = Apply("product", (Apply("transpose", (Ref("h1"),)), Apply("sub", (Ref("P"), Ref("Y")))))
    scaled = Apply("product", (Apply("product", (Const(Fraction(2)), Ref("reg"))), Ref("W2")))
    tree = Apply("add", (Apply("div", (data, Ref("N"))), scaled))
    assert witness_claim(spec, claim, tree, {}).agrees is True


def test_cannot_judge_shape_errors_and_bad_indices() -> None:
    """A claim shaped unlike the gradient, or an index out of range, is not judged (None with the reason)."""
    spec = load_file(EXAMPLES / "two_layer.toml")
    report = witness(spec, "db2", "(P - Y) / N")
    assert report.agrees is None and "shape 2 x 5" in report.message
    spec_a = load_file(SEEDS / "002a_softmax_single_sample.toml")
    claim = replace(claim_named(spec_a, "dL_dz_t"), wrt_index=(Const(Fraction(7)),), index_vars=(), labels=())
    report = witness_claim(spec_a, claim, formula(spec_a, "yhat[0] - 1"), {})
    assert report.agrees is None and "out of range" in report.message


def test_jacobian_of_a_vector() -> None:
    """dy/da1 = g'(z2) * W2 (numerator layout, m x h) for y = g(W2 a1 + b2); g(z2) * W2 is refuted."""
    spec = load_file(SEEDS / "004_generic_activations.toml")
    assert witness(spec, "dy_da1").agrees is True
    assert witness(spec, "dy_da1", "g(z2) * W2").agrees is False
    assert witness(spec, "dy_da1", "ddf(z2) * W2").agrees is False


@pytest.mark.parametrize(
    ("seed", "expected"),
    [
        ("000_two_layer_linear_algebra.toml", {"dscores": False, "dW2": False, "db2": False, "dW1": False}),
        (
            "002a_softmax_single_sample.toml",
            {"dyhat_t_dz_t": True, "dL_dz_t": True, "dyhat_t_dz_j": True, "dL_dz_j": True, "dz": True, "dW2": True},
        ),
        ("002b_batch_relu_l2.toml", {"dW2": True, "dW2_middle_step": False, "dW1": False, "db2": None}),
        ("003_single_layer_column_vectors.toml", {"dTheta": True, "dz": True}),
        ("004_generic_activations.toml", {"dy_da1": True, "da1": True, "dW1": True, "db1": False}),
    ],
)
def test_seed_verdicts_match_the_readme(seed: str, expected: dict[str, bool | None]) -> None:
    """The README's PROVED claims are true at the stated sizes, its REFUTED ones false, SHAPE ERRORs unjudged."""
    verdicts = judge_file(SEEDS / seed, points=2)
    assert {k: verdicts[k] for k in expected} == expected


def test_judge_all_sizes_on_generic_functions() -> None:
    """Seed 004's proved claims hold at other sizes too (every f, g, L); db1 = δ2ᵀ stays refuted."""
    verdicts = judge_all_sizes(SEEDS / "004_generic_activations.toml")
    assert verdicts == {
        "dy_da1": True,
        "da1": True,
        "dW1": True,
        "db1": False,
        "dW2_what_delta3_must_be": True,
        "dW2_delta3_as_named": False,  # a SHAPE ERROR at every size
        "db2_delta4_as_named": False,
        "da1_dW1": True,
    }


def test_the_witness_imports_no_evaluation_code() -> None:
    """Independence: the witness modules import data types of derive, mpmath, their own modules, and from the op
    table only `witness_rule` (each op's witness facet), never an evaluation backend, SymPy or numpy."""
    import ast

    allowed = {
        "derive_check.derive.tree",
        "derive_check.derive.model.declarations",
        "derive_check.derive.model.spec",
        "derive_check.derive.model.claims",
        "derive_check.derive.model.shapes",
        "derive_check.derive.ops.dims",  # reads a declared dimension such as 4*H (a size, not an evaluation)
        "mpmath",
    }
    own = {
        "derive_check.verify.witness.check",
        "derive_check.verify.witness.interp",
        "derive_check.verify.witness.arrays",
        "derive_check.verify.witness.sizes",
        "derive_check.verify.witness.report",
    }
    for name in own:
        tree = ast.parse((ROOT / (name.removeprefix("derive_check.").replace(".", "/") + ".py")).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        foreign = {m for m in imported if m.split(".")[0] in ("derive_check", "sympy", "numpy", "mpmath")}
        table = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "derive_check.derive.ops.table"
            for a in n.names
        }
        assert table <= {"witness_rule"}, (name, table)
        assert foreign - {"derive_check.derive.ops.table"} <= allowed | own, (name, foreign - allowed - own)
