"""Formulas in index notation with symbolic sizes: the ground of proofs for every N, D, H, C.

An entry of any tensor expression is a sum of terms `coeff · Σ_{bound indices} Π factors`,
where a factor is a named tensor at index variables (X[i,k], W2[j,c]), a ReLU mask, a
Kronecker delta, or an opaque atom (log(P), softmax(scores)); masks and atoms keep their
tree and are identified by its formula with forward names opened, so equal ones meet. Index
ranges are size names, never numbers, so nothing here depends on the stated sizes.

Each operation's `index` facet in the op table says how the entry of its result is written
from the entries of its operands (`matmul` opens a bound index over the contracted size,
`sum` opens one per reduced axis, broadcasting gives size-1 axes the index 0); it asks
`IndexContext`, which implements the table's `IndexAlgebra`. Polynomial forward quantities
are opened through their definitions; smooth ones stay atoms (`derive.index.diff`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from derive_check.derive.index.terms import (
    Factor,
    Kind,
    NotGeneral,
    Sum,
    Term,
    delta,
    product,
    renamed_index,
    shifted,
    size_symbol,
)
from derive_check.derive.model.shapes import infer
from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.ops.spec import Dim, Shape
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref, refs

__all__ = [  # the terms are re-exported: they are what this module's conversion produces
    "Factor",
    "IndexContext",
    "Kind",
    "NotGeneral",
    "Sum",
    "Term",
    "delta",
    "entry",
    "power",
    "product",
    "size_symbol",
]


@dataclass
class IndexContext:
    """What conversion needs: shapes, forward lines, one-hot inputs, and a supply of fresh index names.

    It implements the op table's `IndexAlgebra` (its subclass `derive.index.diff.Calculus` adds derivatives):
    every op's index rule asks it for entries, products and sums."""

    shapes: Mapping[str, Shape]
    definitions: Mapping[str, Node]  # forward quantity (or earlier claim) -> definition, opened where used
    sizes: frozenset[str]
    onehot: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()  # names never opened (the quantity differentiated against)
    axes: dict[str, int] = field(default_factory=dict)  # one-hot input or softmax atom -> its normalised axis
    gradients: Mapping[str, str] = field(default_factory=dict)  # scalar function -> the name of its gradient
    ranges: dict[str, Dim] = field(default_factory=dict)
    bindings: dict[str, str] = field(default_factory=dict)  # index variable of a sum(... for i in range(N)) -> index
    atoms: dict[str, Factor] = field(default_factory=dict)  # atom name -> its factor (with its tree)
    _line_keys: dict[str, str] = field(default_factory=dict)  # atom line -> its opened formula
    _count: itertools.count[int] = field(default_factory=itertools.count)

    def fresh(self, dim: Dim) -> str:
        """A new bound index over `dim`."""
        name = f"k{next(self._count)}"
        self.ranges[name] = dim
        return name

    def shape(self, node: Node) -> Shape:
        """The symbolic shape of a node."""
        return infer(node, self.shapes)

    def lines(self) -> Mapping[str, Node]:
        """Forward quantities (and earlier claims) by name."""
        return self.definitions

    def entry(self, node: Node, out: tuple[str, ...]) -> Sum:
        """The entry `node[out]` as a sum of terms."""
        return entry(node, out, self)

    def aligned(self, node: Node, out: tuple[str, ...]) -> Sum:
        """An operand's entry under broadcasting to `out`: trailing axes align; size-1 axes take index 0."""
        return entry(node, self._own(node, out), self)

    def _own(self, node: Node, out: tuple[str, ...]) -> tuple[str, ...]:
        shape = self.shape(node)
        if len(shape) > len(out):
            raise NotGeneral(f"an operand of rank {len(shape)} in a result of rank {len(out)}")
        own = out[len(out) - len(shape) :] if shape else ()
        return tuple(ZERO_INDEX if d == 1 else i for i, d in zip(own, shape, strict=True))

    def reciprocal(self, node: Node, out: tuple[str, ...]) -> Sum:
        """1 / node at `out` under broadcasting. A single product inverts factor by factor (exact); a sum or a
        reduction becomes one atom, `node ** -1`, differentiated by pow's derivative formula (d u⁻¹ = −u⁻²·du). The
        atom is opaque here: that it times its argument is 1 is known only where `verify.decide.local` opens it."""
        own = self._own(node, out)
        base = entry(node, own, self)
        if len(base) == 1 and not base[0].bound:
            return power(base, -1, node, self)
        inverse = Apply("pow", (node, Const(Fraction(-1))))
        return self.atom(inverse, own)

    def constant(self, value: Any) -> Sum:
        """A constant as a one-term sum."""
        return [Term(value if isinstance(value, sp.Basic) else sp.Rational(value.numerator, value.denominator))]

    def pi(self) -> sp.Expr:
        """π, a coefficient like the sizes."""
        return sp.pi

    def plus(self, a: Sum, b: Sum) -> Sum:
        """a + b."""
        return a + b

    def times(self, a: Sum, b: Sum) -> Sum:
        """a · b, distributed."""
        return product(a, b)

    def scaled(self, a: Sum, factor: Any) -> Sum:
        """a times a scalar (a number or an expression in sizes)."""
        k = factor if isinstance(factor, sp.Basic) else sp.Rational(factor.numerator, factor.denominator)
        return [t.scaled(k) for t in a]

    def power(self, base: Sum, k: int, node: Node) -> Sum:
        """base ** k (see `power`)."""
        return power(base, k, node, self)

    def summed(self, terms: Sum, index: str, dim: Dim) -> Sum:
        """Σ over `index` < dim of every term."""
        return [Term(t.coeff, ((index, dim), *t.bound), t.factors) for t in terms]

    def size(self, dim: Dim) -> sp.Expr:
        """A size as a SymPy value."""
        return size_symbol(dim)

    def factor(self, name: str, indices: tuple[str, ...]) -> Sum:
        """One factor: a tensor, or an atom this context already knows by name."""
        return [Term(sp.Integer(1), (), (self.atoms.get(name, Factor(name, ())).at(indices),))]

    def mask(self, z: Node, out: tuple[str, ...]) -> Sum:
        """The ReLU mask [z > 0] at `out`, named by z's formula with forward names opened (so equal masks meet)."""
        opened = self.opened(z)
        return [Term(sp.Integer(1), (), (Factor(to_text(opened), out, kind=Kind.MASK, node=z),))]

    def shifted(self, index: str, offset: Dim) -> str:
        """An index shifted by a size expression (a slice at an offset)."""
        return shifted(index, offset)

    def delta(self, a: str, b: str) -> Sum:
        """The Kronecker delta δ(a, b) as a one-term sum."""
        return [Term(sp.Integer(1), (), (delta(a, b),))]

    def one_hot_axis(self, node: Node) -> int | None:
        """The axis along which `node`'s rows are one-hot (a one-hot input, or the one-hot rows of labels)."""
        if isinstance(node, Apply) and node.op == "onehot":
            node = node.args[0]
        return self.axes.get(node.name) if isinstance(node, Ref) and node.name in self.onehot else None

    def nonzero_ae(self, node: Node, out: tuple[str, ...]) -> bool:
        """Whether `node[out]` is nonzero almost everywhere, at every size: a polynomial without summed indices in
        continuous declared quantities, each at one index tuple in every term (so distinct monomials stay
        distinct, even where free indices coincide), with a monomial whose coefficient is nonzero at every size."""
        try:
            terms = entry(node, out, self)
        except NotGeneral:
            return False
        at: dict[str, tuple[str, ...]] = {}
        monomials: dict[tuple[tuple[str, int], ...], sp.Expr] = {}
        for t in terms:
            powers: dict[str, int] = {}
            for f in t.factors:
                if (
                    t.bound
                    or f.kind is not Kind.TENSOR
                    or f.name in self.onehot
                    or at.setdefault(f.name, f.indices) != f.indices
                ):
                    return False
                powers[f.name] = powers.get(f.name, 0) + f.power
            key = tuple(sorted(powers.items()))
            monomials[key] = monomials.get(key, sp.Integer(0)) + t.coeff
        return any(sp.cancel(c).is_nonzero is True for c in monomials.values())

    def selection(self, node: Apply, at: tuple[str, ...], axis: int) -> Sum:
        """The selection of `node`'s first maximal entry, at `at`: 0/1, and its rows along `axis` sum to one."""
        name = f"argmax⟨{to_text(self.opened(node, through_kept=False))}⟩"
        self.axes[name] = axis
        return [Term(sp.Integer(1), (), (Factor(name, at, kind=Kind.SELECT, node=node),))]

    def atom(self, node: Apply, out: tuple[str, ...]) -> Sum:
        """An opaque application as one factor, named by its formula with polynomial lines opened (so sqrt(s) and
        sqrt(sum(w ** 2)) meet when s = sum(w ** 2)), or by the line that is exactly it. The quantity held as the
        variable is never opened, and no atom is named after it: a written-out copy of it is another quantity."""
        self.per_sample(node)
        key = to_text(self.opened(node, through_kept=False))
        name = key
        for line, definition in self.definitions.items():
            if line not in self.keep and isinstance(definition, Apply) and OPS[definition.op].atom:
                name = line if self._line_key(line, definition) == key else name
        return [Term(sp.Integer(1), (), (self.register(name, node).at(out),))]

    def _line_key(self, line: str, definition: Apply) -> str:
        found = self._line_keys.get(line)
        if found is None:
            found = self._line_keys[line] = to_text(self.opened(definition, through_kept=False))
        return found

    def register(self, name: str, node: Apply) -> Factor:
        """Record an atom (and the axis along which a softmax's entries sum to one)."""
        found = self.atoms.get(name)
        if found is None:
            found = self.atoms[name] = Factor(name, (), kind=Kind.ATOM, node=node)
            simplex = OPS[node.op].simplex_axis
            if simplex is not None:
                rank = len(self.shape(node))
                if rank == 0:
                    raise NotGeneral(f"{node.op} of a scalar")
                self.axes[name] = simplex(node, rank)
        return found

    def per_sample(self, node: Node) -> None:
        """An atom named by its formula stands at the result's indices only: refuse one of a summed index variable.

        exp(X[i]) inside sum(... for i in range(N)) varies with i, but the atom named "exp(X[i])" carries only the
        result's indices, so the sum would collapse to N copies of one term.
        """
        bound = refs(node) & self.bindings.keys()
        if bound:
            raise NotGeneral(f"{to_text(node)} depends on the summed index {', '.join(sorted(bound))}")

    def opened(self, node: Node, through_kept: bool = True) -> Node:
        """`node` with polynomial forward quantities replaced by their definitions (atoms stay names). A mask may
        open the quantity held as the variable (a mask is a constant equal to its value); an atom may not."""
        if isinstance(node, Ref) and node.name in self.definitions and (through_kept or node.name not in self.keep):
            definition = self.definitions[node.name]
            if not (isinstance(definition, Apply) and OPS[definition.op].atom):
                return self.opened(definition, through_kept)
        if isinstance(node, Apply):
            return Apply(node.op, tuple(self.opened(a, through_kept) for a in node.args), node.options)
        return node

    def not_general(self, message: str, node: Node) -> Exception:
        """The error for what the index calculus does not cover."""
        return NotGeneral(f"{message} ({to_text(node)})")

    def gradient_name(self, function: str) -> str | None:
        """The name the file gives the gradient of a declared scalar function."""
        return self.gradients.get(function)


