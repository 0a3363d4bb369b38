"""Derivatives in index notation: d(expression)/d target[p, q] for symbolic p, q, through Kronecker deltas.

The product rule runs over the factors of each term. A factor that is the target gives one
delta per index (X[i,k] ↦ δ(i,p)·δ(k,q)); inputs, other parameters and ReLU masks give 0
(masks are constant where the derivative exists, and relu'(0) = 0 as in the fixed-size
engine); opaque atoms follow their rule: d log u = du/u, d exp u = exp u · du, and for
a softmax P over its last index c, dP[..,c] = P[..,c]·(ds[..,c] − Σ_k P[..,k]·ds[..,k]).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive_check.derive.index.form import (
    ZERO_INDEX,
    Factor,
    IndexContext,
    NotGeneral,
    Sum,
    Term,
    entry,
    power,
    product,
)
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Node


def derivative(terms: Sum, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    """d(terms)/d target[at] by the product rule."""
    out: Sum = []
    for t in terms:
        for k, f in enumerate(t.factors):
            inner = factor_derivative(f, target, at, ctx)
            if not inner:
                continue
            lowered = (Factor(f.name, f.indices, f.power - 1),) if f.power != 1 else ()
            base = Term(t.coeff * f.power, t.bound, t.factors[:k] + lowered + t.factors[k + 1 :])
            out += [base.times(x) for x in inner]
    return out


def factor_derivative(f: Factor, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    """d f / d target[at] for a factor at power 1."""
    if f.name == target:
        deltas = tuple(Factor("δ", tuple(sorted((a, b)))) for a, b in zip(f.indices, at, strict=True))
        return [Term(sp.Integer(1), (), deltas)]
    if f.name in ctx.opaque:
        op, argument = ctx.opaque[f.name]
        return OPAQUE_DERIVATIVES[op](f, argument, target, at, ctx)
    return []  # an input, another parameter, a mask or a delta


def _log(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    u = entry(argument, f.indices, ctx)
    return product(derivative(u, target, at, ctx), power(u, -1, argument))


def _exp(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    du = derivative(entry(argument, f.indices, ctx), target, at, ctx)
    return product([Term(sp.Integer(1), (), (Factor(f.name, f.indices),))], du)


def _smooth(slope: Callable[[Factor], Sum]) -> Callable[[Factor, Node, str, tuple[str, ...], IndexContext], Sum]:
    def rule(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
        return product(slope(Factor(f.name, f.indices)), derivative(entry(argument, f.indices, ctx), target, at, ctx))

    return rule


def _tanh_slope(a: Factor) -> Sum:  # tanh' = 1 - tanh²
    return [Term(sp.Integer(1)), Term(sp.Integer(-1), (), (Factor(a.name, a.indices, 2),))]


def _sigmoid_slope(a: Factor) -> Sum:  # σ' = σ - σ²
    return [Term(sp.Integer(1), (), (a,)), Term(sp.Integer(-1), (), (Factor(a.name, a.indices, 2),))]


def _function(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    """d f⁽ᵏ⁾(u) = f⁽ᵏ⁺¹⁾(u) du for a declared element-wise f: the next derivative is another free atom."""
    call = ctx.calls[f.name]
    options = dict(call.options)
    higher = Apply("function", call.args, (("name", options["name"]), ("order", int(options["order"]) + 1)))
    name = to_text(higher)
    ctx.opaque[name], ctx.calls[name] = ("function", argument), higher
    du = derivative(entry(argument, f.indices, ctx), target, at, ctx)
    return product([Term(sp.Integer(1), (), (Factor(name, f.indices),))], du)


def _scalar_function(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    """d F(u) = Σ_idx ∂F/∂u[idx] du[idx], where ∂F/∂u is the gradient the file names (seed 004's dL_dy)."""
    function = str(dict(ctx.calls[f.name].options)["name"])
    gradient = ctx.gradients.get(function)
    if gradient is None:
        raise NotGeneral(f"the scalar function {function} has no named gradient")
    indices, bound = [], []
    for dim in ctx.shape(argument):
        if dim == 1:
            indices.append(ZERO_INDEX)
        else:
            indices.append(ctx.fresh(dim))
            bound.append((indices[-1], dim))
    du = derivative(entry(argument, tuple(indices), ctx), target, at, ctx)
    return product([Term(sp.Integer(1), tuple(bound), (Factor(gradient, tuple(indices)),))], du)


def _softmax(f: Factor, argument: Node, target: str, at: tuple[str, ...], ctx: IndexContext) -> Sum:
    axis = ctx.axes[f.name]
    own = [Term(sp.Integer(1), (), (Factor(f.name, f.indices),))]
    ds = derivative(entry(argument, f.indices, ctx), target, at, ctx)
    k = ctx.fresh(ctx.shape(argument)[axis])
    moved = (*f.indices[:axis], k, *f.indices[axis + 1 :])  # the same row, summed along the softmax axis
    other = [Term(sp.Integer(-1), ((k, ctx.ranges[k]),), (Factor(f.name, moved),))]
    ds_k = derivative(entry(argument, moved, ctx), target, at, ctx)
    return product(own, ds + product(other, ds_k))


OPAQUE_DERIVATIVES: dict[str, Callable[[Factor, Node, str, tuple[str, ...], IndexContext], Sum]] = {
    "log": _log,
    "exp": _exp,
    "softmax": _softmax,
    "function": _function,
    "scalar_function": _scalar_function,
    "tanh": _smooth(_tanh_slope),
    "sigmoid": _smooth(_sigmoid_slope),
}
