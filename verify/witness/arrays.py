"""Arrays of mpmath numbers for the numeric witness: a tiny row-major array and numpy's shape rules.

Written from numpy's documented semantics (right-aligned broadcasting, `@` on vectors and matrices,
axis reductions), independently of `derive.ops.table`, so a slip in the engine's evaluation is not
repeated here. Entries are mpmath numbers of one local context; nothing touches global precision.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from derive_check.derive.model.declarations import Decl
from derive_check.derive.ops.dims import value

Shape = tuple[int, ...]
Num = Any  # an mpf of the witness's local context


class WitnessError(ValueError):
    """A formula the witness cannot evaluate at these sizes (shapes, axes, indices): not point-dependent."""


class PointRejected(ValueError):
    """The random point sits too close to a kink or outside a domain: draw another one."""


class Undefined(PointRejected):
    """A value outside a domain here (log of a non-positive number, division by ~0). In the model it rejects the
    point; in a claim evaluated where the model is defined it refutes the claim, which says nothing there."""


class Arr:
    """A rank 0-2 (any rank, really) row-major array: `shape` and the flat list `data`."""

    __slots__ = ("data", "shape")

    def __init__(self, shape: Shape, data: list[Num]) -> None:
        self.shape = shape
        self.data = data

    @property
    def ndim(self) -> int:
        """The number of axes."""
        return len(self.shape)

    def __repr__(self) -> str:
        return f"Arr({self.shape}, {self.data})"


def fmt(shape: Shape) -> str:
    """A shape as people write it: 'scalar', '3', '2 x 3'."""
    return " x ".join(map(str, shape)) if shape else "scalar"


def size_of(shape: Shape) -> int:
    """The number of entries of an array of this shape."""
    n = 1
    for d in shape:
        n *= d
    return n


def unravel(flat: int, shape: Shape) -> tuple[int, ...]:
    """The multi-index of row-major position `flat`."""
    out: list[int] = []
    for d in reversed(shape):
        out.append(flat % d)
        flat //= d
    return tuple(reversed(out))


def ravel(index: Sequence[int], shape: Shape) -> int:
    """The row-major position of a multi-index."""
    flat = 0
    for i, d in zip(index, shape, strict=True):
        flat = flat * d + i
    return flat


def broadcast_shape(a: Shape, b: Shape, op: str) -> Shape:
    """numpy's broadcast of two shapes (right-aligned, size-1 axes stretch), or WitnessError."""
    out: list[int] = []
    for k in range(1, max(len(a), len(b)) + 1):
        x = a[-k] if k <= len(a) else 1
        y = b[-k] if k <= len(b) else 1
        if x != y and x != 1 and y != 1:
            raise WitnessError(f"operands of '{op}' have shapes {fmt(a)} and {fmt(b)}, which do not broadcast")
        out.append(max(x, y) if min(x, y) != 0 else 0)
    return tuple(reversed(out))


@lru_cache(maxsize=512)
def _source_positions(src: Shape, out: Shape) -> tuple[int, ...]:
    """For each position of the broadcast result, the position in the operand it reads."""
    pad = (1,) * (len(out) - len(src)) + src
    positions = []
    for flat in range(size_of(out)):
        index = unravel(flat, out)
        positions.append(ravel([i if d != 1 else 0 for i, d in zip(index, pad, strict=True)], pad))
    return tuple(positions)


def binary(a: Arr, b: Arr, op: str, fn: Callable[[Num, Num], Num]) -> Arr:
    """An element-wise binary operation with broadcasting."""
    if a.shape == b.shape:
        return Arr(a.shape, [fn(x, y) for x, y in zip(a.data, b.data, strict=True)])
    if not b.shape:
        y = b.data[0]
        return Arr(a.shape, [fn(x, y) for x in a.data])
    if not a.shape:
        x = a.data[0]
        return Arr(b.shape, [fn(x, y) for y in b.data])
    out = broadcast_shape(a.shape, b.shape, op)
    pa, pb = _source_positions(a.shape, out), _source_positions(b.shape, out)
    ad, bd = a.data, b.data
    return Arr(out, [fn(ad[i], bd[j]) for i, j in zip(pa, pb, strict=True)])


