"""From a claim to the scalar comparisons that decide it.

Every claim, whatever its form, becomes a flat list of `Entry`: one true
derivative and one claimed value per entry and per index assignment. A gradient
of the loss is shaped like the quantity (denominator layout) or transposed
(numerator layout); the derivative of a vector by a vector is its Jacobian
(numerator layout: one row per entry of `of`); a claim about one entry with
index variables is checked for every assignment its condition allows, with a
true-class binding replacing the one-hot labels by the vector of that class.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.errors import Location
from derive_check.derive.exact.atoms import as_expr
from derive_check.derive.exact.cut import Canon, Cut, cut_network
from derive_check.derive.exact.evaluate import evaluate, shape_text
from derive_check.derive.exact.network import Network
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.ops.dims import value
from derive_check.derive.ops.spec import Array
from derive_check.derive.source import formula_location
from derive_check.derive.tree import Node


@dataclass(frozen=True)
class Entry:
    """One scalar comparison: the true derivative and the claimed value of one entry."""

    label: str  # e.g. "dW1[0,2]" or "dyhat[0,0] (t=0, j=1)"
    truth: sp.Expr
    claimed: sp.Expr
    index: tuple[int, ...] = ()  # position in the gradient, for the finite-difference oracle
    fixed: dict[sp.Basic, sp.Expr] = field(default_factory=dict, compare=False)  # labels bound by the claim


class ShapeMismatch(ValueError):
    """The claim's value cannot have the derivative's shape (message: expected vs actual)."""


class IndexOutOfRange(ValueError):
    """A `wrt` entry outside the quantity (an input error of the claim, not a shape verdict)."""


@dataclass
class Derivatives:
    """Exact derivatives of one network, cached by (expression, variable); cuts for forward quantities."""

    net: Network
    cache: dict[tuple[sp.Expr, sp.Expr], sp.Expr] = field(default_factory=dict)
    gradients: dict[sp.Expr, tuple[dict[sp.Symbol, sp.Expr] | None, frozenset[sp.Basic]]] = field(default_factory=dict)
    _wanted: tuple[int, frozenset[sp.Basic]] | None = None  # (cuts counted, the symbols)
    cuts: dict[str, Cut] = field(default_factory=dict)
    canon: Canon | None = None
    bound: set[str] = field(default_factory=set)  # targets whose cut the canon transports

    def cut(self, target: str) -> Cut:
        """The network cut at forward quantity `target` (built once)."""
        found = self.cuts.get(target)
        if found is None:
            found = self.cuts[target] = cut_network(self.net, target)
        return found

    def canonical(self, target: str) -> Canon:
        """The canonical atoms, with `target`'s cut bound for transport (bound once: it expands the target)."""
        if self.canon is None:
            self.canon = Canon(self.net.backend.atoms)
        if target not in self.bound:
            self.bound.add(target)
            self.canon.bind(self.cut(target), self.net)
        return self.canon

    def wanted(self) -> frozenset[sp.Basic]:
        """The entries of every input or parameter a claim of the file differentiates against, and the free symbols
        of every cut: the symbols whose adjoints a reverse pass keeps (`of` runs it again for any other one)."""
        if self._wanted is None or self._wanted[0] != len(self.cuts):  # a new cut's free symbols are asked for too
            symbols = self.net.symbols
            arrays = [symbols[c.target] for c in self.net.spec.claims if c.target in symbols]
            arrays += [cut.symbols for cut in self.cuts.values()]
            found = frozenset(s for a in arrays for s in np.ravel(a) if getattr(s, "is_Symbol", False))
            self._wanted = (len(self.cuts), found)
        return self._wanted[1]

    def prepare(self) -> None:
        """The reverse pass of the loss for every input and parameter a claim differentiates against: network-level
        work, run once before the claims (under the build budget) so that no claim's budget pays for it."""
        wanted = self.wanted()
        if wanted:
            # one pass serves every wanted symbol; the first by name, since where the reverse pass cannot run
            # (declared functions) the per-symbol fallback creates atoms, and their order must not follow set order
            self.of(as_expr(np.asarray(self.net.loss, dtype=object)[()]), min(wanted, key=str))

    def of(self, expr: sp.Expr, x: sp.Expr) -> sp.Expr:
        """d expr / d x by the chain rule through the network's atoms (one reverse pass per expression)."""
        if not x.is_Symbol:
            raise ShapeMismatch(f"the quantity differentiated against is the constant {x}")
        found = self.gradients.get(expr)
        if found is None or (found[0] is not None and x not in found[1]):  # x not asked for before: once more
            wanted = self.wanted() | {x} | (found[1] if found else frozenset())
            found = self.gradients[expr] = (self.net.backend.atoms.gradient(expr, wanted), wanted)
        gradient = found[0]
        if gradient is not None:
            return gradient.get(x, sp.Integer(0))
        key = (expr, x)
        if key not in self.cache:
            self.cache[key] = self.net.backend.atoms.total_diff(expr, x, {})
        return self.cache[key]


def assignments(claim: ClaimSpec, sizes: dict[str, int]) -> Iterator[dict[str, int]]:
    """Every assignment of the claim's index variables that satisfies its condition."""
    names = [v for v, _ in claim.index_vars]
    ranges = [range(value(s, sizes)) for _, s in claim.index_vars]
    for values in itertools.product(*ranges):
        chosen = dict(zip(names, values, strict=True))
        if claim.when.holds(chosen, sizes):
            yield chosen


