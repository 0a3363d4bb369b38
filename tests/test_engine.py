"""The engine on the canonical two-layer network: proofs, refutations, counterexamples, diagnoses."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from derive_check.verify.results import ClaimResult, Verdict
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES, TWO_LAYER_HEAD, check_text, two_layer

CORRECT = {
    "dscores is (P - Y)/N": ("dscores", "(P - Y) / N"),
    "dW2 is h1^T (P - Y)/N + 2 reg W2": ("dW2", "h1.T @ (P - Y) / N + 2 * reg * W2"),
    "db2 is the column sum of (P - Y)/N": ("db2", "sum(P - Y, axis=0) / N"),
    "dh1 is (P - Y) W2^T / N": ("dh1", "(P - Y) @ W2.T / N"),
    "dW1 is X^T (dh1 * relu'(h1)) + 2 reg W1": ("dW1", "X.T @ (((P - Y) @ W2.T / N) * (h1 > 0)) + 2 * reg * W1"),
    "db1 is the column sum of the masked dh1": ("db1", "sum(((P - Y) @ W2.T / N) * (h1 > 0), axis=0)"),
    "the mask may test the pre-activation": ("dW1", "X.T @ (((P - Y) @ W2.T / N) * (X @ W1 + b1 > 0)) + 2 * reg * W1"),
    "mean over the batch equals sum / N": ("db2", "mean(P - Y, axis=0)"),
    "(A B)^T = B^T A^T": ("dW2", "((P - Y).T @ h1).T / N + 2 * reg * W2"),
    "2 reg W written as reg W + W reg": ("dW2", "h1.T @ (P - Y) / N + reg * W2 + W2 * reg"),
    "softmax rows sum to one": ("dscores", "((P.T * sum(P, axis=1)).T - Y) / N"),
    "Y squared is Y for one-hot labels": ("dscores", "(P - Y * Y) / N"),
}


@pytest.mark.parametrize("case", list(CORRECT), ids=list(CORRECT))
def test_correct_formula_is_proved(case: str) -> None:
    name, formula = CORRECT[case]
    [result] = check_text(two_layer({f"{name}_claim": f"{name[1:]}: {formula}"}))
    assert result.verdict is Verdict.PROVED, result.message
    assert result.entries > 0


def test_the_canonical_example_file_is_all_proved() -> None:
    result = check_path(EXAMPLES / "two_layer.toml")
    assert [c.verdict for c in result.claims] == [Verdict.PROVED] * 6
    assert [c.name for c in result.claims] == ["dscores", "dW2", "db2", "dh1", "dW1", "db1"]


WRONG = {  # claim -> (verdict, words the proved diagnosis must contain)
    "dscores": (Verdict.REFUTED, "times 2 (= N: a missing 1/N?)"),
    "dW2": (Verdict.REFUTED, "reg factor 1 instead of 2"),
    "dW2_no_l2": (Verdict.REFUTED, "missing the 2·reg·W2 term"),
    "db2": (Verdict.SHAPE_ERROR, ""),
    "db2_unsummed": (Verdict.SHAPE_ERROR, "not summed over the batch"),
    "dh1": (Verdict.PROVED, ""),
    "dW1": (Verdict.REFUTED, ""),
    "dW1_transposed": (Verdict.SHAPE_ERROR, "transposed"),
    "db1": (Verdict.REFUTED, "times 1/2 (= 1/N: an extra 1/N?)"),
}


@pytest.fixture(scope="module")
def wrong() -> dict[str, ClaimResult]:
    return {c.name: c for c in check_path(EXAMPLES / "two_layer_wrong.toml").claims}


@pytest.mark.parametrize("name", list(WRONG))
def test_each_slip_gets_its_verdict_and_proved_diagnosis(wrong: dict[str, ClaimResult], name: str) -> None:
    verdict, words = WRONG[name]
    assert wrong[name].verdict is verdict, wrong[name].message
    assert words.lower() in wrong[name].diagnosis.lower()


def loss(p: dict[str, np.ndarray]) -> float:
    """The two-layer loss written directly in numpy: the test's own oracle."""
    h = np.maximum(p["X"] @ p["W1"] + p["b1"], 0)
    s = h @ p["W2"] + p["b2"]
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    n = p["X"].shape[0]
    return float(-(p["Y"] * log_p).sum() / n + p["reg"] * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum()))


