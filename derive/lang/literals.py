"""Literals of the formula language: numbers read exactly, keyword options (axis=1, keepdims=True), exponents.

A mixin of the formula walker (`derive.lang.formula`), which supplies `fail`, `fail_at`, `span`, `source` and
`offset`. Numbers are read from their digits as written, never through a float.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction
from typing import TYPE_CHECKING

from derive_check.derive.errors import InputError, did_you_mean
from derive_check.derive.lang import hints
from derive_check.derive.tree import Apply, Const, Node

MAX_EXPONENT = 12
MAX_DECIMAL_EXPONENT = 400  # 1e-400 is read exactly; 1e999999 would be a number of a million digits


class Literals:
    """Numbers and keyword options of calls."""

    if TYPE_CHECKING:  # supplied by the walker
        source: str
        offset: int

        def fail(self, message: str, node: ast.AST) -> InputError: ...
        def fail_at(self, message: str, start: int, end: int) -> InputError: ...
        def span(self, node: ast.AST) -> tuple[int, int]: ...

    def options(self, node: ast.Call, allowed: tuple[str, ...], name: str) -> list[tuple[str, int | Fraction]]:
        """A call's keyword options, each a literal (keepdims=True is kept as 1, keepdims=False dropped)."""
        options: list[tuple[str, int | Fraction]] = []
        for kw in node.keywords:
            if kw.arg not in allowed:
                words = ", ".join(allowed) or "none"
                hint = did_you_mean(kw.arg or "**", allowed)
                start, end = self.span(kw.value)
                at = hints.keyword_start(self.source, kw, start - self.offset) + self.offset
                raise self.fail_at(f"{name}() has no option '{kw.arg}'{hint} (allowed: {words})", at, end)
            if kw.arg == "keepdims":
                if not (isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool)):
                    named = isinstance(kw.value, ast.Name) and kw.value.id.lower() in ("true", "false")
                    hint = f"; write {kw.value.id.capitalize()}" if named else ""  # type: ignore[attr-defined]
                    raise self.fail(f"keepdims is True or False{hint}", kw.value)
                if kw.value.value:
                    options.append(("keepdims", 1))
                continue
            if kw.arg == "axis" and isinstance(kw.value, ast.Tuple):
                raise self.fail(f"axis is one axis; for every entry write {name}(x) without axis", kw.value)
            options.append((kw.arg, self.literal(kw.value, integer=kw.arg == "axis")))
        return options

    def positional_axis(self, node: ast.Call, name: str, arity: int, options: tuple[str, ...], given: int) -> None:
        """max(z, 0) is np.maximum; sum(x, 0) means axis=0: say so instead of counting arguments."""
        if name in ("max", "min") and given == 2 and isinstance(node.func, ast.Name):
            extreme = "maximum" if name == "max" else "minimum"
            pair = ", ".join(ast.get_source_segment(self.source, a) or "?" for a in node.args)
            words = f"{name}(x) reduces over entries; for the element-wise {extreme} write np.{extreme}({pair})"
            raise self.fail(words, node)
        extra = node.args[-1] if node.args else None
        integer = isinstance(extra, ast.Constant) and type(extra.value) is int
        negative = isinstance(extra, ast.UnaryOp) and isinstance(extra.operand, ast.Constant)
        if "axis" in options and given == arity + 1 and extra is not None and (integer or negative):
            axis = ast.get_source_segment(self.source, extra) or "0"
            raise self.fail(f"{name}() takes the axis as a keyword: write axis={axis}", extra)

    def constant(self, node: ast.Constant, depth: int) -> Node:
        """A number, read exactly from its digits as written (never through a float: 1e-400 is not 0)."""
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"constant {value!r} is not a number", node)
        if isinstance(value, int) and abs(value) > 10**12:
            raise self.fail("integer constant is too large (limit 10^12)", node)
        if isinstance(value, int):
            return Const(Fraction(value), span=self.span(node))
        return Const(self.decimal(node), span=self.span(node))

    def literal(self, node: ast.expr, integer: bool) -> int | Fraction:
        """A keyword option's literal value (axis=1, alpha=0.2), read exactly."""
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self.literal(node.operand, integer)
        if isinstance(node, ast.Constant) and type(node.value) is int and abs(node.value) < 10**6:
            return node.value
        if not integer and isinstance(node, ast.Constant) and type(node.value) is float:
            return self.decimal(node)
        words = "option values must be integer literals" if integer else "option values must be number literals"
        raise self.fail(words, node)

    def decimal(self, node: ast.Constant) -> Fraction:
        """The exact value of a float literal's text; exponents beyond ±MAX_DECIMAL_EXPONENT are refused."""
        start, end = self.span(node)
        text = self.source[start - self.offset : end - self.offset].replace("_", "").lower()
        mantissa, _, exponent = text.partition("e")
        readable = re.fullmatch(r"\d*\.?\d*", mantissa) and len(mantissa) <= 60
        if not readable or (exponent and not re.fullmatch(r"[+-]?\d{1,6}", exponent)):
            raise self.fail(f"cannot read the number {text!r} exactly", node)
        if exponent and abs(int(exponent)) > MAX_DECIMAL_EXPONENT:
            raise self.fail(f"the exponent of {text} is beyond ±{MAX_DECIMAL_EXPONENT}", node)
        return Fraction(text)


def check_powers(node: Node, error: InputError) -> None:
    """The exponent rule of '**' for powers a spelling builds (np.power(x, k), np.square)."""
    if isinstance(node, Apply):
        if node.op == "pow":
            check_exponent(node.args[1], error)
        for arg in node.args:
            check_powers(arg, error)


def check_exponent(node: Node, error: InputError) -> None:
    """Raise `error` (with the rule as its message) unless `node` is an allowed exponent."""
    if isinstance(node, Const):
        if node.value.denominator != 1 or abs(node.value) > MAX_EXPONENT:
            error.message = (
                f"exponent must be an integer or a half-integer (x ** 0.5 is sqrt(x)) between -{MAX_EXPONENT} and "
                f"{MAX_EXPONENT}, got {node.value}"
            )
            raise error
        return
    error.message = "exponent must be an integer literal"
    raise error
