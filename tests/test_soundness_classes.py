"""The classes of lies an adversarial user found, one test per member of each class.

Each test states the identity (or the rule) it checks. Every one of them failed before the fix of
its class: a false PROVED, a false "proved for all sizes", a false PROBABLE, an internal error, or a
file that exited 0 on a false claim.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from derive_check.derive.errors import InputError
from derive_check.derive.model.spec import load_file, parse_spec
from derive_check.reports.machine import exit_code
from derive_check.verify.results import FileResult, Verdict
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES, SOFTMAX_HEAD, check_text

P, R, S, E, U = Verdict.PROVED, Verdict.REFUTED, Verdict.SHAPE_ERROR, Verdict.ERROR, Verdict.UNDECIDED

SOFTMAX = SOFTMAX_HEAD + "[claims]\n"

STAGED = """
title = "softmax written in stages"
[sizes]
N = 2
C = 3
[inputs]
Y = "N x C, onehot"
[params]
scores = "N x C"
[forward]
E = "exp(scores)"
S = "sum(E, axis=1)"
L = "-sum(Y * log(E)) / N + sum(log(S)) / N"
[claims]
"""

LINEAR = """
title = "a linear layer"
[sizes]
N = 2
D = 3
[inputs]
X = "N x D"
[params]
W = "D x D"
[forward]
z = "X @ W"
"""


def verdicts(text: str) -> dict[str, tuple[Verdict, str]]:
    """Each claim's verdict and sizes ('all', 'stated' or '')."""
    return {r.name: (r.verdict, r.scope) for r in check_text(text)}


# Class 1: dL/dV for a forward line V is the derivative with V's own value as the variable.


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("dP = '-Y / P / N'", P),  # ∂/∂P of -Σ Y log P / N
        ("dP = '0 * P'", R),  # once PROVED: the loss was read through log(P) and never mentioned P
    ],
)
def test_the_gradient_with_respect_to_softmax_output_p_is_minus_y_over_p(claim: str, expected: Verdict) -> None:
    [(verdict, _)] = verdicts(SOFTMAX + claim + "\n").values()
    assert verdict is expected


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("dE = '-Y / E / N + softmax(scores, axis=1) / E / N'", P),  # 1/S_i = P_ic / E_ic: S is recomputed from E
        ("dE = '-Y / E / N'", R),  # holds S fixed, but S depends on E
        ("dS = '1 / (N * S)'", P),
        ("dS = '0 * S'", R),
    ],
)
def test_staged_softmax_gradients_are_taken_through_their_own_lines(claim: str, expected: Verdict) -> None:
    [(verdict, _)] = verdicts(STAGED + claim + "\n").values()
    assert verdict is expected


def test_an_identity_line_has_its_own_gradient_not_the_sum_over_every_path() -> None:
    text = LINEAR + 'h = "identity(z)"\nL = "sum(h * h) + sum(z)"\n[claims]\n'
    text += 'dh = "2 * h"\ndh_total = { wrt = "h", formula = "2 * h + 1" }\n'
    assert verdicts(text) == {"dh": (P, "all"), "dh_total": (R, "")}


def test_a_line_is_not_the_same_quantity_as_its_formula_written_out_elsewhere() -> None:
    text = LINEAR + 's = "sigmoid(z)"\nL = "sum(s) + sum(sigmoid(z))"\n[claims]\n'
    text += 'ds = "1 + 0 * s"\nds_both = { wrt = "s", formula = "2 + 0 * s" }\n'
    result = verdicts(text)
    assert result["ds"][0] is P and result["ds_both"][0] is R


def test_seed_002_first_step_dl_dyhat_t_is_minus_one_over_yhat_t() -> None:
    text = """
title = "one sample, softmax"
[sizes]
K = 4
[inputs]
y = "K x 1, onehot"
[params]
z = "K x 1"
[forward]
yhat = "softmax(z, axis=0)"
L = "-sum(y * log(yhat))"
[claims]
dyhat_t = { wrt = "yhat[t]", formula = "-1 / yhat[t]", for = { t = "K" }, label = { y = "t" } }
dyhat_t_zero = { wrt = "yhat[t]", formula = "0", for = { t = "K" }, label = { y = "t" } }
"""
    result = verdicts(text)
    assert result["dyhat_t"][0] is P and result["dyhat_t_zero"][0] is R


