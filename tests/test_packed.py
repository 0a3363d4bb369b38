"""Packed polynomials and the normal form built on them, against an oracle that enumerates the discrete values.

The oracle shares nothing with the engine: for every 0/1 value of the masks and every one-hot value of the
label row it substitutes numbers and asks SymPy's `cancel` whether the rational function left is zero. The
identity checked: the normal form says zero exactly when the oracle does, for random residuals over continuous
symbols, masks and a label row, built to be zero (rewritten by facts of the variety) or perturbed.
"""

from __future__ import annotations

import itertools
import random

import pytest
import sympy as sp

from derive_check.verify.decide.normal_form import NormalForm, NotRational
from derive_check.verify.decide.packed import MAX_DEGREE, WIDTH, DegreeTooHigh, Space

a, b, c = sp.symbols("a b c")
m, n = sp.symbols("m n")
y0, y1, y2 = sp.symbols("y0 y1 y2")
CONTINUOUS, MASKS, ROW = [a, b, c], [m, n], [y0, y1, y2]


def _engine() -> NormalForm:
    return NormalForm([*CONTINUOUS, *MASKS, *ROW], MASKS, [ROW])


def oracle_zero(expr: sp.Expr) -> bool:
    """Zero for every mask value and every label, as a rational function of the continuous symbols."""
    for masks in itertools.product((0, 1), repeat=len(MASKS)):
        for hot in range(len(ROW)):
            values = {**dict(zip(MASKS, masks, strict=True)), **{y: int(k == hot) for k, y in enumerate(ROW)}}
            if sp.cancel(sp.together(expr.xreplace(values))) != 0:
                return False
    return True


def _random_expr(rng: random.Random, depth: int) -> sp.Expr:
    if depth == 0 or rng.random() < 0.25:
        pick = rng.random()
        if pick < 0.4:
            return rng.choice(CONTINUOUS)
        if pick < 0.6:
            return rng.choice(MASKS)
        if pick < 0.8:
            return rng.choice(ROW)
        return sp.Integer(rng.randint(-3, 3))
    kind = rng.choice(["add", "add", "mul", "mul", "pow", "div"])
    left, right = _random_expr(rng, depth - 1), _random_expr(rng, depth - 1)
    if kind == "add":
        return left + right
    if kind == "mul":
        return left * right
    if kind == "pow":
        return left ** rng.randint(2, 3)
    return left / (rng.choice(CONTINUOUS) + rng.randint(1, 3))  # a continuous, non-zero denominator


def _rewritten(expr: sp.Expr, rng: random.Random) -> sp.Expr:
    """The same function on the variety, written differently."""
    out = sp.expand(expr)
    out = out.replace(lambda e: e.is_Pow and e.base in (*MASKS, *ROW) and e.exp.is_Integer, lambda e: e.base)
    choice = rng.randrange(3)
    if choice == 0:
        out = out.xreplace({y2: 1 - y0 - y1})
    elif choice == 1:
        out = sp.expand(out * (y0 + y1 + y2))
    else:
        out = sp.together(out)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_the_normal_form_agrees_with_enumerating_the_discrete_values(seed: int) -> None:
    rng = random.Random(seed)
    agreed = zeros = 0
    for _ in range(40):
        expr = _random_expr(rng, 3)
        other = _rewritten(expr, rng)
        if rng.random() < 0.5:  # a perturbation: often non-zero, sometimes zero on the variety (m**2 - m)
            other += rng.choice([m, m**2 - m, y0 * y1, a * y0, y0 + y1 + y2 - 1, b * m * n, sp.Integer(1)])
        residual = sp.Add(expr, -other, evaluate=False)
        try:
            said = _engine().residual_is_zero(residual)
        except NotRational:
            continue
        truth = oracle_zero(residual)
        assert said == truth, residual
        agreed += 1
        zeros += truth
    assert agreed >= 30 and 5 <= zeros <= agreed - 5  # both kinds were exercised


def test_products_keep_masks_and_labels_zero_or_one() -> None:
    space = Space([a, m, y0], discrete=[1, 2])
    product = (space.gen(1) * space.gen(1) * space.gen(0)) ** 3 * space.gen(2) ** 4
    assert product.as_expr() == a**3 * m * y0
    assert product.degree(0) == 3 and product.degree(1) == 1 and product.degree(2) == 1


def test_a_product_that_could_overflow_a_field_is_refused() -> None:
    space = Space([a], discrete=[])
    big = space.gen(0) ** (MAX_DEGREE // 2)
    with pytest.raises(DegreeTooHigh):
        big * big * space.gen(0) ** 2
    assert (big * big).degree(0) == 2 * (MAX_DEGREE // 2) < 1 << WIDTH


def test_a_huge_power_is_not_normalised_rather_than_wrapped() -> None:
    """a**65536 would carry into the next field (and read as b): the engine gives no answer instead."""
    space = _engine().space
    assert space.exponent(space.gen(0).terms.popitem()[0], 0) == 1
    for huge in (a ** (MAX_DEGREE + 1) - a * b, sp.Pow(a, MAX_DEGREE, evaluate=False) * a - b):
        with pytest.raises(NotRational):
            _engine().residual_is_zero(huge)


def test_a_denominator_that_is_a_mask_is_never_cancelled() -> None:
    """m**2 / m is m where it is defined, and undefined at m = 0: it is not normalised, never called 1."""
    with pytest.raises(NotRational):
        _engine().residual_is_zero(sp.Mul(m**2, sp.Pow(m, -1), evaluate=False) - 1)


def test_one_variable_is_recognised_and_nothing_else() -> None:
    space = Space([a, b], discrete=[])
    assert space.gen(1).variable() == 1
    assert (space.gen(0) * space.gen(0)).variable() is None
    assert space.gen(0).scaled(2).variable() is None
    assert (space.gen(0) + space.gen(1)).variable() is None
    assert space.one().variable() is None


def test_equal_polynomials_are_equal_keys() -> None:
    space = Space([a, b], discrete=[])
    first = space.gen(0) * space.gen(1) + space.one()
    second = space.one() + space.gen(1) * space.gen(0)
    assert first == second and hash(first) == hash(second) and len({first: 1, second: 2}) == 1


def test_label_rows_that_share_an_entry_are_read_term_by_term() -> None:
    """Rows [c, a] and [c, d] force a = d = 1 - c, so a*d - (1 - c) is zero; rows [a, y] and [c, y] leave y."""
    d, y = sp.symbols("d y")
    assert NormalForm([c, a, d], [], [[c, a], [c, d]]).residual_is_zero(sp.Add(a * d, c - 1, evaluate=False))
    shared = NormalForm([a, c, y], [], [[a, y], [c, y]])
    reduced = shared.reduced_numerator(y)
    assert all(m >= 0 for m in reduced.terms)  # no field borrowed from its neighbour
    assert reduced.as_expr() == 1 - a and shared.residual_is_zero(y - (1 - a))


def test_a_large_product_is_a_safe_point_of_the_time_budget() -> None:
    """A product of thousands of terms by thousands checks the budget row by row instead of running to the end."""
    from derive_check.derive.budget import BudgetExceeded, time_budget

    space = Space([a, b], discrete=[])
    left = sum((space.gen(0) ** k for k in range(1, 1500)), space.zero())
    right = sum((space.gen(1) ** k for k in range(1, 1500)), space.zero())
    with pytest.raises(BudgetExceeded), time_budget(0.05):
        left * right  # 2.2 million pairs: seconds of work, stopped after the first rows
