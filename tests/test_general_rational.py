"""Proofs for every size beyond polynomials: division by sums, exp, sigmoid, tanh and sqrt read as rational functions
(`verify.decide.local`), the max shift, log of a label selection, and indicators of any comparison."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp

from derive_check.derive.index.form import IndexContext
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.model.shapes import resolve_products
from derive_check.derive.model.spec import load_file
from derive_check.derive.source import Location
from derive_check.derive.tree import Node
from derive_check.verify.decide.claim_proof import general_proof
from derive_check.verify.results import GeneralProof, Verdict
from tests.conftest import EXAMPLES, check_text

ZOO = EXAMPLES / "zoo"
LOGISTIC = """
[sizes]
N = 3
D = 2
[inputs]
X = "N x D"
y = "N"
[params]
w = "D"
[forward]
z = "X @ w"
p = "{p}"
L = "-np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)) / N"
[claims]
dw = "{dw}"
"""


def _proofs(path: Path) -> dict[str, tuple[Verdict, GeneralProof]]:
    """Every claim's fixed-size verdict and its proof for all sizes (run even where the verdict is REFUTED)."""
    spec = load_file(path)
    results = check_text(path.read_text())
    shapes, earlier, out = dict(spec.shapes), {}, {}
    for claim, result in zip(spec.claims, results, strict=True):
        if result.verdict is Verdict.SHAPE_ERROR or claim.expr is None:
            continue
        tree = resolve_products(claim.expr, shapes)
        out[claim.name] = (result.verdict, general_proof(spec, claim, tree, earlier))
        earlier[claim.name] = tree
    return out


@pytest.mark.parametrize(
    "example",
    [
        "03_leaky_relu_prelu.toml",  # np.minimum(x, 0) shares relu(x)'s mask
        "04_sigmoid_bce.toml",  # 1 / (1 + exp(-z)) and log(1 - p)
        "05_softmax_loss_labels.toml",  # the max shift, softmax written out, log P[arange(N), y]
        "07_svm_loss.toml",  # [relu(z)·(1 - y) > 0] = [z > 0]·(1 - y)
        "16_lstm_step.toml",  # four gates sliced at offsets H, 2H, 3H; da as their concatenation
        "19_silu.toml",
        "20_softplus.toml",
        "21_cosine_similarity.toml",  # division by sqrt(sum(a ** 2)) and by sum(a ** 2)
        "22_huber.toml",  # a comparison with delta
        "23_l1.toml",  # (w < 0) = 1 - (w > 0) almost everywhere
        "24_logsumexp_shift.toml",  # d max = a one-hot selection whose rows sum to one
    ],
)
def test_zoo_claims_beyond_polynomials_are_proved_for_all_sizes_and_no_slip_is(example: str) -> None:
    proofs = _proofs(ZOO / example)
    proved = {name for name, (verdict, _) in proofs.items() if verdict is Verdict.PROVED}
    slips = {name for name, (verdict, _) in proofs.items() if verdict is Verdict.REFUTED}
    assert proved and slips
    assert {name for name, (_, proof) in proofs.items() if proof.proved} == proved


@pytest.mark.parametrize(
    ("p", "dw"),
    [
        ("1 / (1 + np.exp(-z))", "X.T @ (p - y) / N"),  # 1/(1 + exp(-z)) = sigmoid(z): exp atoms opened
        ("sigmoid(z)", "X.T @ (1 / (1 + np.exp(-z)) - y) / N"),  # the claim writes it out, the model does not
        ("np.exp(z) / (1 + np.exp(z))", "X.T @ (sigmoid(z) - y) / N"),  # exp(z)/(1 + exp(z)) = sigmoid(z)
        ("(1 + np.tanh(z / 2)) / 2", "X.T @ (p - y) / N"),  # tanh(z/2) = 2 sigmoid(z) - 1: exp(-z) from tanh
    ],
)
def test_sigmoid_identities_hold_for_every_size(p: str, dw: str) -> None:
    [result] = check_text(LOGISTIC.format(p=p, dw=dw))
    assert result.verdict is Verdict.PROVED, result.message
    assert result.scope == "all", result.general.summary if result.general else ""


