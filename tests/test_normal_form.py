"""The exact normal form: sound reductions for masks and one-hot rows, and nothing more."""

from __future__ import annotations

import pytest
import sympy as sp

from derive_check.verify.decide.normal_form import NormalForm, NotRational

m, n = sp.symbols("m n")  # activation masks
y0, y1, y2 = sp.symbols("y0 y1 y2")  # one one-hot row
z0, z1 = sp.symbols("z0 z1")  # a second row
a, b, e1, e2, e3 = sp.symbols("a b e1 e2 e3")  # continuous symbols and exp atoms


def is_zero(expr: sp.Expr) -> bool:
    gens = sorted(expr.free_symbols | {a}, key=str)
    return NormalForm(gens, [m, n], [[y0, y1, y2], [z0, z1]]).residual_is_zero(expr)


@pytest.mark.parametrize(
    "identity",
    [
        m**2 - m,  # masks are 0/1
        m**3 * a - m * a,
        m * n * (1 - m) * a,
        y0 + y1 + y2 - 1,  # a one-hot row sums to 1
        y0 * y1,  # two entries of one row are never both on
        y0**2 - y0,
        (y0 + y1 + y2) * a - a,
        (a * y0 + b * y1) * (y0 + y1 + y2) - a * y0 - b * y1,
        y0 * z0 - y0 * (1 - z1),  # rows are independent but each sums to 1
        a / (a + b) + b / (a + b) - 1,  # rational functions
        1 / (2 * (a + b)) - 1 / (2 * a + 2 * b),  # the same factor written two ways
        e1 / (e1 + e2) * (e1 + e2) - e1,
    ],
    ids=lambda e: str(e),
)
def test_true_identities_reduce_to_zero(identity: sp.Expr) -> None:
    assert is_zero(identity)


@pytest.mark.parametrize(
    "nonidentity",
    [
        m - 1,  # a mask can be off
        m - n,  # masks are independent
        y0 - y1,  # labels differ between classes
        y0 * z0,  # both rows can pick class 0
        y0 + y1 - 1,  # class 2 exists (y2 is not mentioned, yet it is part of the row)
        a**2 - a,  # continuous symbols are not 0/1
        e1 * e2 - e3,  # exp atoms are independent: exp(a)exp(b) = exp(a+b) is never assumed
        a / (a + b) - 1,
    ],
    ids=lambda e: str(e),
)
def test_false_identities_do_not_reduce_to_zero(nonidentity: sp.Expr) -> None:
    assert not is_zero(nonidentity)


def test_a_denominator_that_depends_on_a_mask_is_not_normalised() -> None:
    with pytest.raises(NotRational):
        is_zero(a / (m + 1) - a)


def test_division_by_an_identically_zero_expression_is_an_error() -> None:
    with pytest.raises(ZeroDivisionError):
        is_zero(sp.Pow(sp.Add(a, -a, evaluate=False), -1, evaluate=False))


def test_opaque_functions_are_independent_atoms() -> None:
    f = sp.Function("Log")(a + b)
    engine = NormalForm(sorted({a, b, f}, key=str), [], [])
    assert engine.residual_is_zero(f * 2 - f - f)
    assert not engine.residual_is_zero(f - a)
