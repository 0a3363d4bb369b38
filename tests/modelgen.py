"""Random, well-typed derivation files (whole models) with true and mutated gradient claims, from a seed.

Coverage. Each call of `generate(seed)` builds one model and its claims (`random.Random(seed)`):

- batch models (rows are samples: `X @ W + b`, b = "H" broadcast over the batch) and column-vector single-sample
  models (`W @ x + b`, b = "H x 1"), 1-4 layers, sizes small and distinct (sometimes 1);
- every activation: relu, leaky_relu(x, alpha=...), sigmoid, tanh, identity, a declared element-wise f with its df;
- every loss: softmax cross-entropy with one-hot labels (sum / N or mean of row sums), MSE (sum / N, sum / (2 N),
  mean), sigmoid + binary cross-entropy written out, sums of exp/log terms (softplus), L2 regularisation
  `reg * sum(W**2)`, a declared scalar loss with its gradient name (column models);
- identity lines whose argument is used again later, lines after the loss (also used as helper values by claims),
  written-out copies of a line's expression (`sigmoid(z)` written again in the loss), residual connections, shape
  annotations on forward lines, unusual names (`h_1`, `Z0`, `act2`, `probsA`, the loss named `L`, `loss` or not);
- claims: dL/d(every parameter), dL/d(some intermediates, inputs, the scalar reg, a line after the loss), inline or
  through earlier claims by name, as tables with `wrt`, in LaTeX with `[aliases]` and `+=` lines, numerator layout,
  entry claims with `for` / `when` / `label` / `of`; `extends` children that override size values and add or
  override claims; a small set of files that break the naming rules on purpose (kind "naming").
- wrong claims: mutations of true ones (drop a factor, drop a transpose, swap @ operands, wrong axis, drop a term,
  flip a sign, change a constant, mask on the wrong layer, 1/N dropped, an earlier claim replaced by the forward
  quantity of the same name, a size written as its value: true at the stated sizes only), and models with one
  forward line changed while the claims are kept (kind "model_mutant": truth unknown to the generator).
- two profiles: FULL (depth up to 4, at most 400 entries) for benchmarks/fuzz_models.py, LIGHT (depth up to 2,
  at most 80 entries) for the CI sample in tests/test_model_fuzz.py.

Why the reference is independent. True claims are emitted by a reverse-mode pass over this module's own tiny
expression IR, with one matrix-calculus VJP rule per op in the style of HIPS/autograd's defvjp table (matmul,
broadcast add -> sum over axis 0, mul, div, pow, neg, transpose, sum/mean with axis, exp, log, relu, leaky_relu,
sigmoid, tanh, identity, declared f, softmax + cross-entropy fused to `(P - Y) * k`), adjoints summed over every
use. It imports nothing from `derive/` or `verify/`: it only writes formula TEXT. `numeric_check` re-evaluates the
IR with numpy and finite differences to test the emitter itself; the fuzz runner never uses that either, it asks
the separate witness (`verify.witness`) which claims are true.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np

Dim = str | int
Shape = tuple[Dim, ...]
MAX_ENTRIES = 400


class Unsupported(Exception):
    """The emitter has no rule for this construction (the generator avoids it)."""


# --------------------------------------------------------------------------------------------------------------
# The expression IR


@dataclass(frozen=True)
class Ex:
    """One node: op, operands, and the data some ops carry (a name, a constant, an axis, alpha, a shape)."""

    op: str
    args: tuple[Ex, ...] = ()
    name: str = ""
    value: Fraction = Fraction(0)
    axis: int | None = None
    shape: Shape = ()


def var(name: str, shape: Shape) -> Ex:
    """A declared quantity, a forward line, a claim or a gradient name."""
    return Ex("var", name=name, shape=shape)


def size(name: str) -> Ex:
    """A size name used as a constant (`/ N`)."""
    return Ex("size", name=name)


def const(value: Fraction | int | str) -> Ex:
    """An exact constant."""
    return Ex("const", value=Fraction(value))


ONE, TWO, ZERO = const(1), const(2), const(0)


def _broadcast(a: Shape, b: Shape) -> Shape:
    out: list[Dim] = []
    for k in range(max(len(a), len(b))):
        x = a[len(a) - 1 - k] if k < len(a) else 1
        y = b[len(b) - 1 - k] if k < len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise Unsupported(f"shapes {a} and {b} do not broadcast")
    return tuple(reversed(out))


def _is_const(e: Ex, value: int | Fraction | None = None) -> bool:
    return e.op == "const" and (value is None or e.value == value)


def add(a: Ex, b: Ex) -> Ex:
    """a + b (a + (-b) is written a - b)."""
    if b.op == "neg":
        return sub(a, b.args[0])
    return Ex("add", (a, b), shape=_broadcast(a.shape, b.shape))


def sub(a: Ex, b: Ex) -> Ex:
    """a - b."""
    if b.op == "neg":
        return add(a, b.args[0])
    return Ex("sub", (a, b), shape=_broadcast(a.shape, b.shape))


def neg(a: Ex) -> Ex:
    """-a, with double negation removed."""
    if a.op == "neg":
        return a.args[0]
    if _is_const(a):
        return const(-a.value)
    return Ex("neg", (a,), shape=a.shape)


def mul(a: Ex, b: Ex) -> Ex:
    """a * b, element-wise with broadcasting; scalar factors go first and constants fold."""
    if _is_const(a, 1):
        return b
    if _is_const(b, 1):
        return a
    if _is_const(a) and _is_const(b):
        return const(a.value * b.value)
    if b.shape == () and a.shape != ():
        return scale(a, b)
    if a.shape == () and b.shape != ():
        return scale(b, a)
    return Ex("mul", (a, b), shape=_broadcast(a.shape, b.shape))


def smul(a: Ex, b: Ex) -> Ex:
    """The product of two scalars, constants first."""
    if _is_const(b) and not _is_const(a):
        a, b = b, a
    if _is_const(a, 1):
        return b
    if _is_const(b, 1):
        return a
    if _is_const(a) and _is_const(b):
        return const(a.value * b.value)
    if b.op == "neg":
        return neg(smul(a, b.args[0]))
    if a.op == "neg":
        return neg(smul(a.args[0], b))
    return Ex("mul", (a, b))


def scale(x: Ex, k: Ex) -> Ex:
    """x times the scalar k, written the way people do: `2 * reg * W`, `(P - Y) / N`, `-x`."""
    if k.shape != ():
        raise Unsupported("scale by a non-scalar")
    if _is_const(k, 1):
        return x
    if _is_const(k, -1):
        return neg(x)
    if k.op == "neg":
        return neg(scale(x, k.args[0]))
    if k.op == "div":
        return div(scale(x, k.args[0]), k.args[1])
    if _is_const(k) and k.value.numerator == 1 and k.value > 0:
        return div(x, const(k.value.denominator))
    if _is_const(k) and k.value.numerator == -1:
        return neg(div(x, const(k.value.denominator)))
    if x.op == "neg":
        return neg(scale(x.args[0], k))
    if x.op == "mul" and x.args[0].shape == ():
        return Ex("mul", (smul(k, x.args[0]), x.args[1]), shape=x.shape)
    if x.shape == ():
        return smul(k, x)
    return Ex("mul", (k, x), shape=x.shape)


def div(a: Ex, b: Ex) -> Ex:
    """a / b."""
    if _is_const(b, 1):
        return a
    if _is_const(a, 0):
        return a
    return Ex("div", (a, b), shape=_broadcast(a.shape, b.shape))


def power(a: Ex, k: int) -> Ex:
    """a ** k for an integer k."""
    if k == 1:
        return a
    if k == 0:
        return ONE
    return Ex("pow", (a, const(k)), shape=a.shape)


def matmul(a: Ex, b: Ex) -> Ex:
    """a @ b for 2-D operands."""
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise Unsupported(f"matmul of {a.shape} and {b.shape}")
    return Ex("matmul", (a, b), shape=(a.shape[0], b.shape[1]))


def transpose(a: Ex) -> Ex:
    """a.T (and a.T.T = a)."""
    if a.op == "T":
        return a.args[0]
    if len(a.shape) < 2:
        return a
    return Ex("T", (a,), shape=tuple(reversed(a.shape)))


def reduce(kind: str, a: Ex, axis: int | None = None) -> Ex:
    """sum or mean, over all entries or one axis."""
    if axis is None:
        shape: Shape = ()
    else:
        if axis >= len(a.shape):
            raise Unsupported("axis out of range")
        shape = tuple(d for k, d in enumerate(a.shape) if k != axis)
    return Ex(kind, (a,), axis=axis, shape=shape)


def call(op: str, a: Ex, name: str = "", value: Fraction | int = 0, axis: int | None = None) -> Ex:
    """An element-wise function (exp, log, relu, leaky, sigmoid, tanh, identity, fn, softmax, sfn)."""
    shape = () if op == "sfn" else a.shape
    return Ex(op, (a,), name=name, value=Fraction(value), axis=axis, shape=shape)


def mask(a: Ex) -> Ex:
    """The indicator (a > 0)."""
    return Ex("gt", (a, ZERO), shape=a.shape)


def entry(a: Ex, indices: str) -> Ex:
    """a[i, j] with index variables or integers (for entry claims)."""
    return Ex("entry", (a,), name=indices, shape=())


def ones_like(e: Ex) -> Ex:
    """A matrix of ones shaped like e, written in the language as `0 * e + 1`."""
    return Ex("add", (Ex("mul", (ZERO, e), shape=e.shape), ONE), shape=e.shape)


def nodes(e: Ex) -> Iterator[Ex]:
    """Every node of e, pre-order."""
    yield e
    for a in e.args:
        yield from nodes(a)


def names_in(e: Ex) -> set[str]:
    """The variable names e uses."""
    return {n.name for n in nodes(e) if n.op == "var"}


def positions(e: Ex) -> Iterator[tuple[Ex, Callable[[Ex], Ex]]]:
    """Every subtree with a function that rebuilds the whole tree with that subtree replaced."""
    yield e, lambda r: r
    for k, a in enumerate(e.args):
        for sub_tree, rebuild in positions(a):

            def again(r: Ex, k: int = k, rebuild: Callable[[Ex], Ex] = rebuild) -> Ex:
                """The whole tree with this subtree replaced by r."""
                args = list(e.args)
                args[k] = rebuild(r)
                return replace(e, args=tuple(args))

            yield sub_tree, again


def substitute(e: Ex, table: dict[Ex, Ex]) -> Ex:
    """e with every subtree found in `table` replaced (outermost first)."""
    if e in table:
        return table[e]
    if not e.args:
        return e
    return replace(e, args=tuple(substitute(a, table) for a in e.args))


# --------------------------------------------------------------------------------------------------------------
# Printing: the formula language, and LaTeX


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


def text(e: Ex) -> str:
    """e in the formula language."""
    return _text(e)[0]


def _text(e: Ex) -> tuple[str, int]:
    op = e.op
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
        inner, ip = _text(e.args[0])
        inner = inner if ip >= 100 and e.args[0].op != "const" else f"({inner})"
        return f"{inner}.T", 100
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
        inner, ip = _text(e.args[0])
        inner = inner if ip >= 100 and e.args[0].op != "const" else f"({inner})"
        return f"{inner}[{e.name}]", 100
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


# --------------------------------------------------------------------------------------------------------------
# The reference backprop emitter: one VJP rule per op, adjoints summed over every use


@dataclass
class Model:
    """A generated model: declarations, forward lines (IR) and which line is the loss."""

    kind: str
    sizes: dict[str, int]
    inputs: dict[str, tuple[Shape, bool]]  # name -> (shape, one-hot)
    params: dict[str, Shape]
    functions: dict[str, str]  # name -> "elementwise" | "scalar, gradient G"
    lines: list[tuple[str, Ex]]
    loss: str
    batch: str | None
    layer_masks: list[Ex] = field(default_factory=list)  # the ReLU-type masks of each layer, for mutants
    gradients: dict[str, Ex] = field(default_factory=dict)  # declared gradient name -> its argument
    closed: dict[str, Ex] = field(default_factory=dict)  # simplified true adjoints (e.g. BCE: (s - T) / N)
    features: set[str] = field(default_factory=set)
    title: str = ""
    dims: list[Dim] = field(default_factory=list)  # layer widths, input first
    softmax: tuple[str, str, str, str] | None = None  # column CE: (logits line, softmax line, label, class size)
    aliases: dict[str, str] = field(default_factory=dict)  # the [aliases] table

    def shape(self, name: str) -> Shape:
        """The shape of any declared name or line."""
        if name in self.params:
            return self.params[name]
        if name in self.inputs:
            return self.inputs[name][0]
        for n, e in self.lines:
            if n == name:
                return e.shape
        if name in self.gradients:
            return self.gradients[name].shape
        raise KeyError(name)

    def before_loss(self) -> list[tuple[str, Ex]]:
        """The lines up to and including the loss."""
        out = []
        for n, e in self.lines:
            out.append((n, e))
            if n == self.loss:
                break
        return out

    def line(self, name: str) -> Ex:
        """The definition of a forward line."""
        return dict(self.lines)[name]

    def names(self) -> set[str]:
        """Every name the model declares."""
        out = set(self.sizes) | set(self.inputs) | set(self.params) | {n for n, _ in self.lines}
        out |= set(self.gradients)
        for f in self.functions:
            out |= {f, "d" + f, "dd" + f}
        return out


class Backprop:
    """Reverse mode over the model's lines; `use` maps a line to an earlier claim naming its adjoint."""

    def __init__(self, model: Model, rng: random.Random, use: dict[str, str] | None = None) -> None:
        self.model = model
        self.rng = rng
        self.use = use or {}
        self.adj: dict[str, list[Ex]] = {}
        self.onehot = {n for n, (_, oh) in model.inputs.items() if oh}

    def run(self) -> dict[str, Ex]:
        """The adjoint of every name the loss depends on."""
        lines = self.model.before_loss()
        self.adj = {self.model.loss: [ONE]}
        for name, expr in reversed(lines):
            terms = self.adj.get(name)
            if not terms:
                continue
            if expr.op == "softmax":
                self.vjp(expr.args[0], self.fused(name, expr, terms))
                continue
            g = total(terms)
            if name in self.use and name != self.model.loss:
                g = var(self.use[name], expr.shape)
            self.vjp(expr, g)
        return {n: total(ts) for n, ts in self.adj.items()}

    def fused(self, name: str, expr: Ex, terms: list[Ex]) -> Ex:
        """Softmax + cross-entropy: every adjoint term of P must be k * Y / P with Y one-hot; then dz = -k (P - Y)."""
        ks = []
        label = ""
        for term in terms:
            if not (term.op == "div" and term.args[1] == var(name, expr.shape)):
                raise Unsupported(f"softmax line {name} used other than in cross-entropy")
            k, rest = split_scalar(term.args[0])
            if rest.op != "var" or rest.name not in self.onehot or (label and rest.name != label):
                raise Unsupported("cross-entropy without one-hot labels")
            label = rest.name
            ks.append(k)
        k = ks[0]
        for more in ks[1:]:
            k = Ex("add", (k, more))
        return scale(sub(var(name, expr.shape), var(label, expr.shape)), neg(k))

    def acc(self, name: str, g: Ex) -> None:
        """Add one adjoint term of `name`."""
        self.adj.setdefault(name, []).append(g)

    def vjp(self, e: Ex, g: Ex) -> None:
        """Send the adjoint g of node e to the names below it."""
        op = e.op
        if not has_vars(e):
            return
        if op == "var":
            self.acc(e.name, materialize(g, e))
        elif op in ("add", "sub"):
            a, b = e.args
            self.vjp(a, unbroadcast(g, a, e))
            self.vjp(b, unbroadcast(g if op == "add" else neg(g), b, e))
        elif op == "mul":
            a, b = e.args
            if has_vars(a):
                self.vjp(a, unbroadcast(times(g, b), a, e))
            if has_vars(b):
                self.vjp(b, unbroadcast(times(g, a), b, e))
        elif op == "div":
            a, b = e.args
            if has_vars(a):
                self.vjp(a, unbroadcast(div(g, b), a, e))
            if has_vars(b):
                self.vjp(b, unbroadcast(neg(div(times(g, a), power(b, 2))), b, e))
        elif op == "pow":
            a, k = e.args[0], int(e.args[1].value)
            self.vjp(a, times(g, scale(power(a, k - 1), const(k))))
        elif op == "neg":
            self.vjp(e.args[0], neg(g))
        elif op == "matmul":
            a, b = e.args
            gm = materialize(g, e)
            if has_vars(a):
                self.vjp(a, matmul(gm, transpose(b)))
            if has_vars(b):
                self.vjp(b, matmul(transpose(a), gm))
        elif op == "T":
            self.vjp(e.args[0], transpose(materialize(g, e)))
        elif op in ("sum", "mean"):
            a = e.args[0]
            if e.axis is not None and g.shape != () and not (e.axis == 0 and len(a.shape) == 2):
                raise Unsupported("a non-uniform adjoint through a reduction over the last axis")
            if op == "mean":
                g = div(g, count(a, e.axis))
            self.vjp(a, g)
        elif op == "exp":
            self.vjp(e.args[0], times(g, e))
        elif op == "log":
            self.vjp(e.args[0], div(g, e.args[0]))
        elif op == "relu":
            a = e.args[0]
            self.vjp(a, times(g, mask(self.rng.choice([a, e]))))
        elif op == "leaky":
            a = e.args[0]
            alpha = const(e.value if e.value else Fraction(1, 100))
            m = mask(self.rng.choice([a, e]))
            if self.rng.random() < 0.5:
                slope = add(m, scale(sub(ONE, m), alpha))
            else:
                slope = add(alpha, scale(m, const(1 - alpha.value)))
            self.vjp(a, times(g, slope))
        elif op == "sigmoid":
            self.vjp(e.args[0], times(times(g, e), sub(ONE, e)))
        elif op == "tanh":
            self.vjp(e.args[0], times(g, sub(ONE, power(e, 2))))
        elif op == "identity":
            self.vjp(e.args[0], g)
        elif op == "fn":
            if e.value != 0:
                raise Unsupported("derivative of df")
            self.vjp(e.args[0], times(g, call("fn", e.args[0], e.name, 1)))
        elif op == "sfn":
            gradient = next(n for n, a in self.model.gradients.items() if a == e.args[0])
            self.vjp(e.args[0], times(g, var(gradient, e.args[0].shape)))
        elif op == "gt":
            return
        else:
            raise Unsupported(f"no VJP rule for {op}")


