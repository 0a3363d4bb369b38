"""Smooth functions: exp, log, sigmoid, tanh, softplus, softmax.

They are atoms in both proof engines (a symbol per entry, an opaque factor in index notation) and are
differentiated by their `derivative` formula, a true identity of the real function (tanh' = 1 - tanh²,
σ' = σ(1 - σ)), so residuals stay polynomial in the atoms. Softmax, which is not element-wise, differentiates
by its own index rule and tells the index engine that its rows sum to one.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.spec import (
    ARG,
    SELF,
    Array,
    Backend,
    Form,
    IndexAlgebra,
    Kind,
    Op,
    OpShapeError,
    Options,
    WitnessArith,
    fmt,
    operator_latex,
    same_shape,
)
from derive_check.derive.tree import Apply, Const, Node, Ref

U, SELF_REF, ONE = Ref(ARG), Ref(SELF), Const(Fraction(1))


def atom_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """Index notation keeps the application whole: one opaque factor at the result's indices."""
    return ix.atom(node, out)


def _log_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """log Σ_c y[.., c] a[.., c] = Σ_c y[.., c] log a[.., c] when y's rows are one-hot along the summed axis (exactly
    one term is selected); otherwise log is an atom."""
    inner = node.args[0]
    if isinstance(inner, Apply) and inner.op == "sum" and isinstance(inner.args[0], Apply):
        product = inner.args[0]
        axis = inner.option("axis")
        if (
            product.op == "mul"
            and axis is not None
            and len(ix.shape(product.args[0])) == len(ix.shape(product.args[1]))
        ):
            for y, a in (product.args, reversed(product.args)):
                rank = len(ix.shape(y))
                if ix.one_hot_axis(y) == int(axis) % max(rank, 1):
                    selected = Apply("sum", (Apply("mul", (y, Apply("log", (a,)))),), inner.options)
                    return ix.entry(selected, out)
    return ix.atom(node, out)


def _smooth(op: str) -> Any:
    return lambda be, xs, opts: np.asarray(be.smooth(op, xs[0]), dtype=be.dtype)


def _softmax(be: Backend, xs: list[Array], opts: Options) -> Array:
    x = xs[0]
    axis = opts.get("axis", x.ndim - 1)
    if x.ndim == 0 or not -x.ndim <= int(axis) < x.ndim:
        raise OpShapeError(f"softmax over axis={axis} is out of range for shape {fmt(x)}")
    e = be.exp(x)
    return np.asarray(e / be.total(e, int(axis) % x.ndim, keepdims=True), dtype=be.dtype)


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


def _times(a: Node, b: Node) -> Node:
    return Apply("mul", (a, b))


SMOOTH = (
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
        text=Form(call="exp"),
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
        positive_argument=True,
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(be.log(xs[0]), dtype=be.dtype),
        numeric=np.log,
        exact_value=lambda sp, u: sp.log(u),
        derivative=lambda node: Apply("div", (ONE, U)),
        index=_log_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], w.log),
        text=Form(call="log"),
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
        text=Form(call="sigmoid"),
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
        text=Form(call="tanh"),
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
        text=Form(call="softplus"),
        latex=Form(template="\\operatorname{{softplus}}({0})"),
    ),
    Op(
        name="sqrt",
        doc="element-wise square root (positive arguments only); x ** 0.5 is read as sqrt(x)",
        arity=1,
        kind=Kind.SMOOTH,
        spelling="sqrt",
        latex_braced=("sqrt",),
        partial=True,
        positive_argument=True,  # sqrt(0) = 0: not `positive`; > 0 where its argument is (the engines check)
        shape=same_shape,
        evaluate=_smooth("sqrt"),
        numeric=np.sqrt,
        exact_value=lambda sp, u: sp.sqrt(u),
        derivative=lambda node: Apply("div", (ONE, _times(Const(Fraction(2)), SELF_REF))),
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], lambda x: w.ctx.sqrt(w.positive_argument(x, "sqrt"))),
        text=Form(call="sqrt"),
        latex=Form(template="\\sqrt{{{0}}}"),
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
        text=Form(call="softmax"),
        latex=Form(custom=operator_latex("softmax")),
    ),
)
