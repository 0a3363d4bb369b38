"""The second stage of the all-sizes proof: what is left, read as a rational function of entries at one place.

The index normal form (`verify.decide.general`) treats every atom as an independent factor, so it cannot
see that 1/(1 + exp(−z)) is sigmoid(z), that exp(−x)·exp(x) = 1, or that (1 + e)·(1 + e)⁻¹ = 1. Here each
residual term is split into the factors that mention its summed indices and those that do not; terms with
the same summed part (up to renaming) are collected, and the rest of each term — factors at free indices
only — is read as a rational function:

- a tensor, mask, delta or unopened atom at its indices is one symbol (masks and deltas are 0/1, but
  treating them as free symbols only loses proofs, never makes one);
- a term with summed indices inside an atom's argument is one symbol named by its canonical key;
- the reciprocal atom u⁻¹ is 1/u and sqrt(u) is √u, with u opened the same way (so √u·√u = u);
- exp(u) with u = Σ c_j·m_j (integer c_j; m_j a monomial or a summed term) is Π E(m_j)^c_j, E(m) a positive
  symbol per canonical term m: exp(a + b) = exp(a)·exp(b) exactly;
- sigmoid(u) = 1/(1 + exp(−u)) and tanh(u) = (1 − exp(−2u))/(1 + exp(−2u)), opened through the same E.

Why it is sound: the residual equals Σ_g (Σ_{t in g} c_t·L_t)·S_g, where S_g is the summed part of group g
and L_t the rest of term t. Each identity above is exact, so if every inner sum is the zero rational
function of independent symbols, it is zero at every value of them where it is defined, and so is the
residual, at every size (nothing here reads a size's value).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.index.form import Factor, IndexContext, Kind, Sum, Term
from derive_check.derive.index.terms import renamed_index, variable_of
from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.tree import Apply

Key = tuple[tuple[str, ...], tuple[Factor, ...]]
Normal = Callable[[Sum], Mapping[Key, sp.Expr]]
Canonical = Callable[[Term], Key]
MAX_TERMS = 40  # residual terms read as one rational function at most (SymPy's cancel grows fast beyond)
Part = tuple[sp.Expr, int, frozenset[str], str]  # base, exponent, free indices it mentions, its name
Outer = Callable[[Key], list[str]]  # a term's summed indices kept outside its symbols


def rational_zero(residual: Mapping[Key, sp.Expr], ctx: IndexContext, normal: Normal, canonical: Canonical) -> bool:
    """Whether the residual is zero as a rational function (see the module), with each term's summed indices
    split three ways in turn: all inside one symbol, all outside, and outside only those beside a free index."""
    if len(residual) > MAX_TERMS:  # a long residual is a wrong claim far more often than a hidden identity
        return False
    return any(_zero(residual, ctx, normal, canonical, outer) for outer in (_none, _all, _beside_free))


def _none(t: Key) -> list[str]:
    return []


def _all(t: Key) -> list[str]:
    return [f"s{n}" for n in range(len(t[0]))]


def _beside_free(t: Key) -> list[str]:
    bound = _all(t)
    near = {
        variable_of(i)
        for f in t[1]
        if any(variable_of(j) not in bound and not j.isdigit() for j in f.indices)
        for i in f.indices
    }
    return [i for i in bound if i in near]


def _zero(
    residual: Mapping[Key, sp.Expr], ctx: IndexContext, normal: Normal, canonical: Canonical, outer: Outer
) -> bool:
    """Collect the terms by the ranges of their outer summed indices and test each collection for zero.

    c·Σ_o Σ_i F(o)·G(o, i) = c·Σ_o F(o)·[Σ_i G(o, i)]: the bracket is one symbol, named by its canonical key with
    the outer indices as free ones, the same symbol an atom's argument reads it as (`_Reader.term`). Terms whose
    outer ranges agree share one summation (outer indices renamed by position: Σ_o A(o) + Σ_o B(o) = Σ_o (A+B)(o),
    for the canonical order of each term's indices), so A + B = 0 in the symbols at o is zero for every o."""
    reader = _Reader(ctx, normal)
    groups: dict[tuple[str, ...], sp.Expr] = {}
    for key, coeff in residual.items():
        check()
        ranges, factors = key
        dims = dict(zip(_all(key), ranges, strict=True))
        outside = outer(key)
        rename = {i: f"ς0.{n}" for n, i in enumerate(outside)}
        ctx.ranges.update({rename[i]: dims[i] for i in outside})
        inner = [i for i in dims if i not in rename]
        moved = [f.at(tuple(renamed_index(i, rename) for i in f.indices)) for f in factors]
        summed = tuple(f for f in moved if set(inner) & f.variables())
        value = coeff * sp.Mul(*(reader.factor(f) for f in moved if not set(inner) & f.variables()))
        if summed:
            value *= reader.term(canonical(Term(sp.Integer(1), tuple((i, dims[i]) for i in inner), summed)))
        group = tuple(str(dims[i]) for i in outside)
        groups[group] = groups.get(group, sp.Integer(0)) + value
    if any(_nonzero_somewhere(v) for v in groups.values()):
        return False
    return all(sp.cancel(sp.together(v)) == 0 for v in groups.values())


def _nonzero_somewhere(value: sp.Expr) -> bool:
    """Whether the rational function is nonzero at one rational point (then it is not the zero function, and no
    cancellation is needed to say so). Only where every symbol enters rationally: a square root is left to cancel."""
    if any(isinstance(p, sp.Pow) and not p.exp.is_Integer for p in value.atoms(sp.Pow)):
        return False
    point = {s: sp.Rational(3 + 7 * k, 11 + 2 * k) for k, s in enumerate(sorted(value.free_symbols, key=str))}
    at = value.xreplace(point)
    return bool(at.is_Rational and at != 0)


class _Reader:
    """Factors as SymPy expressions: one symbol per factor that is not opened, one per summed term."""

    def __init__(self, ctx: IndexContext, normal: Normal) -> None:
        self.ctx, self.normal = ctx, normal
        self.depth = 0  # summed terms being read, for index names no normal form produces (ς1.0, ς2.0, ...)

    def factor(self, f: Factor) -> sp.Expr:
        """The factor, to its power."""
        base = self._opened(f) if f.kind is Kind.ATOM and isinstance(f.node, Apply) else None
        if base is None:
            base = sp.Symbol(repr((f.kind.name, f.name, f.indices)))
        return base**f.power

    def _opened(self, f: Factor) -> sp.Expr | None:
        node = f.node
        assert isinstance(node, Apply)
        if node.op == "softmax":
            return self._softmax(node, f.indices)
        if node.op not in ("pow", "sqrt", "exp", "sigmoid", "tanh"):
            return None
        form = self.normal(self.ctx.entry(node.args[0], f.indices))
        if node.op in ("pow", "sqrt"):  # pow: only reciprocal atoms are ATOM factors (`IndexContext.reciprocal`)
            u = self.value(form)
            return None if u == 0 else 1 / u if node.op == "pow" else sp.sqrt(u)
        parts = self.exp_parts(form, {"exp": 1, "sigmoid": -1, "tanh": -2}[node.op])
        if parts is None:
            return None
        e = sp.Mul(*(base**k for base, k, _, _ in parts))
        return e if node.op == "exp" else 1 / (1 + e) if node.op == "sigmoid" else (1 - e) / (1 + e)

    def _softmax(self, node: Apply, at: tuple[str, ...]) -> sp.Expr | None:
        """softmax(u)[.., c, ..] = exp(u[.., c, ..]) / Σ_k exp(u[.., k, ..]) along its axis."""
        argument = node.args[0]
        axis = self.ctx.axes.get(self.ctx.atom(node, at)[0].factors[0].name)
        if axis is None:
            return None
        e = Apply("exp", (argument,))
        row = Apply("sum", (e,), (("axis", axis), ("keepdims", True)))
        numerator = self.factor(self.ctx.atom(e, at)[0].factors[0])
        column = (*at[:axis], ZERO_INDEX, *at[axis + 1 :])
        return numerator / self.value(self.normal(self.ctx.entry(row, column)))

    def value(self, form: Mapping[Key, sp.Expr]) -> sp.Expr:
        """A normal form as an expression, term by term (`term`)."""
        return sp.Add(*(c * self.term(key) for key, c in form.items()))

    def term(self, key: Key) -> sp.Expr:
        """One term of a normal form (coefficient 1). A term that sums is Π(outside) · Σ⟨inside⟩: factors and exp
        parts that do not mention its summed indices come out of the sum; what stays is one symbol named by its
        ranges and its summand, which determine the sum (the summed indices are named canonically)."""
        ranges, factors = key
        if not ranges:
            return sp.Mul(*(self.factor(f) for f in factors))
        self.depth += 1
        rename = {f"s{n}": f"ς{self.depth}.{n}" for n in range(len(ranges))}
        self.ctx.ranges.update({rename[f"s{n}"]: dim for n, dim in enumerate(ranges)})
        outside, inside = sp.Integer(1), []
        for f in factors:
            g = f.at(tuple(renamed_index(i, rename) for i in f.indices))
            if not g.variables() & set(rename.values()):
                outside *= self.factor(g)
                continue
            parts = self._exp_of(g)
            if parts is None:
                inside.append(repr(f))
                continue
            for base, k, mentions, name in parts:
                if mentions & set(rename.values()):
                    inside.append(f"{_restore(name, rename)}^{k * f.power}")
                else:
                    outside *= base ** (k * f.power)
        return outside * sp.Symbol(f"Σ⟨{ranges!r}{sorted(inside)!r}⟩")

    def _exp_of(self, f: Factor) -> list[Part] | None:
        if f.kind is not Kind.ATOM or not isinstance(f.node, Apply) or f.node.op != "exp":
            return None
        return self.exp_parts(self.normal(self.ctx.entry(f.node.args[0], f.indices)), 1)

    def exp_parts(self, form: Mapping[Key, sp.Expr], scale: int) -> list[Part] | None:
        """exp(scale · form) as Π base^k over its terms: E(m)^c for a term c·m (E a positive symbol named by m), or
        u^c for c·log(u) (exp(c log u) = u^c); None if a coefficient is not an integer."""
        parts: list[Part] = []
        for key, coeff in form.items():
            c = coeff * scale
            if not c.is_Integer:
                return None
            ranges, factors = key
            own = {f"s{n}" for n in range(len(ranges))}
            mentions = frozenset(variable_of(i) for f in factors for i in f.indices) - own
            name = f"exp⟨{key!r}⟩"
            [log] = factors if len(factors) == 1 and not ranges else [None]
            if log is not None and log.power == 1 and isinstance(log.node, Apply) and log.node.op == "log":
                u = self.value(self.normal(self.ctx.entry(log.node.args[0], log.indices)))
                parts.append((u, int(c), mentions, f"{name}·log"))
            else:
                parts.append((sp.Symbol(name, positive=True), int(c), mentions, name))
        return parts


def _restore(name: str, rename: Mapping[str, str]) -> str:
    """A name with the reader's index names made positional again: σ0, σ1, ..., never s0, s1, ..., which the
    name's own normal form uses for the indices it sums (Σ_j a[i,j] and Σ_j a[j,i] summed over i stay apart)."""
    for original, reading in rename.items():
        name = re.sub(f"'{re.escape(reading)}(?=['+])", f"'σ{original[1:]}", name)
    return name