def has_vars(e: Ex) -> bool:
    """Whether e depends on any name (constants and sizes do not)."""
    return any(n.op == "var" for n in nodes(e))


def total(terms: list[Ex]) -> Ex:
    """The sum of adjoint terms."""
    out = terms[0]
    for t in terms[1:]:
        out = add(out, t)
    return out


def times(g: Ex, x: Ex) -> Ex:
    """g * x, a scalar adjoint written as a scale factor."""
    if g.shape == ():
        return scale(x, g) if x.shape != () else smul(g, x)
    return mul(g, x)


def count(a: Ex, axis: int | None) -> Ex:
    """The number of entries a mean divides by, as size names."""
    dims = a.shape if axis is None else (a.shape[axis],)
    out: Ex | None = None
    for d in dims:
        if d == 1:
            continue
        term = size(d) if isinstance(d, str) else const(d)
        out = term if out is None else Ex("mul", (out, term))
    return out if out is not None else ONE


def materialize(g: Ex, e: Ex) -> Ex:
    """g broadcast to e's full shape (a uniform adjoint written as g * (0 * e + 1))."""
    if g.shape == e.shape:
        return g
    return times(g, ones_like(e))


def unbroadcast(g: Ex, operand: Ex, result: Ex) -> Ex:
    """The adjoint of an operand that numpy broadcast into `result`: sums over the broadcast axes."""
    if operand.shape == result.shape:
        return g
    if operand.shape == ():
        return reduce("sum", materialize(g, result))
    if len(operand.shape) == 1 and len(result.shape) == 2 and result.shape[1] == operand.shape[0]:
        return reduce("sum", materialize(g, result), 0)
    raise Unsupported(f"unbroadcast {result.shape} -> {operand.shape}")


