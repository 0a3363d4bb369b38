"""Evaluating an expression tree on a backend, one walker for both backends."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np

from derive_check.derive.budget import check
from derive_check.derive.errors import InputError, Location, ShapeError
from derive_check.derive.ops.table import RULES, Array, Backend, OpDomainError, OpShapeError, check_finite
from derive_check.derive.tree import Apply, Const, Node, Ref

_PARTIAL = {"div", "pow", "log"}  # operations with undefined values


def evaluate(node: Node, env: Mapping[str, Array], backend: Backend, where: Location) -> Array:
    """The value of `node` with names bound by `env`; shape errors point at the failing operation."""
    if isinstance(node, Const):
        return backend.const(node.value)
    if isinstance(node, Ref):
        return env[node.name]
    assert isinstance(node, Apply)
    check()  # a safe point for the time budget
    if node.op == "index_sum":
        return _index_sum(node, env, backend, where)
    rule = RULES[node.op]
    if rule.arity >= 0 and len(node.args) != rule.arity:
        raise ShapeError(f"'{node.op}' takes {rule.arity} operand(s)", where)
    args = [evaluate(a, env, backend, where) for a in node.args]
    try:
        value = rule.impl(backend, args, dict(node.options))
        return check_finite(rule.name, value) if rule.name in _PARTIAL else value
    except OpDomainError as exc:
        raise InputError(
            str(exc), where.shifted(where.col_start + node.span[0], where.col_start + node.span[1])
        ) from None
    except OpShapeError as exc:
        raise ShapeError(
            str(exc), where.shifted(where.col_start + node.span[0], where.col_start + node.span[1])
        ) from None


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
    """A shape as people write it: 'scalar', '5', '4 x 5'."""
    return "scalar" if np.ndim(value) == 0 else " x ".join(map(str, np.shape(value)))
