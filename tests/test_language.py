"""The formula language: what parses, what is refused, and how refusals point at the text."""

from __future__ import annotations

from fractions import Fraction

import pytest

from derive_check.derive.errors import InputError, Location
from derive_check.derive.lang.formula import parse_formula
from derive_check.derive.tree import Apply, Const, Ref


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_formula(text, Location("f.toml", 7, "claims.dW1", text, 0, 0))


def refusal(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse(text)
    return info.value


def test_matmul_transpose_and_indicator_build_the_expected_tree() -> None:
    tree = parse("X.T @ (dh1 * (h1 > 0))")
    assert tree == Apply(
        "matmul",
        (Apply("transpose", (Ref("X"),)), Apply("mul", (Ref("dh1"), Apply("gt", (Ref("h1"), Const(Fraction(0))))))),
    )


def test_less_than_is_greater_than_with_operands_swapped() -> None:
    assert parse("0 < h1") == parse("h1 > 0")


def test_float_constants_are_read_as_exact_decimals() -> None:
    assert parse("0.1") == Const(Fraction(1, 10))


def test_axis_is_a_literal_option_of_sum() -> None:
    assert parse("sum(P - Y, axis=0)").option("axis") == 0  # type: ignore[attr-defined]
    assert parse("sum(P, axis=-1)").option("axis") == -1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "message", "caret_under"),
    [
        ("__import__('os')", "unknown function '__import__'", "__import__"),
        ("__import__('os').system('true')", "only calls of the language's functions", "__import__('os').system"),
        ("X.__class__", "attribute '.__class__' is not supported", "X.__class__"),
        ("_secret + 1", "may not start with '_'", "_secret"),
        ("foo(X)", "unknown function 'foo'", "foo"),
        ("X ** 100", "exponent must be an integer or a half-integer", "100"),
        ("X ** W1", "exponent must be an integer literal", "W1"),
        ("X == 0", "are comparisons of the language", "X == 0"),
        ("sum(X, axis=k)", "option values must be integer literals", "k"),
        ("sum(X, keepdims=1)", "keepdims is True or False", "1"),
        ("relu(X, W1)", "takes 1 argument(s), got 2", "relu(X, W1)"),
        ("lambda: 1", "lambda is not part of the formula language", "lambda: 1"),
        ("X[::2]", "slices with a step (x[::2]) are not supported", "::2"),
        ("X[exp(t)]", "an index is a position, a slice a:b, ':' or None", "exp(t)"),
        ("'text'", "is not a number", "'text'"),
        ("X if Y else W", "conditional expression", "X if Y else W"),
    ],
)
def test_refused_syntax_names_the_problem_and_puts_a_caret_under_it(text: str, message: str, caret_under: str) -> None:
    error = refusal(text)
    assert message in error.message
    header, line, carets = error.render().splitlines()
    assert header.startswith("f.toml:7: error [claims.dW1]:")
    start = line.index(caret_under)
    assert carets.index("^") == start and carets.count("^") == len(caret_under)


def test_indexing_and_declared_functions_parse_to_registry_ops() -> None:
    tree = parse_formula("df(z[j]) * yhat[t, 0]", Location(), {"f": "elementwise"})
    assert tree == Apply(
        "mul",
        (
            Apply("function", (Apply("entry", (Ref("z"), Ref("j"))),), (("name", "f"), ("order", 1))),
            Apply("entry", (Ref("yhat"), Ref("t"), Const(Fraction(0)))),
        ),
    )
    assert parse_formula("L(y)", Location(), {"L": "scalar"}) == Apply("scalar_function", (Ref("y"),), (("name", "L"),))


def test_undeclared_functions_and_their_derivatives_are_unknown() -> None:
    assert "unknown function 'df'" in refusal("df(z)").message


def test_syntax_errors_are_input_errors_not_tracebacks() -> None:
    assert "syntax error" in refusal("X +").message
    assert "syntax error" in refusal("(((X").message


def test_deep_nesting_is_refused_with_a_limit() -> None:
    assert "nested too deeply" in refusal("exp(" * 80 + "X" + ")" * 80).message
    assert "nested too deeply" in refusal("-" * 500 + "X").message
    assert "nested too deeply" in refusal("exp(" * 61 + "X" + ")" * 61).message


def test_huge_formulas_and_integers_are_refused() -> None:
    assert "limit is" in refusal("X + " * 2000 + "X").message
    assert "too large" in refusal("X * 10000000000000").message


def test_injection_attempt_runs_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "pwned"
    with pytest.raises(InputError):
        parse(f"__import__('os').system('touch {marker}')")
    with pytest.raises(InputError):
        parse(f"open('{marker}', 'w')")
    assert not marker.exists()
