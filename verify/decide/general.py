"""Proofs for every size: the claim and the true derivative in index notation, brought to one normal form.

Both sides of a claim's generic entry [p, q] (p, q symbolic, every size a symbol) are
written as sums of terms (`derive.index.form`); the true side is d(loss)/d target[p, q]
through Kronecker deltas (`derive.index.diff`). The difference is normalised by rewrites
that are identities for every size >= 1, every value, every activation pattern and every
label assignment:

- a delta with a summed index substitutes it (Σ_k δ(k, p)·f(k) = f(p)); δ(a, a) = 1;
- a summed index that no factor mentions becomes its size (Σ_{i<N} c = N·c);
- masks are 0/1 (m^k = m); one-hot rows: y^k = y, y[i,c]·y[i,c'] = δ(c,c')·y[i,c], Σ_c y[i,c] = 1;
- softmax rows and max selections sum to one: Σ_c P[i,c] = 1 when c appears nowhere else;
- equal factors multiply (P·P^{-1} = 1), and terms equal up to renaming summed indices are
  collected (every renaming is tried), their coefficients added as rational functions of sizes.
A zero result is a proof for all sizes. A non-zero one is not a refutation (the rewrites are
not complete); the fixed-size verdict stands and the report says the general proof was not reached.
"""

from __future__ import annotations

import itertools
from collections import Counter

import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.index.form import (
    Factor,
    IndexContext,
    Kind,
    NotGeneral,
    Sum,
    Term,
    delta,
    size_symbol,
)
from derive_check.derive.index.terms import renamed_index, split_index, variable_of
from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.ops.dims import combine, nonnegative
from derive_check.derive.ops.spec import Dim
from derive_check.derive.tree import Apply

MAX_BOUND = 7  # summed indices per term tried in every renaming (7! = 5040)
Key = tuple[tuple[str, ...], tuple[Factor, ...]]


def normalize(terms: Sum, ctx: IndexContext, used: Counter[str] | None = None) -> dict[Key, sp.Expr]:
    """The normal form: canonical term -> non-zero coefficient."""
    used = Counter() if used is None else used
    out: dict[Key, sp.Expr] = {}
    for term in terms:
        check()
        done = _simplify(term, ctx, used)
        if done is not None:
            key = canonical_key(done)
            out[key] = out.get(key, sp.Integer(0)) + done.coeff
    return {k: c for k, c in ((k, sp.cancel(c)) for k, c in out.items()) if c != 0}


def difference(a: dict[Key, sp.Expr], b: dict[Key, sp.Expr]) -> dict[Key, sp.Expr]:
    out = {k: sp.cancel(a.get(k, 0) - b.get(k, 0)) for k in a.keys() | b.keys()}
    return {k: c for k, c in out.items() if c != 0}


def _simplify(t: Term, ctx: IndexContext, used: Counter[str]) -> Term | None:
    """One term with every rewrite applied until none applies; None when it is zero."""
    while True:
        t = _merged(t)
        if t.coeff == 0:
            return None
        for rewrite in (_deltas, _one_hot_pairs, _row_sums, _unit_sums):
            changed = rewrite(t, ctx, used)
            if changed != t:
                t = changed
                break
        else:
            return _empty_sums(t, used)


def _merged(t: Term) -> Term:
    powers: dict[Factor, int] = {}
    for f in t.factors:
        base = f.at(f.indices, 1)
        powers[base] = powers.get(base, 0) + f.power
    factors = []
    for base, k in sorted(powers.items()):
        if k == 0:
            continue
        if base.kind in (Kind.MASK, Kind.DELTA, Kind.SELECT):
            if k < 0:
                raise NotGeneral("division by a ReLU mask")
            k = 1  # m^k = m; δ^k = δ
        factors.append(base.at(base.indices, k))
    return Term(t.coeff, t.bound, tuple(factors))