def split_scalar(e: Ex) -> tuple[Ex, Ex]:
    """e = k * rest with k a scalar expression."""
    if e.op == "neg":
        k, rest = split_scalar(e.args[0])
        return neg(k), rest
    if e.op == "mul" and e.args[0].shape == () and e.shape != ():
        k, rest = split_scalar(e.args[1])
        return smul(e.args[0], k), rest
    if e.op == "div" and e.args[1].shape == ():
        k, rest = split_scalar(e.args[0])
        return Ex("div", (k, e.args[1])), rest
    return ONE, e


# --------------------------------------------------------------------------------------------------------------
# Names


class Names:
    """Fresh, distinct names for one model (never starting with d, never a loss name by accident)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken: set[str] = {"i", "j", "t", "k", "p", "q", "L", "loss", "J", "cost"}

    def pick(self, *options: str) -> str:
        """The first free name among shuffled options (or a numbered variant)."""
        choices = list(options)
        self.rng.shuffle(choices)
        for name in choices:
            if name not in self.taken and not name.startswith("d"):
                self.taken.add(name)
                return name
        base = choices[0]
        k = 2
        while f"{base}{k}" in self.taken:
            k += 1
        self.taken.add(f"{base}{k}")
        return f"{base}{k}"

    def claim_key(self, target: str, plain: bool) -> str:
        """A claim key: d<target> or a table key such as grad_W1."""
        key = f"d{target}"
        if not plain or key in self.taken:
            key = self.rng.choice([f"grad_{target}", f"{target}_grad", f"g{target}", f"dL_d{target}"])
        while key in self.taken:
            key += "x"
        self.taken.add(key)
        return key


SCHEMES = [
    ("W{l}", "b{l}", "z{l}", "h{l}"),
    ("W_{l}", "b_{l}", "z_{l}", "h_{l}"),
    ("W{l}", "bias{l}", "Z{k}", "act{l}"),
    ("U{l}", "c{l}", "pre{l}", "hidden{l}"),
    ("Wt{l}", "beta{l}", "a{l}", "H{l}"),
]
ACTIVATIONS = ["relu", "leaky", "sigmoid", "tanh", "identity", "fn"]


def _act(kind: str, a: Ex, rng: random.Random, fname: str) -> Ex:
    if kind == "leaky":
        return call("leaky", a, value=rng.choice([Fraction(1, 10), Fraction(1, 5), Fraction(0), Fraction(1, 100)]))
    if kind == "fn":
        return call("fn", a, fname, 0)
    return call(kind, a)


def _sizes(rng: random.Random, names: list[str], allow_one: bool) -> dict[str, int]:
    """Distinct small values; the first name (the batch) gets the smallest."""
    pool = [2, 3, 4, 5, 6][: max(len(names), 3)]
    values = rng.sample(pool, len(names))
    smallest = values.index(min(values))
    values[0], values[smallest] = values[smallest], values[0]
    if allow_one and rng.random() < 0.2:
        values[rng.randrange(len(names))] = 1
    return dict(zip(names, values, strict=True))


def _entries(model: Model) -> int:
    def n(shape: Shape) -> int:
        """The number of entries of a shape."""
        out = 1
        for d in shape:
            out *= model.sizes[d] if isinstance(d, str) else d
        return out

    total_count = sum(n(s) for s, _ in model.inputs.values()) + sum(n(s) for s in model.params.values())
    return total_count + sum(n(e.shape) for _, e in model.lines)


@dataclass
class _Layers:
    """What the layer builder hands the head: the output expression, its masks, lines that may be reused."""

    out: Ex
    reusable: list[tuple[str, Ex]]  # identity lines' arguments to use again: (name, expr)
    copyable: list[str]  # activation lines whose expression may be written out again


def _layers(model: Model, names: Names, rng: random.Random, depth: int, column: bool) -> _Layers:
    """Dense layers from the input to the output pre-activation, appending forward lines to the model."""
    scheme = rng.choice(SCHEMES)
    fname = next(iter(model.functions), "f")
    dims = model.dims
    x_name = next(n for n, (s, oh) in model.inputs.items() if not oh and len(s) == 2)
    prev = var(x_name, model.inputs[x_name][0])
    reusable: list[tuple[str, Ex]] = []
    copyable: list[str] = []
    for layer in range(1, depth + 1):
        din, dout = dims[layer - 1], dims[layer]
        fmt = {"l": layer, "k": layer - 1}
        w_name = names.pick(scheme[0].format(**fmt))
        transposed = not column and rng.random() < 0.15
        if column:
            model.params[w_name] = (dout, din)
            pre = matmul(var(w_name, (dout, din)), prev)
        elif transposed:
            model.params[w_name] = (dout, din)
            pre = matmul(prev, transpose(var(w_name, (dout, din))))
        else:
            model.params[w_name] = (din, dout)
            pre = matmul(prev, var(w_name, (din, dout)))
        if rng.random() < 0.8:
            b_name = names.pick(scheme[1].format(**fmt))
            b_shape: Shape = (dout, 1) if column else (dout,)
            model.params[b_name] = b_shape
            pre = add(pre, var(b_name, b_shape)) if rng.random() < 0.8 else add(var(b_name, b_shape), pre)
        last = layer == depth
        if last:
            return _Layers(pre, reusable, copyable)
        kind = rng.choice(ACTIVATIONS)
        if kind == "fn" and not model.functions:
            model.functions[fname] = "elementwise"
            model.features.add("declared_f")
        named_pre = kind == "identity" or rng.random() < 0.5
        if named_pre:
            z_name = names.pick(scheme[2].format(**fmt))
            model.lines.append((z_name, pre))
            pre = var(z_name, pre.shape)
        act = _act(kind, pre, rng, fname)
        model.layer_masks.append(mask(pre))
        h_name = names.pick(scheme[3].format(**fmt))
        if kind == "identity":
            model.features.add("identity_line")
            reusable.append((pre.name, pre))
        residual = din == dout and prev.shape == act.shape and rng.random() < 0.5
        value = add(act, prev) if residual else act
        if residual:
            model.features.add("residual")
        model.lines.append((h_name, value))
        if not residual and kind != "identity":
            copyable.append(h_name)
        prev = var(h_name, value.shape)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Profile:
    """How big models may get: the full fuzz run, or the light CI sample."""

    max_depth: int = 4
    max_entries: int = MAX_ENTRIES


FULL, LIGHT = Profile(), Profile(max_depth=2, max_entries=80)


def batch_model(rng: random.Random, profile: Profile = FULL) -> Model:
    """A batch model (rows are samples) with a random depth, activations and loss."""
    names = Names(rng)
    depth = min(rng.choice([1, 1, 1, 2, 2, 2, 2, 3, 3, 4]), profile.max_depth)
    batch = names.pick("N", "m", "B")
    head = rng.choice(["ce", "ce", "ce_mean", "mse", "mse_mean", "mse_half", "bce", "softplus", "exp"])
    hidden = [names.pick("H", "G", "M", "F", "E") for _ in range(rng.choice([1, 1, 2]))]
    d_in, d_out = names.pick("D", "R"), names.pick("C", "K")
    size_names = [batch, d_in, d_out, *hidden]
    sizes = _sizes(rng, size_names, allow_one=True)
    if head.startswith("ce") and sizes[d_out] == 1:
        sizes[d_out] = 7
    dims: list[Dim] = [d_in, *(rng.choice(hidden) for _ in range(depth - 1)), d_out]
    model = Model("batch", sizes, {}, {}, {}, [], "", batch)
    model.dims = dims
    x = names.pick("X", "X0", "inputs", "A0")
    model.inputs[x] = ((batch, d_in), False)
    if rng.random() < 0.2:
        model.functions[names.pick("f", "g", "phi")] = "elementwise"
    layers = _layers(model, names, rng, depth, column=False)
    _batch_head(model, names, rng, head, layers)
    _shrink(model, profile.max_entries)
    return model


def _shrink(model: Model, limit: int = MAX_ENTRIES) -> None:
    """Smaller sizes until the model has at most `limit` entries."""
    while _entries(model) > limit:
        big = max(model.sizes, key=lambda s: model.sizes[s])
        model.sizes[big] -= 1


def _loss_extras(model: Model, names: Names, rng: random.Random, layers: _Layers, loss: Ex) -> Ex:
    """L2 terms, written-out copies of a line, an identity line's argument used again."""
    params = [n for n, s in model.params.items() if len(s) == 2]
    if params and rng.random() < 0.45:
        chosen = rng.sample(params, rng.randint(1, len(params)))
        reg_sum = reduce("sum", power(var(chosen[0], model.params[chosen[0]]), 2))
        for p in chosen[1:]:
            reg_sum = add(reg_sum, reduce("sum", power(var(p, model.params[p]), 2)))
        if rng.random() < 0.6:
            reg = names.pick("reg", "lam", "wd")
            model.inputs[reg] = ((), False)
            loss = add(loss, Ex("mul", (var(reg, ()), reg_sum)))
        else:
            loss = add(loss, Ex("mul", (const(rng.choice(["0.5", "0.01", "2"])), reg_sum)))
        model.features.add("l2")
    lines = dict(model.lines)
    if layers.copyable and rng.random() < 0.35:
        h = rng.choice(layers.copyable)
        c = const(rng.choice(["0.5", "0.25", "2"]))
        loss = add(loss, Ex("mul", (c, reduce("sum", power(lines[h], 2)))))
        model.features.add("written_copy")
    for _, z in layers.reusable:
        if rng.random() < 0.8:
            c = const(rng.choice(["0.5", "0.1", "3"]))
            loss = add(loss, Ex("mul", (c, reduce("mean" if rng.random() < 0.5 else "sum", power(z, 2)))))
            model.features.add("identity_reused")
    return loss