def claim_entries(
    net: Network,
    derivatives: Derivatives,
    claim: ClaimSpec,
    tree: Node,
    env: dict[str, Array],
    transport: bool = True,
    known: Array | None = None,
) -> list[Entry]:
    """The comparisons deciding `tree` as the claim's formula (raises ShapeMismatch, ShapeError, InputError); for a
    forward quantity, `transport=False` leaves both sides over the cut's atoms (see `transport_map`); `known`:
    the formula's value already computed (a claim without index variables, bound for the claims after it)."""
    out: list[Entry] = []
    where = formula_location(claim.where, claim.text)
    forward = claim.target in {line.name for line in net.spec.forward}
    for chosen in assignments(claim, net.spec.sizes):
        local = {**env, **{k: net.backend.const(Fraction(v)) for k, v in chosen.items()}}
        fixed = _bound_labels(net, claim, chosen)
        value = known if known is not None and not chosen else evaluate(tree, local, net.backend, where)
        claimed = np.asarray(value, dtype=object)
        truth = _truth(net, derivatives, claim, local, where)
        if forward and transport:  # both sides over the canonical atoms the cut's derivative is transported to
            canon = derivatives.canonical(claim.target)
            truth = np.vectorize(canon, otypes=[object])(truth) if truth.size else truth
            claimed = np.vectorize(canon, otypes=[object])(claimed) if claimed.size else claimed
        if claimed.shape != truth.shape:
            raise ShapeMismatch(
                f"the derivative has shape {shape_text(truth)}, the claim has shape {shape_text(claimed)}"
            )
        suffix = f" ({', '.join(f'{k}={v}' for k, v in chosen.items())})" if chosen else ""
        for index in np.ndindex(truth.shape):
            check()  # a safe point for the time budget
            label = f"{claim.name}[{','.join(map(str, index))}]" if index else claim.name
            out.append(
                Entry(
                    label + suffix,
                    as_expr(truth[index]).xreplace(fixed),
                    as_expr(claimed[index]).xreplace(fixed),
                    tuple(int(i) for i in index),
                    fixed,
                )
            )
    return out


def transport_map(net: Network, derivatives: Derivatives, target: str) -> dict[sp.Symbol, sp.Expr]:
    """The cut's free symbols of forward quantity `target`, each with the entry of the network it stands for."""
    cut = derivatives.cut(target)
    values = np.asarray(net.values[target], dtype=object)
    return {cut.symbols[index]: as_expr(values[index]) for index in np.ndindex(values.shape)}


def _bound_labels(net: Network, claim: ClaimSpec, chosen: dict[str, int]) -> dict[sp.Basic, sp.Expr]:
    fixed: dict[sp.Basic, sp.Expr] = {}
    for name, var in claim.labels:
        symbols = net.symbols[name]
        flat = list(symbols.flat)
        if not net.spec.inputs[name].onehot or len(flat) != max(symbols.shape):
            raise ShapeMismatch(f"label binding needs a single one-hot vector; '{name}' has shape {symbols.shape}")
        for c, y in enumerate(flat):
            fixed[y] = sp.Integer(int(c == chosen[var]))
    return fixed


def _truth(net: Network, derivatives: Derivatives, claim: ClaimSpec, env: dict[str, Array], where: Location) -> Array:
    """d(of)/d(target): for a forward quantity, in the network cut there (its own value the variable)."""
    of: Array = np.asarray(net.loss, dtype=object)
    wrt = net.values[claim.target]
    if claim.target in {line.name for line in net.spec.forward}:
        cut = derivatives.cut(claim.target)
        of, wrt, env = np.asarray(cut.loss, dtype=object), cut.symbols, {**env, **cut.env}
    if claim.of is not None:
        of = np.asarray(evaluate(claim.of, env, net.backend, where), dtype=object)
    if claim.wrt_index:
        indices = [int(np.asarray(evaluate(i, env, net.backend, where)).item()) for i in claim.wrt_index]
        if len(indices) > np.ndim(wrt) or any(d != 1 for d in np.shape(wrt)[len(indices) :]):
            raise ShapeMismatch(f"wrt gives {len(indices)} index(es) for {claim.target}, of shape {shape_text(wrt)}")
        indices += [0] * (np.ndim(wrt) - len(indices))
        if not all(0 <= i < d for i, d in zip(indices, np.shape(wrt), strict=True)):
            raise IndexOutOfRange(
                f"wrt {claim.target}[{', '.join(map(str, indices))}] is out of range for shape {shape_text(wrt)}"
            )
        wrt = np.asarray(wrt[tuple(indices)], dtype=object)
    if of.ndim == 0:
        grad = np.empty(wrt.shape, dtype=object)
        for index in np.ndindex(wrt.shape):
            grad[index] = derivatives.of(as_expr(of[()]), as_expr(wrt[index]))
        return grad.T if claim.layout == "numerator" else grad
    if not (_vector_like(of) and _vector_like(wrt)):
        raise ShapeMismatch("a derivative of a non-scalar is supported for vectors only (a Jacobian)")
    jac = np.empty((of.size, wrt.size), dtype=object)
    for i, o in enumerate(of.flat):
        for j, w in enumerate(wrt.flat):
            jac[i, j] = derivatives.of(as_expr(o), as_expr(w))
    return jac if claim.layout == "numerator" else jac.T


def _vector_like(value: Array) -> bool:
    return value.ndim <= 1 or sum(d != 1 for d in value.shape) <= 1
