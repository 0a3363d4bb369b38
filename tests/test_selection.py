"""Label vectors, slices, concatenation, max over an axis and almost-everywhere indicators: each identity named.

Every test here is about the language and the model-building, not one example file: a label vector is reachable
only through its one-hot rows; a slice's shape is a theorem about every size; max is exact at ties; an indicator
is identified with `1 - (its negation)` only where the two differ on a null set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive_check.derive.errors import InputError
from derive_check.derive.model.spec import parse_spec
from derive_check.derive.tree import Apply, Ref
from derive_check.verify.results import Verdict
from derive_check.verify.run.engine import check_path

LABELS = """
[sizes]
N = 3
C = 4
D = 2
[inputs]
X = "N x D"
y = "N, labels C"
[params]
W = "D x C"
E = "C x D"
[forward]
scores = "X @ W + E[y] @ W"
P = "softmax(scores, axis=1)"
L = "-np.mean(np.log(P[np.arange(N), y]))"
[claims]
dscores = "(P - np.eye(C)[y]) / N"
"""


def _verdicts(tmp_path: Path, text: str) -> dict[str, Verdict]:
    path = tmp_path / "model.toml"
    path.write_text(text)
    result = check_path(path)
    assert not result.error, result.error
    return {c.name: c.verdict for c in result.claims}


def test_a_label_vector_is_its_one_hot_rows_and_an_embedding_lookup_is_a_product(tmp_path: Path) -> None:
    """W[y] = onehot(y) @ W, x[np.arange(N), y] = sum(x * onehot(y), axis=1): d(-mean log P_y)/dscores = (P - Y)/N."""
    spec = parse_spec("m.toml", LABELS)
    scores = spec.forward[0].expr
    assert isinstance(scores, Apply) and scores.args[1] == Apply(
        "matmul", (Apply("matmul", (Apply("onehot", (Ref("y"),), (("classes", "C"),)), Ref("E"))), Ref("W"))
    )
    assert spec.inputs["y"].dims == ("N", "C") and spec.inputs["y"].onehot
    assert _verdicts(tmp_path, LABELS) == {"dscores": Verdict.PROVED}
    slip = LABELS.replace('"(P - np.eye(C)[y]) / N"', '"P - np.eye(C)[y]"')
    assert _verdicts(tmp_path, slip) == {"dscores": Verdict.REFUTED}


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('bad = "X @ W + y"', "'y' is a label vector (class indices, not numbers)"),
        ('bad = "np.eye(C)[X]"', "one-hot rows are taken of a label vector"),
        ('bad = "np.eye(D)[y]"', "it has D columns, but the labels give C"),
        ('bad = "X.shape"', "x.shape is a tuple: write x.shape[0]"),
        ('bad = "X[:, ::2]"', "slices with a step"),
    ],
)
def test_a_label_vector_outside_its_one_hot_rows_is_an_input_error(line: str, words: str) -> None:
    """Class indices are not numbers: any other use of y is an error with a caret, never a silent reading."""
    text = LABELS.replace("[claims]", "").replace('dscores = "(P - np.eye(C)[y]) / N"', "")
    text = text.replace('scores = "X @ W + E[y] @ W"', f'{line}\nscores = "X @ W"')
    with pytest.raises(InputError) as caught:
        parse_spec("m.toml", text)
    assert words in caught.value.message


def test_onehot_is_a_name_a_file_may_use_and_printed_labels_parse_back() -> None:
    """The one-hot op has no spelling of its own (files name inputs `onehot`), and it prints as np.eye(C)[y]."""
    from derive_check.derive.errors import Location
    from derive_check.derive.lang.formula import parse_formula
    from derive_check.derive.printing.text import to_text

    spec = parse_spec("m.toml", LABELS.replace('X = "N x D"', 'X = "N x D"\nonehot = "N x C, onehot"'))
    assert "onehot" in spec.inputs
    dscores = spec.claims[0].expr
    assert dscores is not None and "np.eye(C)[y]" in to_text(dscores)
    assert parse_formula(to_text(dscores), Location("m.toml")) == dscores


def test_no_derivative_with_respect_to_labels(tmp_path: Path) -> None:
    """A claim d/dy of a label vector is an ERROR that says why."""
    text = LABELS + 'dy = "0 * P"\n'
    path = tmp_path / "m.toml"
    path.write_text(text)
    claim = {c.name: c for c in check_path(path).claims}["dy"]
    assert claim.verdict is Verdict.ERROR and "label vector" in claim.message


def test_a_counterexample_shows_a_label_vector_as_class_indices(tmp_path: Path) -> None:
    """At the point of a refutation, y is written as the file declares it: N class indices, each below C."""
    path = tmp_path / "m.toml"
    path.write_text(LABELS.replace('dscores = "(P - np.eye(C)[y]) / N"', 'dscores = "P - np.eye(C)[y]"'))
    [claim] = check_path(path).claims
    assert claim.verdict is Verdict.REFUTED and claim.counterexample is not None
    shown = dict(claim.counterexample.point)["y"]
    classes = [int(c) for c in shown.removeprefix("np.array([").removesuffix("])").split(",")]
    assert len(classes) == 3 and all(0 <= c < 4 for c in classes)


ONE_HOT_TARGET = """
[sizes]
N = 2
C = 3
[inputs]
X = "N x C"
Y = "N x C, onehot"
[forward]
P = "softmax(X, axis=1)"
L = "-(N - 1) * (N - 2) * (N - 4) * np.sum(np.log(np.sum(P * Y, axis=1)))"
[claims]
dY = "-(N - 1) * (N - 2) * (N - 4) * np.log(P)"
"""


def test_no_derivative_with_respect_to_one_hot_data(tmp_path: Path) -> None:
    """d/dY of one-hot data is an ERROR: the engines read log Σ_c Y_c P_c as Σ_c Y_c log P_c, true only at 0/1 rows.

    The adversarial review's case: this false dY was PROVED for all sizes (the factor vanishes at N = 1, 2, 4, the
    sizes the witness tries); the true derivative is -k P / P[label], not -k log P."""
    path = tmp_path / "m.toml"
    path.write_text(ONE_HOT_TARGET)
    [claim] = check_path(path).claims
    assert claim.verdict is Verdict.ERROR and "one-hot data" in claim.message


SLICES = """
[sizes]
N = 2
H = 2
D = 3
[inputs]
x = "N x D"
[params]
W = "D x 4*H"
V = "N x 2*H"
[forward]
a = "x @ W"
gates = "np.concatenate([a[:, :H] * a[:, H:2*H], a[:, 2*H:3*H] + a[:, 3*H:]], axis=1)"
L = "np.sum(gates * V)"
[claims]
dV = "gates"
"""


def test_slices_and_concatenation_have_shapes_for_every_size(tmp_path: Path) -> None:
    """a[:, H:2*H] of an N x 4*H matrix is N x H for every H, and concatenating two of them is N x 2*H (H + H)."""
    spec = parse_spec("m.toml", SLICES)
    assert spec.shapes["gates"] == ("N", "2*H")
    assert _verdicts(tmp_path, SLICES) == {"dV": Verdict.PROVED}
    coincidence = SLICES.replace("a[:, :H] * a[:, H:2*H]", "a[:, :2] * a[:, H:2*H]")  # 2 = H only here
    with pytest.raises(InputError) as caught:
        parse_spec("m.toml", coincidence)
    assert "do not broadcast for all sizes" in caught.value.message


def test_max_is_exact_at_ties(tmp_path: Path) -> None:
    """max of a row of equal entries is that entry (the first maximal one), so d sum(max(w + 0 x))/dw = N."""
    text = """
