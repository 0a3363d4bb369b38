"""Activations and losses beyond ReLU + softmax: each test names the derivative identity it relies on."""

from __future__ import annotations

import pytest

from derive_check.verify.results import Verdict
from tests.conftest import check_text

MSE = """
[sizes]
N = 2
D = 3
H = 4
K = 2
[inputs]
X = "N x D"
T = "N x K"
[params]
W1 = "D x H"
b1 = "H"
W2 = "H x K"
[forward]
z = "X @ W1 + b1"
h = "ACT"
out = "h @ W2"
L = "sum((out - T)**2) / (2 * N)"
[claims]
dout = "(out - T) / N"
dW2 = "h.T @ (out - T) / N"
dW1 = "X.T @ (((out - T) @ W2.T / N) * (DERIV))"
"""

CASES = {
    "sigmoid' = s (1 - s)": ("sigmoid(z)", "h * (1 - h)", Verdict.PROVED),
    "tanh' = 1 - tanh^2": ("tanh(z)", "1 - h**2", Verdict.PROVED),
    "leaky_relu' = [z > 0] + alpha [z <= 0]": (
        "leaky_relu(z, alpha=0.1)",
        "(z > 0) + 0.1 * (1 - (z > 0))",
        Verdict.PROVED,
    ),
    "identity' = 1": ("identity(z)", "1", Verdict.PROVED),
    "softplus' = sigmoid": ("softplus(z)", "sigmoid(z)", Verdict.PROVED),
    "softplus' = 1 - sigmoid(-z): proved through exp (sigmoid(u) = e / (1 + e), e = exp(u))": (
        "softplus(z)",
        "1 - sigmoid(-z)",
        Verdict.PROVED,
    ),
    "sigmoid' = exp(-z) / (1 + exp(-z))**2 (the textbook form through exp)": (
        "sigmoid(z)",
        "np.exp(-z) / (1 + np.exp(-z)) ** 2",
        Verdict.PROVED,
    ),
    "tanh' = 4 / (exp(z) + exp(-z))**2 (sech squared)": (
        "tanh(z)",
        "4 / (np.exp(z) + np.exp(-z)) ** 2",
        Verdict.PROVED,
    ),
    "sigmoid' is not exp(-z) / (1 + exp(-z))": ("sigmoid(z)", "np.exp(-z) / (1 + np.exp(-z))", Verdict.REFUTED),
    "softplus' is not softplus": ("softplus(z)", "h", Verdict.REFUTED),
    "relu' = [z > 0], also written [h > 0]": ("relu(z)", "(h > 0)", Verdict.PROVED),
    "sigmoid' is not 1 - s^2 (tanh's)": ("sigmoid(z)", "1 - h**2", Verdict.REFUTED),
    "tanh' is not t (1 - t) (sigmoid's)": ("tanh(z)", "h * (1 - h)", Verdict.REFUTED),
    "leaky_relu' is not relu'": ("leaky_relu(z, alpha=0.1)", "(z > 0)", Verdict.REFUTED),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_activation_derivative(case: str) -> None:
    activation, derivative, verdict = CASES[case]
    dout, dW2, dW1 = check_text(MSE.replace("ACT", activation).replace("DERIV", derivative))
    assert dout.verdict is Verdict.PROVED and dW2.verdict is Verdict.PROVED  # the MSE part: d/dout = (out - T)/N
    assert dW1.verdict is verdict, dW1.message


def test_sum_and_mean_cross_entropy_differ_by_exactly_n() -> None:
    text = MSE.replace("ACT", "relu(z)").replace("DERIV", "(h > 0)")
    summed = text.replace('L = "sum((out - T)**2) / (2 * N)"', 'L = "sum((out - T)**2) / 2"')
    dout, _, _ = check_text(summed)
    assert dout.verdict is Verdict.REFUTED and "times 1/2 (= 1/N" in dout.diagnosis
