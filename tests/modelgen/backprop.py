"""The reference backprop emitter: the generated `Model`, and reverse mode over its lines with one VJP rule per op,
adjoints summed over every use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from fractions import Fraction

from tests.modelgen.ir import (
    ONE,
    TWO,
    Dim,
    Ex,
    Shape,
    Unsupported,
    add,
    at_least,
    call,
    const,
    div,
    joined,
    mask,
    matmul,
    mul,
    neg,
    nodes,
    ones_like,
    power,
    reduce,
    scale,
    size,
    smul,
    sub,
    transpose,
    var,
    zeros,
)


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
    labels: dict[str, tuple[str, Dim]] = field(default_factory=dict)  # "np.eye(C)[y]" -> (y, C): integer labels

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
        out |= set(self.gradients) | {label for label, _ in self.labels.values()}
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
        elif op in ("sum", "mean") and e.name == "keep":  # keepdims: g has the kept axis of length 1
            a = e.args[0]
            g = mul(g, ones_like(a)) if g.shape != () else g
            self.vjp(a, div(g, count(a, e.axis)) if op == "mean" else g)
        elif op == "max":  # the one-hot selection of the largest entry (ties have measure 0)
            self.vjp(e.args[0], times(g, at_least(e.args[0], e)))
        elif op == "sqrt":
            self.vjp(e.args[0], div(g, mul(TWO, e)))
        elif op == "slice":  # zero-padded back to the operand's columns
            a = e.args[0]
            _, before, after = e.name.split(";")
            rows = a.shape[0]
            parts = [zeros((rows, before))] if before != "0" else []
            parts.append(materialize(g, e))
            parts += [zeros((rows, after))] if after != "0" else []
            self.vjp(a, joined(parts, a.shape[1]) if len(parts) > 1 else parts[0])
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
        elif op in ("gt", "ge"):
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
    if len(operand.shape) == 2 and operand.shape[1] == 1 and operand.shape[0] == result.shape[0]:
        return reduce("sum", materialize(g, result), 1, keep=True)
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
