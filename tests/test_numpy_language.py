"""numpy as people write it: `np.` functions, methods, `keepdims`, and spellings that are identities of table ops.

Each spelling must parse to exactly the tree its core spelling parses to (so every engine already knows it), and
each unsupported Python-ism must be an error that names the supported form.
"""

from __future__ import annotations

import re

import pytest

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.verify.results import Verdict
from tests.conftest import check_text

SAME = [
    ("np.exp(x) + numpy.log(y)", "exp(x) + log(y)"),
    ("np.sum(x, axis=0)", "sum(x, axis=0)"),
    ("x.sum(axis=0)", "sum(x, axis=0)"),
    ("x.mean()", "mean(x)"),
    ("np.dot(a, b)", "a @ b"),
    ("a.dot(b)", "a @ b"),
    ("np.matmul(a, b)", "a @ b"),
    ("np.transpose(x)", "x.T"),
    ("x.transpose()", "x.T"),
    ("np.square(x)", "x ** 2"),
    ("np.power(x, 3)", "x ** 3"),
    ("np.reciprocal(x)", "1 / x"),
    ("np.log1p(x)", "log(1 + x)"),
    ("np.expm1(x)", "exp(x) - 1"),
    ("np.maximum(z, 0)", "relu(z)"),
    ("np.maximum(0, z)", "relu(z)"),
    ("(z > 0).astype(float)", "(z > 0)"),
    ("np.zeros_like(x)", "0 * x"),
    ("np.ones_like(x)", "0 * x + 1"),
    ("np.identity(N) @ x", "np.eye(N) @ x"),  # numpy's identity matrix, never the language's identity(z)
    ("x.sum(axis=1, keepdims=True)", "sum(x, axis=1, keepdims=True)"),
    ("np.sum(x, axis=1, keepdims=False)", "sum(x, axis=1)"),
]


@pytest.mark.parametrize(("numpy", "core"), SAME, ids=[s for s, _ in SAME])
def test_a_numpy_spelling_is_the_tree_of_its_core_spelling(numpy: str, core: str) -> None:
    """np.f(x), x.f() and the numpy names of table identities parse to the core language's tree."""
    assert parse_formula(numpy, Location()) == parse_formula(core, Location())


REFUSED = [
    ("np.where(a, a, b)", "where(condition, a, b) needs a comparison as its condition"),
    ("x.astype(int)", "only .astype(float)"),
    ("x.reshape(2, 3)", "only calls of the language's functions are allowed (and the methods"),
    ("np.power(x, y)", "exponent must be an integer literal"),
    ("np.square(x, 2)", "square() takes 1 argument(s)"),
    ("x.sum(keepdims=1)", "keepdims is True or False"),
    ("np.vstack([a, b])", "write np.concatenate([a, b], axis=0)"),
    ("np.full((N, D), c)", "write c * np.ones((N, D))"),
]


@pytest.mark.parametrize(("formula", "message"), REFUSED, ids=[f for f, _ in REFUSED])
def test_an_unsupported_numpy_form_is_an_error_naming_the_supported_one(formula: str, message: str) -> None:
    """Never a silent misreading: an InputError whose message says what is supported."""
    with pytest.raises(InputError, match=re.escape(message)):
        parse_formula(formula, Location())


SOFTMAX_WRITTEN_OUT = """
[sizes]
N = 2
C = 3
[inputs]
Y = "N x C, onehot"
[params]
s = "N x C"
[forward]
E = "np.exp(s)"
P = "E / np.sum(E, axis=1, keepdims=True)"
c = "s - s.mean(axis=1, keepdims=True)"
L = "-np.sum(Y * np.log(P)) / N + np.square(c).sum() / 2"
[claims]
ds = "(P - Y) / N + c - c.mean(axis=1, keepdims=True)"
ds_also = { wrt = "s", formula = "(P - Y) / N + c" }
ds_wrong = { wrt = "s", formula = "(P - Y) / N + s" }
"""


def test_keepdims_broadcasts_a_reduction_back_over_its_axis() -> None:
    """softmax written out with keepdims, and a row-centred term: d/ds of Σ c²/2 with c = s - mean_row(s) is
    c - mean_row(c), which is c itself (a centred row has mean 0); s in place of c is refuted."""
    ds, also, wrong = check_text(SOFTMAX_WRITTEN_OUT)
    assert ds.verdict is Verdict.PROVED and also.verdict is Verdict.PROVED, (ds.message, also.message)
    assert wrong.verdict is Verdict.REFUTED


CENTRED = """
[sizes]
N = 3
C = 4
[params]
s = "N x C"
[forward]
c = "s - s.mean(axis=1, keepdims=True)"
L = "np.sum(c ** 2) / 2"
[claims]
ds = "c - c.mean(axis=1, keepdims=True)"
"""


def test_keepdims_is_in_the_index_calculus() -> None:
    """The kept axis has size 1, so it takes the index 0: the centred gradient is proved for every N and C."""
    [ds] = check_text(CENTRED)
    assert ds.verdict is Verdict.PROVED and ds.general is not None and ds.general.proved, ds.general


