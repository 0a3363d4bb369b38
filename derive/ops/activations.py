"""Element-wise functions and activations: exp, log, sigmoid, tanh, softmax, relu, leaky_relu and '>'.

Smooth ones are atoms in both proof engines (a symbol per entry, an opaque factor in index notation) and are
differentiated by their `derivative` formula, a true identity of the real function (tanh' = 1 - tanh²,
σ' = σ(1 - σ)), so residuals stay polynomial in the atoms. Piecewise ones are a 0/1 mask per entry (relu(z) =
m·z): constant wherever the function is differentiable, with relu'(0) = 0 as the convention.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.spec import (
    ARG,
    ATOM,
    SELF,
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

U, SELF_REF, ONE = Ref(ARG), Ref(SELF), Const(Fraction(1))
DEFAULT_ALPHA = Fraction(1, 100)


def atom_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """Index notation keeps the application whole: one opaque factor at the result's indices."""
    return ix.atom(node, out)


def _smooth(op: str) -> Any:
    return lambda be, xs, opts: np.asarray(be.smooth(op, xs[0]), dtype=be.dtype)


def _call(spelling: str) -> Form:
    return Form(call=spelling)


def _softmax(be: Backend, xs: list[Array], opts: Options) -> Array:
    x = xs[0]
    axis = opts.get("axis", x.ndim - 1)
    if x.ndim == 0 or not -x.ndim <= int(axis) < x.ndim:
        raise OpShapeError(f"softmax over axis={axis} is out of range for shape {fmt(x)}")
    e = be.exp(x)
    return np.asarray(e / np.sum(e, axis=int(axis), keepdims=True), dtype=be.dtype)


def _softmax_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    x = xs[0]
    if not w.rank(x):
        raise w.fail("softmax of a scalar")
    axis = w.axis(x, int(node.option("axis", -1) or 0))
    e = w.unary(x, w.ctx.exp)
    return w.binary(e, w.reduce_sum(e, axis, keep=True), "/", lambda a, b: a / b)


def softmax_axis(node: Apply, rank: int) -> int:
    """The axis a softmax normalises over (its entries along it sum to 1), as a non-negative position."""
    return int(node.option("axis", rank - 1)) % rank  # type: ignore[arg-type]


def _softmax_derivative(node: Apply, name: str, at: tuple[str, ...], target: str, wrt: tuple[str, ...], ix: Any) -> Any:
    """dP[.., c] = P[.., c] (ds[.., c] - Σ_k P[.., k] ds[.., k]) along the softmax axis."""
    argument = node.args[0]
    axis = softmax_axis(node, len(ix.shape(argument)))
    dim = ix.shape(argument)[axis]
    ds = ix.differentiate(ix.entry(argument, at), target, wrt)
    k = ix.fresh(dim)
    moved = (*at[:axis], k, *at[axis + 1 :])  # the same row, summed along the softmax axis
    others = ix.summed(ix.scaled(ix.factor(name, moved), -1), k, dim)
    ds_k = ix.differentiate(ix.entry(argument, moved), target, wrt)
    return ix.times(ix.factor(name, at), ix.plus(ds, ix.times(others, ds_k)))


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
    ix.per_sample(node)
    a, b = node.args
    if not (isinstance(b, Const) and b.value == 0):
        raise ix.not_general("only comparisons with 0 (ReLU masks) are in the index calculus", node)
    definition = ix.lines().get(a.name) if isinstance(a, Ref) else None
    if isinstance(definition, Apply) and definition.op == "relu":
        a = definition.args[0]  # relu(z) > 0 exactly when z > 0
    return ix.mask(a, out)


def _gt_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    one, zero = w.ctx.mpf(1), w.ctx.mpf(0)

    def indicator(a: Any, b: Any) -> Any:
        w.kink(a - b)
        return one if a > b else zero

    return w.binary(xs[0], xs[1], ">", indicator)


def _times(a: Node, b: Node) -> Node:
    return Apply("mul", (a, b))


ACTIVATIONS = (
    Op(
        name="exp",
        doc="element-wise exponential",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="exp",
        latex_commands=("exp",),
        latex_words=("exp",),
        positive=True,
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(be.exp(xs[0]), dtype=be.dtype),
        numeric=np.exp,
        exact_value=lambda sp, u: sp.exp(u),
        derivative=lambda node: SELF_REF,
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], w.ctx.exp),
        text=_call("exp"),
        latex=Form(template="\\exp({0})"),
    ),
    Op(
        name="log",
        doc="element-wise natural logarithm (positive arguments only)",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="log",
        latex_commands=("log",),
        latex_words=("log",),
        partial=True,
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(be.log(xs[0]), dtype=be.dtype),
        numeric=np.log,
        exact_value=lambda sp, u: sp.log(u),
        derivative=lambda node: Apply("div", (ONE, U)),
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], w.log),
        text=_call("log"),
        latex=Form(template="\\log({0})"),
    ),
    Op(
        name="sigmoid",
        doc="element-wise logistic function 1 / (1 + exp(-x))",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="sigmoid",
        latex_commands=("sigma",),
        latex_words=("sigmoid",),
        positive=True,
        shape=same_shape,
        evaluate=_smooth("sigmoid"),
        numeric=lambda x: 1.0 / (1.0 + np.exp(-x)),
        exact_value=lambda sp, u: 1 / (1 + sp.exp(-u)),
        derivative=lambda node: _times(SELF_REF, Apply("sub", (ONE, SELF_REF))),
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], lambda x: 1 / (1 + w.ctx.exp(-x))),
        text=_call("sigmoid"),
        latex=Form(template="\\sigma({0})"),
    ),
    Op(
        name="tanh",
        doc="element-wise hyperbolic tangent",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="tanh",
        latex_commands=("tanh",),
        latex_words=("tanh",),
        shape=same_shape,
        evaluate=_smooth("tanh"),
        numeric=np.tanh,
        exact_value=lambda sp, u: sp.tanh(u),
        derivative=lambda node: Apply("sub", (ONE, Apply("pow", (SELF_REF, Const(Fraction(2)))))),
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], w.ctx.tanh),
        text=_call("tanh"),
        latex=Form(template="\\tanh({0})"),
    ),
    Op(
        name="softplus",
        doc="element-wise log(1 + exp(x)), a smooth ReLU",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="softplus",
        latex_words=("softplus",),
        positive=True,
        shape=same_shape,
        evaluate=_smooth("softplus"),
        numeric=lambda x: np.logaddexp(0.0, x),
        exact_value=lambda sp, u: sp.log(1 + sp.exp(u)),
        derivative=lambda node: Apply("sigmoid", (U,)),
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], lambda x: w.ctx.log1p(w.ctx.exp(x))),
        text=_call("softplus"),
        latex=Form(template="\\operatorname{{softplus}}({0})"),
    ),
    Op(
        name="softmax",
        doc="exp(x) / sum(exp(x)) along an axis (the last by default)",
        arity=1,
        kind=Kind.SMOOTH,
        options=("axis",),
        spelling="softmax",
        latex_words=("softmax",),
        positive=True,
        shape=same_shape,
        evaluate=_softmax,
        index=atom_index,
        atom=True,
        index_derivative=_softmax_derivative,
        simplex_axis=softmax_axis,
        witness=_softmax_witness,
        text=_call("softmax"),
        latex=Form(template="\\operatorname{{softmax}}({0})"),
    ),
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
        text=_call("relu"),
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
        text=_call("leaky_relu"),
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
