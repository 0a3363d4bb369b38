"""Formulas in index notation with symbolic sizes: the ground of proofs for every N, D, H, C.

An entry of any tensor expression is a sum of terms `coeff · Σ_{bound indices} Π factors`,
where a factor is a named tensor at index variables (X[i,k], W2[j,c]), a ReLU mask, a
Kronecker delta, or an opaque atom (log(P), softmax(scores)) named by its formula. Index
ranges are size names, never numbers, so nothing here depends on the stated sizes.

Each operation has one rule (`INDEX_RULES`) saying how the entry of its result is written
from the entries of its operands: `matmul` opens a bound index over the contracted size,
`sum` opens one per reduced axis, broadcasting drops the indices of size-1 axes. Forward
quantities stay atoms; `derive.index.diff` opens them through their definitions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from derive_check.derive.model.shapes import Dim, Shape, infer
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref, refs

ZERO_INDEX = "0"  # the index of a size-1 axis: a literal, not a variable
# applications kept as atoms, each differentiated by its own rule (`derive.index.diff`)
OPAQUE = ("softmax", "log", "exp", "tanh", "sigmoid", "function", "scalar_function")


class NotGeneral(ValueError):
    """The formula uses something the index calculus does not cover (the message says what)."""


@dataclass(frozen=True, order=True)
class Factor:
    """name[indices]**power; name 'δ' is a Kronecker delta, 'mask:…' a ReLU mask, other names tensors or atoms."""

    name: str
    indices: tuple[str, ...]
    power: int = 1


@dataclass(frozen=True)
class Term:
    """coeff · Σ over `bound` (index, range) of the product of `factors`."""

    coeff: sp.Expr
    bound: tuple[tuple[str, Dim], ...] = ()
    factors: tuple[Factor, ...] = ()

    def times(self, other: Term) -> Term:
        """The product of two terms (their bound indices never clash: they are fresh names)."""
        return Term(self.coeff * other.coeff, self.bound + other.bound, self.factors + other.factors)

    def scaled(self, k: sp.Expr) -> Term:
        """The term times a scalar coefficient."""
        return Term(self.coeff * k, self.bound, self.factors)


Sum = list[Term]


def size_symbol(dim: Dim) -> sp.Expr:
    """A size as a SymPy value: a positive integer symbol for a size name."""
    return sp.Symbol(dim, positive=True, integer=True) if isinstance(dim, str) else sp.Integer(dim)


@dataclass
class IndexContext:
    """What conversion needs: shapes, forward lines, one-hot inputs, and a supply of fresh index names."""

    shapes: Mapping[str, Shape]
    lines: Mapping[str, Node]  # forward quantity (or earlier claim) -> definition, opened where used
    sizes: frozenset[str]
    onehot: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()  # names never opened (the quantity differentiated against)
    axes: dict[str, int] = field(default_factory=dict)  # one-hot input or softmax atom -> its normalised axis
    calls: dict[str, Apply] = field(default_factory=dict)  # declared-function atom -> its application
    gradients: Mapping[str, str] = field(default_factory=dict)  # scalar function -> the name of its gradient
    opaque: dict[str, tuple[str, Node]] = field(default_factory=dict)  # atom name -> (op, argument)
    ranges: dict[str, Dim] = field(default_factory=dict)
    bindings: dict[str, str] = field(default_factory=dict)  # index variable of a sum(... for i in range(N)) -> index
    _count: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self, dim: Dim) -> str:
        """A new bound index over `dim`."""
        name = f"k{next(self._count)}"
        self.ranges[name] = dim
        return name

    def shape(self, node: Node) -> Shape:
        """The symbolic shape of a node."""
        return infer(node, self.shapes)


def entry(node: Node, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    """The entry `node[out]` as a sum of terms."""
    if isinstance(node, Const):
        return [Term(sp.Rational(node.value.numerator, node.value.denominator))]
    if isinstance(node, Ref):
        if node.name in ctx.sizes:
            return [Term(size_symbol(node.name))]
        definition = ctx.lines.get(node.name)
        if definition is not None and node.name not in ctx.keep:
            if isinstance(definition, Apply) and definition.op in OPAQUE:
                ctx.opaque[node.name] = (definition.op, definition.args[0])  # an atom named by its line
                ctx.calls[node.name] = definition
                if definition.op == "softmax":
                    ctx.axes[node.name] = softmax_axis(definition, ctx)
            else:
                return entry(definition, out, ctx)  # polynomial lines are opened: both sides meet in leaves
        return [Term(sp.Integer(1), (), (Factor(node.name, out),))]
    assert isinstance(node, Apply)
    rule = INDEX_RULES.get(node.op)
    if rule is None:
        raise NotGeneral(f"'{node.op}' has no index-notation rule yet")
    return rule(node, out, ctx)


def _aligned(node: Node, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    """An operand's entry under broadcasting to `out`: trailing axes align; size-1 axes take index 0."""
    shape = ctx.shape(node)
    if len(shape) > len(out):
        raise NotGeneral(f"an operand of rank {len(shape)} in a result of rank {len(out)}")
    own = out[len(out) - len(shape) :] if shape else ()
    return entry(node, tuple(ZERO_INDEX if d == 1 else i for i, d in zip(own, shape, strict=True)), ctx)