def test_a_mean_by_the_stated_size_is_not_proved_for_all_sizes_through_the_rational_stage() -> None:
    # X.T @ (p - y) / 3 equals the true gradient at N = 3 only: the rational stage must leave one group nonzero
    [result] = check_text(LOGISTIC.format(p="1 / (1 + np.exp(-z))", dw="X.T @ (p - y) / 3"))
    assert result.verdict is Verdict.PROVED and result.scope == "stated"
    assert result.general is not None and "not proved for all sizes" in result.general.summary


@pytest.mark.parametrize(
    "dw",
    [
        "X.T @ (np.exp(z) / (1 + np.exp(-z)) - y) / N",  # exp(z) where exp(-z) belongs
        "X.T @ (1 / (1 + np.exp(-2 * z)) - y) / N",  # exp(-2z): another monomial power
        "X.T @ (np.sqrt(p * p) - y) / N",  # √(p²) = |p| is not p for every real value: sqrt is never undone
    ],
)
def test_near_misses_of_the_identities_are_not_proved_for_all_sizes(dw: str) -> None:
    [result] = check_text(LOGISTIC.format(p="1 / (1 + np.exp(-z))", dw=dw))
    assert not (result.general is not None and result.general.proved)


def test_a_max_shifted_formula_true_only_at_the_stated_classes_is_not_proved_for_all_sizes() -> None:
    text = (ZOO / "24_logsumexp_shift.toml").read_text().split("[claims]")[0]
    [result] = check_text(text + '[claims]\ndx = "dout * np.exp(x - lse) * C / 3"\n')  # C = 3 in the file
    assert result.verdict is Verdict.PROVED and result.scope == "stated"
    assert result.general is not None and not result.general.proved


def _parse(text: str) -> Node:
    return parse_formula(text, Location("f.toml", 1, "claims.d", text))


def _nonzero(formula: str) -> bool:
    shapes = {"x": ("N", "N"), "w": ("N", "N"), "Y": ("N", "N"), "e": ("N", "N")}
    ctx = IndexContext(shapes, {"e": _parse("exp(x)")}, frozenset({"N"}), onehot=frozenset({"Y"}))
    ctx.ranges.update({"p": "N", "q": "N"})
    return ctx.nonzero_ae(_parse(formula), ("p", "q"))


@pytest.mark.parametrize(
    ("formula", "nonzero"),
    [
        ("x", True),
        ("N * x + 1", True),
        ("x - w", True),
        ("x * w - 1", True),
        ("x - x", False),  # identically zero
        ("(N - 2) * x", False),  # zero at N = 2
        ("x - x.T", False),  # zero where p = q: one name at two index tuples
        ("x - x[0]", False),  # an entry at a fixed position: outside the calculus
        ("Y", False),  # one-hot entries are 0 on a set of positive measure
        ("e", False),  # an atom: not a polynomial in the inputs
        ("sum(x, axis=1, keepdims=True)", False),  # a summed index (Σ_k x[p,k] - x[p,q] is zero at N = 1)
    ],
)
def test_a_comparison_flips_only_where_its_argument_is_nonzero_almost_everywhere(formula: str, nonzero: bool) -> None:
    # (0 > z) = 1 - (z > 0) needs z != 0 almost everywhere, at every size and every free index
    assert _nonzero(formula) is nonzero


SHIFTED = """
[sizes]
N = 2
H = 2
[inputs]
u = "N x 4*H"
[params]
W = "H x 4*H"
[forward]
g = "np.tanh(u[:, 2:2+H] @ W)"
L = "np.sum(g)"
[claims]
dW = "u[:, 2:2+H].T @ (1 - g ** 2)"
du = { wrt = "u", formula = "np.concatenate([0 * u[:, :2], (1 - g ** 2) @ W.T, 0 * u[:, 2+H:]], axis=1)" }
dW_at_H = { wrt = "W", formula = "u[:, H:2*H].T @ (1 - g ** 2)" }
du_at_H = { wrt = "u", formula = "np.concatenate([0 * u[:, :H], (1 - g ** 2) @ W.T, 0 * u[:, 2*H:]], axis=1)" }
"""