# Class 2: the index engine proves theorems about exactly the model in the file.


def test_a_line_after_the_loss_does_not_change_which_theorem_is_proved() -> None:
    text = LINEAR + 'L = "sum(z)"\nextra = "sum(z * z)"\n[claims]\n'
    text += 'dz = "1 + 0 * z"\ndz_extra = { wrt = "z", formula = "2 * z" }\n'
    assert verdicts(text) == {"dz": (P, "all"), "dz_extra": (R, "")}


def test_the_square_of_a_sum_is_a_double_sum_so_a_d_equals_1_identity_is_not_all_sizes() -> None:
    text = '[sizes]\nD = 1\n[params]\nw = "D"\n[forward]\ns = "sum(w)"\nL = "s ** 2"\n[claims]\ndw = "2 * w"\n'
    assert verdicts(text) == {"dw": (P, "stated")}  # true at D = 1 only: (Σ_k w_k)² ≠ Σ_k w_k²


# Class 3: every name has one meaning; a claim that checks nothing is never a pass.


@pytest.mark.parametrize("name", ["N", "X", "W", "z", "L"])
def test_a_claim_key_that_reuses_a_model_name_is_an_error_not_a_rebinding(name: str) -> None:
    text = LINEAR + f'L = "sum(z * z)"\n[claims]\n{name} = "2 * X.T @ z"\ndW = "2 * X.T @ z"\n'
    result = {r.name: r for r in check_text(text)}
    assert result[name].verdict is E and "already declared" in result[name].message
    assert result["dW"].verdict is P  # the later claim still reads the model's own name


def test_a_later_claim_cannot_see_a_rebinding_of_a_forward_name() -> None:
    text = SOFTMAX + 'P = "scores"\ndscores = "P"\n'
    result = {r.name: r.verdict for r in check_text(text)}
    assert result == {"P": E, "dscores": R}  # once PROVED: P meant the claim, not softmax(scores)


@pytest.mark.parametrize(
    ("functions", "param", "message"),
    [
        ('[functions]\nW = "elementwise"\n', "", "already declared"),
        ('[functions]\nf = "elementwise"\n', 'df = "D"', "already declared"),  # f declares df and ddf too
        ("", 'exp = "D"', "function of the formula language"),
    ],
)
def test_a_name_declared_twice_in_the_model_is_an_input_error(functions: str, param: str, message: str) -> None:
    text = LINEAR.replace("[params]", functions + "[params]", 1).replace('W = "D x D"', 'W = "D x D"\n' + param)
    with pytest.raises(InputError, match=message):
        parse_spec("t.toml", text + 'L = "sum(z)"\n')


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("e = { wrt = 'W[t, t]', formula = '0', for = { t = 'D' }, when = 't != t' }", "checks nothing"),
        ("e = { wrt = 'W[t, 5]', formula = '0', for = { t = 'D' } }", "out of range"),
        ("e = { wrt = 'N', formula = '0' }", "is a size"),
        ("dW = '2 * X.T @ z'\ne = { wrt = 'dW', formula = '0' }", "is a claim"),
        ("e = { wrt = 'W[t, t]', formula = '0', for = { N = 'D' } }", "already declared"),
    ],
)
def test_claims_that_check_nothing_or_name_the_wrong_kind_are_errors(claim: str, message: str) -> None:
    result = check_text(LINEAR + 'L = "sum(z * z)"\n[claims]\n' + claim + "\n")[-1]
    assert result.verdict is E and message in result.message, result.message


def test_a_condition_may_name_a_size_and_means_its_value() -> None:
    text = LINEAR + 'L = "sum(z * z)"\n[claims]\n'
    text += "e = { wrt = 'W[t, t]', formula = '2 * (X.T @ z)[t, t]', for = { t = 'D' }, when = 't < D' }\n"
    [result] = check_text(text)
    assert result.verdict is P and result.entries == 3


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


BASE = LINEAR + 'L = "sum(z * z)"\n[claims]\ndW = "2 * X.T @ z"\n'


