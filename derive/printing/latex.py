"""Typesetting: expression trees and SymPy expressions as LaTeX.

Trees print through each operation's LaTeX form in the op table, with parentheses where precedence needs
them (`LatexPrinter`, the LaTeX subclass of the one printing walker). Names keep the file's spelling with
trailing digits as subscripts (W1 -> W_{1}); matrices and vectors are bold. In SymPy expressions every symbol
prints from its `Label` (`derive.printing.symbols`), so no SymPy internal name (Dummy, _e12, Mul(...)) can leak.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

import sympy as sp

from derive_check.derive.ops.spec import ATOM, Form
from derive_check.derive.ops.spellings import spelled
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.names import name_latex
from derive_check.derive.printing.symbols import Label, symbol_latex
from derive_check.derive.printing.walker import Printed, Printer
from derive_check.derive.tree import Apply, Const, Node, Ref


def to_latex(node: Node, bold: Iterable[str] = (), scalars: Iterable[str] = ()) -> str:
    """A formula tree as LaTeX, through the op table's LaTeX forms; `bold` names are matrices or vectors."""
    return LatexPrinter(frozenset(bold), frozenset(scalars)).doprint(node)


class LatexPrinter(Printer):
    """LaTeX: bold matrices and vectors, \\left( \\right) parentheses, a claimed gradient dh1 as ∂h1."""

    def __init__(self, bold: frozenset[str] = frozenset(), scalars: frozenset[str] = frozenset()) -> None:
        self.bold, self.scalars = bold, scalars

    def walk(self, node: Node) -> Printed:
        """numpy's spellings where the tree is exactly one (|x|, sign, min, where, ≤), else the op's form."""
        sugar = spelled(node)
        if sugar is not None:
            name, args = sugar
            texts = [self.walk(a)[0] for a in args]
            if name == "abs":
                return rf"\left|{texts[0]}\right|", ATOM
            if name == "minimum":
                return rf"\min\left({', '.join(texts)}\right)", ATOM
            return rf"\operatorname{{{name}}}\left({', '.join(texts)}\right)", ATOM
        if isinstance(node, Apply) and node.op == "sub" and node.args[0] == Const(Fraction(1)):
            inner = node.args[1]
            if isinstance(inner, Apply) and inner.op == "gt":
                a, b = (self.walk(x)[0] for x in inner.args)
                if isinstance(inner.args[0], Const):  # 1 - [0 > x] is [x >= 0]
                    return rf"\mathbf{{1}}[{b} \ge {a}]", ATOM
                return rf"\mathbf{{1}}[{a} \le {b}]", ATOM
        return super().walk(node)

    def form(self, node: Apply) -> Form:
        """The op's LaTeX form."""
        return OPS[node.op].latex

    def const(self, value: Fraction) -> Printed:
        """An integer or \\tfrac{p}{q}; a negative one binds like a negation."""
        if value.denominator == 1:
            return str(value.numerator), ATOM if value >= 0 else 3
        return rf"\tfrac{{{value.numerator}}}{{{value.denominator}}}", ATOM if value >= 0 else 3

    def ref(self, name: str) -> str:
        """A name: W1 -> W_{1}, bold when it is a matrix or vector, dh1 -> ∂h1 for a claimed gradient."""
        if name not in self.bold and name.startswith("d") and name[1:] in self.bold:
            return r"\partial " + name_latex(name[1:], True)
        return name_latex(name, name in self.bold)

    def name(self, name: str) -> str:
        """A declared function's name."""
        return name_latex(name)

    def parens(self, text: str) -> str:
        """\\left( text \\right)."""
        return rf"\left({text}\right)"

    def apply(self, node: Apply, parts: list[Printed]) -> Printed:
        """As the walker does, except that a scalar times anything is juxtaposition (a \\, B), not ⊙."""
        if node.op == "mul" and any(self.is_scalar(a) for a in node.args):
            return rf"{self.wrap(parts[0], 2)} \, {self.wrap(parts[1], 3)}", 2
        return super().apply(node, parts)

    def is_scalar(self, node: Node) -> bool:
        """Whether `node` is a scalar by its operands alone: constants, declared scalars, element-wise ops of them."""
        if isinstance(node, Const):
            return True
        if isinstance(node, Ref):
            return node.name in self.scalars
        if not isinstance(node, Apply) or not all(self.is_scalar(a) for a in node.args):
            return False
        try:
            return OPS[node.op].shape([() for _ in node.args], node, {}) == ()
        except ValueError:
            return False


def expr_latex(expr: sp.Expr, labels: Mapping[sp.Symbol, Label]) -> str:
    """A SymPy expression as LaTeX, every symbol printed from its label (never from SymPy's own naming)."""
    names = {
        s: labels[s].latex() if s in labels else symbol_latex(s.name)
        for s in expr.free_symbols
        if isinstance(s, sp.Symbol)
    }
    return str(sp.latex(expr, symbol_names=names))