def _batch_head(model: Model, names: Names, rng: random.Random, head: str, layers: _Layers) -> None:
    batch = model.batch
    assert batch is not None
    out = layers.out
    n = size(batch)
    loss_name = rng.choice(["L", "L", "loss", "J", "cost"])
    after: list[tuple[str, Ex]] = []
    scores_name = names.pick("scores", "logits", "S", "o", "Zout", "out")
    if head.startswith("ce") or rng.random() < 0.7:
        model.lines.append((scores_name, out))
        out = var(scores_name, out.shape)
    if head.startswith("ce"):
        y = names.pick("Y", "onehot", "Yl")
        model.inputs[y] = (out.shape, True)
        p = names.pick("P", "probs", "probsA", "yhat", "Yhat", "Q")
        model.lines.append((p, call("softmax", out, axis=1)))
        pv, yv = var(p, out.shape), var(y, out.shape)
        terms = mul(yv, call("log", pv))
        mean_of_rows = neg(reduce("mean", reduce("sum", terms, 1)))
        loss = div(neg(reduce("sum", terms)), n) if head == "ce" else mean_of_rows
        after.append((names.pick("delta", "err", "G1"), div(sub(pv, yv), n)))
        after.append((names.pick("acc", "hits"), div(reduce("sum", mul(yv, pv)), n)))
        model.features.add("softmax_ce")
    else:
        t = names.pick("T", "target", "Ytrue")
        model.inputs[t] = (out.shape, False)
        tv = var(t, out.shape)
        if head.startswith("mse"):
            final = rng.choice(["none", "none", "tanh", "sigmoid", "identity"])
            if final != "none":
                yhat = names.pick("yhat", "Yhat", "pred", "outA")
                model.lines.append((yhat, call(final, out)))
                out = var(yhat, out.shape)
            sq = power(sub(out, tv), 2)
            if head == "mse":
                loss = div(reduce("sum", sq), n)
            elif head == "mse_half":
                loss = div(reduce("sum", sq), Ex("mul", (TWO, n)))
            else:
                loss = reduce("mean", sq)
            after.append((names.pick("resid", "err"), sub(out, tv)))
            model.features.add("mse")
        elif head == "bce":
            s = names.pick("s", "sig", "probs", "Pb")
            s_expr = call("sigmoid", out)
            model.lines.append((s, s_expr))
            sv = var(s, out.shape)
            second = s_expr if rng.random() < 0.5 else sv
            if second is s_expr:
                model.features.add("written_copy")
            inner = add(mul(tv, call("log", sv)), mul(sub(ONE, tv), call("log", sub(ONE, second))))
            loss = div(neg(reduce("sum", inner)), n)
            if out.op == "var":
                model.closed[out.name] = div(sub(sv, tv), n)
            model.features.add("bce")
        elif head == "softplus":
            loss = div(reduce("sum", sub(call("log", add(ONE, call("exp", out))), mul(tv, out))), n)
            model.features.add("exp_log")
        else:
            loss = div(reduce("sum", sub(call("exp", out), mul(tv, out))), n)
            model.features.add("exp_log")
    loss = _loss_extras(model, names, rng, layers, loss)
    model.lines.append((loss_name, loss))
    model.loss = loss_name
    masks = [m for m in model.layer_masks if m.args[0].op == "var"]
    if masks and rng.random() < 0.5:
        after.append((names.pick("mask1", "m1", "on1"), rng.choice(masks)))
    if loss_name in ("L", "loss") and rng.random() < 0.5:
        model.lines.extend(rng.sample(after, rng.randint(1, len(after))) if after else [])
        if rng.random() < 0.3:
            model.lines.append((names.pick("twiceL", "Lx2"), Ex("mul", (TWO, var(loss_name, ())))))
        if model.lines[-1][0] != loss_name:
            model.features.add("after_loss")


def column_model(rng: random.Random, profile: Profile = FULL) -> Model:
    """A single-sample model with column vectors (`W @ x + b`)."""
    names = Names(rng)
    depth = min(rng.choice([1, 1, 2, 2, 2, 3]), profile.max_depth)
    head = rng.choice(["ce", "ce", "mse", "mse_half", "generic"])
    d_in = names.pick("n", "D", "Dx")
    hidden = names.pick("h", "H", "Dh")
    d_out = names.pick("K", "Nc", "C")
    sizes = _sizes(rng, [d_in, hidden, d_out], allow_one=False)
    dims: list[Dim] = [d_in, *([hidden] * (depth - 1)), d_out]
    model = Model("column", sizes, {}, {}, {}, [], "", None)
    model.dims = dims
    x = names.pick("x", "x0", "a0")
    model.inputs[x] = ((d_in, 1), False)
    if rng.random() < 0.3 or head == "generic":
        model.functions[names.pick("f", "g", "phi")] = "elementwise"
    layers = _layers(model, names, rng, depth, column=True)
    out = layers.out
    z = names.pick("z", "Theta", "zout", "logit")
    model.lines.append((z, out))
    zv = var(z, out.shape)
    loss_name = rng.choice(["L", "J", "loss"])
    model.features.add("column")
    if head == "ce":
        y = names.pick("y", "yl", "onehot")
        model.inputs[y] = (out.shape, True)
        p = names.pick("yhat", "p", "probs")
        model.lines.append((p, call("softmax", zv, axis=0)))
        loss = neg(reduce("sum", mul(var(y, out.shape), call("log", var(p, out.shape)))))
        model.features.add("softmax_ce")
        model.softmax = (z, p, y, d_out)
    elif head == "generic":
        lt = names.pick("Lt", "ell")
        gname = names.pick("dL_dy", "gy")
        act = names.pick("y", "outv")
        fname = next(iter(model.functions))
        model.lines.append((act, call("fn", zv, fname, 0)))
        av = var(act, out.shape)
        model.functions[lt] = f"scalar, gradient {gname}"
        model.gradients[gname] = av
        loss = call("sfn", av, lt)
        model.features.add("scalar_loss")
    else:
        tgt = names.pick("target", "tv", "T")
        model.inputs[tgt] = (out.shape, False)
        sq = reduce("sum", power(sub(zv, var(tgt, out.shape)), 2))
        loss = sq if head == "mse" else div(sq, TWO)
        model.features.add("mse")
    loss = _loss_extras(model, names, rng, layers, loss)
    model.lines.append((loss_name, loss))
    model.loss = loss_name
    _shrink(model, profile.max_entries)
    return model