def test_a_file_that_extends_another_checks_its_own_claims(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base.toml": BASE,
            "child.toml": 'extends = "base.toml"\n[claims]\ndW_half = { wrt = "W", formula = "X.T @ z" }\n',
        },
    )
    result = check_path(tmp_path / "child.toml")
    assert {c.name: c.verdict for c in result.claims} == {"dW": P, "dW_half": R}
    assert exit_code([result]) == 1  # once 0: the child's claims were silently dropped


def test_extends_overrides_sizes_and_claims_and_says_so(tmp_path: Path) -> None:
    child = 'extends = "base.toml"\n[sizes]\nD = 4\n[claims]\ndW = "X.T @ z"\n'
    write(tmp_path, {"base.toml": BASE, "child.toml": child})
    spec = load_file(tmp_path / "child.toml")
    assert spec.sizes == {"N": 2, "D": 4}
    assert any("replaces" in n for n in spec.notes) and any("D = 4" in n for n in spec.notes)
    assert {c.name: c.verdict for c in check_path(tmp_path / "child.toml").claims} == {"dW": R}


@pytest.mark.parametrize(
    ("child", "message"),
    [
        ('extends = "base.toml"\n[forward]\nq = "z"\n', "cannot be given in a file that extends"),
        ('extends = "../base.toml"\n', "in this file's folder"),
        ('extends = "/etc/passwd"\n', "in this file's folder"),
        ('extends = "child.toml"\n', "cannot extend itself"),
        ('extends = "base.toml"\n[sizes]\nK = 3\n', "is not a size of"),
    ],
)
def test_extends_is_merged_explicitly_or_rejected(tmp_path: Path, child: str, message: str) -> None:
    write(tmp_path, {"base.toml": BASE, "child.toml": child})
    with pytest.raises(InputError, match=message):
        load_file(tmp_path / "child.toml")


# Class 5: the randomized bound holds for every label assignment.


def test_randomized_mode_covers_label_classes_the_residual_does_not_mention(tmp_path: Path) -> None:
    others = " - ".join(f"Y[0,{c}]" for c in range(10) if c != 6)
    text = (
        '[sizes]\nN = 1\nC = 10\n[inputs]\nY = "N x C, onehot"\nX = "N x C"\n[params]\nW = "C x C"\n'
        f'[forward]\nscores = "X @ W"\nL = "sum(Y * scores)"\n[claims]\ndscores = "Y + 1 - {others}"\n'
    )  # equals the gradient except when the label is class 6
    (tmp_path / "f.toml").write_text(text)
    [result] = check_path(tmp_path / "f.toml", randomized=True).claims
    assert result.verdict is R  # once PROBABLE with P(wrong) <= 2^-183


# Class 7: the forward pass type-checks at symbolic sizes.


def test_an_ill_typed_forward_line_is_an_input_error_even_when_the_sizes_coincide() -> None:
    text = LINEAR.replace('W = "D x D"', 'W = "D x H"\nb = "D"').replace("D = 3", "D = 3\nH = 3")
    text = text.replace('z = "X @ W"', 'z = "X @ W + b"') + 'L = "sum(z * z)"\n[claims]\ndz = "2 * z"\n'
    with pytest.raises(InputError, match="do not broadcast for all sizes") as caught:
        parse_spec("t.toml", text)
    assert caught.value.where.line == text.splitlines().index('z = "X @ W + b"') + 1


# The second line of defence: a pass the witness does not confirm is never reported as a pass.


def test_an_engine_lie_becomes_inconsistent_with_exit_code_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from derive_check.verify.decide.equality import Equality

    monkeypatch.setattr(Equality, "first_nonzero", lambda self, residuals, rounds=2: None)
    monkeypatch.setattr(Equality, "proves", lambda self, truth, claimed, residuals: True)  # an engine that lies
    (tmp_path / "f.toml").write_text(BASE.replace('dW = "2 * X.T @ z"', 'dW = "X.T @ z"'))
    result = check_path(tmp_path / "f.toml")
    [claim] = result.claims
    assert claim.verdict is Verdict.INCONSISTENT
    assert "disagree" in claim.message and "dW[" in claim.message
    assert exit_code([result]) == 3


def test_every_pass_records_what_the_witness_checked() -> None:
    results = check_text(BASE)
    assert all(r.verdict is P and "agrees" in r.witness for r in results)


