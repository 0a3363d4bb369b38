"""The residual of a refuted claim as a matrix formula: claim − dL/dX = R, in the file's language, proved."""

from __future__ import annotations

import pytest

from derive_check.derive.errors import Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.printing.text import to_text
from derive_check.verify.diagnose.residual import matrix_residual
from derive_check.verify.results import Verdict
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES


def _residual(claim: str, corrected: str) -> str:
    return to_text(matrix_residual(parse_formula(claim, Location()), parse_formula(corrected, Location())))


@pytest.mark.parametrize(
    ("claim", "corrected", "residual"),
    [
        ("A @ u", "A @ v", "A @ (u - v)"),  # A u − A v = A (u − v): a matrix product is linear in each operand
        ("(u + w).T", "(v + w).T", "(u - v).T"),  # a shared term cancels inside a transpose
        ("x / N", "x", "(1 - N) / N * x"),  # x/N − x
        ("x", "x / N", "(N - 1) / N * x"),  # x − x/N
        ("x", "x / 2", "0.5 * x"),
        ("x", "x + 2 * reg * W", "-(2 * reg * W)"),  # a dropped term is the residual, negated
        ("sum(g * m, axis=0)", "sum(g, axis=0)", "sum(g * m - g, axis=0)"),  # inside a reduction
        ("exp(a) * b", "exp(c) * b", "(exp(a) - exp(c)) * b"),  # exp is not linear: the difference stays outside it
    ],
)
def test_the_difference_moves_inside_shared_linear_operators(claim: str, corrected: str, residual: str) -> None:
    """claim − corrected with every shared linear operator factored out (A u − A v = A (u − v)), never through a
    non-linear one (exp(a) − exp(c) is not exp(a − c))."""
    assert _residual(claim, corrected) == residual


def test_the_refuted_examples_get_proved_matrix_residuals() -> None:
    """two_layer_wrong.toml: each slip's residual is the slip itself, proved for every size."""
    result = check_path(EXAMPLES / "two_layer_wrong.toml")
    residuals = {c.name: (c.residual, c.residual_scope) for c in result.claims if c.residual}
    assert residuals["dscores"] == ("(N - 1) / N * (P - Y)", "all")  # the missing 1/N
    assert residuals["dW2"] == ("-reg * W2", "all")  # reg·W2 instead of 2·reg·W2
    assert residuals["dW1"] == ("X.T @ (dh1 - dh1 * (h1 > 0))", "all")  # the missing ReLU mask
    assert all(c.residual == "" for c in result.claims if c.verdict is Verdict.PROVED)


def test_a_residual_outside_the_index_calculus_is_proved_at_the_stated_sizes_only() -> None:
    """Seed 000's db1 is a per-sample sum with masks, outside the index calculus: its residual is proved at N = 2
    (the engine proves claim − R equal to the gradient there) and is not said to hold for every size."""
    result = check_path(EXAMPLES / "seeds" / "000_two_layer_linear_algebra.toml")
    db1 = next(c for c in result.claims if c.name == "db1")
    assert db1.verdict is Verdict.REFUTED and db1.residual.startswith("0.5 * sum("), db1.residual
    assert db1.residual_scope == "stated"


def test_the_readable_residual_is_not_attempted_when_its_expansion_would_be_large() -> None:
    """`readable_expr` rewrites the same value for the report; SymPy's expand cannot be interrupted by a budget, so
    a residual whose expansion has more than MAX_TERMS monomials is shown as it stands (a refutation at a deep
    fuzzed model spent 112 s here, past its 3 s budget, and lost its verdict)."""
    import sympy as sp

    from derive_check.derive.exact.atoms import Atoms
    from derive_check.verify.refute.display import MAX_TERMS, _terms, readable_expr

    xs = sp.symbols("x0:12")
    big = sp.Add(*xs) ** 4 - sp.Add(*xs[:6]) ** 4  # 12^4 + 6^4 monomials before combining
    small = (xs[0] + xs[1]) ** 2 - xs[0] ** 2
    assert _terms(big, {}) > MAX_TERMS >= _terms(small, {}) == 5
    atoms = Atoms()
    assert readable_expr(big, atoms, {}) is big  # untouched, not expanded
    assert readable_expr(small, atoms, {}) == sp.factor_terms(sp.expand(small))  # 2 x0 x1 + x1**2, factored