def test_slices_at_offsets_are_proved_for_all_sizes_only_where_the_offsets_agree_for_all_sizes() -> None:
    # at H = 2 the offsets 2 and H coincide: the fixed-size engine proves all four; only two hold for every H
    results = {r.name: r for r in check_text(SHIFTED)}
    assert all(r.verdict is Verdict.PROVED for r in results.values())
    assert {name for name, r in results.items() if r.scope == "all"} == {"dW", "du"}


def test_literal_positions_are_distinct_and_a_sum_over_one_index_is_its_entry_at_0() -> None:
    from derive_check.derive.index.terms import Factor, Term, delta
    from derive_check.verify.decide.general import normalize

    ctx = IndexContext({}, {}, frozenset({"K"}))
    ctx.ranges["p"] = "K"
    one = sp.Integer(1)
    assert normalize([Term(one, (), (delta("1", "2"), Factor("x", ("p",))))], ctx) == {}  # x[1] is not x[2]
    assert normalize([Term(one, (("k", 1),), (Factor("x", ("k",)),))], ctx) == {((), (Factor("x", ("0",)),)): 1}
    # Σ_{k<K} δ(k, 2) x[k] needs 2 < K, which K = 1, 2 break: the delta stays
    kept = normalize([Term(one, (("k", "K"),), (delta("k", "2"), Factor("x", ("k",))))], ctx)
    assert len(kept) == 1 and next(iter(kept))[0] == ("K",)


LITERAL = """
[sizes]
N = 2
K = 3
[inputs]
x = "N x K"
[params]
w = "K"
v = "N"
[forward]
L = "np.sum(x[:, 0] * w[0] * v) + np.sum(np.tanh(x[:, 0] * v) * w[0])"
[claims]
dv = "x[:, 0] * w[0] + (1 - np.tanh(x[:, 0] * v) ** 2) * x[:, 0] * w[0]"
"""


def test_entries_at_literal_positions_are_in_the_index_calculus() -> None:
    [result] = check_text(LITERAL)
    assert (result.verdict, result.scope) == (Verdict.PROVED, "all")


PART_OF_A_ROW = """
[sizes]
N = 2
C = 4
K = 1
M = 3
[inputs]
z = "N x C"
[params]
b = "scalar"
[forward]
P = "softmax(z, axis=1)"
L = "b * np.sum(P[:, :3*C-K-3*M+2])"
[claims]
db = "N"
"""

SHIFTED_DIAGONAL = """
[sizes]
N = 2
K = 1
M = 1
[inputs]
z = "N+M-1 x K"
g = "K-M+1"
[params]
b = "scalar"
[forward]
P = "softmax(z, axis=1)"
L = "b * sum(P[N-1:N+M-1, :M][i, i] for i in range(M)) + np.sum(g)"
[claims]
db = "1"
"""


@pytest.mark.parametrize(
    "text",
    [
        PART_OF_A_ROW,  # the slice is all of the row (length C) exactly when K + 3M = 2C + 2: not for every size
        SHIFTED_DIAGONAL,  # Σ_i P[i+N-1, i] is no row sum: its row moves with i
    ],
)
def test_a_row_sums_to_one_only_over_its_whole_axis_and_at_a_fixed_row(text: str) -> None:
    # the review's two lies: both were PROVED for all sizes by the rule Σ_c softmax[i,c] = 1
    [result] = check_text(text)
    assert not (result.general is not None and result.general.proved)


def test_sizes_raised_to_fit_the_shapes_still_confirm_a_proof_for_all_sizes() -> None:
    # an input of N - M entries rules out N = M: the witness raises sizes instead of dropping the tuple (it
    # used to drop all of them and crash)
    from derive_check.derive.model.spec import parse_spec
    from derive_check.verify.witness.sizes import other_sizes

    text = '[sizes]\nN = 2\nM = 1\n[inputs]\ng = "N-M"\n[params]\nw = "N"\n[forward]\nL = "np.sum(w * w) + np.sum(g)"\n'
    [result] = check_text(text + '[claims]\ndw = "2 * w"\n')
    assert (result.verdict, result.scope) == (Verdict.PROVED, "all")
    tuples = other_sizes(parse_spec("t.toml", text))
    assert len(tuples) >= 2 and all(t["N"] > t["M"] for t in tuples)
