"""One printing walker for expression trees; one subclass per output format (text, LaTeX).

The walker knows trees, precedence and parentheses; the op table's `Form` of each op says how its application
prints (a template with the operands' minimal precedences, a call, or a custom function), and a subclass says
how constants, names, parentheses and option values look in its format. This is SymPy's printer design
(`_print_<Class>` on one walker) with the per-op part kept in the op table instead of in methods.
"""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.ops.spec import ATOM, Form
from derive_check.derive.tree import Apply, Const, Node, Ref

Printed = tuple[str, int]  # text and its precedence


class Printer:
    """Trees to text in some format; subclasses pick the `Form` and the spelling of leaves."""

    def doprint(self, node: Node) -> str:
        """The printed form of `node`."""
        return self.walk(node)[0]

    def walk(self, node: Node) -> Printed:
        """The printed form of `node` with its precedence."""
        if isinstance(node, Const):
            return self.const(node.value)
        if isinstance(node, Ref):
            return self.ref(node.name), ATOM
        assert isinstance(node, Apply)
        return self.apply(node, [self.walk(a) for a in node.args])

    def apply(self, node: Apply, parts: list[Printed]) -> Printed:
        """An application, by its op's form in this format."""
        form = self.form(node)
        if form.custom is not None:
            return form.custom(self, node, parts)
        if form.call:
            given = [f"{key}={'True' if key == 'keepdims' else self.option(value)}" for key, value in node.options]
            return f"{form.call}({', '.join([*(text for text, _ in parts), *given])})", ATOM
        texts = [self.wrap(part, form.needs[k] if k < len(form.needs) else 0) for k, part in enumerate(parts)]
        options = {key: value for key, value in node.options}
        return form.template.format(*texts, **options), form.prec

    def wrap(self, part: Printed, needs: int) -> str:
        """An operand's text, in parentheses when its precedence is below what its place needs."""
        text, prec = part
        return self.parens(text) if prec < needs else text

    def form(self, node: Apply) -> Form:
        """The op table's form of this application in this format."""
        raise NotImplementedError

    def const(self, value: Fraction) -> Printed:
        """An exact constant."""
        raise NotImplementedError

    def ref(self, name: str) -> str:
        """A name."""
        return name

    def name(self, name: str) -> str:
        """A declared function's name."""
        return name

    def parens(self, text: str) -> str:
        """Parenthesised text."""
        return f"({text})"

    def option(self, value: object) -> str:
        """A keyword option's value, exactly: atoms are identified by their printed formula, so two different
        values must never print alike (alpha=1e-400 is not alpha=3e-400, though both are 0.0 as floats)."""
        if isinstance(value, Fraction) and value.denominator != 1:
            return exact_decimal(value)
        return str(value)


def exact_decimal(value: Fraction) -> str:
    """A terminating fraction as the decimal literal that denotes it (0.25, 1e-400); others as (p / q)."""
    q = value.denominator
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    if q != 1:
        return f"({value.numerator} / {value.denominator})"
    scale = 0
    while (value * 10**scale).denominator != 1:
        scale += 1
    digits = abs(int(value * 10**scale))
    sign = "-" if value < 0 else ""
    if scale <= 12:
        text = str(digits).rjust(scale + 1, "0")
        return f"{sign}{text[:-scale]}.{text[-scale:]}"
    while digits % 10 == 0:
        digits //= 10
        scale -= 1
    return f"{sign}{digits}e-{scale}"
