"""The outer product of two vectors, `np.outer(a, b)[i, j] = a[i]·b[j]`.

numpy flattens operands that are not vectors; the language does not (a flattened matrix has no symbolic shape
that says which entry is which), so anything but two vectors is a shape error that names `a[:, None] * b[None, :]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from derive_check.derive.ops.spec import (
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
from derive_check.derive.tree import Apply

ONLY_VECTORS = "np.outer(a, b) takes two vectors (numpy would flatten the others); write a[:, None] * b[None, :]"


def _outer_shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    if len(args[0]) != 1 or len(args[1]) != 1:
        raise SymbolicShapeError(f"{ONLY_VECTORS}, got {shape_text(args[0])} and {shape_text(args[1])}", node)
    return (args[0][0], args[1][0])


def _outer(be: Backend, xs: list[Array], opts: Options) -> Array:
    a, b = xs
    if a.ndim != 1 or b.ndim != 1:
        raise OpShapeError(f"{ONLY_VECTORS}, got {fmt(a)} and {fmt(b)}")
    return np.asarray(np.multiply.outer(a, b), dtype=be.dtype)


def _outer_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    return ix.times(ix.entry(node.args[0], out[:1]), ix.entry(node.args[1], out[1:]))


def _outer_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    a, b = xs
    if w.rank(a) != 1 or w.rank(b) != 1:
        raise w.fail(ONLY_VECTORS)
    column, row = w.reshape(a, (a.shape[0], 1)), w.reshape(b, (1, b.shape[0]))
    return w.binary(column, row, "*", lambda x, y: x * y)


OUTER = (
    Op(
        name="outer",
        doc="the outer product of two vectors: np.outer(a, b)[i, j] = a[i] b[j]",
        arity=2,
        kind=Kind.POLYNOMIAL,
        spelling="outer",
        shape=_outer_shape,
        evaluate=_outer,
        index=_outer_index,
        witness=_outer_witness,
        text=Form(call="outer"),
        latex=Form(template="{0} {1}^{{\\top}}", prec=2, needs=(2, 3)),
    ),
)
