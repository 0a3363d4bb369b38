"""A claim wrong only because an earlier claim it uses is wrong says so ("fix dz first"), and only then."""

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
    assert dz.verdict is Verdict.REFUTED and "fix" not in dz.diagnosis
    for claim in (dW, db):
        assert claim.verdict is Verdict.REFUTED
        assert claim.diagnosis == "Correct once dz is: dz, which it uses, is wrong (fix dz first)"
        assert claim.corrected == ""  # the formula itself is right: nothing to correct
    assert twice.verdict is Verdict.REFUTED and "fix dz first" not in twice.diagnosis


def test_with_the_earlier_claim_right_the_later_ones_are_proved() -> None:
    results = check_text(MODEL.format(dz="2 * (h - T) * (1 - h ** 2) / N"))
    assert [r.verdict for r in results[:3]] == [Verdict.PROVED] * 3
