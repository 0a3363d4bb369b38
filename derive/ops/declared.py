"""Functions a file declares but does not define: element-wise f (with df, ddf) and scalar functions L(y).

A proof with them free holds for every smooth function. Their derivatives are further atoms: f's k-th derivative
differentiates to the (k+1)-th, and a scalar function's partials are the entries of the gradient the file names
(seed 004's `dL_dy`). The witness instantiates them as random concrete smooth functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.ops.smooth import atom_index
from derive_check.derive.ops.spec import ARG, ATOM, Form, Kind, Op, same_shape
from derive_check.derive.tree import Apply, Ref


def _order(node: Apply) -> int:
    return int(node.option("order", 0) or 0)


def _next_derivative(node: Apply) -> Apply:
    return Apply("function", (Ref(ARG),), (("name", str(node.option("name"))), ("order", _order(node) + 1)))


def _function_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    return f"{'d' * _order(node)}{node.option('name')}({parts[0][0]})", ATOM


def _function_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    return rf"{printer.name(str(node.option('name')))}{chr(39) * _order(node)}\left({parts[0][0]}\right)", ATOM


def _scalar_text(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    return f"{node.option('name')}({parts[0][0]})", ATOM


def _scalar_latex(printer: Any, node: Apply, parts: list[tuple[str, int]]) -> tuple[str, int]:
    return rf"{printer.name(str(node.option('name')))}\left({parts[0][0]}\right)", ATOM


def _scalar_derivative(node: Apply, name: str, at: tuple[str, ...], target: str, wrt: tuple[str, ...], ix: Any) -> Any:
    """d F(u) = Σ_idx ∂F/∂u[idx] du[idx], where ∂F/∂u is the gradient the file names."""
    function = str(node.option("name"))
    gradient = ix.gradient_name(function)
    if gradient is None:
        raise ix.not_general(f"the scalar function {function} has no named gradient", node)
    indices, bound = [], []
    for dim in ix.shape(node.args[0]):
        indices.append(ZERO_INDEX if dim == 1 else ix.fresh(dim))
        if dim != 1:
            bound.append((indices[-1], dim))
    du = ix.differentiate(ix.entry(node.args[0], tuple(indices)), target, wrt)
    partials = ix.factor(gradient, tuple(indices))
    for index, dim in reversed(bound):
        partials = ix.summed(partials, index, dim)
    return ix.times(partials, du)


DECLARED = (
    Op(
        name="function",
        doc="a declared element-wise function f, or its derivative df, ddf (option order)",
        arity=1,
        kind=Kind.DECLARED,
        options=("name", "order"),
        shape=same_shape,
        evaluate=lambda be, xs, opts: np.asarray(
            be.function(str(opts["name"]), int(opts.get("order", 0)), xs[0]), dtype=be.dtype
        ),
        derivative=_next_derivative,
        index=atom_index,
        atom=True,
        witness=lambda w, node, xs: w.unary(xs[0], lambda x: w.declared(str(node.option("name")), _order(node), x)),
        text=Form(custom=_function_text),
        latex=Form(custom=_function_latex),
    ),
    Op(
        name="scalar_function",
        doc="a declared scalar function of a whole array, such as a loss L(y)",
        arity=1,
        kind=Kind.DECLARED,
        options=("name",),
        shape=lambda args, node, env: (),
        evaluate=lambda be, xs, opts: be.scalar_function(str(opts["name"]), xs[0]),
        index=atom_index,
        atom=True,
        index_derivative=_scalar_derivative,
        witness=lambda w, node, xs: w.declared_scalar(str(node.option("name")), xs[0]),
        text=Form(custom=_scalar_text),
        latex=Form(custom=_scalar_latex),
    ),
)