def point_of(result: ClaimResult) -> dict[str, np.ndarray]:
    """The counterexample's literals, read back safely (they must be valid numpy literals)."""
    assert result.counterexample is not None
    out = {}
    for name, literal in result.counterexample.point:
        inner = literal.removeprefix("np.array(").removesuffix(")")
        out[name] = np.array(ast.literal_eval(inner), dtype=float)
    return out


def finite_difference(p: dict[str, np.ndarray], name: str, index: tuple[int, ...], h: float = 1e-6) -> float:
    up = {k: v.copy() for k, v in p.items()}
    down = {k: v.copy() for k, v in p.items()}
    up[name][index] += h
    down[name][index] -= h
    return (loss(up) - loss(down)) / (2 * h)


@pytest.mark.parametrize("name", ["dW2", "dW2_no_l2", "dW1", "db1"])
def test_counterexample_really_differs_when_checked_with_numpy(wrong: dict[str, ClaimResult], name: str) -> None:
    result = wrong[name]
    cx = result.counterexample
    assert cx is not None
    index = tuple(int(i) for i in cx.entry[cx.entry.index("[") + 1 : -1].split(","))
    true_fd = finite_difference(point_of(result), result.target, index)
    assert abs(true_fd - float(cx.true_value)) < 1e-5 * (1 + abs(true_fd))
    assert abs(true_fd - float(cx.claimed_value)) > 1e-3
    assert cx.oracle_value is not None and abs(cx.oracle_value - true_fd) < 1e-5 * (1 + abs(true_fd))


def test_every_refuted_claim_carries_a_counterexample_and_a_residual(wrong: dict[str, ClaimResult]) -> None:
    for result in wrong.values():
        if result.verdict is Verdict.REFUTED:
            assert result.counterexample is not None and result.counterexample.residual not in ("", "0")


def test_a_claim_true_for_one_activation_pattern_only_is_refuted() -> None:
    [result] = check_text(two_layer({"dW1": "X.T @ ((P - Y) @ W2.T / N) + 2 * reg * W1"}))
    assert result.verdict is Verdict.REFUTED  # equals the truth only when every mask is 1


def test_a_wrong_claim_the_random_screen_misses_is_still_refuted_at_a_real_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the screen draws each mask's bit at random: a claim wrong on few activation patterns can look zero at both of
    # its points; the normal form then says "not zero", and real points (masks as the inputs make them) decide
    from derive_check.verify.decide.equality import Equality

    monkeypatch.setattr(Equality, "first_nonzero", lambda self, residuals, rounds=2: None)
    relu = """[sizes]\nN = 2\nD = 3\nH = 4\n[inputs]\nX = "N x D"\nT = "N x H"\n[params]\nW = "D x H"\n
[forward]\nh = "relu(X @ W)"\nL = "sum((h - T) ** 2) / N"\n[claims]\ndW = "X.T @ (2 * (h - T) / N)"\n"""
    [result] = check_text(relu)  # no labels: it was UNDECIDED without a look at real points
    assert result.verdict is Verdict.REFUTED and result.counterexample is not None


def test_a_claim_true_for_one_label_assignment_only_is_refuted() -> None:
    # -Y/N would be the gradient of the cross-entropy term if P were 0: true for no labels.
    # P*Y/N - Y/N equals (P - Y)/N exactly where Y is all ones in a row: never, for one-hot rows.
    [result] = check_text(two_layer({"dscores": "(P * Y - Y) / N"}))
    assert result.verdict is Verdict.REFUTED


def test_the_time_budget_gives_undecided_not_a_pass() -> None:
    from derive_check.derive import budget

    for _ in range(5):  # tiny budgets, repeatedly: none may leave an alarm behind for the next test
        [result] = check_text(
            two_layer({"dW1": "X.T @ (((P - Y) @ W2.T / N) * (h1 > 0)) + 2 * reg * W1"}), budget=0.001
        )
        assert result.verdict is Verdict.UNDECIDED
        assert "budget" in result.message
    assert budget._deadlines == {}
    [proved] = check_text(two_layer({"dscores": "(P - Y) / N"}))
    assert proved.verdict is Verdict.PROVED


