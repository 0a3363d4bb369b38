"""The maximum over an axis (and `min(x) = -max(-x)`, a spelling), exact at every value.

`max(x, axis)` is the first maximal entry: `Σ_c x_c Π_{k<c} [x_c > x_k] Π_{k>c} [x_c >= x_k]` selects exactly one
c at every point (ties go to the first), so it is numpy's max everywhere and its derivative is the one-hot
selection wherever the maximum is unique; where entries tie, the gradient is a convention, as relu'(0) is. The
entries of the result are named (`Backend.intermediate`), so `exp(x - max(x))` splits into exp(x) / exp(max).
In index notation the maximum is an atom whose derivative is a selection factor, a 0/1 row that sums to one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from derive_check.derive.ops.reduce import reduced_shape
from derive_check.derive.ops.spec import (
    ATOM,
    Array,
    Backend,
    Form,
    Kind,
    Op,
    OpShapeError,
    Options,
    Shape,
    SymbolicShapeError,
    WitnessArith,
    fmt,
)
from derive_check.derive.tree import Apply


def _max(be: Backend, xs: list[Array], opts: Options) -> Array:
    """The first maximal entry along an axis, as indicators: exact at every value, ties included."""
    x = xs[0]
    axis = opts.get("axis")
    keep = bool(opts.get("keepdims"))
    if x.ndim == 0:
        raise OpShapeError("max of a scalar")
    if axis is not None and not -x.ndim <= int(axis) < x.ndim:
        raise OpShapeError(f"axis={axis} is out of range for shape {fmt(x)}")
    moved = x.reshape(-1) if axis is None else np.moveaxis(x, int(axis), -1)
    n = moved.shape[-1]
    total: Any = 0
    for c in range(n):
        first: Any = moved[..., c]
        chosen: Any = 1
        for k in range(n):
            if k != c:
                beaten = be.positive(np.asarray(moved[..., c] - moved[..., k], dtype=be.dtype))
                tied_later = 1 - be.positive(np.asarray(moved[..., k] - moved[..., c], dtype=be.dtype))
                chosen = chosen * (beaten if k < c else tied_later)
        total = total + first * chosen
    result = be.intermediate(np.asarray(total, dtype=be.dtype), "max")
    if keep:
        result = np.expand_dims(result, tuple(range(x.ndim)) if axis is None else int(axis))
    return result


def _max_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    if not args[0]:
        raise SymbolicShapeError("max of a scalar", node)
    return reduced_shape(args, node, env)  # the shape of sum over the same axis


def _max_axis(node: Apply, rank: int) -> int | None:
    """The axis a max reduces, or None when it reduces every axis of a matrix (no single selection axis)."""
    axis = node.option("axis")
    if axis is None:
        return 0 if rank == 1 else None
    return int(axis) % rank


def _max_derivative(node: Apply, name: str, at: tuple[str, ...], target: str, wrt: tuple[str, ...], ix: Any) -> Any:
    """d max(x)[..] = Σ_k A[.., k, ..] dx[.., k, ..], A the first maximal entry's one-hot selection along the axis
    (its rows sum to one). This is the derivative wherever the maximum is unique; at ties it is the convention
    the fixed-size engine uses too (the first maximal entry, its indicators constant)."""
    argument = node.args[0]
    shape = ix.shape(argument)
    axis = _max_axis(node, len(shape))
    if axis is None:
        raise ix.not_general("a maximum over every axis of a matrix has no selection axis", node)
    k = ix.fresh(shape[axis])
    rest = at[axis + 1 :] if node.option("keepdims") else at[axis:]
    moved = (*at[:axis], k, *rest)
    selected = ix.times(ix.selection(node, moved, axis), ix.differentiate(ix.entry(argument, moved), target, wrt))
    return ix.summed(selected, k, shape[axis])


def _max_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    def largest(values: list[Any]) -> Any:
        ordered = sorted(values, reverse=True)
        if len(ordered) > 1:
            w.kink(ordered[0] - ordered[1])  # a near-tie is a kink of the max
        return ordered[0]

    axis = node.option("axis")
    if not w.rank(xs[0]):
        raise w.fail("max of a scalar")
    return w.reduce(xs[0], None if axis is None else int(axis), bool(node.option("keepdims")), largest)


EXTREMA = (
    Op(
        name="max",
        doc="the largest entry, of all or along an axis (the first, where entries tie)",
        arity=1,
        kind=Kind.PIECEWISE,
        options=("axis", "keepdims"),
        spelling="max",
        shape=_max_shape,
        evaluate=_max,
        index=lambda node, out, ix: ix.atom(node, out),
        atom=True,
        index_derivative=_max_derivative,
        witness=_max_witness,
        text=Form(call="max"),
        latex=Form(custom=lambda p, node, parts: (rf"\max\left({parts[0][0]}\right)", ATOM)),
    ),
)
