"""Arithmetic: + - * / ** @, negation, transposition, LaTeX's juxtaposition, identity.

Evaluation is written once against numpy's array API, so `@` and broadcasting mean exactly what they mean in
numpy on both backends (object arrays of SymPy expressions, float64 arrays). In index notation `@` opens a
bound index over the contracted size and broadcasting gives size-1 axes the literal index 0.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from derive_check.derive.ops.spec import (
    ARG,
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
    SymbolicShapeError,
    WitnessArith,
    broadcast,
    fmt,
    same_shape,
    shape_text,
)
from derive_check.derive.tree import Apply, Const, Node, Ref

ZERO_INDEX = "0"  # the index of a size-1 axis in index notation: a literal, not a variable
MAX_INDEX_POWER = 8


def _elementwise(symbol: str, fn: Callable[[Array, Array], Array]) -> Callable[[Backend, list[Array], Options], Array]:
    def evaluate(be: Backend, xs: list[Array], opts: Options) -> Array:
        try:
            np.broadcast_shapes(xs[0].shape, xs[1].shape)
        except ValueError:
            raise OpShapeError(
                f"operands of '{symbol}' have shapes {fmt(xs[0])} and {fmt(xs[1])}, which do not broadcast"
            ) from None
        return np.asarray(fn(xs[0], xs[1]), dtype=be.dtype)

    return evaluate


def _broadcast_shape(symbol: str) -> Callable[[list[Shape], Apply, Mapping[str, Shape]], Shape]:
    def shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
        return broadcast(args[0], args[1], symbol, node)

    return shape


def _witness_binary(symbol: str, fn: Callable[[Any, Any], Any]) -> Callable[[WitnessArith, Apply, list[Any]], Any]:
    def witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
        return w.binary(xs[0], xs[1], symbol, fn)

    return witness


def _add_index(sign: int) -> Callable[[Apply, tuple[str, ...], IndexAlgebra], Any]:
    def index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
        left, right = (ix.aligned(a, out) for a in node.args)
        return ix.plus(left, right if sign > 0 else ix.scaled(right, -1))

    return index


def _div_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    return w.binary(xs[0], xs[1], "/", lambda a, b: a / w.denominator(b))


def _matmul(be: Backend, xs: list[Array], opts: Options) -> Array:
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        raise OpShapeError(f"'@' needs matrices or vectors, got {fmt(a)} @ {fmt(b)}; use '*' for scalars")
    if a.shape[-1] != b.shape[0]:
        raise OpShapeError(
            f"'@' inner dimensions differ: {fmt(a)} @ {fmt(b)} (expected {a.shape[-1]} rows on the right)"
        )
    if be.dtype is not object or a.ndim > 2 or b.ndim > 2:  # floats: numpy's own product
        return np.asarray(a @ b, dtype=be.dtype)
    left, right = (a if a.ndim == 2 else a[None, :]), (b if b.ndim == 2 else b[:, None])
    out = be.total(left[:, :, None] * right[None, :, :], 1)  # one sum per entry (`Backend.total`)
    out = out[0] if a.ndim == 1 else out
    return np.asarray(out[..., 0] if b.ndim == 1 else out, dtype=be.dtype)


def matmul_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    """`@` contracts the inner size names, which must be the same name for all sizes."""
    a, b = args
    if not a or not b:
        return broadcast(a, b, "@", node)
    if a[-1] != b[0]:
        raise SymbolicShapeError(
            f"'@' contracts {a[-1]} with {b[0]} ({shape_text(a)} @ {shape_text(b)}): equal only if {a[-1]} = {b[0]}",
            node,
        )
    return a[:-1] + b[1:]


def _matmul_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    a, b = node.args
    sa, sb = ix.shape(a), ix.shape(b)
    if not sa or not sb:
        return ix.times(ix.aligned(a, out), ix.aligned(b, out))
    j = ZERO_INDEX if sa[-1] == 1 else ix.fresh(sa[-1])  # a contraction over one entry sums nothing
    terms = ix.times(ix.entry(a, (*out[: len(sa) - 1], j)), ix.entry(b, (j, *out[len(sa) - 1 :])))
    return terms if j == ZERO_INDEX else ix.summed(terms, j, sa[-1])


def _product(be: Backend, xs: list[Array], opts: Options) -> Array:
    """LaTeX's juxtaposition and \\cdot: a scalar times anything is element-wise, otherwise a matrix product."""
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        return np.asarray(a * b, dtype=be.dtype)
    if a.shape[-1] != b.shape[0]:
        raise OpShapeError(
            f"a product of {fmt(a)} and {fmt(b)} is neither a scalar product nor a matrix product "
            f"(which needs {a.shape[-1]} = {b.shape[0]}); for an element-wise product write \\odot"
        )
    return _matmul(be, xs, opts)