def test_a_broken_claim_does_not_stop_the_others() -> None:
    results = check_text(
        two_layer({"dscores": "(P - Y) / N", "dW2": "h1.T @ frobnicate(P)", "db2": "sum(P - Y, axis=0) / N"})
    )
    assert [r.verdict for r in results] == [Verdict.PROVED, Verdict.ERROR, Verdict.PROVED]
    assert "unknown function 'frobnicate'" in results[1].message


def test_claims_can_use_earlier_claims() -> None:
    results = check_text(two_layer({"dh1": "(P - Y) @ W2.T / N", "db1": "sum(dh1 * (h1 > 0), axis=0)"}))
    assert [r.verdict for r in results] == [Verdict.PROVED, Verdict.PROVED]


def test_example_files_exist_where_the_readme_says(examples: Path) -> None:
    assert (examples / "two_layer.toml").is_file() and (examples / "two_layer_wrong.toml").is_file()


COLUMN = """
[sizes]
n = 3
K = 4
[inputs]
x = "n x 1"
y = "K x 1, onehot"
[params]
W2 = "n x K"
b2 = "K x 1"
[forward]
z = "W2.T @ x + b2"
yhat = "softmax(z, axis=0)"
L = "-sum(y * log(yhat))"
[claims]
"""


def test_a_one_hot_column_vector_is_one_group_not_k_rows() -> None:
    # Regression: a K x 1 one-hot vector was once read as K one-element rows, each forced to 1,
    # which would have PROVED `yhat - 1` (true only if every label were on).
    right, wrong = check_text(COLUMN + 'dz = "yhat - y"\ndz_wrong = { wrt = "z", formula = "yhat - 1" }\n')
    assert right.verdict is Verdict.PROVED
    assert wrong.verdict is Verdict.REFUTED
    assert wrong.counterexample is not None
    literal = dict(wrong.counterexample.point)["y"]
    assert literal.count("1") == 1, literal  # the counterexample's labels are one-hot


def test_index_claims_are_checked_for_every_allowed_assignment() -> None:
    [same, other, wrong_case] = check_text(
        COLUMN
        + """
[claims.same]
of = "yhat[t]"
wrt = "z[j]"
for = { t = "K", j = "K" }
when = "j == t"
formula = "yhat[t] * (1 - yhat[t])"
[claims.other]
of = "yhat[t]"
wrt = "z[j]"
for = { t = "K", j = "K" }
when = "j != t"
formula = "-yhat[t] * yhat[j]"
[claims.wrong_case]
of = "yhat[t]"
wrt = "z[j]"
for = { t = "K", j = "K" }
formula = "yhat[t] * (1 - yhat[t])"
""".replace("[claims]\n", "", 1)
    )
    assert (same.verdict, same.entries) == (Verdict.PROVED, 4)
    assert (other.verdict, other.entries) == (Verdict.PROVED, 12)
    assert wrong_case.verdict is Verdict.REFUTED  # without the condition it fails for j != t


def test_a_claim_in_the_other_layout_is_reported_not_proved() -> None:
    [result] = check_text(COLUMN + 'dW2 = { formula = "(yhat - y) @ x.T", layout = "denominator" }\n')
    assert result.verdict is Verdict.SHAPE_ERROR
    assert "transposed" in result.diagnosis.lower()


def test_a_declared_shape_that_contradicts_the_forward_pass_is_a_shape_error() -> None:
    from derive_check.derive.exact.network import build_network, shape_findings
    from derive_check.derive.model.spec import parse_spec

    spec = parse_spec(
        "t.toml", COLUMN.replace('z = "W2.T @ x + b2"', 'z = { formula = "W2.T @ x + b2", shape = "n x 1" }')
    )
    [(line, words)] = shape_findings(spec, build_network(spec).values)
    assert line.name == "z" and "declared n x 1 (3 x 1), but the formula gives 4 x 1" in words


