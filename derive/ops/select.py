"""Selection: label vectors as one-hot rows, numpy's basic slicing, concatenation and `x.shape[k]`.

- `onehot(y)` is how formulas reach a label vector `y = "N, labels C"`: `np.eye(C)[y]` is it, `x[np.arange(N), y]`
  is `sum(x * onehot(y), axis=1)` and `W[y]` is `onehot(y) @ W`. These are identities for every label
  assignment, and the engines already cover every assignment of one-hot rows. It has no spelling of its own
  (a file may name a quantity `onehot`); it prints as `np.eye(C)[y]`.
- `slice` is numpy's basic indexing: per axis all of it, a range `a:b` whose bounds are sizes with arithmetic
  (`H:2*H`), one position (the axis goes), or `None` (a new axis of size 1). Bounds are operands, so every
  backend evaluates them at its sizes and the symbolic shape rule reads them as dimensions.
- `concatenate([a, b], axis)` joins along an existing axis; its length is the sum of the parts' (`H + H`).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.dims import DimError, below_for_every_size, combine, nonnegative, scale
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
    SymbolicShapeError,
    WitnessArith,
    fmt,
    shape_text,
)
from derive_check.derive.tree import Apply, Const, Node, Ref

PARTS = ("all", "new", "at", "lo", "hi", "lohi")  # per axis: x[:], x[None], x[k], x[a:], x[:b], x[a:b]
BOUNDS = {"all": 0, "new": 0, "at": 1, "lo": 1, "hi": 1, "lohi": 2}


def parts_of(node: Apply) -> list[str]:
    """The per-axis parts of a slice, in order."""
    return str(node.option("spec", "")).split(",")


def _onehot_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    shape = args[0]
    for option, dim in (("classes", shape[-1:]), ("rows", shape[:-1])):
        given = node.option(option)
        if given is not None and tuple(dim) != (given,):
            what = "columns" if option == "classes" else "rows"
            raise SymbolicShapeError(f"it has {given} {what}, but the labels give {shape_text(tuple(dim))}", node)
    return shape


def _integer(value: Any, what: str) -> int:
    number = Fraction(str(np.asarray(value).item()))
    if number.denominator != 1:
        raise OpShapeError(f"{what} must be an integer, got {number}")
    return int(number)


def _keys(parts: list[str], bounds: list[int], shape: tuple[int, ...]) -> list[int | range | None]:
    """The slice's per-axis keys at concrete sizes (checked against `shape`)."""
    keys: list[int | range | None] = []
    given, axis = iter(bounds), 0
    for part in parts:
        if part == "new":
            keys.append(None)
            continue
        if axis >= len(shape):
            raise OpShapeError(f"too many indices for shape {shape_text(shape)}")
        size = shape[axis]
        if part == "all":
            keys.append(range(size))
        elif part == "at":
            k = next(given)
            if not -size <= k < size:
                raise OpShapeError(f"index {k} is out of range for axis {axis} of shape {shape_text(shape)}")
            keys.append(k % size)
        else:
            lo = next(given) if part in ("lo", "lohi") else 0
            hi = next(given) if part in ("hi", "lohi") else size
            if not 0 <= lo < hi <= size:
                raise OpShapeError(f"the slice {lo}:{hi} does not fit axis {axis} of shape {shape_text(shape)}")
            keys.append(range(lo, hi))
        axis += 1
    return keys


def _slice(be: Backend, xs: list[Array], opts: Options) -> Array:
    x = xs[0]
    keys = _keys(str(opts["spec"]).split(","), [_integer(b, "a slice bound") for b in xs[1:]], x.shape)
    index = tuple(np.newaxis if k is None else k if isinstance(k, int) else slice(k.start, k.stop) for k in keys)
    return np.asarray(x[index], dtype=be.dtype)


def dim_of(node: Node) -> str | int:
    """A slice bound as a dimension: an integer, a size name, or their sums and integer multiples."""
    if isinstance(node, Const) and node.value.denominator == 1:
        return int(node.value)
    if isinstance(node, Ref):
        return node.name
    if isinstance(node, Apply) and node.op in ("add", "sub"):
        return combine(dim_of(node.args[0]), dim_of(node.args[1]), 1 if node.op == "add" else -1)
    if isinstance(node, Apply) and node.op == "mul" and isinstance(node.args[0], Const):
        return scale(dim_of(node.args[1]), _integer(node.args[0].value, "a multiple of a size"))
    if isinstance(node, Apply) and node.op == "neg":
        return combine(0, dim_of(node.args[0]), -1)
    raise DimError("a slice bound is an integer, a size, or sizes with + - and integer multiples (H, 2*H, H + 1)")


