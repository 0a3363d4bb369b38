"""Evaluating an expression tree on a backend: one walker for both backends, dispatching on the op table."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from derive_check.derive.budget import check
from derive_check.derive.errors import InputError, Location, ShapeError
from derive_check.derive.ops.spec import Array, Backend, Kind, OpDomainError, OpShapeError
from derive_check.derive.ops.spec import shape_text as spec_shape_text
from derive_check.derive.ops.table import OPS
from derive_check.derive.tree import Apply, Const, Node, Ref


def evaluate(node: Node, env: Mapping[str, Array], backend: Backend, where: Location) -> Array:
    """The value of `node` with names bound by `env`; shape errors point at the failing operation."""
    if isinstance(node, Const):
        return backend.const(node.value)
    if isinstance(node, Ref):
        return env[node.name]
    assert isinstance(node, Apply)
    check()  # a safe point for the time budget
    op = OPS[node.op]
    if op.kind is Kind.BINDER:
        return _index_sum(node, env, backend, where)
    if op.arity >= 0 and len(node.args) != op.arity:
        raise ShapeError(f"'{node.op}' takes {op.arity} operand(s)", where)
    args = [evaluate(a, env, backend, where) for a in node.args]
    try:
        value = op.evaluate(backend, args, dict(node.options))
        return check_finite(op.name, value) if op.partial else value
    except OpDomainError as exc:
        raise InputError(
            str(exc), where.shifted(where.col_start + node.span[0], where.col_start + node.span[1])
        ) from None
    except OpShapeError as exc:
        raise ShapeError(
            str(exc), where.shifted(where.col_start + node.span[0], where.col_start + node.span[1])
        ) from None


def check_finite(op: str, value: Array) -> Array:
    """Refuse results that are undefined numbers (1/0, 0**-1, log 0): SymPy would carry them on as zoo/nan."""
    if value.dtype == object:
        import sympy as sp  # only the exact backend makes object arrays

        for entry in value.flat:
            if isinstance(entry, sp.Basic) and (entry.has(sp.nan, sp.zoo, sp.oo, -sp.oo)):
                raise OpDomainError(
                    f"'{op}' gives an undefined value ({entry}) here: a division by zero or the "
                    f"log of a non-positive number"
                )
    return value


def _index_sum(node: Apply, env: Mapping[str, Array], backend: Backend, where: Location) -> Array:
    """sum(body for i in range(N)): the body at i = 0, ..., N-1, added (shapes must agree)."""
    index, size = str(node.option("index")), str(node.option("size"))
    count = int(np.asarray(env[size]).item())
    total: Array | None = None
    for k in range(count):
        value = evaluate(node.args[0], {**env, index: backend.const(Fraction(k))}, backend, where)
        if total is not None and np.shape(total) != np.shape(value):
            raise ShapeError("the terms of a sum over an index have different shapes", where)
        total = value if total is None else np.asarray(total + value, dtype=backend.dtype)
    if total is None:
        raise ShapeError(f"a sum over {index} in range({size}) has no terms", where)
    return total


def shape_text(value: Array) -> str:
    """A value's shape as people write it: 'scalar', '5', '4 x 5'."""
    return spec_shape_text(np.shape(value))