def test_exit_codes_rank_inconsistent_above_input_errors() -> None:
    def file(*verdicts: Verdict) -> FileResult:
        from derive_check.verify.results import ClaimResult

        claims = tuple(
            ClaimResult(name=f"c{k}", target="W", formula="0", verdict=v, line=1) for k, v in enumerate(verdicts)
        )
        return FileResult(file="f.toml", title="f", claims=claims)

    assert exit_code([file(P)]) == 0
    assert exit_code([file(P, R)]) == 1
    assert exit_code([file(R, E)]) == 2
    assert exit_code([file(E, Verdict.INCONSISTENT)]) == 3


# Found by an adversarial review of the fixes above; each was a lie or a traceback before.


def test_an_activation_of_a_per_sample_quantity_inside_a_sum_is_not_proved_for_all_sizes() -> None:
    text = '[sizes]\nN = 2\nD = 3\n[inputs]\nX = "N x D"\n[params]\nv = "D"\n[forward]\nL = "sum(v * sum(X, axis=0))"\n'
    claim = "sum(X, axis=0) + (N - 2) * (sum(exp(X[i]) * X[i] for i in range(N)) - sum(exp(X[i]) for i in range(N)))"
    assert verdicts(text + f'[claims]\ndv = "{claim}"\n') == {"dv": (P, "stated")}  # true at N = 2 only


@pytest.mark.parametrize(("scale", "claim"), [("1e-400", "0 * W"), ("0.10000000000000000001", "0.1 + 0 * W")])
def test_decimal_constants_are_read_exactly_from_their_digits(scale: str, claim: str) -> None:
    text = f'[sizes]\nD = 2\n[params]\nW = "D x D"\n[forward]\nL = "sum(W) * {scale}"\n[claims]\ndW = "{claim}"\n'
    assert verdicts(text)["dW"][0] is R  # once PROVED: the constant went through a float


def test_a_latex_power_of_a_matrix_is_rejected_as_ambiguous() -> None:
    text = '[sizes]\nD = 3\n[params]\nW = "D x D"\n[forward]\nL = "sum(W ** 3) / 3"\n[claims.dW]\n'
    text += "latex = '\\frac{\\partial L}{\\partial W} = W^2'\n"
    [result] = check_text(text)
    assert result.verdict is S and "ambiguous" in result.message  # once PROVED as W ⊙ W for all sizes


def test_two_cuts_never_share_a_symbol_whatever_order_the_claims_come_in() -> None:
    text = SOFTMAX.replace("scores", "z").replace('P = "softmax(z, axis=1)"', 'E = "exp(z)"\nS = "sum(E, axis=1)"')
    text = text.replace(
        'L = "-sum(Y * log(P)) / N"',
        'P = "(E.T / S).T"\nQ = "softmax(z, axis=1)"\nL = "-sum(Y * log(P)) / N - sum(Y * log(Q)) / N"',
    )
    text += "dP = '-Y / P / N'\ndQ0 = { wrt = 'Q', formula = '0 * Q' }\ndQ = '-Y / Q / N'\n"
    result = verdicts(text)
    assert (result["dP"][0], result["dQ0"][0], result["dQ"][0]) == (P, R, P)  # once INCONSISTENT: dL/dQ read as 0


def test_n_by_c_one_hot_labels_have_one_hot_rows_even_when_c_is_1() -> None:
    text = '[sizes]\nN = 2\nC = 1\n[inputs]\nY = "N x C, onehot"\n[params]\nz = "N x C"\n[forward]\nL = "sum(Y * z)"\n'
    result = verdicts(text + '[claims]\ndz = "Y"\ndz_column = { wrt = "z", formula = "Y * sum(Y)" }\n')
    assert result["dz"][0] is P and result["dz_column"][0] is R  # every row is [1]: sum(Y) = N


@pytest.mark.parametrize(
    ("extends", "message"),
    [("base.toml\\u0000x", "extends"), ("x" * 5000 + ".toml", "extends"), ("loop.toml", "cannot be resolved")],
)
def test_hostile_extends_paths_are_input_errors(tmp_path: Path, extends: str, message: str) -> None:
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    (tmp_path / "child.toml").write_text(f'extends = "{extends}"\n')
    with pytest.raises(InputError, match=message):
        load_file(tmp_path / "child.toml")


