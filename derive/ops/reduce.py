"""Reductions and indexing: sum and mean over an axis, x[i], and the per-sample sum(body for i in range(N)).

`sum(body for i in range(N))` binds an index: it is the one op whose operand is not evaluated first, so every
walker (evaluation, shapes, the witness) evaluates its body once per index value and adds the results. In index
notation it is a bound index over N that stands for i inside the body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.ops.dims import below_for_every_size
from derive_check.derive.ops.spec import (
    ATOM,
    Array,
    Backend,
    Dim,
    Form,
    IndexAlgebra,
    Kind,
    Op,
    OpShapeError,
    Options,
    Shape,
    SymbolicShapeError,
    WitnessArith,
    fmt,
    operator_latex,
    shape_text,
)
from derive_check.derive.tree import Apply, Const, Ref


def _axis(x: Array, opts: Options) -> int | None:
    axis = opts.get("axis")
    if axis is None:
        return None
    if not -x.ndim <= int(axis) < max(x.ndim, 1) or x.ndim == 0:
        raise OpShapeError(f"axis={axis} is out of range for shape {fmt(x)}")
    return int(axis)


def _reduce(mean: bool) -> Callable[[Backend, list[Array], Options], Array]:
    def evaluate(be: Backend, xs: list[Array], opts: Options) -> Array:
        x = xs[0]
        axis = _axis(x, opts)
        total = np.asarray(be.total(x, axis, bool(opts.get("keepdims"))), dtype=be.dtype)
        if mean:
            count = x.size if axis is None else x.shape[axis]
            total = np.asarray(total / be.const(Fraction(count)), dtype=be.dtype)
        return total

    return evaluate


def reduced_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    """The shape after reducing over `axis` (or every axis), with `keepdims` keeping size-1 axes."""
    axis, keep = node.option("axis"), bool(node.option("keepdims"))
    if axis is None:
        return tuple(1 for _ in args[0]) if keep else ()
    k = int(axis) % max(len(args[0]), 1)
    return args[0][:k] + ((1,) if keep else ()) + args[0][k + 1 :]


def _reduce_index(mean: bool) -> Callable[[Apply, tuple[str, ...], IndexAlgebra], Any]:
    def index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
        shape = ix.shape(node.args[0])
        axis = node.option("axis")
        axes = range(len(shape)) if axis is None else [int(axis) % max(len(shape), 1)]
        inner, bound, rest = [], [], iter(out)
        keep = bool(node.option("keepdims"))
        for k, dim in enumerate(shape):
            if k in axes and keep:
                next(rest)  # the kept axis has size 1: the result's index there is 0
            if k in axes and dim == 1:
                inner.append(ZERO_INDEX)
            elif k in axes:
                inner.append(ix.fresh(dim))
                bound.append((inner[-1], dim))
            else:
                inner.append(next(rest))
        terms = ix.entry(node.args[0], tuple(inner))
        for i, dim in reversed(bound):
            terms = ix.summed(terms, i, dim)
            if mean:
                terms = ix.scaled(terms, 1 / ix.size(dim))
        return terms

    return index


def _reduce_witness(mean: bool) -> Callable[[WitnessArith, Apply, list[Any]], Any]:
    def witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
        axis = node.option("axis")
        keep = bool(node.option("keepdims"))
        if axis is None:
            total = w.reduce_sum(xs[0], None)
            if keep:
                total = w.reshape(total, tuple(1 for _ in range(w.rank(xs[0]))))
        else:
            total = w.reduce_sum(xs[0], int(axis), keep)
        if mean:
            count = w.count(xs[0], None if axis is None else int(axis))
            total = w.unary(total, lambda v: v / count)
        return total

    return witness


def _entry(be: Backend, xs: list[Array], opts: Options) -> Array:
    """x[i] indexes the first axes: a row of a matrix; a column vector's z[j] is the scalar z[j, 0]."""
    base, indices = xs[0], [int(np.asarray(i).item()) for i in xs[1:]]
    if len(indices) > base.ndim:
        raise OpShapeError(f"{len(indices)} index(es) for shape {fmt(base)}")
    if all(d == 1 for d in base.shape[len(indices) :]):
        indices += [0] * (base.ndim - len(indices))
    for i, size in zip(indices, base.shape, strict=False):
        if not 0 <= i < size:
            raise OpShapeError(f"index {i} is out of range for shape {fmt(base)}")
    return np.asarray(base[tuple(indices)], dtype=be.dtype)


