"""The two evaluation backends: exact SymPy object arrays and float64 arrays.

The exact backend turns `relu(z)` into `m * z` where `m` is a 0/1 mask symbol,
one per entry of the pre-activation, shared by every expression that mentions
the same pre-activation. Masks are constants for differentiation, which is
relu'(z) = [z > 0], i.e. the convention relu'(0) = 0, and one proof with free
masks holds for every activation pattern. `(h1 > 0)` and `(X @ W1 + b1 > 0)`
both resolve to the same mask because the key is the pre-activation's SymPy
expression (canonical and hashable).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from derive.atoms import Atoms
from derive.functions import Log
from derive.ops import Array


def _elementwise(fn: Any, x: Array) -> Array:
    return np.asarray(np.frompyfunc(fn, 1, 1)(x), dtype=object)


class SymbolicBackend:
    """Exact evaluation over numpy object arrays of SymPy expressions."""

    dtype: Any = object

    def __init__(self) -> None:
        self.atoms = Atoms()
        self.context = "expr"  # the forward line being evaluated, used to name masks
        self._relu_calls: dict[str, int] = {}

    def const(self, value: Fraction) -> Array:
        """An exact rational constant as a 0-d array."""
        return np.asarray(sp.Rational(value.numerator, value.denominator), dtype=object)

    def exp(self, x: Array) -> Array:
        """Element-wise exp as atom symbols (see derive.calculus)."""
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            u = x[index]
            label = str(u) if u.is_Symbol else f"{self.context}[{','.join(map(str, index))}]"
            out[index] = self.atoms.exp(u, f"exp({label})")
        return out

    def log(self, x: Array) -> Array:
        """Element-wise log: cancels exp atoms and splits products (d log|ab| = d log|a| + d log|b|)."""
        return _elementwise(self._log, x)

    def _log(self, v: sp.Expr) -> sp.Expr:
        if v in self.atoms.definition:  # look through line atoms so log(softmax) cancels
            return self._log(self.atoms.definition[v])
        if v in self.atoms.exp_argument:
            return self.atoms.exp_argument[v]
        if v.is_Mul:
            return sp.Add(*(self._log(f) for f in v.args))
        if v.is_Pow and v.exp.is_Integer:
            return v.exp * self._log(v.base)
        return Log(v)

    def relu(self, x: Array) -> Array:
        """Element-wise relu(z) = mask(z) * z."""
        count = self._relu_calls.get(self.context, 0)
        self._relu_calls[self.context] = count + 1
        tag = self.context if count == 0 else f"{self.context}_{count + 1}"
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            z = x[index]
            out[index] = self.atoms.mask(z, f"mask({tag})[{','.join(map(str, index))}]") * z
        return out

    def positive(self, x: Array) -> Array:
        """Element-wise indicator [x > 0], resolved to masks where the pre-activation is known."""
        return _elementwise(self._indicator, x)

    def _indicator(self, v: sp.Expr) -> sp.Expr:
        if v.is_number:
            return sp.Integer(1 if v > 0 else 0)
        full = self.atoms.expand(v)
        if full in self.atoms.exp_argument or full in self.atoms.masks:  # exp > 0; [m > 0] = m
            return sp.Integer(1) if full in self.atoms.exp_argument else full
        if full.is_Mul:  # relu output m*z: positive exactly when the mask is on
            masks = [f for f in full.args if f in self.atoms.masks]
            if len(masks) == 1:
                rest = sp.expand(sp.Mul(*(f for f in full.args if f is not masks[0])))
                if self.atoms.masks[masks[0]] == rest:
                    return masks[0]
        key = sp.expand(full)
        if key in self.atoms.mask_by_preactivation:
            return self.atoms.mask_by_preactivation[key]
        return self._fresh_indicator(key)

    def _fresh_indicator(self, key: sp.Expr) -> sp.Symbol:
        for symbol, expr in self.atoms.indicators.items():
            if expr == key:
                return symbol
        symbol = self.atoms.fresh(f"[{str(key)[:40]} > 0]")
        self.atoms.indicators[symbol] = key
        return symbol


class NumericBackend:
    """float64 evaluation: the independent oracle for finite differences."""

    dtype: Any = np.float64

    def const(self, value: Fraction) -> Array:
        """A float constant as a 0-d array."""
        return np.asarray(float(value))

    def exp(self, x: Array) -> Array:
        """Element-wise exp."""
        return np.exp(x)

    def log(self, x: Array) -> Array:
        """Element-wise natural log."""
        return np.log(x)

    def relu(self, x: Array) -> Array:
        """Element-wise max(x, 0)."""
        return np.maximum(x, 0.0)

    def _key(self, z: sp.Expr) -> sp.Expr:
        """The canonical form of a pre-activation, in real (not stand-in) symbols."""
        return sp.expand(z.xreplace(self.resubstitute) if self.resubstitute else z)

    def positive(self, x: Array) -> Array:
        """Element-wise indicator [x > 0] as 0.0/1.0."""
        return (x > 0).astype(np.float64)
