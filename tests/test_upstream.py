"""Diagnoses of chained slips: a claim wrong only because an earlier claim it uses is wrong says so ("fix dz first"),
and only then; an activation's slope written wrong (tanh' as 1 - h) is named and corrected."""

from __future__ import annotations

from derive_check.verify.results import Verdict
from tests.conftest import check_text

MODEL = """
[sizes]
N = 2
D = 3
H = 4
[inputs]
X = "N x D"
T = "N x H"
[params]
W = "D x H"
b = "H"
[forward]
z = "X @ W + b"
h = "np.tanh(z)"
L = "np.sum((h - T) ** 2) / N"
[claims]
dz = "{dz}"
dW = "X.T @ dz"
db = "np.sum(dz, axis=0)"
dW_twice = {{ wrt = "W", formula = "2 * X.T @ dz" }}
"""


def test_claims_built_on_a_wrong_claim_name_it_and_nothing_else() -> None:
    # tanh' written as 1 - h: dz is wrong, dW and db are right given dz; 2 * X.T @ dz is wrong on its own too
    dz, dW, db, twice = check_text(MODEL.format(dz="2 * (h - T) * (1 - h) / N"))
    assert dz.verdict is Verdict.REFUTED
    assert dz.diagnosis == "The slope tanh'(z) is 1 - h ** 2, not 1 - h"
    assert dz.corrected == "2 * (h - T) * (1 - h ** 2) / N"
    for claim in (dW, db):
        assert claim.verdict is Verdict.REFUTED
        assert claim.diagnosis == "Correct once dz is: dz, which it uses, is wrong (fix dz first)"
        assert claim.corrected == ""  # the formula itself is right: nothing to correct
    assert twice.verdict is Verdict.REFUTED and "fix dz first" not in twice.diagnosis


def test_with_the_earlier_claim_right_the_later_ones_are_proved() -> None:
    results = check_text(MODEL.format(dz="2 * (h - T) * (1 - h ** 2) / N"))
    assert [r.verdict for r in results[:3]] == [Verdict.PROVED] * 3


def test_a_sigmoid_slope_written_wrong_is_named() -> None:
    text = MODEL.replace('h = "np.tanh(z)"', 'h = "sigmoid(z)"').format(dz="2 * (h - T) * h * (1 + h) / N")
    dz = check_text(text)[0]
    assert dz.verdict is Verdict.REFUTED
    assert dz.diagnosis == "The slope sigmoid'(z) is h * (1 - h), not h * (1 + h)"


MSE = """
[sizes]
N = 2
D = 3
[inputs]
X = "N x D"
t = "N"
[params]
w = "D"
[forward]
y = "X @ w"
L = "sum((y - t) ** 2) / N"
[claims]
dy = "(y - t) / N"
"""


def test_a_factor_equal_to_a_size_is_named_after_it_only_when_that_holds_for_every_size() -> None:
    # the review's case: the factor is 2 and N = 2; "an extra 1/N" with y - t was PROVED at N = 2 only
    [dy] = check_text(MSE)
    assert dy.diagnosis == "Equals the true derivative times 1/2" and dy.corrected == "2 * (y - t) / N"


def test_a_difference_that_needs_inputs_above_one_is_still_found() -> None:
    # relu(a - 1.2) is active only where a > 1.2: the legible small inputs in [-1, 1] never show it
    text = '[sizes]\nD = 6\n[params]\na = "D"\n[forward]\nh = "relu(a - 1.2)"\nL = "sum(h)"\n[claims]\nda = "0 * a"\n'
    [da] = check_text(text)
    assert da.verdict is Verdict.REFUTED


def test_an_earlier_claim_not_found_wrong_is_never_named_as_the_one_to_fix() -> None:
    """ "Fix dz first" asserts that dz is wrong: it needs dz's own verdict to say so. Here dz is wrong, but as if the
    engine had not decided it (its failure forgotten), so dW, right given dz's truth, must not blame it."""
    from derive_check.derive.exact.network import build_network
    from derive_check.derive.model.spec import parse_spec
    from derive_check.verify.check.session import Session
    from derive_check.verify.decide.equality import Equality
    from derive_check.verify.run.engine import check_claim

    spec = parse_spec("m.toml", MODEL.format(dz="2 * (h - T) * (1 - h) / N"))
    net = build_network(spec)
    session = Session(net, Equality(net), dict(net.values))
    dz = check_claim(session, spec.claims[0], 30.0)
    assert dz.verdict is Verdict.REFUTED and session.failed == {"dz"}
    session.failed.clear()  # as if dz had come out UNDECIDED
    dW = check_claim(session, spec.claims[1], 30.0)
    assert dW.verdict is Verdict.REFUTED and "fix dz first" not in dW.diagnosis