def _slice_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    shape, out = args[0], list[str | int]()
    bounds = iter(node.args[1:])
    axis = 0
    try:
        for part in parts_of(node):
            if part == "new":
                out.append(1)
                continue
            if axis >= len(shape):
                raise SymbolicShapeError(f"too many indices for shape {shape_text(shape)}", node)
            size = shape[axis]
            lo = dim_of(next(bounds)) if part in ("at", "lo", "lohi") else 0
            hi = dim_of(next(bounds)) if part in ("hi", "lohi") else size
            if part != "at" and any(isinstance(b, int) and b < 0 for b in (lo, hi)):
                raise SymbolicShapeError("negative slice bounds are not supported: write x[:D-1], not x[:-1]", node)
            if part != "at":
                out.append(combine(hi, lo, -1))
            axis += 1
    except DimError as exc:
        raise SymbolicShapeError(str(exc), node) from None
    return (*out, *shape[axis:])


def _slice_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """x[:, None] at (i, 0) is x at i; x[:, a:b] at (i, j) is x at (i, j + a), a shifted index whose variable ranges
    over b - a (so it stays inside x's axis); x[:, 2] at (i,) is x at (i, 2), a literal position, when 2 is below the
    axis's length for every size."""
    inner, rest, bounds = [], iter(out), iter(node.args[1:])
    lengths = iter(ix.shape(node.args[0]))
    for part in parts_of(node):
        length = next(lengths) if part != "new" else 1
        if part == "at":
            at = dim_of(next(bounds))
            if not (isinstance(at, int) and below_for_every_size(at, length)):
                raise ix.not_general("a slice at a position not below the length for every size", node)
            inner.append(str(at))  # a literal position: x[:, 0] at (i,) is x at (i, 0)
        elif part == "all":
            inner.append(next(rest))
        elif part == "new":
            next(rest)
        elif part in ("lo", "hi", "lohi"):
            lo = dim_of(next(bounds)) if part != "hi" else 0
            hi = dim_of(next(bounds)) if part != "lo" else length
            if not nonnegative(combine(combine(hi, lo, -1), 1, -1)):  # x[1:] of a T-vector is empty at T = 1
                raise ix.not_general("a slice that is empty at some sizes is proved at the stated sizes only", node)
            if not nonnegative(combine(length, hi, -1)):  # x[0:N] of a D-vector: numpy clips it where N > D
                raise ix.not_general("a slice that ends past its axis at some sizes is proved at the stated ones", node)
            inner.append(ix.shifted(next(rest), lo))
    inner.extend(rest)
    return ix.entry(node.args[0], tuple(inner))


def _slice_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    bounds = [int(w.scalar(b, "a slice bound")) for b in xs[1:]]
    try:
        keys = _keys(parts_of(node), bounds, tuple(xs[0].shape))
    except OpShapeError as exc:
        raise w.fail(str(exc)) from None
    return w.select(xs[0], keys)


def _slice_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    bounds = iter(text for text, _ in parts[1:])
    shown = []
    for part in parts_of(node):
        lo = next(bounds) if part in ("at", "lo", "lohi") else ""
        hi = next(bounds) if part in ("hi", "lohi") else ""
        shown.append({"all": ":", "new": "None", "at": lo}.get(part, f"{lo}:{hi}"))
    return f"{printer.wrap(parts[0], ATOM)}[{', '.join(shown)}]", ATOM


def _dim(be: Backend, xs: list[Array], opts: Options) -> Array:
    axis = int(opts.get("axis", 0))
    if not -xs[0].ndim <= axis < xs[0].ndim:
        raise OpShapeError(f"shape[{axis}] is out of range for shape {fmt(xs[0])}")
    return be.const(Fraction(xs[0].shape[axis]))


def _dim_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    axis = int(node.option("axis", 0) or 0)
    if not -len(args[0]) <= axis < len(args[0]):
        raise SymbolicShapeError(f"shape[{axis}] is out of range for shape {shape_text(args[0])}", node)
    return ()


def _concat(be: Backend, xs: list[Array], opts: Options) -> Array:
    axis = int(opts.get("axis", 0))
    try:
        return np.asarray(np.concatenate(xs, axis=axis), dtype=be.dtype)
    except ValueError:
        raise OpShapeError(f"cannot concatenate shapes {', '.join(fmt(x) for x in xs)} along axis {axis}") from None