def product(a: Sum, b: Sum) -> Sum:
    """The distributed product of two sums."""
    return [x.times(y) for x in a for y in b]


def renamed(terms: Sum, ctx: IndexContext) -> Sum:
    """The same sum with every summed index given a fresh name (so two copies never share one)."""
    out: Sum = []
    for t in terms:
        rename = {i: ctx.fresh(d) for i, d in t.bound}
        factors = tuple(Factor(f.name, tuple(rename.get(i, i) for i in f.indices), f.power) for f in t.factors)
        out.append(Term(t.coeff, tuple((rename[i], d) for i, d in t.bound), factors))
    return out


def power(base: Sum, k: int, node: Node, ctx: IndexContext | None = None) -> Sum:
    """base**k: a product for k >= 0 (each copy with its own summed indices: (Σ_k a_k)² is Σ_k Σ_l a_k a_l);
    for k < 0 only a single-term base without sums inverts."""
    if k >= 0:
        out: Sum = [Term(sp.Integer(1))]
        for copy in range(k):
            if copy and any(t.bound for t in base):
                if ctx is None:
                    raise NotGeneral("a power of a sum needs fresh summation indices")
                base = renamed(base, ctx)
            out = product(out, base)
        return out
    if len(base) != 1 or base[0].bound:
        raise NotGeneral(f"division by a sum or a reduction ({to_text(node)}) is not in the index calculus")
    [t] = base
    return [Term(t.coeff**k, (), tuple(Factor(f.name, f.indices, f.power * k) for f in t.factors))]