def test_deeply_nested_toml_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "deep.toml").write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    with pytest.raises(InputError, match="nested too deeply"):
        load_file(tmp_path / "deep.toml")


def test_a_directory_scan_never_follows_a_file_out_of_the_folder(tmp_path: Path) -> None:
    from derive_check.cli import collect

    (tmp_path / "project").mkdir()
    (tmp_path / "secret.toml").write_text("password = 'hunter2'\n")
    (tmp_path / "project" / "leak.toml").symlink_to(tmp_path / "secret.toml")
    (tmp_path / "project" / "own.toml").write_text(BASE)
    assert collect([tmp_path / "project"]) == [tmp_path / "project" / "own.toml"]


@pytest.mark.parametrize("kind", ["corrupt", "a file", "read-only"])
def test_an_unusable_cache_is_skipped_with_a_warning_never_a_traceback(tmp_path: Path, kind: str) -> None:
    from derive_check.verify.run.cache import ProofCache

    folder = tmp_path / "cache"
    folder.mkdir()
    if kind == "corrupt":
        (folder / "proofs.sqlite").write_text("not a database at all, " * 40)
    elif kind == "a file":
        folder = tmp_path / "plain"
        folder.write_text("")
    else:
        folder.chmod(0o500)
    cache = ProofCache.open(folder / "proofs.sqlite", warn=False)
    if kind != "read-only":  # (root may still write a read-only folder; then the cache must simply work)
        assert cache is None  # refused, so the run goes on uncached instead of failing
    (tmp_path / "f.toml").write_text(BASE)
    assert [c.verdict for c in check_path(tmp_path / "f.toml", cache=cache).claims] == [P]


# Found by an adversarial review of the op-table refactor (all five predate it).

LEAKY_TINY = """
[sizes]
N = 2
D = 2
[inputs]
X = "N x D"
[params]
w = "D"
[forward]
z = "X @ w"
a = "exp(leaky_relu(z, alpha=0.5))"
L = "sum(a)"
[claims]
dw = "X.T @ (a * (0.5 + 0.5 * (z > 0))) + (2 - N) * 1e400 * DIFFERENCE"
""".replace("DIFFERENCE", "X.T @ (exp(leaky_relu(z, alpha=1e-400)) - exp(leaky_relu(z, alpha=3e-400)))")


def test_options_that_differ_never_print_alike_so_their_atoms_never_merge() -> None:
    """leaky_relu(z, alpha=1e-400) and leaky_relu(z, alpha=3e-400) are different functions: printed as floats both
    were 'alpha=0.0', one index-notation atom, and a false claim was 'proved for all sizes' (the 100-digit witness
    cannot see a 1e-400 difference)."""
    [result] = check_text(LEAKY_TINY)
    assert result.general is None or not result.general.proved, result.general


INDEX_AS_VALUE = """
[sizes]
N = 3
D = 4
B = 5
C = 6
[inputs]
X = "N x D"
[params]
w = "D"
[forward]
s = "sum(sum(i * (i - 1) * (i - 2) * X[i] * w) for i in range(N))"
t = "sum(sum(i * (i - 1) * (i - 2) * i * (i - 1) * (i - 2) * X[i] * w) for i in range(N))"
u = "sum(sum(X[i] * w) for i in range(N))"
L = "s * s - t * u"
[claims]
dw = "0 * w"
"""


def test_a_summed_index_used_as_a_number_is_not_a_tensor_constant_in_index_notation() -> None:
    """In sum(i * x[i] for i in range(N)) the number i varies with the sum; read as a constant factor 'i' the index
    engine found the loss identically 0 and 'proved' dw = 0 for all sizes (false at N = 4)."""
    [result] = check_text(INDEX_AS_VALUE)
    assert result.general is None or not result.general.proved, result.general


RELU_TWICE = """
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
h = "relu(z)"
L = "sum(h * T)"
[claims.dW]
latex = '''\\frac{\\partial L}{\\partial W} = X^T (T \\odot \\text{ReLU}''(z))'''
"""


def test_a_second_derivative_in_latex_is_not_read_as_the_first() -> None:
    """ReLU''(z) is 0 almost everywhere, not [z > 0]: it was read as ReLU'(z) and the claim was PROVED."""
    [result] = check_text(RELU_TWICE)
    assert result.verdict is E and "not built in" in result.message