def _product_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    if not args[0] or not args[1]:
        return broadcast(args[0], args[1], "*", node)
    return matmul_shape(args, node, env)


def _product_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    if not w.rank(xs[0]) or not w.rank(xs[1]):
        return w.binary(xs[0], xs[1], "*", lambda a, b: a * b)
    return w.matmul(xs[0], xs[1])


def _power(be: Backend, xs: list[Array], opts: Options) -> Array:
    base, exponent = xs
    if exponent.ndim != 0:
        raise OpShapeError(f"'**' needs a scalar exponent, got shape {fmt(exponent)}")
    return np.asarray(base**exponent, dtype=be.dtype)


def _power_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    exponent = node.args[1]
    if not (isinstance(exponent, Const) and exponent.value.denominator == 1 and abs(exponent.value) <= MAX_INDEX_POWER):
        raise ix.not_general("only small integer powers are in the index calculus", node)
    k = int(exponent.value)
    if k < 0:  # a sum or a reduction inverts as one atom (`IndexAlgebra.reciprocal`)
        return ix.power(ix.reciprocal(node.args[0], out), -k, node)
    return ix.power(ix.entry(node.args[0], out), k, node)


def _power_slope(node: Apply) -> Node:
    """d(u ** k)/du = k · u ** (k − 1): the index engine's chain rule through a reciprocal atom u ** -1."""
    exponent = node.args[1]
    if not isinstance(exponent, Const):
        raise ValueError("only a constant exponent has a derivative formula")
    return Apply("mul", (exponent, Apply("pow", (Ref(ARG), Const(exponent.value - 1)))))


def _power_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    base, e = xs[0], w.scalar(xs[1], "'**' needs a scalar exponent")
    if e == int(e):
        n = int(e)
        if n < 0:
            return w.unary(base, lambda x: 1 / w.denominator(x) ** (-n))
        return w.unary(base, lambda x: x**n)
    return w.unary(base, lambda x: w.ctx.power(x, e))


def _transpose_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    return ix.entry(node.args[0], tuple(reversed(out)))


def _infix(symbol: str, prec: int, needs: tuple[int, int]) -> Form:
    return Form(template=f"{{0}} {symbol} {{1}}", prec=prec, needs=needs)


