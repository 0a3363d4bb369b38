"""Expression trees back to the formula language, with the fewest parentheses that keep meaning."""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.ops.spec import ATOM, Form
from derive_check.derive.ops.spellings import is_indicator, spelled
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.walker import Printed, Printer, exact_decimal
from derive_check.derive.tree import Apply, Const, Node


class TextPrinter(Printer):
    """The formula language: what `derive.lang.formula` parses back to the same tree."""

    def form(self, node: Apply) -> Form:
        """The op's text form."""
        return OPS[node.op].text

    def walk(self, node: Node) -> Printed:
        """numpy's spellings where the tree is exactly one (abs, sign, where, minimum, <=), else the op's form."""
        sugar = spelled(node)
        if sugar is not None:
            name, args = sugar
            texts = [self.walk(a)[0] for a in args]
            texts = [t[1:-1] if is_indicator(a) and _balanced(t[1:-1]) else t for a, t in zip(args, texts, strict=True)]
            return f"{name}({', '.join(texts)})", ATOM
        if isinstance(node, Apply) and node.op == "sub" and node.args[0] == ONE:  # 1 - [a > b] is a <= b
            inner = node.args[1]
            if isinstance(inner, Apply) and inner.op == "gt":
                form = OPS["gt"].text
                a, b = (self.wrap(self.walk(x), need) for x, need in zip(inner.args, form.needs, strict=True))
                return (f"({b} >= {a})" if isinstance(inner.args[0], Const) else f"({a} <= {b})"), ATOM
        return super().walk(node)

    def const(self, value: Fraction) -> Printed:
        """An integer, a short decimal (0.5, 0.044715), or (p / q); negative ones in parentheses."""
        text = str(value.numerator) if value.denominator == 1 else exact_decimal(abs(value))
        if "e" in text or len(text) > 10:
            text = f"({value.numerator} / {value.denominator})"
        elif value < 0 and value.denominator != 1:
            text = f"-{text}"
        return (text, ATOM) if value >= 0 else (f"({text})", ATOM)


ONE = Const(Fraction(1))


def _balanced(text: str) -> bool:
    """Whether every parenthesis in `text` closes inside it: (a) > (b) is, a) > (b is not."""
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def to_text(node: Node) -> str:
    """The formula for `node`, parseable by `derive.lang.formula.parse_formula`."""
    return TextPrinter().doprint(node)
