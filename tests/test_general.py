"""Proofs for every size: the index calculus, its normal form, and what it must refuse to prove."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy as sp

from derive_check.cli import main
from derive_check.derive.index.form import Factor, IndexContext, Term, delta
from derive_check.derive.model.shapes import resolve_products
from derive_check.derive.model.spec import load_file, parse_spec
from derive_check.verify.decide.claim_proof import general_proof
from derive_check.verify.decide.general import normalize
from derive_check.verify.results import GeneralProof, Verdict
from tests.conftest import EXAMPLES, TWO_LAYER_HEAD, check_text, two_layer

N = sp.Symbol("N", positive=True, integer=True)


def _ctx() -> IndexContext:
    ctx = IndexContext({"Y": ("N", "C")}, {}, frozenset({"N", "C"}), onehot=frozenset({"Y"}))
    ctx.ranges.update({"p": "N", "q": "C"})
    ctx.axes["Y"] = 1  # rows are one-hot along the class axis
    return ctx


def _term(bound: dict[str, str], *factors: tuple[str, tuple[str, ...]], coeff: int = 1) -> Term:
    return Term(
        sp.Integer(coeff), tuple(bound.items()), tuple(delta(*i) if n == "δ" else Factor(n, i) for n, i in factors)
    )


def test_a_delta_with_a_summed_index_substitutes_it() -> None:
    ctx = _ctx()
    summed = _term({"k": "N"}, ("x", ("k",)), ("δ", ("k", "p")))
    assert normalize([summed], ctx) == normalize([_term({}, ("x", ("p",)))], ctx)


def test_a_sum_over_an_unused_index_is_its_size() -> None:
    assert normalize([_term({"i": "N"}, ("w", ()))], _ctx()) == {((), (Factor("w", ()),)): N}


def test_one_hot_rows_sum_to_one_only_when_the_class_index_is_free_elsewhere() -> None:
    ctx = _ctx()
    assert normalize([_term({"c": "C"}, ("Y", ("p", "c")))], ctx) == {((), ()): 1}
    kept = normalize([_term({"c": "C"}, ("Y", ("p", "c")), ("w", ("c",)))], ctx)  # Σ_c Y[p,c] w[c] is not 1
    assert len(kept) == 1 and next(iter(kept))[1] != ()


def test_two_entries_of_one_one_hot_row_multiply_to_a_delta() -> None:
    ctx = _ctx()
    pair = _term({"a": "C", "b": "C"}, ("Y", ("p", "a")), ("Y", ("p", "b")), ("w", ("a",)), ("v", ("b",)))
    single = _term({"a": "C"}, ("Y", ("p", "a")), ("w", ("a",)), ("v", ("a",)))
    assert normalize([pair], ctx) == normalize([single], ctx)


def test_terms_equal_up_to_renaming_summed_indices_cancel() -> None:
    ctx = _ctx()
    a = _term({"i": "N", "j": "C"}, ("x", ("i", "j")), ("y", ("j",)))
    b = _term({"u": "N", "v": "C"}, ("x", ("u", "v")), ("y", ("v",)), coeff=-1)
    assert normalize([a, b], ctx) == {}


def test_an_identity_true_only_for_size_one_is_not_normalised_away() -> None:
    # Σ_i Σ_j x_i x_j = Σ_i x_i² holds when N = 1 and fails for N >= 2
    ctx = _ctx()
    double = _term({"i": "N", "j": "N"}, ("x", ("i",)), ("x", ("j",)))
    square = _term({"i": "N"}, ("x", ("i",)), ("x", ("i",)), coeff=-1)
    assert normalize([double, square], ctx) != {}


def _general(path: Path) -> dict[str, GeneralProof]:
    spec = load_file(path)
    shapes, earlier, out = dict(spec.shapes), {}, {}
    for claim in spec.claims:
        assert claim.expr is not None
        tree = resolve_products(claim.expr, shapes)
        out[claim.name] = general_proof(spec, claim, tree, earlier)
        earlier[claim.name] = tree
    return out


def test_the_canonical_two_layer_claims_are_proved_for_all_sizes() -> None:
    proofs = _general(EXAMPLES / "two_layer.toml")
    assert {name for name, proof in proofs.items() if proof.proved} == {"dscores", "dW2", "db2", "dh1", "dW1", "db1"}
    assert proofs["dW1"].steps[-1][1] == "0"


@pytest.mark.parametrize("example", ["two_layer_wrong.toml", "seeds/000_two_layer_linear_algebra.toml"])
def test_no_claim_refuted_at_fixed_sizes_is_proved_for_all_sizes(example: str) -> None:
    spec = load_file(EXAMPLES / example)
    results = check_text((EXAMPLES / example).read_text())
    shapes, earlier, refuted = dict(spec.shapes), {}, []
    for claim, result in zip(spec.claims, results, strict=True):
        if result.verdict is Verdict.SHAPE_ERROR or claim.expr is None:
            continue
        tree = resolve_products(claim.expr, shapes)
        if result.verdict is Verdict.REFUTED:
            refuted.append(general_proof(spec, claim, tree, earlier))
        earlier[claim.name] = tree
    assert len(refuted) >= 5 and not any(p.proved for p in refuted)


def test_a_formula_true_at_n_equal_2_only_is_proved_at_the_stated_sizes_but_not_for_all() -> None:
    # 1/2 = 1/N at N = 2: the fixed-size engine proves it (rightly, at N = 2); for all N it is false
    [result] = check_text(two_layer({"db2": "sum(P - Y, axis=0) / 2"}))
    assert result.verdict is Verdict.PROVED and result.scope == "stated"
    assert result.general is not None and "not proved for all sizes" in result.general.summary


def test_a_claim_outside_the_calculus_says_why_and_keeps_its_verdict() -> None:
    spec = parse_spec("t.toml", two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2"}))
    claim = spec.claims[0]
    assert claim.expr is not None
    one_entry = claim.__class__(**{**claim.__dict__, "index_vars": (("t", "C"),)})  # a claim about entries
    proof = general_proof(spec, one_entry, resolve_products(claim.expr, dict(spec.shapes)), {})
    assert not proof.proved and proof.summary.startswith("not attempted for all sizes")


def test_reports_say_which_kind_of_proof_a_claim_has(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLES / "two_layer.toml"), "--no-cache", "--format", "json"]) == 0
    claims = [c for f in json.loads(capsys.readouterr().out)["files"] for c in f["claims"]]
    assert {c["sizes"] for c in claims} == {"all"}
    assert all(c["general"]["proved"] for c in claims)


@pytest.mark.parametrize("sizes", [(1, 1, 1, 2), (3, 2, 5, 3)])
def test_claims_proved_for_all_sizes_are_proved_by_the_fixed_size_engine_at_other_sizes(
    sizes: tuple[int, int, int, int],
) -> None:
    # an independent cross-check of the index engine: the entry-wise engine at sizes the file never states
    head = TWO_LAYER_HEAD
    for name, value in zip("NDHC", sizes, strict=True):
        head = re.sub(rf"^{name} = \d+", f"{name} = {value}", head, flags=re.M)
    claims = {
        "dW2": "h1.T @ (P - Y) / N + 2 * reg * W2",
        "db2": "sum(P - Y, axis=0) / N",
        "dh1": "(P - Y) @ W2.T / N",
        "dW1": "X.T @ (dh1 * (h1 > 0)) + 2 * reg * W1",
        "db1": "sum(dh1 * (h1 > 0), axis=0)",
    }
    results = check_text(two_layer(claims, head))
    assert [(r.verdict, r.scope) for r in results] == [(Verdict.PROVED, "all")] * 5


ENTRIES = """
[sizes]
N = 2
S = 3
K = 3
[inputs]
x = "N x S+2"
dout = "N x S"
[params]
w = "3"
v = "K"
[forward]
out = "w[0] * x[:, 0:S] + w[1] * x[:, 1:S+1] + w[2] * x[:, 2:S+2] + np.sum(v) * dout"
L = "np.sum(dout * out)"
[claims]
dw_k = { wrt = "w[k]", for = { k = 3 }, formula = "np.sum(dout * x[:, k:k+S])" }
dw_1 = { wrt = "w[1]", formula = "np.sum(dout * x[:, 1:S+1])" }
dw_k_S_as_3 = { wrt = "w[k]", for = { k = 3 }, formula = "np.sum(dout * x[:, k:k+S]) * S / 3" }
dv_k = { wrt = "v[k]", for = { k = "K" }, formula = "np.sum(dout * dout)" }
"""


def test_an_entry_claim_over_a_literal_range_is_proved_entry_by_entry_for_every_size() -> None:
    """for = { k = 3 } has the values 0, 1, 2 at every size, so dw[k] = Σ dout ⊙ x[:, k:k+S] is three whole-entry
    theorems for every N and S; a factor S/3, equal to 1 only at S = 3, is proved at the stated sizes only, and a
    range over a size (k < K) has no fixed set of values to unroll."""
    dw_k, dw_1, s_as_3, dv_k = check_text(ENTRIES)
    assert (dw_k.verdict, dw_k.scope, dw_1.scope) == (Verdict.PROVED, "all", "all"), (dw_k.general, dw_1.general)
    assert dw_k.general is not None and "at each of the 3 entries (k < 3)" in dw_k.general.summary
    assert (s_as_3.verdict, s_as_3.scope) == (Verdict.PROVED, "stated"), s_as_3.general
    assert (dv_k.verdict, dv_k.scope) == (Verdict.PROVED, "stated")
    assert dv_k.general is not None and "range over numbers" in dv_k.general.summary


@pytest.mark.parametrize("given", ["0", "3.5", '"3"', "100", '"S-1"'])
def test_a_literal_range_is_a_whole_number_from_one_to_the_limit(given: str) -> None:
    """{ k = 0 }, a fraction, a quoted number (not a size name), a huge range and S - 1 (0 at S = 1): an ERROR."""
    text = ENTRIES.replace(
        'for = { k = 3 }, formula = "np.sum(dout * x[:, k:k+S])"', f'for = {{ k = {given} }}, formula = "np.sum(dout)"'
    )
    dw_k = check_text(text)[0]
    assert dw_k.verdict is Verdict.ERROR and "or a whole number from 1 to 64" in dw_k.message, dw_k.message