# --------------------------------------------------------------------------------------------------------------
# Claims


@dataclass
class Claim:
    """One claim as written in the file, with what the generator believes about it."""

    key: str
    target: str
    expr: Ex | None  # the formula IR (None for entry claims written as text)
    formula: str
    believed: bool | None  # True at the stated sizes (None: the generator does not know)
    believed_all: bool | None  # True at every size
    mutation: str = ""  # "" for claims emitted as true
    latex: list[str] | None = None
    extra: dict[str, str] = field(default_factory=dict)  # other keys: for, when, label, of, layout
    table: bool = False  # written as a table with wrt
    uses: set[str] = field(default_factory=set)  # earlier claims it names
    sizes_used: dict[str, int] = field(default_factory=dict)  # size literals a mutant wrote (true only there)
    form: str = "formula"  # formula | latex | entry
    implicit: bool = False  # a table without wrt (the key d<target> says it)
    twin: bool = False  # a LaTeX claim that also gives its numpy formula


@dataclass
class Generated:
    """One generated derivation (with an optional extends base) and its metadata."""

    seed: int
    kind: str
    files: dict[str, str]  # file name -> TOML text
    main: str  # the file to check
    claims: list[Claim]
    features: set[str]
    violation: str = ""  # kind "naming": which rule the file breaks
    violation_claim: str = ""  # the offending claim key, when the violation is a claim's


def _value_table(model: Model) -> dict[Ex, Ex]:
    table: dict[Ex, Ex] = {}
    for name, e in model.lines:
        if e.op != "var" and name != model.loss and e not in table:
            table[e] = var(name, e.shape)
    return table


def _values(e: Ex, model: Model, rng: random.Random, p: float) -> Ex:
    """e with some subexpressions written as the forward line that has that value."""
    table = {k: v for k, v in _value_table(model).items() if rng.random() < p}
    return substitute(e, table)


def emit_claims(model: Model, names: Names, rng: random.Random) -> list[Claim]:
    """True claims for every parameter and some intermediates, with mutants interleaved."""
    lines = model.before_loss()
    first_use: dict[str, int] = {}
    for k, (_, e) in enumerate(lines):
        for n in names_in(e):
            first_use.setdefault(n, k)
    style = rng.choice(["inline", "named", "mixed"])
    latex_style = _latex_style(model, rng) if rng.random() < 0.35 else None
    claims: list[Claim] = []
    claimed_lines: dict[str, str] = {}  # line -> key of its true, plain claim
    order: list[str] = []
    for k in range(len(lines) - 1, -1, -1):
        name = lines[k][0]
        if name != model.loss and rng.random() < 0.4:
            order.append(name)
        order += [p for p in model.params if first_use.get(p) == k]
        order += [x for x, (s, oh) in model.inputs.items() if first_use.get(x) == k and not oh and rng.random() < 0.2]
    adjoints_cache: dict[frozenset[tuple[str, str]], dict[str, Ex]] = {}
    for target in order:
        p_use = {"inline": 0.0, "named": 1.0, "mixed": 0.5}[style]
        use = {ln: key for ln, key in claimed_lines.items() if rng.random() < p_use}
        cache_key = frozenset(use.items())
        if cache_key not in adjoints_cache:
            adjoints_cache[cache_key] = Backprop(model, random.Random(rng.random()), use).run()
        g = adjoints_cache[cache_key].get(target)
        if g is None:
            continue
        expr = _values(g, model, rng, 0.6)
        key = names.claim_key(target, plain=rng.random() < 0.75)
        claim = Claim(key, target, expr, text(expr), True, True, table=key != f"d{target}", uses=_uses(expr, claims))
        if latex_style is not None and rng.random() < 0.6:
            _as_latex(claim, model, latex_style, rng)
        claims.append(claim)
        if target in dict(lines) and claim.form == "formula":
            claimed_lines[target] = key
        if model.kind == "column" and len(model.shape(target)) == 2 and rng.random() < 0.25:
            flipped = transpose(var(key, model.shape(target)) if rng.random() < 0.5 else expr)
            claims.append(
                Claim(
                    names.claim_key(target + "_numerator", False),
                    target,
                    flipped,
                    text(flipped),
                    True,
                    True,
                    extra={"layout": "numerator"},
                    table=True,
                    uses=_uses(flipped, claims),
                )
            )
            if rng.random() < 0.5:
                claims.append(
                    Claim(
                        names.claim_key(target + "_numerator_wrong", False),
                        target,
                        expr,
                        text(expr),
                        False,
                        False,
                        "layout: numerator but not transposed",
                        extra={"layout": "numerator"},
                        table=True,
                        uses=_uses(expr, claims),
                    )
                )
            model.features.add("numerator_layout")
        if target in model.closed and rng.random() < 0.7:
            alt = model.closed[target]
            claims.append(Claim(names.claim_key(target, False), target, alt, text(alt), True, True, table=True))
        if rng.random() < 0.45:
            claims += mutants(claim, model, names, rng, claims, latex_style)
    post = [n for n, _ in model.lines[len(lines) :]]
    if post and rng.random() < 0.3:
        target = rng.choice(post)
        zero = Ex("mul", (ZERO, var(target, model.shape(target))))
        claims.append(Claim(names.claim_key(target, True), target, zero, text(zero), True, True))
        model.features.add("claim_after_loss")
    if rng.random() < 0.3:
        claims += entry_claims(model, names, rng, claims)
    if latex_style is not None:
        used = " ".join(s for c in claims if c.latex for s in c.latex)
        model.aliases = {k: v for k, v in latex_style.aliases.items() if k in used}
    if any(c.uses for c in claims):
        model.features.add("uses_earlier")
    if any(c.form == "latex" for c in claims):
        model.features.add("latex")
    return claims


def _uses(e: Ex, claims: list[Claim]) -> set[str]:
    keys = {c.key for c in claims}
    return names_in(e) & keys


# --------------------------------------------------------------------------------------------------------------
# LaTeX claims


def _latex_style(model: Model, rng: random.Random) -> LatexStyle:
    spell: dict[str, str] = {}
    aliases: dict[str, str] = {}
    for name in [*model.sizes, *model.inputs, *model.params, *(n for n, _ in model.lines)]:
        m = re.fullmatch(r"([A-Za-z]+)(\d+)", name)
        if name in ("yhat", "Yhat") and rng.random() < 0.6:
            spell[name] = "\\hat{" + name[0] + "}"
        elif name == "lam" and rng.random() < 0.6:
            spell[name] = "\\lambda"
        elif m and rng.random() < 0.7:
            spell[name] = rng.choice([f"{m.group(1)}_{m.group(2)}", f"{m.group(1)}_{{{m.group(2)}}}"])
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) and (
            name not in ("exp", "log", "sigma", "tanh", "T") and rng.random() < 0.85
        ):
            spell[name] = f"\\text{{{name}}}" if rng.random() < 0.15 and len(name) > 1 else name
        else:
            key = "\\text{" + name.replace("_", "-") + "-q}"
            aliases[key] = name
            spell[name] = key
    onehot = [n for n, (_, oh) in model.inputs.items() if oh]
    if onehot and rng.random() < 0.4:
        key = "\\text{one-hot label}"
        aliases[key] = onehot[0]
        spell[onehot[0]] = key
    return LatexStyle(spell, aliases, model.batch, rng)


def _as_latex(claim: Claim, model: Model, style: LatexStyle, rng: random.Random) -> None:
    """Write the claim in LaTeX instead of (or beside) the formula, if the generator can spell it."""
    assert claim.expr is not None
    for key in names_in(claim.expr) - set(style.spell):
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key):
            style.spell[key] = key
    target = style.spell.get(claim.target)
    loss = style.spell.get(model.loss, model.loss) if re.fullmatch(r"[A-Za-z]+", model.loss) else None
    try:
        parts = [claim.expr]
        if claim.expr.op in ("add",) and rng.random() < 0.5:
            parts = [claim.expr.args[0], claim.expr.args[1]]
        bodies = [latex(p, style) for p in parts]
    except (NoLatex, Unsupported):
        return
    lines = []
    for k, body in enumerate(bodies):
        if target is not None and loss is not None and (k > 0 or rng.random() < 0.8):
            lhs = f"\\frac{{\\partial {loss}}}{{\\partial {target}}}"
            lines.append(f"{lhs} {'+=' if k else '='} {body}")
        elif k == 0:
            lines.append(body)
        else:
            return  # a += line needs its left side
    claim.latex = lines
    claim.form = "latex"
    claim.table = True
    model.features.add("latex_aliases" if style.aliases else "latex")
    if len(lines) > 1:
        model.features.add("latex_plus_eq")