@pytest.mark.parametrize(
    ("power", "core"),
    [("x ** 0.5", "sqrt(x)"), ("np.sqrt(x)", "sqrt(x)"), ("x ** -0.5", "sqrt(x) ** -1"), ("x ** 1.5", "sqrt(x) ** 3")],
)
def test_a_half_integer_power_is_a_power_of_the_square_root(power: str, core: str) -> None:
    """x ** (k/2) = sqrt(x) ** k for x > 0, the only arguments where either is defined and differentiable."""
    assert parse_formula(power, Location()) == parse_formula(core, Location())


NORM = """
[sizes]
D = 3
[params]
w = "D"
[forward]
s = "np.sum(w ** 2)"
n = "np.sqrt(s)"
L = "n + s ** 1.5 / 3"
[claims]
dw = "w / n + w * np.sum(w ** 2) ** 0.5"
dw_written_as_power = { wrt = "w", formula = "w * np.sum(w ** 2) ** -0.5 + w * n" }
dw_wrong = { wrt = "w", formula = "w / n ** 2 + w * n" }
dw_latex = { wrt = "w", latex = '\\frac{w}{\\sqrt{s}} + w \\sqrt{s}' }
dn = "1 + 0 * n"
"""


def test_the_derivative_of_a_norm_through_sqrt() -> None:
    """d sqrt(s)/ds = 1 / (2 sqrt(s)) and d s^1.5/ds = 1.5 sqrt(s): both spellings of the gradient of |w| + |w|³/3
    are proved (at the stated sizes and for every D), a wrong power is refuted, and the witness agrees."""
    results = {r.name: r for r in check_text(NORM)}
    assert {n: r.verdict for n, r in results.items()} == {
        "dw": Verdict.PROVED,
        "dw_written_as_power": Verdict.PROVED,
        "dw_wrong": Verdict.REFUTED,
        "dw_latex": Verdict.PROVED,
        "dn": Verdict.PROVED,
    }
    general = results["dw"].general
    assert general is not None and general.proved, general


def test_sqrt_of_a_negative_constant_is_an_input_error() -> None:
    """Outside the domain the formula has no value: an error, never an atom that means nothing."""
    *_, result = check_text(NORM.replace('dn = "1 + 0 * n"', 'dn = "1 + 0 * n * np.sqrt(-4)"'))
    assert result.name == "dn" and result.verdict is Verdict.ERROR and "positive numbers only" in result.message


@pytest.mark.parametrize("name", ["np", "numpy", "square", "dot"])
def test_the_numpy_prefix_and_spellings_cannot_name_a_quantity(name: str) -> None:
    """np.exp(x) must mean numpy's exp, whatever the file declares: 'np' is reserved like every spelled function."""
    from derive_check.derive.model.names import Namespace

    with pytest.raises(InputError, match="cannot name"):
        Namespace().declare(name, "input", Location("f.toml", 1))


@pytest.mark.parametrize(
    ("comparison", "core"),
    [("(a >= b)", "1 - (b > a)"), ("(a <= b)", "1 - (a > b)"), ("(z <= 0)", "1 - (z > 0)")],
)
def test_a_non_strict_comparison_is_one_minus_the_strict_one(comparison: str, core: str) -> None:
    """[a >= b] = 1 - [b > a] at every value (equality included), so the rewrite is exact, not almost everywhere."""
    assert parse_formula(comparison, Location()) == parse_formula(core, Location())


RELU_SLOPES = """
[sizes]
N = 2
D = 3
H = 2
[inputs]
X = "N x D"
T = "N x H"
[params]
W = "D x H"
[forward]
z = "X @ W"
L = "np.sum(np.maximum(z, 0) * T)"
[claims]
dW = "X.T @ (T * (1 - (z <= 0)))"
dW_latex = { wrt = "W", latex = '\\frac{\\partial L}{\\partial W} = X^T (T \\odot (1 - \\mathbb{1}[0 \\geq z]))' }
dW_wrong = { wrt = "W", formula = "X.T @ (T * (z <= 0))" }
"""


def test_non_strict_indicators_in_a_relu_gradient() -> None:
    """1 - [z <= 0] is the ReLU mask [z > 0] exactly; [z <= 0] alone is its complement and is refuted."""
    results = {r.name: r.verdict for r in check_text(RELU_SLOPES)}
    assert results == {"dW": Verdict.PROVED, "dW_latex": Verdict.PROVED, "dW_wrong": Verdict.REFUTED}


@pytest.mark.parametrize(
    ("numpy", "core"),
    [
        ("x.var(axis=0)", "mean((x - mean(x, axis=0, keepdims=True)) ** 2, axis=0)"),
        ("np.var(x)", "mean((x - mean(x, keepdims=True)) ** 2)"),
        (
            "x.std(axis=1, keepdims=True)",
            "sqrt(mean((x - mean(x, axis=1, keepdims=True)) ** 2, axis=1, keepdims=True))",
        ),
    ],
)
def test_variance_and_standard_deviation_are_their_definitions(numpy: str, core: str) -> None:
    """numpy's var is the population variance (ddof = 0) and std its square root: spelled out, nothing new."""
    assert parse_formula(numpy, Location()) == parse_formula(core, Location())


