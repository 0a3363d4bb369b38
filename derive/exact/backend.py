"""The two evaluation backends: exact SymPy object arrays and float64 arrays.

The exact backend turns `relu(z)` into `m * z` with `m` a 0/1 mask atom (see
`derive.exact.atoms`), `exp` into exp atoms, and `log` of a product or of an exp
atom into a sum or the exponent, which is what differentiating
`log(softmax)` needs (d log|ab| = d log|a| + d log|b| wherever defined).
Indicators `(v > 0)` resolve to the mask of the pre-activation they test when
there is one, so `(h1 > 0)` and `(X @ W1 + b1 > 0)` are the same symbol. See `derive.exact.indicators`.
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
from derive_check.derive.exact.indicators import Indicators
from derive_check.derive.ops.spec import ARG, SELF, Array, OpDomainError
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.symbols import Label
from derive_check.derive.tree import Apply, Ref


def _elementwise(fn: Any, x: Array) -> Array:
    return np.asarray(np.frompyfunc(fn, 1, 1)(x), dtype=object)


class SymbolicBackend(Indicators):
    """Exact evaluation over numpy object arrays of SymPy expressions."""

    dtype: Any = object

    def __init__(self) -> None:
        self.atoms = Atoms(slope=self._slope)
        self.context = "expr"  # the forward line being evaluated, used to name atoms
        self._relu_calls: dict[str, int] = {}
        self.gradients: dict[str, Array] = {}  # scalar function name -> its partials, shaped like its argument
        self.names: dict[sp.Expr, str] = {}  # entry -> the first forward entry it is, e.g. "y[0,0]"
        self._positives: dict[sp.Expr, bool] = {}
        self.discrete: set[sp.Symbol] = set()  # one-hot label symbols (0/1, not continuous)
        self.rows: dict[sp.Symbol, tuple[sp.Symbol, ...]] = {}  # one-hot label symbol -> its whole row
        self.positive_symbols: set[sp.Symbol] = set()  # scalars declared positive

    def _of(self, u: sp.Expr, index: tuple[int, ...]) -> Label:
        """How the argument of an atom reads: its own label, or the entry of the line being evaluated."""
        return self.atoms.label_of(u, Label("entry", self.context, index))

    def const(self, value: Fraction) -> Array:
        """An exact rational constant as a 0-d array."""
        return np.asarray(sp.Rational(value.numerator, value.denominator), dtype=object)

    def pi(self) -> Array:
        """π, exact (SymPy's transcendental constant)."""
        return np.asarray(sp.pi, dtype=object)

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
        chosen = self._selection(v)
        if chosen is not None:  # log(Σ_c a_c y_c) = Σ_c y_c log(a_c) for a one-hot row y: one term is chosen
            return sp.Add(*(y * self._log(a) for y, a in chosen))
        if v in self.atoms.exp_argument:
            return self.atoms.exp_argument[v]
        if v.is_Mul and sum(not self._positive(f) for f in v.args) <= 1:
            return sp.Add(*(self._log(f) for f in v.args))
        if v.is_Pow and v.exp.is_Integer and (v.exp % 2 == 1 or self._positive(v.base)):
            return v.exp * self._log(v.base)
        return Log(v)

    def _selection(self, v: sp.Expr) -> list[tuple[sp.Symbol, sp.Expr]] | None:
        """[(y_c, a_c)] when v = Σ_c a_c y_c over every entry of one one-hot row (x[np.arange(N), y])."""
        if not v.is_Add or not self.rows:
            return None
        chosen: list[tuple[sp.Symbol, sp.Expr]] = []
        for term in v.args:
            labels = [f for f in sp.Mul.make_args(term) if f in self.rows]
            if len(labels) != 1:
                return None
            a = term / labels[0]
            if a.free_symbols & self.discrete:
                return None
            chosen.append((labels[0], a))
        labels = [y for y, _ in chosen]
        return chosen if len(set(labels)) == len(labels) and set(labels) == set(self.rows[labels[0]]) else None

    def intermediate(self, x: Array, name: str) -> Array:
        """Each entry of an op's result as a line atom (a max over an axis), so later ops see one symbol."""
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            out[index] = self.atoms.define(
                as_expr(x[index]), Label("apply", name, of=Label("entry", self.context, index))
            )
        return out

    def _positive(self, v: sp.Expr) -> bool:
        """Whether v > 0 wherever it is defined, by structure: exp atoms, positive ops' atoms (σ, softplus),
        positive numbers, and sums, products and integer powers of those; line atoms by their definition."""
        found = self._positives.get(v)
        if found is None:
            atoms = self.atoms
            if v.is_number:
                found = bool(v.is_positive)
            elif v in self.positive_symbols:
                found = True
            elif v in atoms.definition:
                found = self._positive(atoms.definition[v])
            elif v in atoms.exp_argument:
                found = True
            elif v in atoms.smooth:
                kind, argument = atoms.smooth[v]
                found = OPS[kind].positive or (kind == "sqrt" and self._positive(argument))
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
        """Element-wise relu(z) = mask(z) * z; relu(z) = z itself where z >= 0 at every value by structure (a
        positive multiple of a relu output, an exp): a second mask would be the first one again, and the normal
        form, which treats masks as free 0/1 symbols, could not know it."""
        count = self._relu_calls.get(self.context, 0)
        self._relu_calls[self.context] = count + 1
        tag = self.context if count == 0 else f"{self.context}_{count + 1}"
        out = np.empty(x.shape, dtype=object)
        for index in np.ndindex(x.shape):
            z = x[index]
            coefficient, rest = z.as_coeff_Mul() if isinstance(z, sp.Expr) else (sp.Integer(0), z)
            if coefficient.is_positive and self._nonnegative(rest):
                out[index] = z
                continue
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

    def total(self, x: Array, axis: int | None, keepdims: bool = False) -> Array:
        """The sum over `axis` (every axis if None), each entry one `sp.Add` of its terms: numpy's pairwise
        `+` would re-flatten the growing sum at every step (quadratic in the number of terms)."""
        x = np.asarray(x, dtype=object)
        if axis is None:
            out = np.asarray(sp.Add(*x.flat), dtype=object)
            return out.reshape((1,) * x.ndim) if keepdims else out
        moved = np.moveaxis(x, axis, -1)
        out = np.empty(moved.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = sp.Add(*moved[index])
        return np.expand_dims(out, axis) if keepdims else out


class NotNumeric(ValueError):
    """A declared (generic) function has no float value: the oracle cannot run on this model."""


class NumericBackend:
    """float64 evaluation: the independent oracle for finite differences."""

    dtype: Any = np.float64

    def const(self, value: Fraction) -> Array:
        """A float constant as a 0-d array."""
        return np.asarray(float(value))

    def pi(self) -> Array:
        """π as a float."""
        return np.asarray(np.pi)

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

    def intermediate(self, x: Array, name: str) -> Array:
        """Floats need no names for intermediate results."""
        return x

    def positive(self, x: Array) -> Array:
        """Element-wise indicator [x > 0] as 0.0/1.0."""
        return (x > 0).astype(np.float64)

    def function(self, name: str, order: int, x: Array) -> Array:
        """Generic functions have no numbers: the oracle is not available."""
        raise NotNumeric(f"'{name}' is a generic function")

    def scalar_function(self, name: str, x: Array) -> Array:
        """Generic functions have no numbers: the oracle is not available."""
        raise NotNumeric(f"'{name}' is a generic function")

    def total(self, x: Array, axis: int | None, keepdims: bool = False) -> Array:
        """numpy's sum."""
        return np.asarray(np.sum(x, axis=axis, keepdims=keepdims))