# --------------------------------------------------------------------------------------------------------------
# Mutants


def _size_value(model: Model, name: str) -> int:
    return model.sizes[name]


def mutations(e: Ex, model: Model, claims: list[Claim]) -> Iterator[tuple[str, Ex, dict[str, int]]]:
    """(operator, mutant, size literals it wrote) for every position of e."""
    earlier = {c.key: c.target for c in claims if c.believed and c.mutation == "" and not c.extra}
    for node, rebuild in positions(e):
        op = node.op
        if op in ("mul", "div", "matmul"):
            yield "drop a factor", rebuild(node.args[0]), {}
            if op != "div":
                yield "drop a factor", rebuild(node.args[1]), {}
        if op == "T":
            yield "drop a transpose", rebuild(node.args[0]), {}
        if op == "matmul":
            yield "swap @ operands", rebuild(Ex("matmul", (node.args[1], node.args[0]), shape=node.shape)), {}
        if op in ("sum", "mean") and node.axis is not None:
            yield "wrong axis", rebuild(replace(node, axis=1 - node.axis)), {}
            yield "wrong axis", rebuild(replace(node, axis=None)), {}
        if op in ("add", "sub"):
            yield "drop a term", rebuild(node.args[0]), {}
            yield "drop a term", rebuild(node.args[1] if op == "add" else neg(node.args[1])), {}
            yield "flip a sign", rebuild(replace(node, op="sub" if op == "add" else "add")), {}
        if op == "neg":
            yield "flip a sign", rebuild(node.args[0]), {}
        if op == "const" and node.value not in (0, 1):
            yield "change a constant", rebuild(const(node.value + 1)), {}
            yield "change a constant", rebuild(const(node.value / 2)), {}
        if op == "gt":
            for other in model.layer_masks:
                if _pre_activation(other.args[0], model) != _pre_activation(node.args[0], model):
                    yield "mask on the wrong layer", rebuild(other), {}
        if op == "div" and node.args[1].op == "size" and node.args[1].name == model.batch:
            yield "1/N dropped", rebuild(node.args[0]), {}
        if op == "size":
            value = _size_value(model, node.name)
            yield "size written as its value", rebuild(const(value)), {node.name: value}
        if op == "var" and node.name in earlier:
            yield "earlier claim replaced by the forward name", rebuild(var(earlier[node.name], node.shape)), {}


def _pre_activation(x: Ex, model: Model) -> Ex:
    """What a mask is taken of, with lines and activations looked through: (h > 0), (relu(z) > 0), (z > 0) agree."""
    lines = dict(model.lines)
    for _ in range(8):
        if x.op == "var" and x.name in lines:
            x = lines[x.name]
        elif x.op in ("relu", "leaky", "identity"):
            x = x.args[0]
        else:
            break
    return x


def mutants(
    claim: Claim,
    model: Model,
    names: Names,
    rng: random.Random,
    claims: list[Claim],
    style: LatexStyle | None,
) -> list[Claim]:
    """One or two wrong claims made from a true one."""
    assert claim.expr is not None
    made = [(op, m, s) for op, m, s in mutations(claim.expr, model, claims) if m != claim.expr]
    made = [(op, m, s) for op, m, s in made if _printable(m) and text(m) != claim.formula]
    out = []
    for op, m, literal in rng.sample(made, min(len(made), rng.choice([1, 1, 2]))):
        key = names.claim_key(claim.target + "_wrong", False)
        believed = bool(literal)
        mutant = Claim(
            key, claim.target, m, text(m), believed, False, op, table=True, uses=_uses(m, claims), sizes_used=literal
        )
        if style is not None and claim.form == "latex":
            _as_latex(mutant, model, style, rng)
        out.append(mutant)
    return out


def _printable(e: Ex) -> bool:
    try:
        text(e)
    except Unsupported:
        return False
    return True


# --------------------------------------------------------------------------------------------------------------
# Entry claims: for / when / label / of


def entry_claims(model: Model, names: Names, rng: random.Random, claims: list[Claim]) -> list[Claim]:
    """Claims about single entries: a true gradient's entry for every index, and softmax's case analysis."""
    out: list[Claim] = []
    index_names = [v for v in ("i", "j", "p", "q", "t", "k") if v not in model.names()]
    plain = [c for c in claims if c.believed and not c.mutation and c.form == "formula" and not c.extra]
    if plain:
        c = rng.choice(plain)
        shape = model.shape(c.target)
        dims = [d for d in shape if d != 1]
        if dims and all(isinstance(d, str) for d in dims):
            idx = index_names[: len(dims)]
            wrt = f"{c.target}[{', '.join(idx)}]"
            source = var(c.key, shape) if rng.random() < 0.5 else c.expr
            assert source is not None
            value = entry(source, ", ".join(idx))
            extra = {"wrt": wrt, "for": "{ " + ", ".join(f'{v} = "{d}"' for v, d in zip(idx, dims, strict=True)) + " }"}
            if len(idx) == 2 and rng.random() < 0.4:
                extra["when"] = f"{idx[0]} != {idx[1]}"
            out.append(
                Claim(
                    names.claim_key(c.target + "_entry", False),
                    c.target,
                    value,
                    text(value),
                    True,
                    True,
                    extra=extra,
                    table=True,
                    uses=_uses(value, claims),
                    form="entry",
                )
            )
            wrong = Ex("mul", (TWO, value))
            out.append(
                Claim(
                    names.claim_key(c.target + "_entry_wrong", False),
                    c.target,
                    wrong,
                    text(wrong),
                    False,
                    False,
                    "change a constant",
                    extra=dict(extra),
                    table=True,
                    uses=_uses(value, claims),
                    form="entry",
                )
            )
    softmax = model.softmax
    if softmax is not None and len(index_names) >= 2:
        z, p, y, k_size = softmax
        t, j = index_names[:2]
        z_only_softmax = sum(1 for _, e in model.before_loss() if z in names_in(e)) == 1
        cases = [
            (
                {"of": f"{p}[{t}]", "wrt": f"{z}[{t}]", "for": f'{{ {t} = "{k_size}" }}'},
                f"{p}[{t}] * (1 - {p}[{t}])",
                f"{p}[{t}] * {p}[{t}]",
            ),
            (
                {
                    "of": f"{p}[{t}]",
                    "wrt": f"{z}[{j}]",
                    "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}',
                    "when": f"{j} != {t}",
                },
                f"-{p}[{t}] * {p}[{j}]",
                f"{p}[{t}] * {p}[{j}]",
            ),
        ]
        if z_only_softmax:
            cases += [
                (
                    {"wrt": f"{z}[{t}]", "for": f'{{ {t} = "{k_size}" }}', "label": f'{{ {y} = "{t}" }}'},
                    f"{p}[{t}] - 1",
                    f"{p}[{t}]",
                ),
                (
                    {
                        "wrt": f"{z}[{j}]",
                        "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}',
                        "when": f"{j} != {t}",
                        "label": f'{{ {y} = "{t}" }}',
                    },
                    f"{p}[{j}]",
                    f"{p}[{j}] - 1",
                ),
            ]
        for extra, right_text, wrong_text in rng.sample(cases, rng.randint(1, len(cases))):
            out.append(
                Claim(
                    names.claim_key(z + "_case", False),
                    z,
                    None,
                    right_text,
                    True,
                    True,
                    extra=dict(extra),
                    table=True,
                    form="entry",
                )
            )
            if rng.random() < 0.6:
                out.append(
                    Claim(
                        names.claim_key(z + "_case_wrong", False),
                        z,
                        None,
                        wrong_text,
                        False,
                        False,
                        "entry formula of the other case",
                        extra=dict(extra),
                        table=True,
                        form="entry",
                    )
                )
        if rng.random() < 0.3:
            extra = {"wrt": f"{z}[{j}]", "for": f'{{ {t} = "{k_size}", {j} = "{k_size}" }}', "of": f"{p}[{t}]"}
            out.append(
                Claim(
                    names.claim_key(z + "_nowhen", False),
                    z,
                    None,
                    f"-{p}[{t}] * {p}[{j}]",
                    False,
                    False,
                    "condition dropped",
                    extra=extra,
                    table=True,
                    form="entry",
                )
            )
    if out:
        model.features.add("entry_claims")
    return out


# --------------------------------------------------------------------------------------------------------------
# TOML


def _shape_text(shape: Shape) -> str:
    return " x ".join(str(d) for d in shape) if shape else "scalar"


def _literal(s: str) -> str:
    """A TOML literal string (no escapes: LaTeX backslashes stay as they are)."""
    return f"'''{s}'''" if "'" in s else f"'{s}'"


