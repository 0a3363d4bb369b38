"""Diagnosis readings on small models written here, not the zoo's: each slip gets the reading that names it, and
the corrected formula is PROVED; the local derivatives behind the slope readings agree with finite differences
computed by numpy from the printed formulas (an oracle that shares no evaluation code with the engine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from derive_check.derive.errors import Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.printing.text import to_text
from derive_check.verify.diagnose.local import Chain
from derive_check.verify.results import Verdict
from tests.conftest import check_text

ELEMENTWISE_HEAD = """
[sizes]
N = 2
D = 3
[inputs]
x = "N x D"
dout = "N x D"
[params]
lam = "scalar"
[forward]
{forward}
[claims]
wrong = {{ wrt = "{wrt}", formula = "{claim}" }}
"""

READINGS = [
    # softplus' = σ(x) written exp(x): d log(1 + e^x)/dx = e^x / (1 + e^x)
    (
        'out = "np.log(1 + np.exp(x))"\nL = "np.sum(dout * out)"',
        "x",
        "dout * np.exp(x)",
        "the derivative of out in x is exp(x) / (1 + exp(x)), not exp(x)",
    ),
    # |x|' = sign(x), written as x (the L2 gradient) or (x > 0) (one side only)
    ('L = "lam * np.sum(np.abs(x))"', "x", "lam * x", "the derivative of np.abs(x) in x is sign(x), not x"),
    ('L = "lam * np.sum(np.abs(x))"', "x", "lam * (x > 0)", "is sign(x), not (x > 0)"),
    # the product rule of x·σ(x) with its first term dropped; σ written out is differentiated as s (1 - s)
    (
        's = "1 / (1 + np.exp(-x))"\nout = "x * s"\nL = "np.sum(dout * out)"',
        "x",
        "dout * x * s * (1 - s)",
        "the derivative of out in x is s + x * s * (1 - s), not x * s * (1 - s)",
    ),
    # a chain factor forgotten: d tanh(x²)/dx = 2x (1 - t²)
    (
        't = "np.tanh(x ** 2)"\nL = "np.sum(dout * t)"',
        "x",
        "dout * (1 - t ** 2)",
        "the derivative of t in x is 2 * (1 - t ** 2) * x, not 1 - t ** 2",
    ),
    # softmax's Jacobian applied as if element-wise: p (1 - p) g instead of p (g - Σ p g)
    (
        'p = "softmax(x, axis=1)"\nL = "np.sum(dout * p)"',
        "x",
        "p * (1 - p) * dout",
        "softmax's derivative taken element-wise as p * (1 - p)",
    ),
    # a sum over every entry where the gradient sums over the batch axis
    ('L = "np.sum(dout * (x - x.mean(axis=1, keepdims=True)))"', "x", "dout - dout.mean()", "mean over every entry"),
    # the sum a per-row mean needs, without keepdims (N x D minus a length-N vector: a shape error)
    (
        'L = "np.sum(dout * (x - x.mean(axis=1, keepdims=True)))"',
        "x",
        "dout - dout.mean(axis=1)",
        "mean over axis 1 without keepdims=True",
    ),
    # a square root missing under a division (the variance where the standard deviation belongs)
    ('L = "np.sum(dout * x / np.sqrt(lam ** 2 + 1))"', "x", "dout / (lam ** 2 + 1)", "a square root missing"),
]


@pytest.mark.parametrize(("forward", "wrt", "claim", "words"), READINGS, ids=[r[3][:40] for r in READINGS])
def test_a_slip_gets_the_reading_that_names_it(forward: str, wrt: str, claim: str, words: str) -> None:
    """The claim is found wrong, and the first proved reading is the slip that was made."""
    [result] = check_text(ELEMENTWISE_HEAD.format(forward=forward, wrt=wrt, claim=claim))
    assert result.verdict in (Verdict.REFUTED, Verdict.SHAPE_ERROR), result.summary
    assert words.lower() in result.diagnosis.lower(), result.diagnosis
    corrected = check_text(ELEMENTWISE_HEAD.format(forward=forward, wrt=wrt, claim=result.corrected))
    assert corrected[0].verdict is Verdict.PROVED, (result.corrected, corrected[0].summary)


GATES = """
[sizes]
N = 2
H = 2
[inputs]
a = "N x 2*H"
dout = "N x H"
[forward]
t = "np.tanh(a[:, :H])"
L = "np.sum(dout * t * a[:, H:])"
[claims]
wrong = { wrt = "a", formula = "np.concatenate([dout * t, dout * a[:, H:] * (1 - t ** 2)], axis=1)" }
"""


def test_blocks_of_a_concatenation_in_the_wrong_order_are_read_as_swapped() -> None:
    """d/da of tanh(a₁) ⊙ a₂ is [g a₂ (1 - tanh² a₁), g tanh a₁]: the two blocks written the other way round."""
    [result] = check_text(GATES)
    assert result.verdict is Verdict.REFUTED
    assert result.diagnosis == "Blocks 1 and 2 of the concatenation swapped"
    assert check_text(GATES.replace(result.formula, result.corrected))[0].verdict is Verdict.PROVED


NUMPY: dict[str, Callable[..., Any]] = {
    "exp": np.exp,
    "log": np.log,
    "tanh": np.tanh,
    "sqrt": np.sqrt,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "softplus": lambda v: np.log1p(np.exp(v)),
    "relu": lambda v: np.maximum(v, 0),
    "abs": np.abs,
    "sign": np.sign,
    "where": np.where,
    "minimum": np.minimum,
}


@pytest.mark.parametrize(
    "formula",
    [
        "np.log(1 + np.exp(x)) * y",
        "x * np.tanh(y * x ** 3) / (1 + x ** 2)",
        "np.where(np.abs(x) <= y, 0.5 * x ** 2, y * (np.abs(x) - 0.5 * y))",  # Huber
        "np.maximum(x, 0) + y * np.minimum(x, 0)",  # PReLU
        "np.sqrt(x ** 2 + y) - 1 / (1 + np.exp(-x))",
        "np.where(x > 0, x, 0.01 * x) * np.sign(y - 1)",
    ],
)
def test_local_derivatives_agree_with_central_differences(formula: str) -> None:
    """d f/dx from the chain rule on the tree equals (f(x + h) - f(x - h)) / 2h, both sides evaluated by numpy from
    printed text, at points away from every kink."""
    tree = parse_formula(formula, Location())
    derivative = to_text(Chain({}, "").partial(tree, "x"))
    rng = np.random.default_rng(7)
    x = rng.uniform(0.3, 2.0, 64) * rng.choice([-1, 1], 64)
    y = rng.uniform(0.5, 1.5, 64)
    f = lambda at: eval(to_text(tree), dict(NUMPY), {"x": at, "y": y})  # noqa: E731 (our own printed text)
    h = 1e-6
    numeric = (f(x + h) - f(x - h)) / (2 * h)
    exact = eval(derivative, dict(NUMPY), {"x": x, "y": y})
    assert np.isfinite(numeric).all()
    np.testing.assert_allclose(exact, numeric, rtol=1e-5, atol=1e-7, err_msg=derivative)


@pytest.mark.parametrize(
    ("formula", "printed"),
    [
        ("np.where(np.abs(r) <= d, r, d * np.sign(r))", "where(abs(r) <= d, r, d * sign(r))"),
        ("np.minimum(x, 0) * 0.5", "minimum(x, 0) * 0.5"),
        ("x * (2 * (y > 0) - 1)", "x * (2 * (y > 0) - 1)"),  # abs's shape with two different names: not abs
        ("(x > 0) - (0 > y)", "(x > 0) - (0 > y)"),  # sign's shape with two names: not sign
        ("0.044715 * x + x / 3", "0.044715 * x + x / 3"),
    ],
)
def test_the_printer_writes_numpys_spelling_only_where_it_parses_back_to_the_same_tree(
    formula: str, printed: str
) -> None:
    """abs, sign, where, minimum and <= are printed where the tree is exactly what they parse to, else the ops."""
    tree = parse_formula(formula, Location())
    assert to_text(tree) == printed
    assert parse_formula(printed, Location()) == tree
