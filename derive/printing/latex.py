"""Typesetting: expression trees, names and invented symbols as LaTeX.

Trees print through each operation's LaTeX template in the op registry, with
parentheses where precedence needs them. Names keep the file's spelling with
trailing digits as subscripts (W1 -> W_{1}); matrices and vectors are bold.
Invented symbols are named so that their LaTeX can be read back from the name:
`W1[0,2]`, `mask(h1)[0,1]`, `exp(scores[0,1])`, `f'(z1[0,0])`, `dL/dy[2,0]`.
No SymPy internal names (Dummy, _e12, Mul(...)) can leak: every symbol goes
through `symbol_latex`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fractions import Fraction

import sympy as sp

from derive_check.derive.ops.spec import ATOM, Form
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.walker import Printed, Printer
from derive_check.derive.tree import Apply, Const, Node, Ref

_GREEK = {
    "lam": r"\lambda",
    "lambda": r"\lambda",
    "eta": r"\eta",
    "alpha": r"\alpha",
    "delta": r"\delta",
    "theta": r"\theta",
    "Theta": r"\Theta",
    "sigma": r"\sigma",
}


def name_latex(name: str, bold: bool = False) -> str:
    """An identifier as LaTeX: W1 -> W_{1}, yhat -> \\hat{y}, scores -> \\mathrm{scores}, lam -> \\lambda."""
    match = re.fullmatch(r"([A-Za-z]+?)(hat)?_?(\d+)?", name)
    if not match:
        return r"\mathrm{" + name.replace("_", r"\_") + "}"
    stem, hat, digits = match.groups()
    if stem in _GREEK:
        core = _GREEK[stem]
    elif len(stem) == 1:
        core = r"\mathbf{" + stem + "}" if bold else stem
    else:
        core = r"\mathrm{" + stem + "}"
    if hat:
        core = r"\hat{" + core + "}"
    return core + (f"_{{{digits}}}" if digits else "")


def to_latex(node: Node, bold: Iterable[str] = (), scalars: Iterable[str] = ()) -> str:
    """A formula tree as LaTeX, through the op table's LaTeX forms; `bold` names are matrices or vectors."""
    return LatexPrinter(frozenset(bold), frozenset(scalars)).doprint(node)


class LatexPrinter(Printer):
    """LaTeX: bold matrices and vectors, \\left( \\right) parentheses, a claimed gradient dh1 as ∂h1."""

    def __init__(self, bold: frozenset[str] = frozenset(), scalars: frozenset[str] = frozenset()) -> None:
        self.bold, self.scalars = bold, scalars

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


def symbol_latex(name: str) -> str:
    """The LaTeX of an invented or declared symbol, read from its name."""
    entry = re.fullmatch(r"([A-Za-z_]\w*)(~)?\[([\d,]+)\]", name)
    if entry:
        return rf"{{{name_latex(entry.group(1))}}}_{{{entry.group(3)}}}"
    mask = re.fullmatch(r"mask\((\w+)\)\[([\d,]+)\](#\d+)?", name)
    if mask:
        return rf"\mathbf{{1}}[{{{name_latex(mask.group(1))}}}_{{{mask.group(2)}}} > 0]"
    wrapped = re.fullmatch(r"(exp|sigmoid|tanh)\((.+)\)(#\d+)?", name)
    if wrapped:
        inner = symbol_latex(wrapped.group(2))
        return {"exp": rf"e^{{{inner}}}", "sigmoid": rf"\sigma({inner})", "tanh": rf"\tanh({inner})"}[wrapped.group(1)]
    call = re.fullmatch(r"(\w+)('*)\((.+)\)(#\d+)?", name)
    if call:
        return rf"{name_latex(call.group(1))}{call.group(2)}({symbol_latex(call.group(3))})"
    partial = re.fullmatch(r"d(\w+)/d(.+)", name)
    if partial:
        return rf"\partial {name_latex(partial.group(1))} / \partial {symbol_latex(partial.group(2))}"
    if re.fullmatch(r"[A-Za-z_]\w*", name):
        return name_latex(name)
    return r"\texttt{" + re.sub(r"([#$%&_{}])", r"\\\1", name).replace("~", r"\textasciitilde{}") + "}"


def expr_latex(expr: sp.Expr) -> str:
    """A SymPy expression as LaTeX with every symbol named through `symbol_latex`."""
    names = {s: symbol_latex(s.name) for s in expr.free_symbols if isinstance(s, sp.Symbol)}
    return str(sp.latex(expr, symbol_names=names))