def _entry_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    """As evaluation does: x[j] of a column vector is x[j, 0], a scalar; X[i] is a row."""
    if len(node.args) - 1 > len(args[0]):
        raise SymbolicShapeError(f"{len(node.args) - 1} index(es) for shape {shape_text(args[0])}", node)
    for k, position in enumerate(node.args[1:]):
        ranges = env.get(f"range:{position.name}") if isinstance(position, Ref) else None
        if isinstance(position, Ref) and ranges is not None and args[0][k] != ranges[0]:
            raise SymbolicShapeError(
                f"the index {position.name} runs over {ranges[0]}, but axis {k} of this quantity has size {args[0][k]}",
                node,
            )
    rest = args[0][len(node.args) - 1 :]
    return () if all(d == 1 for d in rest) else rest


def _below(position: Fraction, length: Dim) -> bool:
    """Whether a constant position is a valid index along an axis of `length` for every size."""
    return position.denominator == 1 and below_for_every_size(int(position), length)


def _entry_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """x[i] at a summed index i, or x[2] at a position below the axis's length for every size (a literal index):
    the entry's leading indices are fixed, the rest are the result's."""
    base, *indices = node.args
    fixed = []
    for axis, index in enumerate(indices):
        if isinstance(index, Ref) and index.name in ix.bindings:
            fixed.append(ix.bindings[index.name])
        elif isinstance(index, Const) and _below(index.value, ix.shape(base)[axis]):
            fixed.append(str(int(index.value)))  # a literal index
        else:
            words = "an entry at a claim's index variable or a negative position is proved at the stated sizes only"
            raise ix.not_general(words, node)
    rest = ix.shape(base)[len(indices) :]
    tail = tuple(ZERO_INDEX for _ in rest) if all(d == 1 for d in rest) else out
    return ix.entry(base, (*fixed, *tail))


def _entry_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    base = printer.wrap(parts[0], ATOM)
    return f"{base}[{', '.join(text for text, _ in parts[1:])}]", ATOM


def _entry_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    base = printer.wrap(parts[0], ATOM)
    return f"{{{base}}}_{{{','.join(text for text, _ in parts[1:])}}}", ATOM


def _not_walked(*args: object) -> Any:
    raise OpShapeError("sum(... for i in range(N)) is evaluated by the tree walker, which binds its index")


def _index_sum_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """sum(body for i in range(N)): a bound index over N standing for i inside the body."""
    index, size = str(node.option("index")), str(node.option("size"))
    k = ix.fresh(size)
    previous = ix.bindings.get(index)
    ix.bindings[index] = k
    try:
        body = ix.entry(node.args[0], out)
    finally:
        if previous is None:
            del ix.bindings[index]
        else:
            ix.bindings[index] = previous
    return ix.summed(body, k, size)


def _index_sum_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    size = node.option("size") or "?"  # '?' only before LaTeX's \sum_i is resolved against shapes
    return f"sum({parts[0][0]} for {node.option('index')} in range({size}))", ATOM


def _index_sum_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    """Σ_{i=0}^{N-1} body: the range is printed, and it reads back as the same sum (never an unbounded Σ_i)."""
    size, index = node.option("size"), node.option("index")
    if not size:
        return rf"\sum_{{{index}}} {parts[0][0]}", ATOM
    return rf"\sum_{{{index}=0}}^{{{size}-1}} {parts[0][0]}", ATOM


def _reduction(word: str, doc: str, mean: bool) -> Op:
    return Op(
        name=word,
        doc=doc,
        arity=1,
        kind=Kind.LINEAR,
        options=("axis", "keepdims"),
        spelling=word,
        shape=reduced_shape,
        evaluate=_reduce(mean),
        index=_reduce_index(mean),
        witness=_reduce_witness(mean),
        text=Form(call=word),
        latex=Form(custom=operator_latex(word)),
    )


REDUCTIONS = (
    _reduction("sum", "the sum of all entries, or over one axis", mean=False),
    _reduction("mean", "the mean of all entries, or over one axis", mean=True),
    Op(
        name="entry",
        doc="x[i, j]: an entry (or a row) at index variables or non-negative integers",
        arity=-1,
        kind=Kind.LINEAR,
        shape=_entry_shape,
        evaluate=_entry,
        index=_entry_index,
        witness=lambda w, node, xs: w.entry(xs[0], xs[1:]),
        text=Form(custom=_entry_text),
        latex=Form(custom=_entry_latex),
    ),
    Op(
        name="index_sum",
        doc="sum(body for i in range(N)): the body at i = 0, ..., N-1, added",
        arity=1,
        kind=Kind.BINDER,
        options=("index", "size"),
        shape=_not_walked,
        evaluate=_not_walked,
        index=_index_sum_index,
        witness=_not_walked,
        text=Form(custom=_index_sum_text),
        latex=Form(custom=_index_sum_latex),
    ),
)
