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


OFF_PATH = """
[sizes]
N = 2
D = 3
[inputs]
a = "N x D"
b = "N x D"
dout = "N x D"
eps = "scalar, positive"
[forward]
v = "a ** 2 + eps"
y = "b * np.sqrt(v)"
L = "np.sum(dout * y)"
[claims]
da_nosqrt = { wrt = "a", formula = "dout * b * a / v" }
"""


def test_a_local_derivative_off_the_claims_path_is_never_its_diagnosis() -> None:
    """dL/da read as "the derivative of y in b is sqrt(v), not v" was proved but false: y's slope in b is no part
    of dL/da. Only derivatives in names computed from the claim's target are readings of it."""
    [result] = check_text(OFF_PATH)
    assert result.verdict is Verdict.REFUTED and "in b" not in result.diagnosis
    assert result.diagnosis == "A square root missing: sqrt(v) where v stands", result.diagnosis


THROUGH_A_MEAN = """
[sizes]
N = 2
D = 3
[inputs]
x = "N x D"
dout = "N x D"
[forward]
m = "np.mean(x, axis=1, keepdims=True)"
y = "x * m"
L = "np.sum(dout * y)"
[claims]
slip = { wrt = "x", formula = "dout * x + np.sum(dout * x, axis=1, keepdims=True) / D" }
"""


def test_a_partial_derivative_with_a_reduction_held_fixed_is_not_called_the_derivative() -> None:
    """y = x · mean(x): d y/dx is not m (that holds m fixed), so no reading says "the derivative of y in x is m"."""
    [result] = check_text(THROUGH_A_MEAN)
    assert result.verdict is Verdict.REFUTED and "derivative of y in x" not in result.diagnosis


CENTRED = """
[sizes]
N = 2
C = 3
[inputs]
s = "N x C"
dA = "N x C"
[forward]
A = "softmax(s, axis=1)"
L = "np.sum(dA * A)"
[claims]
every = { wrt = "s", formula = "A * (dA - np.sum(dA * A))" }
means = { wrt = "s", formula = "A * (dA - np.mean(dA * A, axis=0, keepdims=True) * C)" }
"""


def test_a_claim_with_a_centering_term_is_not_read_as_missing_one() -> None:
    """The Jacobian reading proves for almost any g (a constant per row cancels), so it must not fire where the
    claim centers already; the slip is the axis of the sum. Axis words name the reductions there are (mean)."""
    every, means = check_text(CENTRED)
    assert every.diagnosis == "Sum over every entry instead of over axis 1 (keepdims=True)", every.diagnosis
    assert "centering" not in means.diagnosis.lower()


UNDEFINED_CLAIM = """
[sizes]
N = 3
[inputs]
a = "N"
dout = "N"
eps = "scalar, positive"
[forward]
y = "np.sqrt(a ** 2 + eps)"
L = "np.sum(dout * y)"
[claims]
da_sq = { wrt = "a", formula = "dout * a / np.sqrt(a + eps)" }
"""


def test_a_claim_undefined_at_some_points_stays_refuted_with_its_diagnosis() -> None:
    """claim − R has no value where the claim has none (sqrt(a + eps) for a < -eps): that is no disagreement
    between engine and witness (it was reported INCONSISTENT, exit 3); the residual is left out instead."""
    [result] = check_text(UNDEFINED_CLAIM)
    assert result.verdict is Verdict.REFUTED, result.summary
    assert result.diagnosis == "a where a ** 2 belongs" and result.corrected == "dout * a / sqrt(a ** 2 + eps)"
