"""The fast exact path: shallow atoms and the softmax change of variables, with the fallback behind them."""

from __future__ import annotations

import pytest
import sympy as sp

from derive_check.derive.exact.network import build_network
from derive_check.derive.model.spec import parse_spec
from derive_check.verify.check.session import Session
from derive_check.verify.decide.equality import Equality
from derive_check.verify.decide.reparam import softmax_rows, substitution
from derive_check.verify.results import Verdict
from derive_check.verify.run.engine import check_claim
from tests.conftest import TWO_LAYER_HEAD, check_text, two_layer

e = sp.symbols("e0:6")


def test_rows_are_exp_sums_in_denominators_and_overlapping_rows_are_dropped() -> None:
    row_a, row_b = e[0] + e[1] + e[2], e[3] + e[4]
    assert softmax_rows([1 / row_a + e[5] / row_b**2], set(e)) == [(e[0], e[1], e[2]), (e[3], e[4])]
    assert softmax_rows([1 / row_a + 1 / (e[2] + e[3])], set(e)) == []  # e2 in two rows: neither is used
    assert softmax_rows([1 / (e[0] + e[5])], {e[0]}) == []  # e5 is not an exp atom


def test_the_change_of_variables_maps_a_row_sum_to_its_scale_and_keeps_softmax_entries_equal() -> None:
    change = substitution([(e[0], e[1], e[2])])
    scale = change[e[0] + e[1] + e[2]]
    assert sp.expand(sum(change[x] for x in e[:3]) - scale) == 0
    # p_c = e_c / S survives the substitution as a function of the new variables alone
    assert sp.simplify((e[0] / (e[0] + e[1] + e[2])).xreplace(change) * scale - change[e[0]]) == 0


def test_shallow_atoms_prove_the_two_layer_claims_without_the_expanded_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_fallback(self: Equality, residuals: object) -> bool:
        raise AssertionError("the fully expanded normal form was needed")

    monkeypatch.setattr(Equality, "all_zero", no_fallback)
    text = two_layer(
        {
            "dscores": "(P - Y) / N",
            "dW2": "h1.T @ (P - Y) / N + 2 * reg * W2",
            "dh1": "(P - Y) @ W2.T / N",
            "dW1": "X.T @ (dh1 * (h1 > 0)) + 2 * reg * W1",
        }
    )
    assert [r.verdict for r in check_text(text)] == [Verdict.PROVED] * 4


def test_a_claim_written_through_the_definitions_needs_the_fallback_and_is_proved() -> None:
    # relu(X @ W1 + b1) is h1 but not the symbol h1: the shallow form misses it, the expanded one proves it
    text = two_layer({"dW2": "relu(X @ W1 + b1).T @ (P - Y) / N + 2 * reg * W2"})
    assert [r.verdict for r in check_text(text)] == [Verdict.PROVED]


def test_a_false_claim_equal_over_shallow_atoms_only_if_atoms_were_wrongly_merged_is_refuted() -> None:
    # the sign slip survives every substitution: the shallow attempt must not turn it into a proof
    text = two_layer({"dW2": "h1.T @ (Y - P) / N + 2 * reg * W2", "db2": "sum(P - Y, axis=0) / N + 0 * b2"})
    assert [r.verdict for r in check_text(text)] == [Verdict.REFUTED, Verdict.PROVED]


@pytest.mark.parametrize(
    ("extra", "verdict"),
    [("sum(P) / N", Verdict.PROVED), ("sum(P * P) / N", Verdict.REFUTED)],
)
def test_a_loss_term_constant_because_softmax_rows_sum_to_one_adds_nothing_and_others_do(
    extra: str, verdict: Verdict
) -> None:
    # sum(P) = N for every input, so db2 is unchanged; sum(P * P) is not constant and changes it
    head = TWO_LAYER_HEAD.replace('"-sum(Y * log(P)) / N', f'"-sum(Y * log(P)) / N + {extra}')
    spec = parse_spec("t.toml", two_layer({"db2": "sum(P - Y, axis=0) / N"}, head))
    net = build_network(spec)
    session = Session(net, Equality(net), dict(net.values))
    assert check_claim(session, spec.claims[0], 30.0).verdict == verdict
