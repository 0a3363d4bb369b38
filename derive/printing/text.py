"""Expression trees back to the formula language, with the fewest parentheses that keep meaning."""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.ops.spec import ATOM, Form
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.walker import Printed, Printer
from derive_check.derive.tree import Apply, Node


class TextPrinter(Printer):
    """The formula language: what `derive.lang.formula` parses back to the same tree."""

    def form(self, node: Apply) -> Form:
        """The op's text form."""
        return OPS[node.op].text

    def const(self, value: Fraction) -> Printed:
        """An integer, or (p / q); negative ones in parentheses."""
        text = str(value.numerator) if value.denominator == 1 else f"({value.numerator} / {value.denominator})"
        return (text, ATOM) if value >= 0 else (f"({text})", ATOM)


def to_text(node: Node) -> str:
    """The formula for `node`, parseable by `derive.lang.formula.parse_formula`."""
    return TextPrinter().doprint(node)