def test_a_shape_that_only_works_because_two_sizes_are_equal_is_a_shape_error() -> None:
    head = TWO_LAYER_HEAD.replace("H = 4", "H = 5")  # H = C: (C,) + (H,) broadcasts at these sizes only
    right, coincidence, transposed = check_text(
        two_layer(
            {
                "db2": "sum(P - Y, axis=0) / N",
                "db2_plus_zero_b1": "b2: sum(P - Y, axis=0) / N + 0 * b1",
                "dW2_T": "W2: (P - Y).T @ h1 / N + 2 * reg * W2.T",
            },
            head=head,
        )
    )
    assert right.verdict is Verdict.PROVED
    assert coincidence.verdict is Verdict.SHAPE_ERROR and "for all sizes" in coincidence.message
    assert transposed.verdict is Verdict.SHAPE_ERROR and "agree only because of the sizes" in transposed.message


@pytest.mark.parametrize(
    "mask",
    ["(h1 > 0)", "(2 * h1 > 0)", "(h1 / 2 > 0)", "(X @ W1 + b1 > 0)", "(2 * (X @ W1 + b1) > 0)", "(0 < X @ W1 + b1)"],
)
def test_every_spelling_of_the_relu_mask_is_the_same_mask(mask: str) -> None:
    [result] = check_text(two_layer({"db1": f"sum(((P - Y) @ W2.T / N) * {mask}, axis=0)"}))
    assert result.verdict is Verdict.PROVED, result.message


def test_a_deep_network_gets_real_counterexample_points(tmp_path: Path) -> None:
    # Regression: mask keys in terms of forward quantities once made every point of a deep net fail.
    text = (EXAMPLES / "deep_relu.toml").read_text().replace('dW1 = "X.T @ (dh1 * (h1 > 0))"', 'dW1 = "X.T @ dh1"')
    path = tmp_path / "deep.toml"
    path.write_text(text)
    result = {c.name: c for c in check_path(path).claims}
    assert result["dW2"].verdict is Verdict.PROVED
    assert result["dW1"].verdict is Verdict.REFUTED and result["dW1"].counterexample is not None
    assert result["dW1"].counterexample.oracle_value is not None


def test_budgets_are_cooperative_and_name_the_one_that_ran_out() -> None:
    # Budgets once raised from SIGALRM anywhere, which crashed the interpreter inside numpy's object loops;
    # now they only raise at safe points (`check()`), naming the budget whose deadline passed.
    import time

    from derive_check.derive import budget

    with budget.time_budget(10.0) as outer, budget.time_budget(0.01) as inner:
        time.sleep(0.02)
        try:
            budget.check()
        except budget.BudgetExceeded as exc:
            assert exc.owner == inner and exc.owner != outer
        else:
            raise AssertionError("the inner budget had run out")
    budget.check()  # no budget open: nothing to raise
    assert budget._deadlines == {}


def test_running_out_of_time_after_the_verdict_costs_only_the_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refutation or a SHAPE ERROR stays what it is when the diagnosis search runs out of the claim's budget,
    and a PROVED stays PROVED when the proof for all sizes does: only the reading and the stronger theorem are lost
    (a claim found wrong used to become UNDECIDED when its diagnosis ran out of time)."""
    import derive_check.verify.run.explain as explain
    from derive_check.derive.budget import BudgetExceeded

    def out_of_time(*args: object, **kwargs: object) -> None:
        raise BudgetExceeded("the budget ran out")

    monkeypatch.setattr(explain, "diagnose", out_of_time)
    monkeypatch.setattr(explain, "general_proof", out_of_time)
    text = two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2", "db2": "sum(P - Y, axis=0)", "dW1": "W1.T"})
    dW2, db2, dW1 = check_text(text)
    assert dW2.verdict is Verdict.PROVED and dW2.general is not None and not dW2.general.proved
    assert db2.verdict is Verdict.REFUTED and db2.diagnosis == ""
    assert dW1.verdict is Verdict.SHAPE_ERROR