LATEX_COUNT = """
[sizes]
N = 2
D = 3
[inputs]
X = "N x D"
[params]
w = "D"
[forward]
L = "sum(i * (X[i] @ w) for i in range(N))"
[aliases]
'x' = "X"
[claims.dw_one]
wrt = "w"
latex = '''\\frac{\\partial L}{\\partial w} = \\sum_{i=1}^{N} i x_i'''
[claims.dw_zero]
wrt = "w"
latex = '''\\frac{\\partial L}{\\partial w} = \\sum_{i=0}^{N-1} i x_i'''
[claims.dw_shifted]
wrt = "w"
latex = '''\\frac{\\partial L}{\\partial w} = \\sum_{i=1}^{N} (i - 1) x_i'''
"""


def test_a_latex_sum_from_1_counts_its_index_from_1() -> None:
    """Σ_{i=1}^N i x_i is Σ_r (r + 1) X[r] with rows r from 0: the index as a number was read 0-based and a false
    claim PROVED. As a subscript x_i is row i - 1 either way."""
    results = {r.name: r.verdict for r in check_text(LATEX_COUNT)}
    assert results == {"dw_one": R, "dw_zero": P, "dw_shifted": P}


def test_a_latex_sum_without_a_range_may_not_use_its_index_as_a_number() -> None:
    """Σ_i i x_i: whether i starts at 0 or 1 changes the value, so the claim must say (an ERROR with a caret)."""
    text = LATEX_COUNT.replace("\\sum_{i=1}^{N} i x_i", "\\sum_{i} i x_i")
    assert text != LATEX_COUNT
    assert {r.name: r.verdict for r in check_text(text)}["dw_one"] is E


LOG_SPLIT = """
[sizes]
N = 1
[inputs]
X = "N"
Y = "N"
[params]
W = "N"
[forward]
L = "sum(W * log(X * Y))"
[claims]
dW = "log(X) + log(Y)"
dW_same = { wrt = "W", formula = "log(X * Y)" }
"""


def test_log_of_a_product_is_split_only_where_both_sides_have_one_domain() -> None:
    """log(X Y) = log X + log Y only for X, Y > 0; the model is defined at X = -1, Y = -2 where the claim is not,
    so 'log(X) + log(Y)' is not dL/dW. The engine split every log of a product, and the witness skipped the points
    where the claim was undefined; it now counts them against the claim."""
    results = {r.name: r.verdict for r in check_text(LOG_SPLIT)}
    assert results["dW_same"] is P
    assert results["dW"] is not P


def test_log_of_a_softmax_still_cancels_its_exp_atoms() -> None:
    """log(e_c / Σ e) = u_c - log Σ e: every factor is positive, so the split is sound and keeps softmax
    cross-entropy proofs exact."""
    assert [r.verdict for r in check_text(SOFTMAX + 'dscores = "(P - Y) / N"\n')] == [P]


# --- Entry claims and the readings of refuted claims (the fifth review) -------------------------------------------

WHEN_READS_A_SIZE = """
title = "a condition that reads a size"
[sizes]
N = 2
[inputs]
x = "N x 3"
[params]
w = "3"
[forward]
L = "np.sum(x @ w)"
[claims]
dw_k = { wrt = "w[k]", for = { k = 3 }, when = "k < N", formula = "np.sum(x[:, k]) + k * (k - 1) * np.sum(x)" }
"""


def test_a_condition_reads_sizes_where_the_claim_is_checked(tmp_path: Path) -> None:
    """when = "k < N" covers k = 0, 1 at N = 2 and k = 0, 1, 2 at N = 3: the claim (true for k < 2 only) is PROVED
    at N = 2 but never for every size, and a file that extends it at N = 3 refutes it at k = 2."""
    [proved] = check_text(WHEN_READS_A_SIZE)
    assert (proved.verdict, proved.scope) == (P, "stated"), proved.general
    (tmp_path / "parent.toml").write_text(WHEN_READS_A_SIZE)
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\n[sizes]\nN = 3\n')
    [child] = check_path(tmp_path / "child.toml").claims
    assert child.verdict is R and "k=2" in child.message, child.message


