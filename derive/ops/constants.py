"""Values built from nothing but sizes: `np.pi`, `np.ones((N, D))`, `np.zeros(D)` and `np.eye(C)`.

- `pi` is π itself, exact in every engine: SymPy's `pi` in the fixed-size engine (a transcendental number, so an
  identity the normal form proves with π as a generator holds at π), a coefficient in the index engine, mpmath's
  π in the witness. No engine ever replaces it by a decimal.
- `filled` is an array of one value (0 or 1) whose shape is written with sizes, as slice bounds are: the
  operands are the dimensions, so every backend evaluates them at its sizes and the symbolic shape rule reads them
  as dimensions (`derive.ops.select.dim_of`). Its entry at every index tuple is the value.
- `eye` is the C x C identity; its entry at (i, j) is the Kronecker delta δ(i, j).

They are constants: their derivative with respect to anything is 0, which every engine gets for free (they
reference no declared quantity).
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from derive_check.derive.ops.dims import DimError, below_for_every_size
from derive_check.derive.ops.select import dim_of
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
)
from derive_check.derive.tree import Apply, Node, Ref


def _lengths(xs: list[Any], read: Any) -> tuple[int, ...]:
    """The concrete lengths of a shape given as operands (each a whole number of at least 1)."""
    lengths = []
    for x in xs:
        number = Fraction(str(read(x)))
        if number.denominator != 1 or number < 1:
            raise OpShapeError(f"a length must be a whole number of at least 1, got {number}")
        lengths.append(int(number))
    return tuple(lengths)


def _shape(args: list[Shape], node: Apply, env: Mapping[str, Shape]) -> Shape:
    """The symbolic shape: each operand read as a dimension (a size, an integer, or sizes with + - and multiples)."""
    dims = []
    for operand, shape in zip(node.args, args, strict=True):
        if shape:
            raise SymbolicShapeError("a length is a scalar: a size, an integer or x.shape[k]", node)
        try:
            dim = _length(operand, env)
        except DimError:
            message = "a length is an integer, a size, x.shape[k], or sizes with + - and integer multiples (2*H)"
            raise SymbolicShapeError(message, node) from None
        if not below_for_every_size(0, dim):
            raise SymbolicShapeError(f"the length {dim} is not at least 1 for every size", node)
        dims.append(dim)
    return tuple(dims)


def _length(operand: Node, env: Mapping[str, Shape]) -> Dim:
    """A length operand as a dimension; x.shape[k] of a declared or computed name reads its symbolic shape."""
    if isinstance(operand, Apply) and operand.op == "dim" and isinstance(operand.args[0], Ref):
        shape = env.get(operand.args[0].name)
        axis = int(operand.option("axis", 0) or 0)
        if shape is not None and -len(shape) <= axis < len(shape):
            return shape[axis]
    return dim_of(operand)


def _filled(be: Backend, xs: list[Array], opts: Options) -> Array:
    shape = _lengths(xs, lambda x: np.asarray(x).item())
    return np.asarray(np.full(shape, be.const(Fraction(opts.get("value", 0))).item(), dtype=be.dtype), dtype=be.dtype)


def _eye(be: Backend, xs: list[Array], opts: Options) -> Array:
    (n,) = _lengths(xs, lambda x: np.asarray(x).item())
    one, zero = be.const(Fraction(1)), be.const(Fraction(0))
    return np.asarray(np.where(np.eye(n, dtype=bool), one, zero), dtype=be.dtype)


def _witness_table(w: WitnessArith, xs: list[Any], entry: Any) -> Any:
    """An array of the witness's own numbers, entry by entry (a row of rank-0 constants, reshaped)."""
    shape = _lengths(xs, lambda x: w.scalar(x, "a length must be a scalar"))
    cells = [w.reshape(w.const(Fraction(entry(k, shape))), (1,)) for k in range(int(np.prod(shape, dtype=int)))]
    return w.reshape(w.concat(cells, 0), shape)  # lengths are at least 1, so there is a cell


def _filled_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    value = Fraction(node.option("value", 0) or 0)
    return _witness_table(w, xs, lambda k, shape: value)


def _eye_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    return _witness_table(w, [xs[0], xs[0]], lambda k, shape: 1 if k // shape[0] == k % shape[0] else 0)


def _filled_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    name = "ones" if node.option("value") == 1 else "zeros"
    dims = parts[0][0] if len(parts) == 1 else f"({', '.join(text for text, _ in parts)})"
    return f"np.{name}({dims})", ATOM


def _filled_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    symbol = r"\mathbf{1}" if node.option("value") == 1 else r"\mathbf{0}"
    times = r" \times "
    return rf"{symbol}_{{{times.join(text for text, _ in parts)}}}", ATOM


def _eye_index(node: Apply, out: tuple[str, ...], ix: IndexAlgebra) -> Any:
    return ix.delta(out[0], out[1])


def _pi_witness(w: WitnessArith, node: Apply, xs: list[Any]) -> Any:
    return w.unary(w.const(Fraction(0)), lambda _: +w.ctx.pi)


CONSTANTS = (
    Op(
        name="pi",
        doc="the number π (np.pi), exact in every engine",
        arity=0,
        kind=Kind.LINEAR,
        syntax="np.pi",
        shape=lambda args, node, env: (),
        evaluate=lambda be, xs, opts: be.pi(),
        positive=True,
        index=lambda node, out, ix: ix.constant(ix.pi()),
        witness=_pi_witness,
        text=Form(template="np.pi"),
        latex=Form(template=r"\pi"),
    ),
    Op(
        name="filled",
        doc="an array of one value whose shape is written with sizes: np.ones((N, D)), np.zeros(D)",
        arity=-1,
        kind=Kind.LINEAR,
        options=("value",),
        syntax="np.ones((N, D)), np.zeros(D)",
        shape=_shape,
        evaluate=_filled,
        index=lambda node, out, ix: ix.constant(Fraction(node.option("value", 0) or 0)),
        witness=_filled_witness,
        text=Form(custom=_filled_text),
        latex=Form(custom=_filled_latex),
    ),
    Op(
        name="eye",
        doc="the identity matrix np.eye(C)",
        arity=1,
        kind=Kind.LINEAR,
        syntax="np.eye(C)",
        shape=lambda args, node, env: _shape(args, node, env) * 2,
        evaluate=_eye,
        index=_eye_index,
        witness=_eye_witness,
        text=Form(custom=lambda p, node, parts: (f"np.eye({parts[0][0]})", ATOM)),
        latex=Form(custom=lambda p, node, parts: (rf"\mathbf{{I}}_{{{parts[0][0]}}}", ATOM)),
    ),
)