def unary(a: Arr, fn: Callable[[Num], Num]) -> Arr:
    """An element-wise function."""
    return Arr(a.shape, [fn(x) for x in a.data])


def matmul(ctx: Any, a: Arr, b: Arr) -> Arr:
    """numpy's `@` for vectors and matrices (vector @ vector is a scalar)."""
    if a.ndim == 0 or b.ndim == 0 or a.ndim > 2 or b.ndim > 2:
        raise WitnessError(f"'@' needs matrices or vectors, got {fmt(a.shape)} @ {fmt(b.shape)}")
    inner = a.shape[-1]
    if inner != b.shape[0]:
        raise WitnessError(f"'@' inner dimensions differ: {fmt(a.shape)} @ {fmt(b.shape)}")
    rows = [a.data[r * inner : (r + 1) * inner] for r in range(a.shape[0] if a.ndim == 2 else 1)]
    cols_n = b.shape[1] if b.ndim == 2 else 1
    cols = [b.data[c::cols_n] for c in range(cols_n)]
    data = [ctx.fdot(row, col) for row in rows for col in cols]
    return Arr(a.shape[:-1] + b.shape[1:], data)


def transpose(a: Arr) -> Arr:
    """Axes reversed (a vector stays a vector)."""
    if a.ndim < 2:
        return a
    shape = tuple(reversed(a.shape))
    return Arr(shape, [a.data[ravel(tuple(reversed(unravel(k, shape))), a.shape)] for k in range(len(a.data))])


def norm_axis(a: Arr, axis: int) -> int:
    """A possibly negative axis as a non-negative one, or WitnessError when out of range."""
    if a.ndim == 0 or not -a.ndim <= axis < a.ndim:
        raise WitnessError(f"axis={axis} is out of range for shape {fmt(a.shape)}")
    return axis % a.ndim


def reduce_sum(
    ctx: Any, a: Arr, axis: int | None, keep: bool = False, fold: Callable[[list[Num]], Num] | None = None
) -> Arr:
    """The sum over one axis (or all entries when axis is None); `fold` replaces the sum (a max)."""
    fold = fold or ctx.fsum
    if axis is None:
        whole = Arr((), [fold(a.data)])
        return Arr(tuple(1 for _ in a.shape), whole.data) if keep else whole
    k = norm_axis(a, axis)
    out = a.shape[:k] + a.shape[k + 1 :]
    groups: list[list[Num]] = [[] for _ in range(size_of(out))]
    for flat, x in enumerate(a.data):
        index = unravel(flat, a.shape)
        groups[ravel(index[:k] + index[k + 1 :], out)].append(x)
    shape = (*a.shape[:k], 1, *a.shape[k + 1 :]) if keep else out
    return Arr(shape, [fold(g) for g in groups])


def select(a: Arr, keys: Sequence[int | range | None]) -> Arr:
    """numpy's basic indexing: per axis an integer (the axis goes), a range of positions, or None (a new axis)."""
    shape: list[int] = []
    axis, picks = 0, []
    for key in keys:
        if key is None:
            shape.append(1)
            continue
        if axis >= a.ndim:
            raise WitnessError(f"too many indices for shape {fmt(a.shape)}")
        positions = [key] if isinstance(key, int) else list(key)
        if any(not 0 <= p < a.shape[axis] for p in positions):
            raise WitnessError(f"index {key} is out of range for axis {axis} of shape {fmt(a.shape)}")
        picks.append(positions)
        if not isinstance(key, int):
            shape.append(len(positions))
        axis += 1
    for rest in a.shape[axis:]:
        picks.append(list(range(rest)))
        shape.append(rest)
    data = [a.data[ravel(index, a.shape)] for index in _product(picks)]
    return Arr(tuple(shape), data)


def concat(parts: Sequence[Arr], axis: int) -> Arr:
    """numpy's concatenate along an existing axis."""
    first = parts[0]
    k = norm_axis(first, axis)
    if any(
        p.ndim != first.ndim or p.shape[:k] + p.shape[k + 1 :] != first.shape[:k] + first.shape[k + 1 :] for p in parts
    ):
        raise WitnessError(f"cannot concatenate shapes {', '.join(fmt(p.shape) for p in parts)} along axis {axis}")
    shape = (*first.shape[:k], sum(p.shape[k] for p in parts), *first.shape[k + 1 :])
    data = []
    for flat in range(size_of(shape)):
        index = list(unravel(flat, shape))
        for p in parts:
            if index[k] < p.shape[k]:
                data.append(p.data[ravel(index, p.shape)])
                break
            index[k] -= p.shape[k]
    return Arr(shape, data)