def _concat_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    first, axis = args[0], int(node.option("axis", 0) or 0)
    if not first or not -len(first) <= axis < len(first):
        raise SymbolicShapeError(f"axis={axis} is out of range for shape {shape_text(first)}", node)
    k = axis % len(first)
    total: str | int = 0
    for shape in args:
        if len(shape) != len(first) or shape[:k] + shape[k + 1 :] != first[:k] + first[k + 1 :]:
            words = ", ".join(shape_text(s) for s in args)
            raise SymbolicShapeError(f"cannot concatenate shapes {words} along axis {axis} for all sizes", node)
        total = combine(total, shape[k])
    return (*first[:k], total, *first[k + 1 :])


def _concat_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    """concatenate(parts)[.., q, ..] = Σ_b Σ_{k < n_b} δ(q, k + o_b) part_b[.., k, ..], o_b the part's offset: exactly
    one (b, k) has k + o_b = q, for every q along the joined axis (the parts' lengths add up to its length)."""
    axis = int(node.option("axis", 0) or 0) % len(out)
    total: Any = ix.constant(Fraction(0))
    offset: str | int = 0
    for part in node.args:
        length = ix.shape(part)[axis]
        k = ix.fresh(length)
        at = (*out[:axis], k, *out[axis + 1 :])
        here = ix.delta(out[axis], ix.shifted(k, offset))
        total = ix.plus(total, ix.summed(ix.times(here, ix.entry(part, at)), k, length))
        offset = combine(offset, length)
    return total


def _concat_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    return f"concatenate([{', '.join(text for text, _ in parts)}], axis={node.option('axis', 0)})", ATOM


SELECTIONS = (
    Op(
        name="concatenate",
        doc="numpy's concatenate([a, b, ...], axis=k) along an existing axis",
        arity=-1,
        kind=Kind.LINEAR,
        options=("axis",),
        syntax="np.concatenate([a, b], axis=1), np.hstack([a, b])",
        shape=_concat_shape,
        evaluate=_concat,
        index=_concat_index,
        witness=lambda w, node, xs: w.concat(xs, int(node.option("axis", 0) or 0)),
        text=Form(custom=_concat_text),
        latex=Form(custom=_concat_text),
    ),
    Op(
        name="onehot",
        doc="the one-hot rows of a label vector: np.eye(C)[y]",
        arity=1,
        kind=Kind.LINEAR,
        options=("classes", "rows"),
        syntax="np.eye(C)[y], x[np.arange(N), y], W[y]",
        shape=_onehot_shape,
        evaluate=lambda be, xs, opts: xs[0],
        index=lambda node, out, ix: ix.entry(node.args[0], out),
        witness=lambda w, node, xs: xs[0],
        text=Form(custom=lambda p, node, parts: (f"np.eye({node.option('classes', 'C')})[{parts[0][0]}]", ATOM)),
        latex=Form(
            custom=lambda p, node, parts: (rf"\mathbf{{I}}_{{{node.option('classes', 'C')}}}[{parts[0][0]}]", ATOM)
        ),
    ),
    Op(
        name="slice",
        doc="numpy's basic slicing: x[:, H:2*H], x[1:], x[:, 0], x[:, None]",
        arity=-1,
        kind=Kind.LINEAR,
        options=("spec",),
        syntax="x[:, H:2*H], x[1:], x[:, 0], x[:, None]",
        shape=_slice_shape,
        evaluate=_slice,
        index=_slice_index,
        witness=_slice_witness,
        text=Form(custom=_slice_text),
        latex=Form(custom=_slice_text),
    ),
    Op(
        name="dim",
        doc="x.shape[k]: the size of an axis, a constant",
        arity=1,
        kind=Kind.LINEAR,
        options=("axis",),
        syntax="x.shape[0]",
        shape=_dim_shape,
        evaluate=_dim,
        index=lambda node, out, ix: ix.constant(ix.size(ix.shape(node.args[0])[int(node.option("axis", 0) or 0)])),
        witness=lambda w, node, xs: w.const(Fraction(xs[0].shape[int(node.option("axis", 0) or 0)])),
        text=Form(custom=lambda p, node, parts: (f"{p.wrap(parts[0], ATOM)}.shape[{node.option('axis', 0)}]", ATOM)),
        latex=Form(custom=lambda p, node, parts: (rf"\dim_{{{node.option('axis', 0)}}}({parts[0][0]})", ATOM)),
    ),
)
