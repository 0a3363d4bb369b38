"""The registry of operations: one row per op, rules as data.

Each `OpRule` says how the op is spelled in formulas, how many operands and
which literal keyword options it takes, how it evaluates on either backend, and
how it prints in LaTeX. Evaluation is written once against numpy's array API:
numpy object arrays of SymPy expressions give the exact backend and float64
arrays give the finite-difference oracle, so `@`, broadcasting and `axis`
sums mean exactly what they mean in numpy. Only element-wise transcendental
functions and indicators differ between backends; they are `Backend` methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

Array = np.ndarray[Any, Any]


class Backend(Protocol):
    """What an evaluation backend supplies beyond numpy's array API."""

    dtype: Any

    def const(self, value: Fraction) -> Array: ...
    def exp(self, x: Array) -> Array: ...
    def log(self, x: Array) -> Array: ...
    def relu(self, x: Array) -> Array: ...
    def sigmoid(self, x: Array) -> Array: ...
    def tanh(self, x: Array) -> Array: ...
    def positive(self, x: Array) -> Array: ...
    def function(self, name: str, order: int, x: Array) -> Array: ...
    def scalar_function(self, name: str, x: Array) -> Array: ...


class OpShapeError(ValueError):
    """Operand shapes that cannot combine; the message states expected and actual."""


class OpDomainError(ValueError):
    """A value outside an operation's domain: division by zero, log of a non-positive number."""


def check_finite(op: str, value: Array) -> Array:
    """Refuse results that are undefined numbers (1/0, 0**-1, log 0): SymPy would carry them on as zoo/nan."""
    if value.dtype == object:
        import sympy as sp  # only the exact backend makes object arrays; parsing never needs SymPy

        for entry in value.flat:
            if isinstance(entry, sp.Basic) and (entry.has(sp.nan, sp.zoo, sp.oo, -sp.oo)):
                raise OpDomainError(
                    f"'{op}' gives an undefined value ({entry}) here: a division by zero or the "
                    f"log of a non-positive number"
                )
    return value


Options = dict[str, Any]
Impl = Callable[[Backend, list[Array], Options], Array]


@dataclass(frozen=True)
class OpRule:
    """How one operation parses, evaluates and prints."""

    name: str
    arity: int
    impl: Impl
    latex: str  # a str.format template over {0}, {1}, ... and option names
    options: tuple[str, ...] = ()
    spelling: str | None = None  # the function name in formulas, if it is called like one
    # arity -1: any number of operands (indexing)


def _broadcast(op: str, a: Array, b: Array) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise OpShapeError(f"operands of '{op}' have shapes {_fmt(a)} and {_fmt(b)}, which do not broadcast") from None


def _fmt(a: Array) -> str:
    return "scalar" if a.ndim == 0 else " x ".join(map(str, a.shape))


def _elementwise(op: str, fn: Callable[[Array, Array], Array]) -> Impl:
    def impl(be: Backend, xs: list[Array], opts: Options) -> Array:
        _broadcast(op, xs[0], xs[1])
        return np.asarray(fn(xs[0], xs[1]), dtype=be.dtype)

    return impl


def _matmul(be: Backend, xs: list[Array], opts: Options) -> Array:
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        raise OpShapeError(f"'@' needs matrices or vectors, got {_fmt(a)} @ {_fmt(b)}; use '*' for scalars")
    inner_a, inner_b = a.shape[-1], b.shape[0]
    if inner_a != inner_b:
        raise OpShapeError(f"'@' inner dimensions differ: {_fmt(a)} @ {_fmt(b)} (expected {inner_a} rows on the right)")
    return np.asarray(a @ b, dtype=be.dtype)


def _product(be: Backend, xs: list[Array], opts: Options) -> Array:
    """LaTeX's juxtaposition and \\cdot: a scalar times anything is element-wise, otherwise a matrix product."""
    a, b = xs
    if a.ndim == 0 or b.ndim == 0:
        return np.asarray(a * b, dtype=be.dtype)
    if a.shape[-1] != b.shape[0]:
        raise OpShapeError(
            f"a product of {_fmt(a)} and {_fmt(b)} is neither a scalar product nor a matrix product "
            f"(which needs {a.shape[-1]} = {b.shape[0]}); for an element-wise product write \\odot"
        )
    return _matmul(be, xs, opts)


def _power(be: Backend, xs: list[Array], opts: Options) -> Array:
    base, exponent = xs
    if exponent.ndim != 0:
        raise OpShapeError(f"'**' needs a scalar exponent, got shape {_fmt(exponent)}")
    return np.asarray(base**exponent, dtype=be.dtype)


def _axis(x: Array, opts: Options) -> int | None:
    axis = opts.get("axis")
    if axis is None:
        return None
    if not -x.ndim <= int(axis) < max(x.ndim, 1) or x.ndim == 0:
        raise OpShapeError(f"axis={axis} is out of range for shape {_fmt(x)}")
    return int(axis)


def _reduce(kind: str) -> Impl:
    def impl(be: Backend, xs: list[Array], opts: Options) -> Array:
        x = xs[0]
        axis = _axis(x, opts)
        total = np.asarray(np.sum(x, axis=axis), dtype=be.dtype)
        if kind == "mean":
            count = x.size if axis is None else x.shape[axis]
            total = np.asarray(total / be.const(Fraction(count)), dtype=be.dtype)
        return total

    return impl