VARIANCE = """
[sizes]
N = 3
D = 2
[params]
x = "N x D"
[forward]
s = "x.std(axis=0)"
L = "np.sum(x.var(axis=0)) / 2 + np.sum(s)"
[claims]
dx = "(x - x.mean(axis=0)) / N + (x - x.mean(axis=0)) / (N * s)"
dx_wrong = { wrt = "x", formula = "(x - x.mean(axis=0)) / (N - 1) + (x - x.mean(axis=0)) / (N * s)" }
"""


def test_the_gradient_of_a_variance_and_a_standard_deviation() -> None:
    """d var/dx = 2 (x - mean) / N (the mean's own derivative cancels: a centred column sums to 0) and
    d std/dx = (x - mean) / (N std); the sample-variance slip 1 / (N - 1) is refuted."""
    results = {r.name: r.verdict for r in check_text(VARIANCE)}
    assert results == {"dx": Verdict.PROVED, "dx_wrong": Verdict.REFUTED}


OUTER = """
[sizes]
N = 3
D = 2
[inputs]
x = "N"
[params]
u = "D"
W = "N x D"
[forward]
L = "np.sum(np.tanh(np.outer(x, u)) * W) + np.sum(np.outer(u, u) ** 2)"
[claims]
du = "np.sum((1 - np.tanh(np.outer(x, u)) ** 2) * W * x[:, None], axis=0) + 4 * u * np.sum(u ** 2)"
du_half = { wrt = "u", formula = "np.sum((1 - np.tanh(np.outer(x, u)) ** 2) * W * x[:, None], axis=0) + 2 * u" }
dW_matrix = { wrt = "W", formula = "np.outer(W, u)" }
"""


def test_outer_of_two_vectors_is_their_broadcast_product_and_a_matrix_operand_is_a_shape_error() -> None:
    # d Σ (u u^T)^2 / du = 4 u |u|^2; numpy would flatten W in np.outer(W, u): a shape error, not a silent reading
    du, half, matrix = check_text(OUTER)
    assert (du.verdict, du.scope) == (Verdict.PROVED, "all")
    assert half.verdict is Verdict.REFUTED
    assert matrix.verdict is Verdict.SHAPE_ERROR and "two vectors" in matrix.message


BUILT = """
[sizes]
N = 2
D = 3
[inputs]
x = "N x D"
dout = "N x D"
[params]
W = "D x D"
[forward]
k = "np.sqrt(2 / np.pi)"
y = "x @ (W + np.eye(D)) + k * np.ones((N, D)) + np.zeros(D)"
L = "np.sum(dout * np.tanh(y))"
[claims]
dx = "(dout * (1 - np.tanh(y) ** 2)) @ (W.T + np.eye(x.shape[1]))"
dW = "x.T @ (dout * (1 - np.tanh(y) ** 2))"
dx_no_eye = { wrt = "x", formula = "(dout * (1 - np.tanh(y) ** 2)) @ W.T" }
dx_ones = { wrt = "x", formula = "(dout * (np.ones((N, D)) - np.tanh(y) ** 2)) @ (W.T + np.eye(D))" }
dx_pi = { wrt = "x", formula = "(dout * (1 - np.tanh(y) ** 2)) @ (W.T + np.eye(D)) * np.pi / 3.14159" }
"""


def test_identity_ones_zeros_and_pi_are_exact_constants_in_every_engine() -> None:
    """x @ (W + I) has d/dx = g @ (W + I)^T, for every size (δ for the identity, 1 and 0 for ones and zeros, π a
    number); dropping the identity is refuted, and π / 3.14159 is not 1: π is never a decimal."""
    dx, dw, no_eye, ones, pi = check_text(BUILT)
    for proved in (dx, dw, ones):
        assert (proved.verdict, proved.scope) == (Verdict.PROVED, "all"), (proved.name, proved.message)
    assert no_eye.verdict is Verdict.REFUTED and pi.verdict is Verdict.REFUTED, (no_eye.message, pi.message)


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("np.ones(2.5)", "a length is an integer, a size"),
        ("np.eye((N, N))", "write np.eye(C) with one length"),
        ("np.zeros((N, D), dtype=float)", "a shape of sizes, with no dtype"),
        ("np.ones(0)", "is not at least 1"),
    ],
)
def test_a_built_array_needs_lengths_that_are_sizes(formula: str, message: str) -> None:
    """np.ones / np.zeros / np.eye take lengths the symbolic shape rule can read; anything else is an error."""
    text = f'[sizes]\nN = 2\nD = 3\n[params]\nx = "N x D"\n[forward]\nL = "np.sum(x) + np.sum({formula})"\n'
    text += '[claims]\ndx = "np.ones((N, D))"\n'
    with pytest.raises(InputError, match=re.escape(message)):
        check_text(text)
