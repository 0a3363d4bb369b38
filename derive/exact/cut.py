"""Derivatives with respect to a forward quantity: the network cut at that quantity.

dL/dV for a forward line V is the derivative with V's own value as the variable and every line
that does not depend on V held fixed: exactly what central differences that perturb V compute.
The full network cannot give it: there `log(P)` is read through P's definition, an identity
line `h = identity(z)` has no symbols of its own, and a line `s = sigmoid(z)` shares its atom
with a `sigmoid(z)` written out elsewhere, so "the adjoint of V's atoms" mixes in other paths.

So the forward pass is re-run with V's entries replaced by fresh free symbols (`V~[i,j]`):
lines before V keep their values, lines after V are recomputed from the free V. The derivative
is taken there and then transported back: V~ := V's value, and every atom (exp, sigmoid, tanh,
mask, indicator, declared function) is replaced by the representative of its *fully expanded*
argument. Two atoms with equal fully expanded arguments are the same function of the inputs,
so identifying them is sound; doing it on both sides of a comparison keeps it complete.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.atoms import Atoms, FunctionCall, as_expr
from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.exact.network import Network, atomize, entry_label, size_constants
from derive_check.derive.ops.spec import Array
from derive_check.derive.source import formula_location

CUT_MARK = "~"  # in the names of the cut's free symbols and atoms; never in a user's identifier


@dataclass
class Cut:
    """The forward pass with `target`'s value free: env, the free symbols, and the loss as their function."""

    target: str
    symbols: Array
    env: dict[str, Array]
    loss: sp.Expr


def cut_network(net: Network, target: str) -> Cut:
    """Re-run the forward pass from `target` on, with its entries as free symbols."""
    spec, backend = net.spec, net.backend
    names = [line.name for line in spec.forward]
    start = names.index(target)
    shape = np.shape(net.values[target])
    free = np.empty(shape, dtype=object)  # named through the atom table: unique even after other cuts
    for index in np.ndindex(shape):  # (an earlier cut's recomputed line atoms are also called "V~[i,j]")
        free[index] = backend.atoms.fresh(entry_label(f"{target}{CUT_MARK}", index))
    env: dict[str, Array] = {**size_constants(spec, backend), **net.symbols}
    for line in spec.forward[:start]:
        env[line.name] = net.values[line.name]
    env[target] = free
    for line in spec.forward[start + 1 :]:
        backend.context = f"{line.name}{CUT_MARK}"
        value = evaluate(line.expr, env, backend, formula_location(line.where, line.text))
        env[line.name] = atomize(value, f"{line.name}{CUT_MARK}", backend)
    for gradient, function in spec.gradients.items():
        if function in backend.gradients:
            env.setdefault(gradient, backend.gradients[function])
    loss = as_expr(np.asarray(env[spec.loss], dtype=object).item())
    return Cut(target, free, env, loss)


@dataclass
class Canon:
    """Expressions rewritten over canonical atoms, with free cut symbols replaced by their values."""

    atoms: Atoms
    values: dict[sp.Basic, sp.Expr] = field(default_factory=dict)  # free cut symbol -> its value
    _table: dict[tuple[str, sp.Expr], sp.Expr] | None = None
    _memo: dict[sp.Basic, sp.Expr] = field(default_factory=dict)

    def bind(self, cut: Cut, net: Network) -> None:
        """Transport `cut`'s free symbols back to the target's values in `net`."""
        original = net.values[cut.target]
        for index in np.ndindex(np.shape(original)):
            self.values[cut.symbols[index]] = self.atoms.expand(as_expr(original[index]))
        self._memo.clear()

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        """`expr` fully expanded, free cut symbols replaced, every atom by its representative."""
        return self._walk(self.atoms.expand(as_expr(expr)))

    def _walk(self, expr: sp.Basic) -> sp.Expr:
        found = self._memo.get(expr)
        if found is not None:
            return found
        check()
        if expr in self.values:
            result = self._walk(self.values[expr])
        elif expr.is_Symbol:
            result = self._representative(expr)
        elif not expr.args:
            result = expr
        else:
            result = expr.func(*(self._walk(a) for a in expr.args))
        self._memo[expr] = result
        return result

    def _arguments(self, atom: sp.Symbol) -> tuple[str, tuple[sp.Expr, ...]] | None:
        """What kind of atom this is and what it is applied to (None for symbols that are not atoms)."""
        a = self.atoms
        if atom in a.exp_argument:
            return "exp", (a.exp_argument[atom],)
        if atom in a.smooth:
            return a.smooth[atom][0], (a.smooth[atom][1],)
        if atom in a.masks:
            return "mask", (a.masks[atom],)
        if atom in a.indicators:
            return "mask", (a.indicators[atom],)
        if atom in a.calls:
            call = a.calls[atom]
            return f"call:{call.name}:{call.partial}", tuple(call.args)
        return None

    def _key(self, atom: sp.Symbol) -> tuple[str, sp.Expr] | None:
        found = self._arguments(atom)
        if found is None:
            return None
        kind, args = found
        canonical = [sp.expand(self._walk(self.atoms.expand(x))) for x in args]
        if kind == "mask":
            return kind, _primitive(canonical[0])
        return (kind, sp.Tuple(*canonical)) if kind.startswith("call:") else (kind, canonical[0])

    def _representative(self, atom: sp.Symbol) -> sp.Expr:
        key = self._key(atom)
        if key is None:
            return atom
        table = self._known()
        found = table.get(key)
        if found is None:
            found = table[key] = self._create(atom, key)
        return found

    def _known(self) -> dict[tuple[str, sp.Expr], sp.Expr]:
        """Every atom whose argument has no free cut symbol, by its canonical key (oldest first wins)."""
        if self._table is None:
            self._table = {}
            for atom in list(self.atoms.created):
                key = self._key(atom) if not self._mentions_cut(atom) else None
                if key is not None:
                    self._table.setdefault(key, atom)
        return self._table

    def _mentions_cut(self, atom: sp.Symbol) -> bool:
        found = self._arguments(atom)
        args = found[1] if found else ()
        return any(CUT_MARK in str(s) for x in args for s in self.atoms.expand(x).free_symbols)

    def _create(self, atom: sp.Symbol, key: tuple[str, sp.Expr]) -> sp.Expr:
        """A new atom of the network for a transported argument (so counterexample points can value it)."""
        a, kind, argument = self.atoms, key[0], key[1]
        name = a.labels[atom].without(CUT_MARK)  # every invented symbol has a label (`Atoms.fresh`)
        if kind == "exp":
            made = a.exp(argument, name)
        elif kind == "mask":
            made = a.mask(argument, name)
        elif kind.startswith("call:"):
            call: FunctionCall = a.calls[atom]
            made = a.call(call.name, call.partial, tuple(argument.args), name)
        else:  # a smooth op of the op table
            made = a.smooth_atom(kind, argument, name)
        return made  # exp(0) is the number 1


def _primitive(key: sp.Expr) -> sp.Expr:
    """[c z > 0] = [z > 0] for c > 0: the key of a mask up to a positive factor."""
    content, primitive = key.primitive() if key.is_Add else key.as_coeff_Mul()
    return primitive if content.is_positive else key