def _softmax(be: Backend, xs: list[Array], opts: Options) -> Array:
    x = xs[0]
    axis = _axis(x, opts) if "axis" in opts else x.ndim - 1
    e = be.exp(x)
    return np.asarray(e / np.sum(e, axis=axis, keepdims=True), dtype=be.dtype)


def _transpose(be: Backend, xs: list[Array], opts: Options) -> Array:
    return np.asarray(xs[0].T, dtype=be.dtype)


def _unary(method: str) -> Impl:
    def impl(be: Backend, xs: list[Array], opts: Options) -> Array:
        return np.asarray(getattr(be, method)(xs[0]), dtype=be.dtype)

    return impl


def _gt(be: Backend, xs: list[Array], opts: Options) -> Array:
    _broadcast(">", xs[0], xs[1])
    return be.positive(np.asarray(xs[0] - xs[1], dtype=be.dtype))


def _neg(be: Backend, xs: list[Array], opts: Options) -> Array:
    return np.asarray(-xs[0], dtype=be.dtype)


def _leaky_relu(be: Backend, xs: list[Array], opts: Options) -> Array:
    alpha = be.const(Fraction(opts.get("alpha", Fraction(1, 100))))
    positive = be.relu(xs[0])  # shares the mask of relu(x): leaky = relu(x) + alpha (x - relu(x))
    return np.asarray(positive + alpha * (xs[0] - positive), dtype=be.dtype)


def _identity(be: Backend, xs: list[Array], opts: Options) -> Array:
    return xs[0]


def _entry(be: Backend, xs: list[Array], opts: Options) -> Array:
    """x[i] indexes the first axes: a row of a matrix; a column vector's z[j] is the scalar z[j, 0]."""
    base, indices = xs[0], [int(np.asarray(i).item()) for i in xs[1:]]
    if len(indices) > base.ndim:
        raise OpShapeError(f"{len(indices)} index(es) for shape {_fmt(base)}")
    if all(d == 1 for d in base.shape[len(indices) :]):
        indices += [0] * (base.ndim - len(indices))
    for i, size in zip(indices, base.shape, strict=False):
        if not 0 <= i < size:
            raise OpShapeError(f"index {i} is out of range for shape {_fmt(base)}")
    return np.asarray(base[tuple(indices)], dtype=be.dtype)


def _index_sum(be: Backend, xs: list[Array], opts: Options) -> Array:
    """Never called: `derive.exact.evaluate` evaluates the body once per index value (it binds the index)."""
    raise OpShapeError("index_sum is evaluated by the tree walker")


def _user_function(be: Backend, xs: list[Array], opts: Options) -> Array:
    return be.function(str(opts["name"]), int(opts["order"]), xs[0])


def _user_scalar(be: Backend, xs: list[Array], opts: Options) -> Array:
    return be.scalar_function(str(opts["name"]), xs[0])


RULES: dict[str, OpRule] = {
    rule.name: rule
    for rule in (
        OpRule("add", 2, _elementwise("+", lambda a, b: a + b), "{0} + {1}"),
        OpRule("sub", 2, _elementwise("-", lambda a, b: a - b), "{0} - {1}"),
        OpRule("mul", 2, _elementwise("*", lambda a, b: a * b), "{0} \\odot {1}"),
        OpRule("div", 2, _elementwise("/", lambda a, b: a / b), "\\frac{{{0}}}{{{1}}}"),
        OpRule("pow", 2, _power, "{0}^{{{1}}}"),
        OpRule("matmul", 2, _matmul, "{0} {1}"),
        OpRule("product", 2, _product, "{0} {1}"),
        OpRule("neg", 1, _neg, "-{0}"),
        OpRule("transpose", 1, _transpose, "{0}^\\top"),
        OpRule("gt", 2, _gt, "\\mathbf{{1}}[{0} > {1}]"),
        OpRule("sum", 1, _reduce("sum"), "\\operatorname{{sum}}({0})", ("axis",), "sum"),
        OpRule("mean", 1, _reduce("mean"), "\\operatorname{{mean}}({0})", ("axis",), "mean"),
        OpRule("exp", 1, _unary("exp"), "\\exp({0})", (), "exp"),
        OpRule("log", 1, _unary("log"), "\\log({0})", (), "log"),
        OpRule("relu", 1, _unary("relu"), "\\operatorname{{ReLU}}({0})", (), "relu"),
        OpRule("softmax", 1, _softmax, "\\operatorname{{softmax}}({0})", ("axis",), "softmax"),
        OpRule("sigmoid", 1, _unary("sigmoid"), "\\sigma({0})", (), "sigmoid"),
        OpRule("tanh", 1, _unary("tanh"), "\\tanh({0})", (), "tanh"),
        OpRule("leaky_relu", 1, _leaky_relu, "\\operatorname{{LeakyReLU}}({0})", ("alpha",), "leaky_relu"),
        OpRule("identity", 1, _identity, "{0}", (), "identity"),
        OpRule("entry", -1, _entry, "{0}_{{{indices}}}"),
        OpRule("index_sum", 1, _index_sum, "\\sum_{{{index}}} {0}", ("index", "size")),
        OpRule("function", 1, _user_function, "{name}({0})"),
        OpRule("scalar_function", 1, _user_scalar, "{name}({0})"),
    )
}

FUNCTIONS: dict[str, OpRule] = {r.spelling: r for r in RULES.values() if r.spelling}
