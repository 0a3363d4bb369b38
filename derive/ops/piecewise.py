"""Piecewise-linear functions: relu, leaky_relu and the indicator '>'.

Each is a 0/1 mask per entry (relu(z) = m·z, leaky_relu(z) = z (alpha + (1 - alpha) m)): constant wherever the
function is differentiable, with relu'(0) = 0 as the convention. The exact engine keys a mask by its
pre-activation, so (h1 > 0), (X @ W1 + b1 > 0) and relu(X @ W1 + b1)'s own mask are one symbol; the index
engine names it by the pre-activation's formula with forward names opened, to the same effect.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.spec import (
    ATOM,
    Array,
    Backend,
    Form,
    IndexAlgebra,
    Kind,
    Op,
    OpShapeError,
    Options,
    Shape,
    WitnessArith,
    broadcast,
    fmt,
    same_shape,
)
from derive_check.derive.tree import Apply, Const, Node, Ref

DEFAULT_ALPHA = Fraction(1, 100)


def _relu_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    zero = w.ctx.mpf(0)

    def relu(x: Any) -> Any:
        w.kink(x)
        return x if x > 0 else zero

    return w.unary(xs[0], relu)


def _relu_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    ix.per_sample(node)
    z = node.args[0]
    return ix.times(ix.entry(z, out), ix.mask(z, out))


def _alpha(node: Apply | Options) -> Fraction:
    value = node.option("alpha", DEFAULT_ALPHA) if isinstance(node, Apply) else node.get("alpha", DEFAULT_ALPHA)
    return Fraction(value)  # type: ignore[arg-type]


def _leaky(be: Backend, xs: list[Array], opts: Options) -> Array:
    alpha = be.const(_alpha(opts))
    positive = be.relu(xs[0])  # shares the mask of relu(x): leaky = relu(x) + alpha (x - relu(x))
    return np.asarray(positive + alpha * (xs[0] - positive), dtype=be.dtype)


def _leaky_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """leaky_relu(z) = z (alpha + (1 - alpha) m) with m the mask [z > 0], the same mask as relu(z)'s."""
    ix.per_sample(node)
    z, alpha = node.args[0], _alpha(node)
    slope = ix.plus(ix.constant(alpha), ix.scaled(ix.mask(z, out), 1 - alpha))
    return ix.times(ix.entry(z, out), slope)


def _leaky_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    alpha = w.scalar(w.const(_alpha(node)), "alpha")

    def leaky(x: Any) -> Any:
        w.kink(x)
        return x if x > 0 else alpha * x

    return w.unary(xs[0], leaky)


def _leaky_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    alpha = dict(node.options).get("alpha")
    extra = ""
    if isinstance(alpha, Fraction):  # as written: alpha=0.2 shows, the default does not
        size = abs(alpha)
        shown = str(size.numerator) if size.denominator == 1 else rf"\frac{{{size.numerator}}}{{{size.denominator}}}"
        extra = rf";\,{'- ' if alpha < 0 else ''}{shown}"
    return rf"\operatorname{{LeakyReLU}}({parts[0][0]}{extra})", ATOM


def _gt(be: Backend, xs: list[Array], opts: Options) -> Array:
    try:
        np.broadcast_shapes(xs[0].shape, xs[1].shape)
    except ValueError:
        raise OpShapeError(
            f"operands of '>' have shapes {fmt(xs[0])} and {fmt(xs[1])}, which do not broadcast"
        ) from None
    return be.positive(np.asarray(xs[0] - xs[1], dtype=be.dtype))


def _gt_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    return broadcast(args[0], args[1], ">", node)


def _gt_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """[a > b] as the mask of a - b (of a when b = 0; a ReLU output's mask is its pre-activation's). [0 > z] is
    1 - [z > 0] where z is nonzero almost everywhere (`IndexAlgebra.nonzero_ae`), so (w < 0) meets relu(w)'s mask;
    elsewhere it stays the mask of -z (a 0/1 factor, constant wherever it is differentiable)."""
    ix.per_sample(node)
    a, b = node.args
    zero = Const(Fraction(0))
    if a == zero and b != zero:
        if ix.nonzero_ae(b, out):
            return ix.plus(ix.constant(Fraction(1)), ix.scaled(_gt_index(Apply("gt", (b, zero)), out, ix), -1))
        return ix.mask(Apply("neg", (b,)), out)
    if b != zero:
        return ix.mask(Apply("sub", (a, b)), out)
    return _positive(a, out, ix)


def _positive(a: Node, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """[a > 0], through a's forward line: [relu(z) > 0] = [z > 0]; [u·b > 0] = [u > 0]·b for a 0/1 factor b."""
    definition = ix.lines().get(a.name) if isinstance(a, Ref) else None
    node = definition if isinstance(definition, Apply) else a
    if isinstance(node, Apply) and node.op == "relu":
        return ix.mask(node.args[0], out)  # relu(z) > 0 exactly when z > 0
    if isinstance(node, Apply) and node.op == "mul":
        for u, b in (node.args, tuple(reversed(node.args))):
            if _zero_one(b, ix) and ix.shape(u) == ix.shape(node):
                return ix.times(_positive(u, out, ix), ix.aligned(b, out))
    return ix.mask(a, out)


def _zero_one(node: Node, ix: IndexAlgebra) -> bool:
    """Whether every entry of `node` is 0 or 1: a comparison, one-hot rows, 1 minus one, or a product of them."""
    if not isinstance(node, Apply):
        return ix.one_hot_axis(node) is not None
    if node.op in ("gt", "onehot"):
        return True
    if node.op == "sub" and node.args[0] == Const(Fraction(1)):
        return _zero_one(node.args[1], ix)
    return node.op == "mul" and all(_zero_one(x, ix) for x in node.args)


def _gt_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    one, zero = w.ctx.mpf(1), w.ctx.mpf(0)

    def indicator(a: Any, b: Any) -> Any:
        w.kink(a - b)
        return one if a > b else zero

    return w.binary(xs[0], xs[1], ">", indicator)


PIECEWISE = (
    Op(
        name="relu",
        doc="element-wise max(x, 0) = m x with m the 0/1 mask [x > 0]",
        arity=1,
        kind=Kind.PIECEWISE,
        spelling="relu",
        latex_words=("ReLU", "relu"),
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(be.relu(xs[0]), dtype=be.dtype),
        index=_relu_index,
        witness=_relu_witness,
        text=Form(call="relu"),
        latex=Form(template="\\operatorname{{ReLU}}({0})"),
    ),
    Op(
        name="leaky_relu",
        doc="element-wise x for x > 0, alpha x otherwise (alpha = 0.01 unless given)",
        arity=1,
        kind=Kind.PIECEWISE,
        options=("alpha",),
        spelling="leaky_relu",
        shape=same_shape,
        evaluate=_leaky,
        index=_leaky_index,
        witness=_leaky_witness,
        text=Form(call="leaky_relu"),
        latex=Form(custom=_leaky_latex),
    ),
    Op(
        name="gt",
        doc="the 0/1 indicator [a > b], element-wise with broadcasting (a < b is [b > a])",
        arity=2,
        kind=Kind.PIECEWISE,
        infix=(">", ast.Gt),
        shape=_gt_shape,
        evaluate=_gt,
        index=_gt_index,
        witness=_gt_witness,
        text=Form(template="({0} > {1})", needs=(0, 0)),
        latex=Form(template="\\mathbf{{1}}[{0} > {1}]"),
    ),
)