[sizes]
N = 3
C = 4
[inputs]
x = "N x C"
[params]
w = "scalar"
[forward]
h = "0 * x + w"
L = "np.sum(h.max(axis=1))"
[claims]
dw = "N + 0 * w"
dw_zero_at_ties = { wrt = "w", formula = "0 * w" }
"""
    assert _verdicts(tmp_path, text) == {"dw": Verdict.PROVED, "dw_zero_at_ties": Verdict.REFUTED}


def test_a_negated_indicator_is_its_complement_only_off_a_null_set(tmp_path: Path) -> None:
    """(z < 0) = 1 - (z > 0) for a pre-activation z (they differ only at z = 0); not for v = relu(z) @ W2 without a
    bias, which is 0 on the whole region z < 0, where d min(v, 0)/dv = 1 (relu'(0) = 0) but (v < 0) is 0."""
    text = """
[sizes]
N = 2
D = 2
H = 2
[inputs]
X = "N x D"
[params]
W1 = "D x H"
W2 = "H x H"
[forward]
z = "X @ W1"
v = "np.maximum(z, 0) @ W2"
L = "np.sum(np.minimum(z, 0)) + np.sum(np.minimum(v, 0))"
[claims]
dz = "(z < 0) + ((v <= 0) @ W2.T) * (z > 0)"
dz_negation_of_v = { wrt = "z", formula = "(z < 0) + ((v < 0) @ W2.T) * (z > 0)" }
"""
    verdicts = _verdicts(tmp_path, text)
    assert verdicts["dz"] is Verdict.PROVED
    assert verdicts["dz_negation_of_v"] is not Verdict.PROVED


def test_a_square_root_is_not_positive_where_its_argument_is_zero(tmp_path: Path) -> None:
    """sqrt(0) = 0, so (sqrt(relu(z)) > 0) is the mask of z, not 1: d sum(dout z [sqrt(relu z) > 0])/dz = dout m."""
    text = """
[sizes]
N = 2
D = 2
[inputs]
z = "N x D"
dout = "N x D"
[forward]
s = "np.sqrt(relu(z))"
L = "np.sum(dout * z * (s > 0))"
[claims]
dz = "dout * (z > 0)"
dz_ignoring_the_mask = { wrt = "z", formula = "dout" }
"""
    verdicts = _verdicts(tmp_path, text)
    assert verdicts["dz_ignoring_the_mask"] is Verdict.REFUTED
    assert verdicts["dz"] is not Verdict.REFUTED


def test_where_with_a_branch_undefined_where_not_selected_is_refused() -> None:
    """np.where(h > 0, 1 / h, 0) keeps 0 where h = 0; c a + (1 - c) b would cancel m / (m z) to 1 / z there."""
    text = LABELS.replace(
        'scores = "X @ W + E[y] @ W"', 'h = "relu(X @ W)"\nr = "np.where(h > 0, 1 / h, 0)"\nscores = "r"'
    )
    with pytest.raises(InputError) as caught:
        parse_spec("m.toml", text)
    assert "a branch that can be undefined" in caught.value.message
    through_a_line = text.replace('r = "np.where(h > 0, 1 / h, 0)"', 'q = "1 / h"\nr = "np.where(h > 0, q, 0)"')
    with pytest.raises(InputError):
        parse_spec("m.toml", through_a_line)


def test_the_null_set_rule_needs_a_rational_function(tmp_path: Path) -> None:
    """2 log(x^2 + 1) - log((x^2 + 1)^2) is identically 0: its negation is not its complement (it is not rational)."""
    text = """
[sizes]
N = 1
[inputs]
x = "N"
dout = "N"
[forward]
L = "np.sum(dout * (2 * np.log(x**2 + 1) - np.log((x**2 + 1)**2) < 0))"
[claims]
ddout = "1 - (2 * np.log(x**2 + 1) - np.log((x**2 + 1)**2) > 0)"
"""
    assert _verdicts(tmp_path, text)["ddout"] is not Verdict.PROVED