ARITHMETIC = (
    Op(
        name="add",
        doc="element-wise sum, with numpy broadcasting",
        arity=2,
        kind=Kind.LINEAR,
        infix=("+", ast.Add),
        shape=_broadcast_shape("+"),
        evaluate=_elementwise("+", lambda a, b: a + b),
        index=_add_index(1),
        witness=_witness_binary("+", lambda a, b: a + b),
        text=_infix("+", 1, (1, 2)),
        latex=_infix("+", 1, (1, 1)),
    ),
    Op(
        name="sub",
        doc="element-wise difference, with numpy broadcasting",
        arity=2,
        kind=Kind.LINEAR,
        infix=("-", ast.Sub),
        shape=_broadcast_shape("-"),
        evaluate=_elementwise("-", lambda a, b: a - b),
        index=_add_index(-1),
        witness=_witness_binary("-", lambda a, b: a - b),
        text=_infix("-", 1, (1, 2)),
        latex=_infix("-", 1, (1, 2)),
    ),
    Op(
        name="mul",
        doc="element-wise (Hadamard) product, with numpy broadcasting",
        arity=2,
        kind=Kind.POLYNOMIAL,
        infix=("*", ast.Mult),
        shape=_broadcast_shape("*"),
        evaluate=_elementwise("*", lambda a, b: a * b),
        index=lambda node, out, ix: ix.times(ix.aligned(node.args[0], out), ix.aligned(node.args[1], out)),
        witness=_witness_binary("*", lambda a, b: a * b),
        text=_infix("*", 2, (2, 3)),
        latex=Form(template="{0} \\odot {1}", prec=2, needs=(2, 3)),  # a scalar operand: see `derive.printing`
    ),
    Op(
        name="div",
        doc="element-wise quotient, with numpy broadcasting",
        arity=2,
        kind=Kind.POLYNOMIAL,
        infix=("/", ast.Div),
        partial=True,
        shape=_broadcast_shape("/"),
        evaluate=_elementwise("/", lambda a, b: a / b),
        index=lambda node, out, ix: ix.times(ix.aligned(node.args[0], out), ix.reciprocal(node.args[1], out)),
        witness=_div_witness,
        text=_infix("/", 2, (2, 3)),
        latex=Form(template="\\frac{{{0}}}{{{1}}}"),
    ),
    Op(
        name="pow",
        doc="element-wise power by a scalar integer exponent",
        arity=2,
        kind=Kind.POLYNOMIAL,
        infix=("**", ast.Pow),
        partial=True,
        shape=same_shape,
        evaluate=_power,
        derivative=_power_slope,
        index=_power_index,
        witness=_power_witness,
        text=_infix("**", 4, (5, 5)),
        latex=Form(template="{0}^{{{1}}}", prec=4, needs=(ATOM, 4)),
    ),
    Op(
        name="matmul",
        doc="matrix product (numpy's @ on vectors and matrices)",
        arity=2,
        kind=Kind.POLYNOMIAL,
        infix=("@", ast.MatMult),
        shape=matmul_shape,
        evaluate=_matmul,
        index=_matmul_index,
        witness=lambda w, node, xs: w.matmul(xs[0], xs[1]),
        text=_infix("@", 2, (2, 3)),
        latex=Form(template="{0} {1}", prec=2, needs=(2, 3)),
    ),
    Op(
        name="product",
        doc="LaTeX juxtaposition or \\cdot: a scalar product or a matrix product, decided by shapes",
        arity=2,
        kind=Kind.POLYNOMIAL,
        shape=_product_shape,
        evaluate=_product,
        index_gap="a LaTeX product is resolved to '*' or '@' by shapes before the index calculus sees it",
        witness=_product_witness,
        text=Form(call="product"),
        latex=Form(template="{0} {1}", prec=2, needs=(2, 2)),
    ),
    Op(
        name="neg",
        doc="negation",
        arity=1,
        kind=Kind.LINEAR,
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(-xs[0], dtype=be.dtype),
        index=lambda node, out, ix: ix.scaled(ix.entry(node.args[0], out), -1),
        witness=lambda w, node, xs: w.unary(xs[0], lambda a: -a),
        text=Form(template="-{0}", prec=3, needs=(3,)),
        latex=Form(template="-{0}", prec=3, needs=(3,)),
    ),
    Op(
        name="transpose",
        doc="axes reversed (x.T); a vector stays a vector",
        arity=1,
        kind=Kind.LINEAR,
        shape=lambda args, node, env: tuple(reversed(args[0])),
        evaluate=lambda be, xs, opts: np.asarray(xs[0].T, dtype=be.dtype),
        index=_transpose_index,
        witness=lambda w, node, xs: w.transpose(xs[0]),
        text=Form(template="{0}.T", needs=(ATOM,)),
        latex=Form(template="{0}^\\top", needs=(ATOM,)),
    ),
    Op(
        name="identity",
        doc="the operand itself",
        arity=1,
        kind=Kind.LINEAR,
        spelling="identity",
        shape=same_shape,
        evaluate=lambda be, xs, opts: xs[0],
        index=lambda node, out, ix: ix.entry(node.args[0], out),
        witness=lambda w, node, xs: xs[0],
        text=Form(call="identity"),
        latex=Form(template="{0}"),
    ),
)
