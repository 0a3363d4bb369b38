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

from derive_check.derive.ops.table import RULES
from derive_check.derive.tree import Apply, Const, Node, Ref

_PREC = {"add": 1, "sub": 1, "mul": 2, "matmul": 2, "product": 2, "neg": 3, "pow": 4}
_ATOM = 5
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
    """A formula tree as LaTeX, through the registry's templates; `bold` names are matrices or vectors."""
    return _latex(node, frozenset(bold), frozenset(scalars))[0]


def _scalar(node: Node, scalars: frozenset[str]) -> bool:
    if isinstance(node, Const):
        return True
    if isinstance(node, Ref):
        return node.name in scalars
    return (
        isinstance(node, Apply)
        and node.op in ("mul", "div", "neg", "add", "sub")
        and all(_scalar(a, scalars) for a in node.args)
    )


def _latex(node: Node, bold: frozenset[str], scalars: frozenset[str]) -> tuple[str, int]:
    if isinstance(node, Const):
        value = node.value
        text = (
            str(value.numerator) if value.denominator == 1 else rf"\tfrac{{{value.numerator}}}{{{value.denominator}}}"
        )
        return text, _ATOM if value >= 0 else 3
    if isinstance(node, Ref):
        if node.name not in bold and node.name.startswith("d") and node.name[1:] in bold:
            return r"\partial " + name_latex(node.name[1:], True), _ATOM  # a claimed gradient dh1: ∂h1
        return name_latex(node.name, node.name in bold), _ATOM
    assert isinstance(node, Apply)
    rule = RULES[node.op]
    prec = _PREC.get(node.op, _ATOM)
    parts = []
    for k, arg in enumerate(node.args):
        text, inner = _latex(arg, bold, scalars)
        needs = (
            node.op in _PREC and (inner < prec or (k == 1 and inner == prec and node.op in ("sub", "matmul", "mul")))
        ) or (node.op in ("transpose", "pow", "entry") and k == 0 and inner < _ATOM)
        parts.append(rf"\left({text}\right)" if needs else text)
    options = {k: v for k, v in node.options}
    if node.op == "entry":
        return rf"{{{parts[0]}}}_{{{','.join(parts[1:])}}}", _ATOM
    if node.op in ("function", "scalar_function"):
        primes = "'" * int(options.get("order", 0))
        return rf"{name_latex(str(options['name']))}{primes}\left({parts[0]}\right)", _ATOM
    if node.op == "mul" and (_scalar(node.args[0], scalars) or _scalar(node.args[1], scalars)):
        return rf"{parts[0]} \, {parts[1]}", prec  # a scalar times anything: juxtaposition, not ⊙
    if node.op in ("sum", "mean", "softmax") and "axis" in options:
        word = {"sum": r"\operatorname{sum}", "mean": r"\operatorname{mean}", "softmax": r"\operatorname{softmax}"}
        return rf"{word[node.op]}_{{{options['axis']}}}\left({parts[0]}\right)", _ATOM
    text = rule.latex.format(*parts, **{k: v for k, v in options.items() if isinstance(k, str)})
    alpha = options.get("alpha")
    if node.op == "leaky_relu" and isinstance(alpha, Fraction):
        text = text[:-1] + rf";\,{sp.latex(sp.Rational(alpha.numerator, alpha.denominator))})"
    return text, prec


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