def _add(sign: int) -> Callable[[Apply, tuple[str, ...], IndexContext], Sum]:
    def rule(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
        left, right = (_aligned(a, out, ctx) for a in node.args)
        return left + [t.scaled(sp.Integer(sign)) for t in right]

    return rule


def _mul(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    return product(_aligned(node.args[0], out, ctx), _aligned(node.args[1], out, ctx))


def _div(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    return product(_aligned(node.args[0], out, ctx), power(_aligned(node.args[1], out, ctx), -1, node))


def _pow(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    exponent = node.args[1]
    if not (isinstance(exponent, Const) and exponent.value.denominator == 1 and abs(exponent.value) <= 8):
        raise NotGeneral(f"only small integer powers are in the index calculus ({to_text(node)})")
    return power(entry(node.args[0], out, ctx), int(exponent.value), node, ctx)


def _neg(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    return [t.scaled(sp.Integer(-1)) for t in entry(node.args[0], out, ctx)]


def _matmul(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    a, b = node.args
    sa, sb = ctx.shape(a), ctx.shape(b)
    if not sa or not sb:
        return _mul(node, out, ctx)
    j = ZERO_INDEX if sa[-1] == 1 else ctx.fresh(sa[-1])  # a contraction over one entry sums nothing
    left = entry(a, (*out[: len(sa) - 1], j), ctx)
    right = entry(b, (j, *out[len(sa) - 1 :]), ctx)
    bound = () if j == ZERO_INDEX else ((j, sa[-1]),)
    return [Term(t.coeff, (*bound, *t.bound), t.factors) for t in product(left, right)]


def _transpose(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    return entry(node.args[0], tuple(reversed(out)), ctx)


def _reduce(mean: bool) -> Callable[[Apply, tuple[str, ...], IndexContext], Sum]:
    def rule(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
        shape = ctx.shape(node.args[0])
        axis = node.option("axis")
        axes = range(len(shape)) if axis is None else [int(axis) % max(len(shape), 1)]
        inner, bound, rest = [], [], iter(out)
        for k, dim in enumerate(shape):
            if k in axes and dim == 1:
                inner.append(ZERO_INDEX)
            elif k in axes:
                i = ctx.fresh(dim)
                inner.append(i)
                bound.append((i, dim))
            else:
                inner.append(next(rest))
        scale = sp.Integer(1)
        if mean:
            for _, dim in bound:
                scale /= size_symbol(dim)
        return [Term(t.coeff * scale, (*bound, *t.bound), t.factors) for t in entry(node.args[0], tuple(inner), ctx)]

    return rule


def _per_sample(node: Node, ctx: IndexContext) -> None:
    """An atom named by its formula stands at the result's indices only: refuse one of a summed index variable.

    exp(X[i]) inside sum(... for i in range(N)) varies with i, but the atom named "exp(X[i])" carries only the
    result's indices, so the sum would collapse to N copies of one term.
    """
    bound = refs(node) & ctx.bindings.keys()
    if bound:
        raise NotGeneral(f"{to_text(node)} depends on the summed index {', '.join(sorted(bound))}")


def _relu(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    _per_sample(node, ctx)
    z = node.args[0]
    return [t.times(Term(sp.Integer(1), (), (Factor(mask_name(z, ctx), out),))) for t in entry(z, out, ctx)]


def _gt(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    _per_sample(node, ctx)
    a, b = node.args
    if not (isinstance(b, Const) and b.value == 0):
        raise NotGeneral("only comparisons with 0 (ReLU masks) are in the index calculus")
    definition = ctx.lines.get(a.name) if isinstance(a, Ref) else None
    if isinstance(definition, Apply) and definition.op == "relu":
        a = definition.args[0]  # relu(z) > 0 exactly when z > 0
    return [Term(sp.Integer(1), (), (Factor(mask_name(a, ctx), out),))]


def mask_name(z: Node, ctx: IndexContext) -> str:
    """The mask of pre-activation `z`, named by its formula with forward names opened (so equal masks meet)."""
    return f"mask:{to_text(_opened(z, ctx))}"


def _opened(node: Node, ctx: IndexContext) -> Node:
    if isinstance(node, Ref) and node.name in ctx.lines:
        definition = ctx.lines[node.name]
        if not (isinstance(definition, Apply) and definition.op in OPAQUE):
            return _opened(definition, ctx)
    if isinstance(node, Apply):
        return Apply(node.op, tuple(_opened(a, ctx) for a in node.args), node.options)
    return node


def _opaque(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    _per_sample(node, ctx)
    name = to_text(node)
    for line, definition in ctx.lines.items():  # written out in full, a named atom is still that atom...
        if to_text(definition) == name and line not in ctx.keep:  # ...but not the quantity held as the variable
            name = line
    ctx.opaque[name] = (node.op, node.args[0])
    ctx.calls[name] = node
    if node.op == "softmax":
        ctx.axes[name] = softmax_axis(node, ctx)
    return [Term(sp.Integer(1), (), (Factor(name, out),))]


def softmax_axis(node: Apply, ctx: IndexContext) -> int:
    """The axis a softmax normalises over, as a non-negative position (the last one by default)."""
    rank = len(ctx.shape(node))
    if rank == 0:
        raise NotGeneral("softmax of a scalar")
    return int(node.option("axis", rank - 1)) % rank  # type: ignore[arg-type]


def _index_sum(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    """sum(body for i in range(N)): a summed index over N standing for i inside the body."""
    index, size = str(node.option("index")), str(node.option("size"))
    k = ctx.fresh(size)
    previous = ctx.bindings.get(index)
    ctx.bindings[index] = k
    try:
        body = entry(node.args[0], out, ctx)
    finally:
        if previous is None:
            del ctx.bindings[index]
        else:
            ctx.bindings[index] = previous
    return [Term(t.coeff, ((k, size), *t.bound), t.factors) for t in body]


def _entry(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    """x[i] at a summed index i: the entry's leading indices are fixed, the rest are the result's."""
    base, *indices = node.args
    fixed = []
    for index in indices:
        if not (isinstance(index, Ref) and index.name in ctx.bindings):
            raise NotGeneral("an entry at a fixed position or a claim's index variable is not in the index calculus")
        fixed.append(ctx.bindings[index.name])
    rest = ctx.shape(base)[len(indices) :]
    tail = tuple(ZERO_INDEX for _ in rest) if all(d == 1 for d in rest) else out
    return entry(base, (*fixed, *tail), ctx)


def _identity(node: Apply, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    return entry(node.args[0], out, ctx)


INDEX_RULES: dict[str, Callable[[Apply, tuple[str, ...], IndexContext], Sum]] = {
    "add": _add(1),
    "sub": _add(-1),
    "mul": _mul,
    "div": _div,
    "pow": _pow,
    "neg": _neg,
    "matmul": _matmul,
    "transpose": _transpose,
    "sum": _reduce(mean=False),
    "mean": _reduce(mean=True),
    "relu": _relu,
    "gt": _gt,
    "softmax": _opaque,
    "log": _opaque,
    "exp": _opaque,
    "tanh": _opaque,
    "sigmoid": _opaque,
    "function": _opaque,
    "scalar_function": _opaque,
    "identity": _identity,
    "index_sum": _index_sum,
    "entry": _entry,
}