def entry(node: Node, out: tuple[str, ...], ctx: IndexContext) -> Sum:
    """The entry `node[out]` as a sum of terms, by the op table's index rules."""
    if isinstance(node, Const):
        return [Term(sp.Rational(node.value.numerator, node.value.denominator))]
    if isinstance(node, Ref):
        if node.name in ctx.sizes:
            return [Term(size_symbol(node.name))]
        if node.name in ctx.bindings:  # sum(i * x[i] for i in range(N)): i as a number, not an index
            raise NotGeneral(
                f"the summed index {node.name} is used as a value, which the index calculus does not cover"
            )
        definition = ctx.definitions.get(node.name)
        if definition is not None and node.name not in ctx.keep:
            if isinstance(definition, Apply) and OPS[definition.op].atom:
                return [Term(sp.Integer(1), (), (ctx.register(node.name, definition).at(out),))]
            return entry(definition, out, ctx)  # polynomial lines are opened: both sides meet in leaves
        return [Term(sp.Integer(1), (), (Factor(node.name, out),))]
    assert isinstance(node, Apply)
    op = OPS[node.op]
    if op.index is None:
        raise NotGeneral(f"'{node.op}' has no index-notation rule: {op.index_gap or 'not yet'}")
    result: Sum = op.index(node, out, ctx)
    return result


def renamed(terms: Sum, ctx: IndexContext) -> Sum:
    """The same sum with every summed index given a fresh name (so two copies never share one)."""
    out: Sum = []
    for t in terms:
        rename = {i: ctx.fresh(d) for i, d in t.bound}
        factors = tuple(f.at(tuple(renamed_index(i, rename) for i in f.indices)) for f in t.factors)
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
    return [Term(t.coeff**k, (), tuple(f.at(f.indices, f.power * k) for f in t.factors))]