def _claim_toml(c: Claim) -> str:
    if not c.table and c.latex is None and not c.extra:
        return f'{c.key} = "{c.formula}"'
    parts = []
    if "wrt" not in c.extra and not (c.key == f"d{c.target}" and c.implicit):
        parts.append(f'wrt = "{c.target}"')
    for k, v in c.extra.items():
        parts.append(f"{k} = {v}" if v.startswith("{") else f'{k} = "{v}"')
    if c.latex is not None:
        parts.append(
            "latex = "
            + (_literal(c.latex[0]) if len(c.latex) == 1 else "[" + ", ".join(_literal(s) for s in c.latex) + "]")
        )
        if c.twin:
            parts.append(f'formula = "{c.formula}"')
    else:
        parts.append(f'formula = "{c.formula}"')
    return f"{c.key} = {{ {', '.join(parts)} }}"


def model_toml(model: Model, claims: list[Claim], rng: random.Random, header: str) -> str:
    """The derivation file of a model and its claims."""
    out = [f"# {header}", f'title = "{model.title or model.kind + " model"}"', "", "[sizes]"]
    out += [f"{k} = {v}" for k, v in model.sizes.items()]
    out += ["", "[inputs]"]
    out += [f'{k} = "{_shape_text(s)}{", onehot" if oh else ""}"' for k, (s, oh) in model.inputs.items()]
    out += ["", "[params]"]
    out += [f'{k} = "{_shape_text(s)}"' for k, s in model.params.items()]
    if model.functions:
        out += ["", "[functions]"]
        out += [f'{k} = "{v}"' for k, v in model.functions.items()]
    out += ["", "[forward]"]
    for name, e in model.lines:
        if rng.random() < 0.12 and e.shape:
            out.append(f'{name} = {{ formula = "{text(e)}", shape = "{_shape_text(e.shape)}" }}')
            model.features.add("declared_shape")
        else:
            out.append(f'{name} = "{text(e)}"')
    if model.aliases:
        out += ["", "[aliases]"]
        out += [f'{_literal(k)} = "{v}"' for k, v in model.aliases.items()]
    out += claims_toml(claims, rng)
    return "\n".join(out) + "\n"


def claims_toml(claims: list[Claim], rng: random.Random) -> list[str]:
    """The [claims] table: strings and inline tables in order, trailing table claims sometimes as sections."""
    for c in claims:
        c.implicit = c.key == f"d{c.target}" and rng.random() < 0.5
        c.twin = c.latex is not None and c.believed is True and c.mutation == "" and rng.random() < 0.3
    out = ["", "[claims]"]
    tail = len(claims)
    if rng.random() < 0.5:
        while tail > 0 and claims[tail - 1].latex is not None:
            tail -= 1
    out += [_claim_toml(c) for c in claims[:tail]]
    for c in claims[tail:]:
        inline = _claim_toml(c)
        body = inline.split(" = { ", 1)[1].rsplit(" }", 1)[0]
        out += ["", f"[claims.{c.key}]"]
        out += _split_inline(body)
    return out


def _split_inline(body: str) -> list[str]:
    """key = value pairs of an inline table body (values contain no top-level ', ' inside quotes or braces)."""
    pairs, depth, quote, start = [], 0, "", 0
    k = 0
    while k < len(body):
        ch = body[k]
        if quote:
            if body.startswith(quote, k):
                k += len(quote) - 1
                quote = ""
        elif body.startswith("'''", k):
            quote = "'''"
            k += 2
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
        elif ch == "," and depth == 0:
            pairs.append(body[start:k].strip())
            start = k + 1
        k += 1
    pairs.append(body[start:].strip())
    return pairs


# --------------------------------------------------------------------------------------------------------------
# Kinds: plain models, extends, model mutants, naming violations


def _with_claims(rng: random.Random, column: bool, profile: Profile = FULL) -> tuple[Model, Names, list[Claim]]:
    for _ in range(50):
        model = column_model(rng, profile) if column else batch_model(rng, profile)
        names = Names(rng)
        names.taken |= model.names()
        try:
            claims = emit_claims(model, names, rng)
        except Unsupported:
            continue
        if claims:
            return model, names, claims
    raise Unsupported("no model")


def generate(seed: int, profile: Profile = FULL) -> Generated:
    """One random derivation (and its metadata) from a seed."""
    rng = random.Random(seed)
    roll = rng.random()
    if roll < 0.06:
        return naming_violation(seed, rng, profile)
    if roll < 0.20:
        return extends_pair(seed, rng, profile)
    if roll < 0.30:
        return model_mutant(seed, rng, profile)
    column = roll < 0.48
    model, _, claims = _with_claims(rng, column, profile)
    kind = "column" if column else "batch"
    text_ = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, kind {kind}")
    return Generated(seed, kind, {"model.toml": text_}, "model.toml", claims, set(model.features))