def _deltas(t: Term, ctx: IndexContext, used: Counter[str]) -> Term:
    bound = dict(t.bound)
    for f in t.factors:
        if f.kind is not Kind.DELTA:
            continue
        a, b = f.indices
        rest = tuple(g for g in t.factors if g is not f)
        if a == b:
            used["δ(a,a) = 1"] += 1
            return Term(t.coeff, t.bound, rest)
        if split_index(a)[1] or split_index(b)[1]:
            shifted = _shifted_delta(t, f, ctx, used)
            if shifted is None:
                continue
            return shifted
        if a.isdigit() and b.isdigit():  # two literal positions (x[1], the 0 of a size-1 axis): distinct
            used["δ(1, 2) = 0"] += 1
            return Term(sp.Integer(0), t.bound, rest)
        for gone, stays in ((a, b), (b, a)):
            below = int(stays) + 1 if stays.isdigit() else ctx.ranges.get(stays, bound.get(stays))
            if gone in bound and _inside(below, bound[gone]):
                return _substituted(t, f, gone, stays, used)
        # a delta between free indices, or joining a summed index to one with a wider range, stays a factor
    return t


def _after(later: Dim, start: Dim, length: Dim) -> bool:
    """Whether `later` >= start + length for every size: [start, start + length) ends before `later`."""
    return nonnegative(combine(combine(later, start, -1), length, -1))


def _inside(inner: Dim | None, outer: Dim) -> bool:
    """Whether every value below `inner` is below `outer`, for every size."""
    return inner is not None and nonnegative(combine(outer, inner, -1))


def _substituted(t: Term, f: Factor, gone: str, stays: str, used: Counter[str]) -> Term:
    """Σ_gone δ(gone, stays) g(gone) = g(stays): the summed index `gone` replaced (inside shifted indices too)."""
    used["Σ_k δ(k,p) f(k) = f(p)"] += 1
    rest = tuple(g for g in t.factors if g is not f)
    renamed = tuple(g.at(tuple(renamed_index(i, {gone: stays}) for i in g.indices)) for g in rest)
    return Term(t.coeff, tuple((i, d) for i, d in t.bound if i != gone), renamed)


def _shifted_delta(t: Term, f: Factor, ctx: IndexContext, used: Counter[str]) -> Term | None:
    """δ(u + a, v + b) with an offset: δ(u, v) when a = b; 0 when [a, a + |u|) and [b, b + |v|) are disjoint for
    every size; a summed unshifted index k takes the value v + b when [b, b + |v|) lies inside k's range for every
    size. Otherwise the delta stays a factor (None)."""
    bound = dict(t.bound)
    (u, a), (v, b) = (split_index(i) for i in f.indices)
    rest = tuple(g for g in t.factors if g is not f)
    if a == b:
        used["δ(u+a, v+a) = δ(u, v)"] += 1
        return Term(t.coeff, t.bound, (*rest, delta(u, v)))
    ru, rv = ctx.ranges.get(u, bound.get(u)), ctx.ranges.get(v, bound.get(v))
    if ru is not None and rv is not None and (_after(b, a, ru) or _after(a, b, rv)):
        used["δ = 0 between disjoint blocks"] += 1
        return Term(sp.Integer(0), t.bound, rest)
    for (k, offset), other, other_range in (((u, a), f.indices[1], rv), ((v, b), f.indices[0], ru)):
        shift = split_index(other)[1]
        inside = other_range is not None and nonnegative(combine(combine(bound.get(k, 0), shift, -1), other_range, -1))
        if offset == 0 and k in bound and nonnegative(shift) and inside:
            return _substituted(t, f, k, other, used)
    return None


def _one_hot_pairs(t: Term, ctx: IndexContext, used: Counter[str]) -> Term:
    for f, g in itertools.combinations(t.factors, 2):
        axis = ctx.axes.get(f.name, 0)
        if f.name == g.name and f.kind is g.kind and _one_hot(f, ctx) and _row(f, axis) == _row(g, axis):
            used["y[i,c] y[i,c'] = δ(c,c') y[i,c]"] += 1
            rest = tuple(h for h in t.factors if h is not f and h is not g)
            return Term(t.coeff, t.bound, (*rest, f.at(f.indices, 1), delta(f.indices[axis], g.indices[axis])))
    for f in t.factors:
        if _one_hot(f, ctx) and f.power > 1:
            used["y^k = y"] += 1
            rest = tuple(h for h in t.factors if h is not f)
            return Term(t.coeff, t.bound, (*rest, f.at(f.indices, 1)))
    return t