def _product(picks: list[list[int]]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for positions in picks:
        out = [(*prefix, p) for prefix in out for p in positions]
    return out


def entry(a: Arr, indices: Sequence[int]) -> Arr:
    """a[i, j, ...] on the first axes; a scalar when the remaining axes are all 1, else the sub-array."""
    if len(indices) > a.ndim:
        raise WitnessError(f"{len(indices)} index(es) for shape {fmt(a.shape)}")
    for i, d in zip(indices, a.shape, strict=False):
        if not 0 <= i < d:
            raise WitnessError(f"index {i} is out of range for shape {fmt(a.shape)}")
    positions = entry_positions(a.shape, tuple(indices))
    rest = a.shape[len(indices) :]
    shape = () if all(d == 1 for d in rest) else rest
    return Arr(shape, [a.data[p] for p in positions])


def entry_positions(shape: Shape, indices: tuple[int, ...]) -> list[int]:
    """The flat positions a[indices] reads, in row-major order of the remaining axes."""
    rest = shape[len(indices) :]
    base = ravel(indices, shape[: len(indices)]) * size_of(rest)
    return [base + k for k in range(size_of(rest))]


class Points:
    """Random points for a model's inputs and parameters at given sizes, and their compact display."""

    def __init__(self, ctx: Any, rng: random.Random, decls: Mapping[str, Decl], sizes: Mapping[str, int]) -> None:
        self.ctx, self.rng, self.decls = ctx, rng, dict(decls)
        self.shapes = {n: tuple(value(d, sizes) for d in x.dims) for n, x in decls.items()}
        self.perms = {n: rng.sample(range(self.classes(n)), self.classes(n)) for n, d in decls.items() if d.onehot}

    def classes(self, name: str) -> int:
        """The number of classes of a one-hot input: a 'K x 1' column or vector is one one-hot vector."""
        dims, shape = self.decls[name].dims, self.shapes[name]
        return shape[0] if len(shape) == 1 or dims[1] == 1 else shape[1]

    def onehot(self, name: str, classes: list[int]) -> Arr:
        """A one-hot input whose rows (or whole vector) have these classes."""
        shape, n = self.shapes[name], self.classes(name)
        rows = [[1 if c == k else 0 for c in range(n)] for k in classes]
        return Arr(shape, [self.ctx.mpf(x) for row in rows for x in row])

    def draw(self, p: int) -> dict[str, Arr]:
        """A random point: values in [-2, 2], positive scalars, one-hot rows cycling through every class."""
        point = {}
        for name, decl in self.decls.items():
            shape = self.shapes[name]
            if decl.onehot:
                rows, perm = self.rows(name), self.perms[name]
                point[name] = self.onehot(name, [perm[(p * rows + r) % len(perm)] for r in range(rows)])
            elif not shape:
                point[name] = Arr((), [self.ctx.mpf(self.rng.uniform(0.1, 2))])
            else:
                values = [self.ctx.mpf(self.rng.uniform(-2, 2)) for _ in range(size_of(shape))]
                point[name] = Arr(shape, values)
        return point

    def rows(self, name: str) -> int:
        """How many one-hot rows a one-hot input has (1 for a vector or 'K x 1' column)."""
        shape = self.shapes[name]
        return 1 if len(shape) == 1 or self.decls[name].dims[-1] == 1 else shape[0]

    def show(self, a: Arr) -> str:
        """An array compactly, 4 significant digits."""
        flat: list[str] = [str(self.ctx.nstr(x, 4)) for x in a.data]
        if not a.shape:
            return flat[0]
        if len(a.shape) == 1:
            return "[" + ", ".join(flat) + "]"
        n = a.shape[-1]
        return "[" + ", ".join("[" + ", ".join(flat[r : r + n]) + "]" for r in range(0, len(flat), n)) + "]"