def extends_pair(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A base file and a child that extends it: new size values, added claims, an overridden claim."""
    model, names, claims = _with_claims(rng, rng.random() < 0.3, profile)
    base = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, extends base")
    child_sizes = dict(model.sizes)
    override = rng.random() < 0.6
    if override:
        for s in rng.sample(list(child_sizes), rng.randint(1, min(2, len(child_sizes)))):
            choices = [v for v in range(2, 7) if v not in child_sizes.values()]
            if choices:
                child_sizes[s] = rng.choice(choices)
        trial = replace(model, sizes=child_sizes)
        if _entries(trial) > profile.max_entries:
            child_sizes = dict(model.sizes)
            override = False
    effective = list(claims)
    child_claims: list[Claim] = []
    referenced = {u for c in claims for u in c.uses}
    plain_true = [
        c
        for c in claims
        if c.believed and not c.mutation and c.key not in referenced and c.expr is not None and c.form != "entry"
    ]
    if plain_true and rng.random() < 0.7:
        victim = rng.choice(plain_true)
        made = [(op, m, s) for op, m, s in mutations(victim.expr, model, claims) if m != victim.expr]  # type: ignore[arg-type]
        made = [x for x in made if _printable(x[1]) and text(x[1]) != victim.formula]
        if made:
            op, m, literal = rng.choice(made)
            wrong = Claim(
                victim.key,
                victim.target,
                m,
                text(m),
                bool(literal),
                False,
                "override: " + op,
                table=True,
                sizes_used=literal,
                extra=dict(victim.extra),
            )
            child_claims.append(wrong)
            effective = [wrong if c.key == victim.key else c for c in effective]
    for c in rng.sample(claims, min(len(claims), rng.randint(1, 3))):
        if c.expr is None or c.form == "entry" or not c.believed or c.mutation:
            continue
        alt = _values(c.expr, model, rng, 0.5)
        added = Claim(
            names.claim_key(c.target + "_child", False),
            c.target,
            alt,
            text(alt),
            True,
            True,
            table=True,
            uses=_uses(alt, claims),
            extra=dict(c.extra),
        )
        if rng.random() < 0.5 and c.key not in {w.key for w in child_claims}:
            added = replace(added, expr=var(c.key, model.shape(c.target)), formula=c.key, uses={c.key})
        child_claims.append(added)
        effective.append(added)
    for c in effective:  # size literals written by mutants hold at the child's sizes only if the values are kept
        if c.sizes_used:
            c.believed = all(child_sizes[s] == v for s, v in c.sizes_used.items())
    lines = [
        f"# derive-check model fuzz: seed {seed}, extends child",
        'extends = "base.toml"',
        f'title = "child of seed {seed}"',
        f'source = "tests/modelgen.py seed {seed}"',
    ]
    if rng.random() < 0.5:
        lines.append('note = "sizes and claims changed by the child"')
    if override:
        lines += ["", "[sizes]"] + [f"{k} = {v}" for k, v in child_sizes.items() if v != model.sizes[k]]
    if child_claims:
        lines += claims_toml(child_claims, rng)
    features = set(model.features) | {"extends"}
    if override:
        features.add("extends_sizes")
    if any(c.mutation.startswith("override") for c in child_claims):
        features.add("extends_override")
    files = {"base.toml": base, "child.toml": "\n".join(lines) + "\n"}
    return Generated(seed, "extends", files, "child.toml", effective, features)


MODEL_MUTATIONS = ("activation swapped", "loss scale changed", "bias dropped", "sign flipped", "constant changed")


def model_mutant(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A model with one forward line changed, checked against the claims derived for the original."""
    model, _, claims = _with_claims(rng, rng.random() < 0.35, profile)
    lines = model.before_loss()
    options: list[tuple[str, int, Ex]] = []
    for k, (_, e) in enumerate(lines):
        for node, rebuild in positions(e):
            if node.op in ("relu", "sigmoid", "tanh", "identity", "leaky"):
                for other in ("relu", "sigmoid", "tanh", "identity"):
                    if other != node.op:
                        options.append(("activation swapped", k, rebuild(replace(node, op=other, value=Fraction(0)))))
            if node.op == "size":
                options.append(("loss scale changed", k, rebuild(Ex("mul", (TWO, node)))))
            if node.op == "add" and node.args[1].op == "var" and node.args[1].name in model.params:
                options.append(("bias dropped", k, rebuild(node.args[0])))
            if node.op == "neg":
                options.append(("sign flipped", k, rebuild(node.args[0])))
            if node.op == "const" and node.value not in (0, 1):
                options.append(("constant changed", k, rebuild(const(node.value * 3))))
    if not options:  # nothing else to change: the whole loss scaled
        k = len(lines) - 1
        options.append(("loss scale changed", k, Ex("mul", (TWO, lines[k][1]), shape=lines[k][1].shape)))
    what, k, changed = rng.choice(options)
    model.lines[k] = (model.lines[k][0], changed)
    for c in claims:
        c.believed = c.believed_all = None
    header = f"derive-check model fuzz: seed {seed}, model mutant ({what} in line {lines[k][0]})"
    text_ = model_toml(model, claims, rng, header)
    return Generated(
        seed, "model_mutant", {"model.toml": text_}, "model.toml", claims, set(model.features) | {"model_mutant"}
    )


VIOLATIONS = (
    "claim key equals a forward line",
    "claim key equals a parameter",
    "claim key equals a size",
    "index variable equals a model name",
    "wrt names a claim",
    "forward line named like a declared derivative",
    "claim key equals a declared function",
)


def naming_violation(seed: int, rng: random.Random, profile: Profile = FULL) -> Generated:
    """A valid model with one naming rule broken on purpose: the engine must reject it (file or claim ERROR)."""
    model, names, claims = _with_claims(rng, rng.random() < 0.3, profile)
    what = rng.choice(VIOLATIONS)
    param = next(iter(model.params))
    candidates = [c for c in claims if c.believed and c.expr is not None and c.form != "entry"]
    good = next((c for c in candidates if c.form == "formula"), candidates[0] if candidates else None)
    if good is None:
        what = "forward line named like a declared derivative"
        good = claims[0]
    bad_key = ""
    if what == "claim key equals a forward line":
        bad_key = rng.choice([n for n, _ in model.lines if n != model.loss] or [model.loss])
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "claim key equals a parameter":
        bad_key = param
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "claim key equals a size":
        bad_key = next(iter(model.sizes))
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    elif what == "index variable equals a model name":
        shape = model.shape(good.target)
        dims = [d for d in shape if isinstance(d, str)]
        if not dims:
            what = "claim key equals a parameter"
            bad_key = param
            claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
        else:
            clash = param
            bad_key = names.claim_key(good.target + "_clash", False)
            idx = [clash, *["i", "j"][: len(dims) - 1]]
            formula = f"({good.formula})[{', '.join(idx)}]"
            extra = {
                "wrt": f"{good.target}[{', '.join(idx)}]",
                "for": "{ " + ", ".join(f'{v} = "{d}"' for v, d in zip(idx, dims, strict=True)) + " }",
            }
            claims.append(Claim(bad_key, good.target, None, formula, None, None, extra=extra, table=True))
    elif what == "wrt names a claim":
        bad_key = names.claim_key(good.key + "_of_claim", False)
        claims.append(Claim(bad_key, good.key, None, good.key, None, None, table=True))
    elif what == "forward line named like a declared derivative":
        fname = next((f for f, kind in model.functions.items() if kind == "elementwise"), None)
        if fname is None:
            fname = "f"
            model.functions[fname] = "elementwise"
        loss_index = [n for n, _ in model.lines].index(model.loss)
        first = model.lines[0]
        model.lines.insert(
            loss_index, (f"d{fname}", Ex("mul", (TWO, var(first[0], first[1].shape)), shape=first[1].shape))
        )
    else:
        fname = next((f for f, kind in model.functions.items() if kind == "elementwise"), None)
        if fname is None:
            fname = "f"
            model.functions[fname] = "elementwise"
        bad_key = fname
        claims.append(Claim(bad_key, good.target, good.expr, good.formula, None, None, table=True))
    for c in claims:
        c.believed = c.believed_all = None
    text_ = model_toml(model, claims, rng, f"derive-check model fuzz: seed {seed}, naming violation: {what}")
    return Generated(seed, "naming", {"model.toml": text_}, "model.toml", claims, {"naming_violation"}, what, bad_key)


# --------------------------------------------------------------------------------------------------------------
# The emitter's own check: numpy evaluation of the IR and central differences (tests of this module only)


def _eval(e: Ex, env: dict[str, np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    op = e.op
    a = [_eval(x, env, sizes) for x in e.args]
    if op == "var":
        return env[e.name]
    if op == "size":
        return np.array(float(sizes[e.name]))
    if op == "const":
        return np.array(float(e.value))
    simple: dict[str, Callable[..., np.ndarray]] = {
        "add": np.add,
        "sub": np.subtract,
        "mul": np.multiply,
        "div": np.divide,
        "matmul": np.matmul,
        "neg": np.negative,
        "exp": np.exp,
        "log": np.log,
        "tanh": np.tanh,
    }
    if op in simple:
        return np.asarray(simple[op](*a))
    if op == "pow":
        return np.asarray(a[0] ** int(e.args[1].value))
    if op == "T":
        return a[0].T
    if op in ("sum", "mean"):
        return np.asarray(np.sum(a[0], axis=e.axis) if op == "sum" else np.mean(a[0], axis=e.axis))
    if op == "relu":
        return np.asarray(np.maximum(a[0], 0))
    if op == "leaky":
        alpha = float(e.value) if e.value else 0.01
        return np.asarray(np.where(a[0] > 0, a[0], alpha * a[0]))
    if op == "sigmoid":
        return np.asarray(1 / (1 + np.exp(-a[0])))
    if op == "identity":
        return a[0]
    if op == "fn":
        order = int(e.value)
        return np.asarray(np.sin(a[0]) if order == 0 else np.cos(a[0]) if order == 1 else -np.sin(a[0]))
    if op == "sfn":
        return np.asarray(np.sum(a[0] ** 2) / 2)
    if op == "gt":
        return (a[0] > 0).astype(float)
    if op == "softmax":
        ex = np.exp(a[0] - np.max(a[0], axis=e.axis, keepdims=True))
        return np.asarray(ex / np.sum(ex, axis=e.axis, keepdims=True))
    if op == "entry":
        raise Unsupported("entries are not evaluated")
    raise Unsupported(op)


def _dims(shape: Shape, sizes: dict[str, int]) -> tuple[int, ...]:
    return tuple(sizes[d] if isinstance(d, str) else d for d in shape)


def _forward(model: Model, env: dict[str, np.ndarray], fixed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    env = dict(env)
    for name, e in model.lines:
        env[name] = fixed[name] if name in fixed else _eval(e, env, model.sizes)
        for gname, arg in model.gradients.items():
            if gname not in env and names_in(arg) <= set(env):
                env[gname] = _eval(arg, env, model.sizes)
    return env


def numeric_check(model: Model, claims: list[Claim], rng: random.Random, step: float = 1e-6) -> dict[str, bool]:
    """Whether each formula claim equals the finite-difference gradient at a random point (the emitter's self-test)."""
    point: dict[str, np.ndarray] = {}
    for name, (shape, onehot) in model.inputs.items():
        dims = _dims(shape, model.sizes)
        if onehot:
            hot = np.zeros(dims)
            if len(dims) == 2 and dims[1] == 1:
                hot[rng.randrange(dims[0]), 0] = 1
            else:
                for row in range(dims[0]):
                    hot[row, rng.randrange(dims[1])] = 1
            point[name] = hot
        else:
            point[name] = np.array([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(dims)))]).reshape(dims)
    for name, shape in model.params.items():
        dims = _dims(shape, model.sizes)
        point[name] = np.array([rng.uniform(-1.5, 1.5) for _ in range(int(np.prod(dims)))]).reshape(dims)
    base = _forward(model, point, {})
    out: dict[str, bool] = {}
    env = dict(base)
    for c in claims:
        if c.expr is None or c.form == "entry" or c.extra:
            continue
        try:
            value = _eval(c.expr, env, model.sizes)
        except (Unsupported, KeyError, ValueError):
            out[c.key] = False
            continue
        target = np.asarray(base[c.target]) if c.target in base else None
        if target is None or np.shape(value) != np.shape(target):
            out[c.key] = False
            continue
        if c.believed and not c.mutation:
            env[c.key] = value
        ok = True
        for index in np.ndindex(np.shape(target)):
            x = float(np.asarray(base[c.target])[index])
            h = step * max(min(1.0, abs(x) * 100), 1e-3)

            def loss_at(delta: float, index: tuple[int, ...] = index, target: str = c.target) -> float:
                """The loss with the entry moved by delta (only what depends on the target recomputed)."""
                moved = np.array(base[target], dtype=float)
                moved[index] += delta
                if target in point:
                    return float(_forward(model, {**point, target: moved}, {})[model.loss])
                return float(_forward(model, point, {target: moved})[model.loss])

            fd = (loss_at(h) - loss_at(-h)) / (2 * h)
            if abs(fd - float(np.asarray(value)[index])) > 1e-4 * (1 + abs(fd)):
                ok = False
                break
        out[c.key] = ok
    return out


def build(seed: int) -> tuple[Model, list[Claim]]:
    """A plain model and its claims from a seed (for the emitter's self-test)."""
    rng = random.Random(seed)
    model, _, claims = _with_claims(rng, rng.random() < 0.4)
    return model, claims