def _row_sums(t: Term, ctx: IndexContext, used: Counter[str]) -> Term:
    """Σ_c y[i,c] = 1 for a row of one-hot data, of a softmax or of a max's selection: only when c runs over the
    whole axis (a sum over part of a row is not 1) and no other index of the factor is written in c."""
    for index, dim in t.bound:
        holders = [f for f in t.factors if index in f.variables()]
        if len(holders) != 1:
            continue
        [f] = holders
        axis = ctx.axes.get(f.name) if f.kind in (Kind.TENSOR, Kind.ATOM, Kind.SELECT) else None  # rows of one
        if axis is None or f.power != 1 or f.indices[axis] != index:
            continue
        alone = [variable_of(i) for i in f.indices].count(index) == 1
        if alone and _axis_length(f, axis, ctx) == dim:
            rule = "Σ_c y[i,c] = 1" if _one_hot(f, ctx) else "Σ_c softmax[i,c] = 1"
            used["Σ_k argmax[i,k] = 1" if f.kind is Kind.SELECT else rule] += 1
            rest = tuple(h for h in t.factors if h is not f)
            return Term(t.coeff, tuple((i, d) for i, d in t.bound if i != index), rest)
    return t


def _axis_length(f: Factor, axis: int, ctx: IndexContext) -> Dim | None:
    """The length of a row factor's normalised axis: of the one-hot input, the softmax, or the max's argument."""
    if f.kind is Kind.TENSOR:
        shape = ctx.shapes.get(f.name)
    elif isinstance(f.node, Apply):
        shape = ctx.shape(f.node.args[0] if f.kind is Kind.SELECT else f.node)
    else:
        return None
    return shape[axis] if shape is not None and axis < len(shape) else None


def _unit_sums(t: Term, ctx: IndexContext, used: Counter[str]) -> Term:
    """Σ_{k<1} f(k) = f(0)."""
    for index, dim in t.bound:
        if dim == 1:
            used["Σ_{k<1} f(k) = f(0)"] += 1
            factors = tuple(g.at(tuple(renamed_index(i, {index: ZERO_INDEX}) for i in g.indices)) for g in t.factors)
            return Term(t.coeff, tuple(b for b in t.bound if b[0] != index), factors)
    return t


def class_axis(dims: tuple[str | int, ...]) -> int:
    """The axis along which a one-hot input is one-hot: the last, unless it is a K x 1 column."""
    return 0 if len(dims) == 1 or dims[-1] == 1 else len(dims) - 1


def _one_hot(f: Factor, ctx: IndexContext) -> bool:
    return f.kind is Kind.TENSOR and f.name in ctx.onehot


def _row(f: Factor, axis: int) -> tuple[str, ...]:
    return f.indices[:axis] + f.indices[axis + 1 :]


def _empty_sums(t: Term, used: Counter[str]) -> Term:
    mentioned = set().union(*(f.variables() for f in t.factors))
    coeff, bound = t.coeff, []
    for i, d in t.bound:
        if i in mentioned:
            bound.append((i, d))
        else:
            used["Σ_{i<N} c = N c"] += 1
            coeff *= size_symbol(d)
    return Term(coeff, tuple(bound), t.factors)


def canonical_key(t: Term) -> Key:
    """The term's factors under the renaming of summed indices that sorts first (every renaming tried)."""
    if len(t.bound) > MAX_BOUND:
        raise NotGeneral(f"a term sums over {len(t.bound)} indices (at most {MAX_BOUND} are canonicalised)")
    best: tuple[str, Key] | None = None
    names = [i for i, _ in t.bound]
    for order in itertools.permutations(range(len(names))):
        rename = {names[k]: f"s{n}" for n, k in enumerate(order)}
        factors = tuple(sorted(f.at(tuple(renamed_index(i, rename) for i in f.indices)) for f in t.factors))
        ranges = tuple(str(t.bound[k][1]) for k in order)
        key = (ranges, factors)
        text = repr(key)
        if best is None or text < best[0]:
            best = (text, key)
    assert best is not None
    return best[1]
