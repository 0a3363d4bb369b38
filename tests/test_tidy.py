"""Corrected formulas as a person writes them (`verify.diagnose.tidy`): each rewrite an identity, checked here by
the printed form and by value at a random point."""

from __future__ import annotations

import random

import pytest

from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.printing.text import to_text
from derive_check.derive.source import Location
from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.diagnose.tidy import tidy


def _parse(text: str) -> Node:
    return parse_formula(text, Location("f.toml", 1, "claims.d", text))


def _value(node: Node, env: dict[str, float]) -> float:
    if isinstance(node, Const):
        return float(node.value)
    if isinstance(node, Ref):
        return env[node.name]
    assert isinstance(node, Apply)
    a = [_value(x, env) for x in node.args]
    return {
        "add": lambda: a[0] + a[1],
        "sub": lambda: a[0] - a[1],
        "mul": lambda: a[0] * a[1],
        "div": lambda: a[0] / a[1],
        "neg": lambda: -a[0],
    }[node.op]()


@pytest.mark.parametrize(
    ("written", "tidied"),
    [
        ("x / N / (1 / N)", "x"),  # x / a / (1 / a) = x
        ("reg * W2 + reg * W2", "2 * reg * W2"),  # a + a = 2a
        ("g + reg * W2 + reg * W2", "g + 2 * reg * W2"),  # collected across the chain
        ("g + (-1) * (reg * W1)", "g - reg * W1"),  # x + (-1)·y = x - y
        ("g + 3 * h - h", "g + 2 * h"),
        ("g + h - h", "g"),
        ("1 * x / 1", "x"),
        ("x * N / N", "x"),
        ("g - -h", "g + h"),
    ],
)
def test_a_corrected_formula_is_tidied_to_an_equal_one(written: str, tidied: str) -> None:
    got = tidy(_parse(written))
    assert to_text(got) == tidied
    rng = random.Random(7)
    env = {name: rng.uniform(0.5, 2.0) for name in ("x", "N", "reg", "W2", "W1", "g", "h")}
    assert _value(got, env) == pytest.approx(_value(_parse(written), env))


def test_a_formula_without_arithmetic_to_tidy_is_left_as_written() -> None:
    tree = _parse("X.T @ (P - Y) / N + 2 * reg * W2")
    assert tidy(tree) == tree
