"""Evaluating an expression tree on a backend, one walker for both backends."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from derive.errors import Location, ShapeError
from derive.ops import RULES, Array, Backend, OpShapeError
from derive.tree import Apply, Const, Node, Ref


def evaluate(node: Node, env: Mapping[str, Array], backend: Backend, where: Location) -> Array:
    """The value of `node` with names bound by `env`; shape errors point at the failing operation."""
    if isinstance(node, Const):
        return backend.const(node.value)
    if isinstance(node, Ref):
        return env[node.name]
    assert isinstance(node, Apply)
    rule = RULES[node.op]
    if rule.arity >= 0 and len(node.args) != rule.arity:
        raise ShapeError(f"'{node.op}' takes {rule.arity} operand(s)", where)
    args = [evaluate(a, env, backend, where) for a in node.args]
    try:
        return rule.impl(backend, args, dict(node.options))
    except OpShapeError as exc:
        raise ShapeError(
            str(exc), where.shifted(where.col_start + node.span[0], where.col_start + node.span[1])
        ) from None


def shape_text(value: Array) -> str:
    """A shape as people write it: 'scalar', '5', '4 x 5'."""
    return "scalar" if np.ndim(value) == 0 else " x ".join(map(str, np.shape(value)))
