"""Printing: an expression in the formula language (exact constants as the language reads them), and in LaTeX as
notes write it.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from fractions import Fraction

from tests.modelgen.ir import Ex, Shape, Unsupported


def decimal(value: Fraction) -> str:
    """An exact constant as the language reads it (0.1 is 1/10)."""
    if value.denominator == 1:
        return str(value.numerator)
    d, twos, fives = value.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"({value.numerator} / {value.denominator})"
    digits = max(twos, fives)
    text = f"{float(value):.{digits}f}"
    assert Fraction(text) == value
    return text


_PREC = {"add": 60, "sub": 60, "mul": 70, "div": 70, "matmul": 70, "neg": 80, "pow": 90}
_SYM = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}
_CALLS = {"exp": "exp", "log": "log", "relu": "relu", "sigmoid": "sigmoid", "tanh": "tanh", "identity": "identity"}


NUMPY = {"on": False}  # per model (`kinds.generate`): write numpy spellings (np.exp, x.sum(axis=0), np.dot, ...)


def text(e: Ex) -> str:
    """e in the formula language."""
    return _text(e)[0]


def _numpy(e: Ex) -> tuple[str, int] | None:
    """e in a numpy spelling the language reads as the same tree, or None (the core spelling is used)."""
    op = e.op
    if op in ("exp", "log", "tanh"):
        return f"np.{op}({text(e.args[0])})", 100
    if op in ("sum", "mean"):
        inner, ip = _text(e.args[0])
        if len(inner) % 2 and ip >= 100 and e.args[0].op != "const":  # x.sum(axis=0) for some, np.sum for others
            return f"{inner}.{op}({'' if e.axis is None else f'axis={e.axis}'})", 100
        axis = "" if e.axis is None else f", axis={e.axis}"
        return f"np.{op}({inner}{axis})", 100
    if op == "matmul" and len(text(e.args[0])) % 2:
        return f"np.dot({text(e.args[0])}, {text(e.args[1])})", 100
    if op == "pow" and e.args[1].value == 2:
        return f"np.square({text(e.args[0])})", 100
    if op == "gt":
        inner = text(e.args[0])
        if len(inner) % 2:  # np.where of a comparison is the same 0/1 function
            return f"np.where({inner} > 0, 1, 0)", 100
        return f"({inner} > 0).astype(float)", 100
    if op == "relu":
        return f"np.maximum({text(e.args[0])}, 0)", 100
    if op == "leaky":  # the where form of leaky_relu, with its default slope written out
        inner = text(e.args[0])
        return f"np.where({inner} > 0, {inner}, {decimal(e.value or Fraction(1, 100))} * ({inner}))", 100
    if op == "softmax" and len(text(e.args[0])) % 2 == 0:  # written out with the max shift (cs231n's form)
        inner, axis = text(e.args[0]), e.axis if e.axis is not None else -1
        shifted = f"np.exp({inner} - np.max({inner}, axis={axis}, keepdims=True))"
        return f"{shifted} / np.sum({shifted}, axis={axis}, keepdims=True)", 70
    if op == "sigmoid" and len(text(e.args[0])) % 2:  # the textbook spelling: the exp normal form must meet sigmoid
        return f"1 / (1 + np.exp(-({text(e.args[0])})))", 70
    if op == "tanh" and len(text(e.args[0])) % 3 == 0:  # tanh through exp
        inner = text(e.args[0])
        return f"(np.exp(2 * ({inner})) - 1) / (np.exp(2 * ({inner})) + 1)", 70
    return None


def _operand(e: Ex) -> str:
    """The text of an operand of a postfix form (x.T, x[i], x[:, a:b]), parenthesised unless it is an atom."""
    inner, precedence = _text(e)
    return inner if precedence >= 100 and e.op != "const" else f"({inner})"


def _built(e: Ex) -> tuple[str, int] | None:
    """The numpy-only forms (keepdims, max, sqrt, >=, slices, concatenate, zeros), in either mode."""
    op = e.op
    if op in ("sum", "mean", "max") and (e.name == "keep" or op == "max"):
        keep = ", keepdims=True" if e.name == "keep" else ""
        axis = "" if e.axis is None else f", axis={e.axis}"
        return f"np.{op}({text(e.args[0])}{axis}{keep})", 100
    if op == "sqrt":
        return f"np.sqrt({text(e.args[0])})", 100
    if op == "ge":
        return f"({text(e.args[0])} >= {text(e.args[1])})", 100
    if op == "slice":
        return f"{_operand(e.args[0])}[:, {e.name.split(';')[0]}]", 100
    if op == "concat":
        return f"np.concatenate([{', '.join(text(a) for a in e.args)}], axis={e.axis})", 100
    if op == "zeros":
        return f"np.zeros(({', '.join(str(d) for d in e.shape)}))", 100
    return None


def _text(e: Ex) -> tuple[str, int]:
    op = e.op
    built = _built(e)
    if built is not None:
        return built
    if NUMPY["on"]:
        spelled = _numpy(e)
        if spelled is not None:
            return spelled
    if op in ("var", "size"):
        return e.name, 100
    if op == "const":
        s = decimal(e.value)
        return (s, 100) if e.value >= 0 and not s.startswith("(") else (s, 80 if e.value < 0 else 100)
    if op in _SYM:
        p = _PREC[op]
        left, lp = _text(e.args[0])
        right, rp = _text(e.args[1])
        left = left if lp >= p else f"({left})"
        right = right if rp > p else f"({right})"
        return f"{left} {_SYM[op]} {right}", p
    if op == "pow":
        base, bp = _text(e.args[0])
        base = base if bp > 90 else f"({base})"
        return f"{base}**{decimal(e.args[1].value)}", 90
    if op == "neg":
        inner, ip = _text(e.args[0])
        inner = inner if ip > 80 else f"({inner})"
        return f"-{inner}", 80
    if op == "T":
        return f"{_operand(e.args[0])}.T", 100
    if op in ("sum", "mean", "softmax"):
        axis = "" if e.axis is None else f", axis={e.axis}"
        return f"{op}({text(e.args[0])}{axis})", 100
    if op in _CALLS:
        return f"{_CALLS[op]}({text(e.args[0])})", 100
    if op == "leaky":
        alpha = "" if e.value == 0 else f", alpha={decimal(e.value)}"
        return f"leaky_relu({text(e.args[0])}{alpha})", 100
    if op == "fn":
        return f"{'d' * int(e.value)}{e.name}({text(e.args[0])})", 100
    if op == "sfn":
        return f"{e.name}({text(e.args[0])})", 100
    if op == "gt":
        return f"({text(e.args[0])} > 0)", 100
    if op == "entry":
        return f"{_operand(e.args[0])}[{e.name}]", 100
    raise Unsupported(f"no text for {op}")


@dataclass
class LatexStyle:
    """How names are written in LaTeX for one model: a spelling per name, aliases for the rest."""

    spell: dict[str, str]
    aliases: dict[str, str]  # LaTeX snippet -> formula (the file's [aliases] table)
    batch: str | None
    rng: random.Random


class NoLatex(Exception):
    """This expression is not written in LaTeX by the generator."""


def latex(e: Ex, style: LatexStyle) -> str:
    """e in LaTeX as notes write it; raises NoLatex for what the generator does not spell."""
    return _latex(e, style, False)[0]


def _latex_name(name: str, style: LatexStyle, row: bool, shape: Shape) -> str:
    spelled = style.spell.get(name)
    if spelled is None:
        raise NoLatex(name)
    if row and style.batch is not None and len(shape) == 2 and shape[0] == style.batch:
        if spelled.startswith("\\text{"):
            return spelled + "_i"
        plain = name if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) else None
        if plain is None:
            raise NoLatex(name)
        return f"{plain}_i"
    return spelled


def _latex(e: Ex, style: LatexStyle, row: bool) -> tuple[str, int]:
    """(text, precedence): 100 atoms/postfix, 70 term-level products, 60 sums, 55 a leading minus."""
    rng = style.rng
    op = e.op
    if op == "var":
        return _latex_name(e.name, style, row, e.shape), 100
    if op == "size":
        return e.name, 100
    if op == "const":
        if e.value < 0:
            return f"-{decimal(-e.value)}", 55
        if e.value.denominator != 1:
            if e.value.numerator == 1:
                return f"\\frac{{1}}{{{e.value.denominator}}}", 100
            return str(float(e.value)), 100
        return str(e.value.numerator), 100
    if op in ("add", "sub"):
        left, lp = _latex(e.args[0], style, row)
        right, rp = _latex(e.args[1], style, row)
        right = right if rp > 60 else f"\\left({right}\\right)"
        return f"{left} {'+' if op == 'add' else '-'} {right}", 60
    if op == "neg":
        inner, ip = _latex(e.args[0], style, row)
        inner = inner if ip >= 70 else f"\\left({inner}\\right)"
        return f"-{inner}", 55
    if op in ("mul", "matmul", "div"):
        a, b = e.args
        if op == "div" and rng.random() < 0.6:
            top, _ = _latex(a, style, row)
            bottom, _ = _latex(b, style, row)
            return f"\\frac{{{top}}}{{{bottom}}}", 100
        left, lp = _latex(a, style, row)
        right, rp = _latex(b, style, row)
        left = left if lp >= 70 else f"\\left({left}\\right)"
        right = right if rp > 70 else f"\\left({right}\\right)"
        if op == "div":
            symbol = "/"
        elif op == "matmul" or a.shape == () or b.shape == ():
            if a.shape == () and b.shape == () and op == "mul":
                symbol = "\\cdot"
            else:
                symbol = rng.choice(["", "\\cdot"]) if op == "matmul" or a.shape == () else "\\cdot"
        else:
            symbol = rng.choice(["\\odot", "\\circ"])
        return f"{left} {symbol} {right}".replace("  ", " "), 70
    if op == "pow":
        base, bp = _latex(e.args[0], style, row)
        if e.args[0].shape != ():  # A^2 of a matrix is ambiguous in LaTeX: written as A \odot A
            if e.args[1].value != 2 or bp < 100:
                raise NoLatex("power of a matrix")
            return f"{base} \\odot {base}", 70
        base = base if bp >= 100 and "^" not in base and "_" not in base[-3:] else f"\\left({base}\\right)"
        return f"{base}^{{{decimal(e.args[1].value)}}}", 100
    if op == "T":
        inner, ip = _latex(e.args[0], style, row)
        if row:
            raise NoLatex("transpose inside a per-sample sum")
        inner = inner if ip >= 100 and "^" not in inner else f"\\left({inner}\\right)"
        return inner + rng.choice(["^T", "^\\top", "^{\\mathsf T}", "^{T}"]), 100
    if op == "sum":
        if row or e.axis != 0 or style.batch is None or len(e.args[0].shape) != 2:
            raise NoLatex("only per-sample sums")
        if e.args[0].shape[0] != style.batch:
            raise NoLatex("sum over a non-batch axis")
        body, _ = _latex(e.args[0], style, True)
        bound = rng.choice([f"^{{{style.batch}}}", f"^{style.batch}"])
        return f"\\sum_{{i=1}}{bound} \\left({body}\\right)", 100
    if op in ("exp", "log", "tanh", "sigmoid", "relu"):
        word = {
            "exp": "\\exp",
            "log": "\\log",
            "tanh": "\\tanh",
            "sigmoid": "\\sigma",
            "relu": "\\text{ReLU}",
        }[op]
        inner, _ = _latex(e.args[0], style, row)
        return f"{word}\\left({inner}\\right)", 100
    if op == "fn":
        if e.value > 2:
            raise NoLatex("high derivative")
        inner, _ = _latex(e.args[0], style, row)
        return f"{e.name}{chr(39) * int(e.value)}({inner})", 100
    if op == "gt":
        inner, _ = _latex(e.args[0], style, row)
        form = rng.randrange(4)
        if form == 0:
            return f"\\mathbb{{1}}[{inner} > 0]", 100
        if form == 1:
            return f"1\\{{{inner} > 0\\}}", 100
        if form == 2:
            return f"\\mathbb{{1}}_{{{inner} > 0}}", 100
        return f"\\text{{ReLU}}'({inner})", 100
    raise NoLatex(op)
