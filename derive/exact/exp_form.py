"""The exp normal form of the exact engine's atoms (a mixin of `derive.exact.atoms.Atoms`).

exp(a + b - c) is exp(a) exp(b) / exp(c) when the argument, one line-atom definition opened, is a sum of integer
multiples of symbols, and exp(-v) = 1/exp(v), exp(k v) = exp(v)^k. Each rewrite is an identity of the real
exponential and each atom stands for exp of exactly its recorded argument, so a residual that is zero over the
atoms is zero as a function: the form can only make more true identities visible (a softmax with its max shift,
`1 / (1 + exp(-z))` against sigmoid), never a false one. exp(k log w) is w^k (log is defined only where w > 0).
A sum of products (a pre-activation X W + b) is not split, so a softmax row keeps one atom per entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive_check.derive.exact.functions import Log
from derive_check.derive.exact.partial import expanded
from derive_check.derive.printing.symbols import Label


class ExpForm:
    """exp atoms in normal form."""

    if TYPE_CHECKING:  # supplied by Atoms
        definition: dict[sp.Symbol, sp.Expr]
        exp_argument: dict[sp.Symbol, sp.Expr]
        exp_by_argument: dict[sp.Expr, sp.Symbol]

        def fresh(self, label: Label | str) -> sp.Symbol: ...
        def label_of(self, u: sp.Expr, fallback: Label) -> Label: ...

    def exp(self, u: sp.Expr, name: Label | str) -> sp.Expr:
        """exp(u) in the exp normal form: a product of integer powers of exp atoms (exp(0) is 1).

        exp(a + b - c) is exp(a) exp(b) / exp(c) when the argument, one definition opened, is a sum of integer
        multiples of symbols; exp(-v) is 1 / exp(v) and exp(k v) is exp(v)^k for an integer k. Each step is an
        identity, and each atom stands for exp of exactly its own argument, so a zero residual over the atoms is a
        zero of the real function. Sums of products (a pre-activation X W + b) are not split: they stay one atom,
        keyed by the argument, which keeps softmax rows one atom per entry.
        """
        v = u
        while v in self.definition:
            v = self.definition[v]
        v = expanded(v)
        if v == 0:
            return sp.Integer(1)
        terms = sp.Add.make_args(v)
        if len(terms) > 1 and all(_linear_term(t) for t in terms):
            return sp.Mul(*(self._exp_term(t) for t in terms))
        if len(terms) == 1 and _linear_term(v):
            return self._exp_term(v, name)
        return self._exp_whole(v, name, u)

    def _exp_term(self, term: sp.Expr, name: Label | str | None = None) -> sp.Expr:
        """exp(c s) = exp(s)^c for an integer c and a symbol s; exp(c) of a number."""
        coefficient, symbol = term.as_coeff_Mul()
        if isinstance(symbol, Log):  # exp(k log w) = w^k
            return symbol.args[0] ** coefficient
        if symbol == 1:  # a constant term: exp(1)^c for an integer c, else exp(c) itself
            if coefficient.is_Integer:
                return self._exp_whole(sp.Integer(1), Label("text", "e"), sp.Integer(1)) ** coefficient
            return self._exp_whole(coefficient, Label("text", f"exp({coefficient})"), coefficient)
        label = (
            name
            if coefficient == 1 and name is not None
            else Label("apply", "exp", of=self.label_of(symbol, Label("text", str(symbol))))
        )
        if symbol in self.definition:
            return self.exp(symbol, label) ** coefficient
        return self._exp_whole(symbol, label, symbol) ** coefficient

    def _exp_whole(self, key: sp.Expr, name: Label | str, u: sp.Expr) -> sp.Expr:
        """The atom of exp(key) for a key that is not split, with exp(-v) = 1/exp(v) and exp(k v) = exp(v)^k;
        `u` is the argument as given, which expands (through its line atom, if it is one) to `key`."""
        if key.is_Add:
            content, primitive = key.primitive()
            if primitive.could_extract_minus_sign():
                content, primitive = -content, -primitive
            if content.is_Integer and content != 1:
                return (
                    self._exp_whole(primitive, Label("apply", "exp", of=Label("text", str(primitive))), primitive)
                    ** content
                )
        atom = self.exp_by_argument.get(key)
        if atom is None:
            atom = self.fresh(name)
            self.exp_by_argument[key] = atom
            self.exp_argument[atom] = u  # `key` unfolded and expanded; a line atom stays one (cheap derivatives)
        return atom


def _linear_term(term: sp.Expr) -> bool:
    """An integer multiple of one symbol, or a rational number: what the exp normal form splits a sum into."""
    coefficient, rest = term.as_coeff_Mul()
    unit = rest.is_Symbol or isinstance(rest, Log)
    return bool(coefficient.is_Rational and (rest == 1 or (unit and coefficient.is_Integer)))
