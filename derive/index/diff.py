"""Derivatives in index notation: d(expression)/d target[p, q] for symbolic p, q, through Kronecker deltas.

The product rule runs over the factors of each term. A factor that is the target gives one
delta per index (X[i,k] ↦ δ(i,p)·δ(k,q)); inputs, other parameters and ReLU masks give 0
(masks are constant where the derivative exists, and relu'(0) = 0 as in the fixed-size
engine). An atom follows its op-table entry: an element-wise op by the chain rule through its
`derivative` formula (d log u = du/u, d exp u = exp u · du, d tanh u = (1 - tanh² u) du), the same
formula the fixed-size engine uses; softmax and declared scalar functions by their
`index_derivative` (dP[..,c] = P[..,c]·(ds[..,c] − Σ_k P[..,k]·ds[..,k])).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive_check.derive.index.form import Factor, IndexContext, Kind, NotGeneral, Sum, Term, delta, entry, product
from derive_check.derive.ops.spec import ARG, SELF
from derive_check.derive.ops.table import OPS
from derive_check.derive.tree import Apply, substitute


@dataclass
class Calculus(IndexContext):
    """An index context that can also differentiate (what the ops' `index_derivative` facets ask for)."""

    def differentiate(self, terms: Sum, target: str, at: tuple[str, ...]) -> Sum:
        """d terms / d target[at]."""
        return derivative(terms, target, at, self)


def derivative(terms: Sum, target: str, at: tuple[str, ...], ctx: Calculus) -> Sum:
    """d(terms)/d target[at] by the product rule."""
    out: Sum = []
    for t in terms:
        for k, f in enumerate(t.factors):
            inner = factor_derivative(f, target, at, ctx)
            if not inner:
                continue
            lowered = (f.at(f.indices, f.power - 1),) if f.power != 1 else ()
            base = Term(t.coeff * f.power, t.bound, t.factors[:k] + lowered + t.factors[k + 1 :])
            out += [base.times(x) for x in inner]
    return out


def factor_derivative(f: Factor, target: str, at: tuple[str, ...], ctx: Calculus) -> Sum:
    """d f / d target[at] for a factor at power 1."""
    if f.kind is Kind.TENSOR and f.name == target:
        return [Term(sp.Integer(1), (), tuple(delta(a, b) for a, b in zip(f.indices, at, strict=True)))]
    if f.kind is not Kind.ATOM:
        return []  # an input, another parameter, a mask or a delta
    node = f.node
    assert isinstance(node, Apply), "an atom factor keeps its application"
    op = OPS[node.op]
    if op.index_derivative is not None:
        result: Sum = op.index_derivative(node, f.name, f.indices, target, at, ctx)
        return result
    if op.derivative is None:
        raise NotGeneral(f"'{node.op}' has no derivative rule")
    argument = node.args[0]
    slope = substitute(op.derivative(node), {ARG: argument, SELF: node})  # _self: the application itself
    du = derivative(entry(argument, f.indices, ctx), target, at, ctx)
    return product(entry(slope, f.indices, ctx), du) if du else []
