"""The two evaluation backends: exact SymPy object arrays and float64 arrays.

The exact backend turns `relu(z)` into `m * z` with `m` a 0/1 mask atom (see
`derive.exact.atoms`), `exp` into exp atoms, and `log` of a product or of an exp
atom into a sum or the exponent, which is what differentiating
`log(softmax)` needs (d log|ab| = d log|a| + d log|b| wherever defined).
Indicators `(v > 0)` resolve to the mask of the pre-activation they test when
there is one, so `(h1 > 0)` and `(X @ W1 + b1 > 0)` are the same symbol.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from derive_check.derive.errors import Location
from derive_check.derive.exact.atoms import Atoms, as_expr
from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.exact.functions import Log
from derive_check.derive.ops.spec import ARG, SELF, Array, OpDomainError
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.symbols import Label
from derive_check.derive.tree import Apply, Ref


def _elementwise(fn: Any, x: Array) -> Array:
    return np.asarray(np.frompyfunc(fn, 1, 1)(x), dtype=object)


class SymbolicBackend:
    """Exact evaluation over numpy object arrays of SymPy expressions."""

    dtype: Any = object

    def __init__(self) -> None:
        self.atoms = Atoms(slope=self._slope)
        self.context = "expr"  # the forward line being evaluated, used to name atoms
        self._relu_calls: dict[str, int] = {}
        self.gradients: dict[str, Array] = {}  # scalar function name -> its partials, shaped like its argument
        self.names: dict[sp.Expr, str] = {}  # entry -> the first forward entry it is, e.g. "y[0,0]"
        self._positives: dict[sp.Expr, bool] = {}

    def _of(self, u: sp.Expr, index: tuple[int, ...]) -> Label:
        """How the argument of an atom reads: its own label, or the entry of the line being evaluated."""
        return self.atoms.label_of(u, Label("entry", self.context, index))

    def const(self, value: Fraction) -> Array:
        """An exact rational constant as a 0-d array."""
        return np.asarray(sp.Rational(value.numerator, value.denominator), dtype=object)

    def exp(self, x: Array) -> Array:
        """Element-wise exp as atom symbols named after their argument."""
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            u = x[index]
            out[index] = self.atoms.exp(u, Label("apply", "exp", of=self._of(u, index)))
        return out

    def log(self, x: Array) -> Array:
        """Element-wise log that cancels exp atoms and splits products of positive factors."""
        return _elementwise(self._log, x)

    def _log(self, v: sp.Expr) -> sp.Expr:
        """log v, with log(a b) = log a + log b and log(a^k) = k log a only where both sides have one domain.

        log(a b) and log a + log b agree wherever either is defined exactly when every factor but one is
        positive (then the product is positive iff that factor is); log(a^k) = k log a needs a > 0 or an odd k.
        Splitting log(X Y) for arbitrary X, Y would prove `log(X) + log(Y)` for a model defined at X, Y < 0.
        """
        if v.is_number and v.is_positive is not True:
            raise OpDomainError(f"log of {v}: the logarithm is defined for positive numbers only")
        if v in self.atoms.definition:  # look through line atoms so log(softmax) cancels
            return self._log(self.atoms.definition[v])
        if v in self.atoms.exp_argument:
            return self.atoms.exp_argument[v]
        if v.is_Mul and sum(not self._positive(f) for f in v.args) <= 1:
            return sp.Add(*(self._log(f) for f in v.args))
        if v.is_Pow and v.exp.is_Integer and (v.exp % 2 == 1 or self._positive(v.base)):
            return v.exp * self._log(v.base)
        return Log(v)

    def _positive(self, v: sp.Expr) -> bool:
        """Whether v > 0 wherever it is defined, by structure: exp atoms, positive ops' atoms (σ, softplus),
        positive numbers, and sums, products and integer powers of those; line atoms by their definition."""
        found = self._positives.get(v)
        if found is None:
            atoms = self.atoms
            if v.is_number:
                found = bool(v.is_positive)
            elif v in atoms.definition:
                found = self._positive(atoms.definition[v])
            elif v in atoms.exp_argument:
                found = True
            elif v in atoms.smooth:
                found = OPS[atoms.smooth[v][0]].positive
            elif v.is_Add or v.is_Mul:
                found = all(self._positive(a) for a in v.args)
            else:
                found = bool(v.is_Pow and v.exp.is_Integer and self._positive(v.base))
            self._positives[v] = found
        return found

    def smooth(self, kind: str, x: Array) -> Array:
        """A smooth element-wise op (sigmoid, tanh, ...) as atoms, differentiated by the op table's formula."""
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            u = x[index]
            value = as_expr(u)
            if OPS[kind].positive_argument and value.is_number and not value.is_positive:
                raise OpDomainError(f"{kind} of {value}: defined for positive numbers only")
            out[index] = self.atoms.smooth_atom(kind, u, Label("apply", kind, of=self._of(u, index)))
        return out

    def _slope(self, kind: str, atom: sp.Symbol, u: sp.Expr) -> sp.Expr:
        """d kind(u)/du: the op's `derivative` formula evaluated with `_u` = u and `_self` = the atom."""
        rule = OPS[kind].derivative
        if rule is None:
            raise ValueError(f"'{kind}' has no derivative formula")
        env = {ARG: np.asarray(u, dtype=object), SELF: np.asarray(atom, dtype=object)}
        value = evaluate(rule(Apply(kind, (Ref(ARG),))), env, self, Location())
        return as_expr(np.asarray(value).item())

    def relu(self, x: Array) -> Array:
        """Element-wise relu(z) = mask(z) * z."""
        count = self._relu_calls.get(self.context, 0)
        self._relu_calls[self.context] = count + 1
        tag = self.context if count == 0 else f"{self.context}_{count + 1}"
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            z = x[index]
            out[index] = self.atoms.mask(z, Label("mask", tag, index)) * z
        return out

    def function(self, name: str, order: int, x: Array) -> Array:
        """Element-wise application of a declared function's order-th derivative, as atoms."""
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            u = x[index]
            label = Label("call", name, primes=order, of=self._of(u, index))
            out[index] = self.atoms.call(name, (0,) * order, (u,), label)
        return out

    def scalar_function(self, name: str, x: Array) -> Array:
        """A declared scalar function of a whole array; its partials become the array `gradients[name]`."""
        args = tuple(x.flat)
        labels = tuple(self.names.get(a, f"arg{k}") for k, a in enumerate(args))
        whole = labels[0].split("[")[0] if labels and labels[0].endswith("]") else "..."
        value = self.atoms.call(name, (), args, Label("call", name, of=Label("text", whole)))
        partials = [
            self.atoms.call(name, (k,), args, Label("partial", name, of=Label("text", labels[k])))
            for k in range(len(args))
        ]
        self.gradients[name] = np.asarray(partials, dtype=object).reshape(x.shape)
        return np.asarray(value, dtype=object)

    def positive(self, x: Array) -> Array:
        """Element-wise indicator [x > 0], resolved to masks where the pre-activation is known."""
        return _elementwise(self._indicator, x)

    def _indicator(self, v: sp.Expr) -> sp.Expr:
        if v.is_number:
            return sp.Integer(1 if v > 0 else 0)
        atoms = self.atoms
        while v in atoms.definition:  # look through line atoms, one definition at a time
            v = atoms.definition[v]
        if v in atoms.exp_argument or (v in atoms.smooth and OPS[atoms.smooth[v][0]].positive):  # exp, σ > 0
            return sp.Integer(1)
        if v in atoms.masks:  # [m > 0] = m for m in {0, 1}
            return v
        coefficient, rest = v.as_coeff_Mul()
        if coefficient.is_positive and coefficient != 1:  # [c v > 0] = [v > 0] for c > 0
            return self._indicator(rest)
        if v.is_Mul:  # relu output m*z: positive exactly when the mask is on
            masks = [f for f in v.args if f in atoms.masks]
            if len(masks) == 1:
                rest = atoms.key(sp.Mul(*(f for f in v.args if f is not masks[0])))
                if atoms.masks[masks[0]] == rest:
                    return masks[0]
        leaky = self._leaky_mask(v)
        if leaky is not None:  # a leaky ReLU output: positive exactly when its pre-activation is
            return leaky
        key = atoms.key(v)
        content, primitive = key.primitive() if key.is_Add else (sp.Integer(1), key)
        if content.is_positive and content != 1:  # [2 z > 0] = [z > 0]: a positive factor spread over a sum
            key = primitive
        if key in atoms.mask_by_preactivation:
            return atoms.mask_by_preactivation[key]
        return atoms.indicator(key)

    def _leaky_mask(self, v: sp.Expr) -> sp.Symbol | None:
        """The mask m when v = a·m·z + b·z with a + b > 0 and b > 0 (leaky_relu(z) = m z + alpha (z - m z)).

        Then v > 0 exactly when z > 0 (both branches are positive multiples of z), which is m's own test.
        """
        atoms = self.atoms
        for m in v.free_symbols & atoms.masks.keys():
            on, off = (sp.expand(atoms.expand(v.xreplace({m: b}))) for b in (1, 0))  # line atoms opened
            z = sp.expand(atoms.expand(atoms.masks[m]))
            if m in on.free_symbols or m in off.free_symbols or z == 0:
                continue
            k_on, k_off = sp.cancel(on / z), sp.cancel(off / z)
            if k_on.is_number and k_off.is_number and k_on > 0 and k_off > 0:
                return m
        return None


class NotNumeric(ValueError):
    """A declared (generic) function has no float value: the oracle cannot run on this model."""


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

    def smooth(self, kind: str, x: Array) -> Array:
        """A smooth element-wise op's float64 value, from the op table."""
        numeric = OPS[kind].numeric
        if numeric is None:
            raise NotNumeric(f"'{kind}' has no float value")
        return numeric(x)

    def relu(self, x: Array) -> Array:
        """Element-wise max(x, 0)."""
        return np.maximum(x, 0.0)

    def positive(self, x: Array) -> Array:
        """Element-wise indicator [x > 0] as 0.0/1.0."""
        return (x > 0).astype(np.float64)

    def function(self, name: str, order: int, x: Array) -> Array:
        """Generic functions have no numbers: the oracle is not available."""
        raise NotNumeric(f"'{name}' is a generic function")

    def scalar_function(self, name: str, x: Array) -> Array:
        """Generic functions have no numbers: the oracle is not available."""
        raise NotNumeric(f"'{name}' is a generic function")