SHADOWED = """
title = "a for-variable shadowed by a per-sample sum"
[sizes]
N = 1
D = 2
[inputs]
X = "N x D"
[params]
w = "2"
[forward]
L = "np.sum(X[0]) * w[0] + np.sum(X) * w[1]"
[claims]
dw = { wrt = "w[i]", for = { i = 1 }, formula = "np.sum(X[i]) + (N - 3) * (S - N * np.sum(X[i]))" }
""".replace("S -", "sum(np.sum(X[i]) for i in range(N)) -")


def test_an_unrolled_entry_claim_keeps_a_sums_own_index() -> None:
    """Unrolling i := 1 must not reach inside sum(... for i in range(N)), whose i is its own: Σ_i sum(X[i]) is
    sum(X), not N·sum(X[1]), so the claim (true at N = 1 and 3 only) is not proved for every size."""
    [dw] = check_text(SHADOWED)
    assert dw.verdict is P and dw.scope == "stated", dw.general


def test_a_wrong_matrix_residual_is_caught_by_the_witness() -> None:
    """A residual R is shown only if the witness finds claim − R equal to the gradient: a wrong R (here the true one
    doubled) makes the result INCONSISTENT, a bug report, never a statement."""
    from dataclasses import replace

    from derive_check.derive.model.spec import load_file
    from derive_check.verify.witness.crosscheck import crosscheck
    from tests.conftest import EXAMPLES

    path = EXAMPLES / "two_layer_wrong.toml"
    result = check_path(path)
    dw2 = next(c for c in result.claims if c.name == "dW2")
    assert dw2.residual == "-reg * W2"
    [checked] = crosscheck(load_file(path), [replace(dw2, residual="-2 * reg * W2")])
    assert checked.verdict is Verdict.INCONSISTENT and "residual" in checked.message


SLICE_PAST_THE_AXIS = """
title = "a slice bound that passes the axis at some sizes"
[sizes]
N = 2
D = 3
[inputs]
w = "D"
[params]
x = "N x D"
s = "scalar"
[forward]
L = "np.sum(x ** 2) / 2 + s * np.mean(w[0:N])"
[claims]
dx = "x * np.sum(np.ones(D)[0:N]) / N"
ds = "np.sum(w[0:N]) / N"
"""


def test_a_slice_that_ends_past_its_axis_at_some_sizes_is_proved_at_the_stated_sizes_only() -> None:
    """np.ones(D)[0:N] and w[0:N] have N entries only where N <= D (numpy clips them), so Σ ones(D)[0:N] / N = 1 and
    d(s · mean(w[0:N]))/ds = Σ w[0:N] / N hold at N = 2, D = 3 but not at N = 4, D = 3: PROVED there, never "for
    every size"."""
    dx, ds = check_text(SLICE_PAST_THE_AXIS)
    for claim in (dx, ds):
        assert (claim.verdict, claim.scope) == (P, "stated"), claim.general
        assert claim.general is not None and "ends past its axis" in claim.general.summary


def test_a_file_that_extends_another_keeps_its_one_hot_and_partial_names(tmp_path: Path) -> None:
    """Namespace.copy passed the parent's partial lines where its one-hot names belong: in a child file the
    one-hot input Y could be differentiated (with y² = y in the algebra) and a forward line S was called one-hot."""
    (tmp_path / "base.toml").write_text(
        (EXAMPLES / "two_layer.toml").read_text().split("[claims]")[0] + '[claims]\ndscores = "(P - Y) / N"\n'
    )
    child_text = 'extends = "base.toml"\n[claims]\ndP = { wrt = "P", formula = "-Y / P / N" }\n'
    (tmp_path / "child.toml").write_text(child_text)
    child = load_file(tmp_path / "child.toml")
    assert child.names.onehot == {"Y"} and child.names.partial == {"L"}  # log(P): may be undefined
    assert [c.name for c in child.claims] == ["dscores", "dP"] and all(c.error is None for c in child.claims)
    (tmp_path / "bad.toml").write_text('extends = "base.toml"\n[claims]\ndY = "log(P)"\n')
    bad = load_file(tmp_path / "bad.toml")
    error = next(c.error for c in bad.claims if c.name == "dY")
    assert isinstance(error, InputError) and "one-hot data" in error.message
