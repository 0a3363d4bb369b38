"""The numeric witness's own interpreter of the parsed expression tree, over mpmath.

It reads only the data types of `derive.tree` and implements every op's meaning itself (see
`verify.witness.arrays` for the array rules), so it shares no evaluation code with the proof engine.
Declared generic functions are instantiated as concrete random smooth functions with exact
derivatives: a claim proved for every f must hold for this f too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.witness.arrays import (
    Arr,
    Num,
    PointRejected,
    WitnessError,
    binary,
    entry,
    fmt,
    matmul,
    norm_axis,
    reduce_sum,
    size_of,
    transpose,
    unary,
)

MARGIN = 1e-3  # relu/leaky_relu arguments and '>' differences must be at least this far from 0
TINY = 1e-30  # no division by anything smaller


class Functions:
    """Concrete random instances of a file's declared functions, drawn once per witness run."""

    def __init__(self, ctx: Any, rng: random.Random, functions: Mapping[str, str], gradients: Mapping[str, str]):
        self.ctx = ctx
        self.rng = rng
        self.elementwise: dict[str, tuple[Num, ...]] = {}
        for name in sorted(n for n, kind in functions.items() if kind == "elementwise"):
            sign = rng.choice((-1, 1))
            draws = (sign * rng.uniform(0.5, 1.5), rng.uniform(0.5, 2), *(rng.uniform(-1, 1) for _ in range(3)))
            self.elementwise[name] = tuple(ctx.mpf(x) for x in draws)
        self.scalar: dict[str, tuple[Num, Num, list[Num], list[Num]]] = {
            name: (ctx.mpf(rng.uniform(-1, 1)), ctx.mpf(rng.uniform(-1, 1)), [], [])
            for name in sorted(n for n, kind in functions.items() if kind == "scalar")
        }
        self.gradient_names = {fn: g for g, fn in gradients.items()}

    def apply(self, name: str, order: int, x: Num) -> Num:
        """f(x) = a sin(bx + c) + d x + e x^2 and its exact derivatives (order 1: df, order 2: ddf)."""
        if name not in self.elementwise:
            raise WitnessError(f"'{name}' is not a declared element-wise function")
        a, b, c, d, e = self.elementwise[name]
        ctx = self.ctx
        if order == 0:
            return a * ctx.sin(b * x + c) + d * x + e * x * x
        if order == 1:
            return a * b * ctx.cos(b * x + c) + d + 2 * e * x
        if order == 2:
            return -a * b * b * ctx.sin(b * x + c) + 2 * e
        raise WitnessError(f"derivative of order {order} of '{name}' is not supported")

    def scalar_value(self, name: str, y: Arr) -> tuple[Num, Arr]:
        """F(y) = sum a_k y_k + sum b_k y_k^2 / 2 + c (sum y)^2 / 2 + d sum sin(y_k), and its exact gradient."""
        if name not in self.scalar:
            raise WitnessError(f"'{name}' is not a declared scalar function")
        c, d, a_k, b_k = self.scalar[name]
        ctx = self.ctx
        while len(a_k) < len(y.data):  # per-entry coefficients, extended deterministically as needed
            a_k.append(ctx.mpf(self.rng.uniform(-1, 1)))
            b_k.append(ctx.mpf(self.rng.uniform(0.2, 1.5)))
        total = ctx.fsum(y.data)
        value = (
            ctx.fsum(a_k[k] * v + b_k[k] * v * v / 2 + d * ctx.sin(v) for k, v in enumerate(y.data))
            + c * total * total / 2
        )
        grad = [a_k[k] + b_k[k] * v + c * total + d * ctx.cos(v) for k, v in enumerate(y.data)]
        return value, Arr(y.shape, grad)


class Interp:
    """Evaluates a tree in an environment of named arrays; `guard` rejects points near kinks."""

    def __init__(self, ctx: Any, sizes: Mapping[str, int], functions: Functions, guard: bool) -> None:
        self.ctx = ctx
        self.sizes = sizes
        self.functions = functions
        self.guard = guard
        self.gradients: dict[str, Arr] = {}  # gradient name -> gradient of its scalar function, as last evaluated
        self._consts: dict[Fraction, Arr] = {}
        self.margin = ctx.mpf(MARGIN) if guard else ctx.mpf(MARGIN) / 2
        self.tiny = ctx.mpf(TINY)

    def const(self, value: Fraction) -> Arr:
        """An exact rational as a rank-0 array."""
        if value not in self._consts:
            self._consts[value] = Arr((), [self.ctx.mpf(value.numerator) / value.denominator])
        return self._consts[value]

    def value(self, node: Node, env: Mapping[str, Arr], local: Mapping[str, int]) -> Arr:
        """The value of `node`; names resolve to index variables, then `env`, then sizes."""
        if isinstance(node, Const):
            return self.const(node.value)
        if isinstance(node, Ref):
            if node.name in local:
                return Arr((), [self.ctx.mpf(local[node.name])])
            if node.name in env:
                return env[node.name]
            if node.name in self.sizes:
                return Arr((), [self.ctx.mpf(self.sizes[node.name])])
            raise WitnessError(f"'{node.name}' has no value here")
        if not isinstance(node, Apply):
            raise WitnessError(f"unknown node {type(node).__name__}")
        if node.op == "index_sum":
            return self.index_sum(node, env, local)
        args = [self.value(a, env, local) for a in node.args]
        handler = _HANDLERS.get(node.op)
        if handler is None:
            raise WitnessError(f"the witness does not know the operation '{node.op}'")
        return handler(self, node, args)

    def index_sum(self, node: Apply, env: Mapping[str, Arr], local: Mapping[str, int]) -> Arr:
        """The sum over k < size of args[0] with the index variable bound to k."""
        var, size = node.option("index"), node.option("size")
        count = size if isinstance(size, int) else self.sizes.get(str(size))
        if not isinstance(var, str) or count is None:
            raise WitnessError(f"index_sum needs an index variable and a size, got {var!r}, {size!r}")
        total: Arr | None = None
        for k in range(count):
            term = self.value(node.args[0], env, {**local, var: k})
            total = term if total is None else binary(total, term, "+", lambda x, y: x + y)
        return total if total is not None else Arr((), [self.ctx.mpf(0)])

    def integer(self, a: Arr) -> int:
        """An index value: a rank-0 integer."""
        if a.shape:
            raise WitnessError(f"an index must be a scalar, got shape {fmt(a.shape)}")
        value = a.data[0]
        if value != int(value):
            raise WitnessError(f"an index must be an integer, got {value}")
        return int(value)

    def kink(self, x: Num) -> None:
        """Reject the point if a relu argument or '>' difference is near 0 but not exactly 0.

        An exact 0 is structural (`h > 0` for h = relu(a) where a < 0) and gives the convention relu'(0) = 0;
        if it moves under the perturbation, the perturbed evaluation (half the margin) rejects the point.
        """
        if x != 0 and abs(x) < self.margin:
            raise PointRejected(f"a relu argument or '>' difference is {self.ctx.nstr(x, 3)}, too close to 0")

    def denominator(self, x: Num) -> Num:
        """Reject divisions by (nearly) zero."""
        if abs(x) < self.tiny:
            raise PointRejected("a division by a number smaller than 1e-30")
        return x


def _div(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    return binary(xs[0], xs[1], "/", lambda a, b: a / it.denominator(b))


def _pow(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    base, exponent = xs
    if exponent.shape:
        raise WitnessError(f"'**' needs a scalar exponent, got shape {fmt(exponent.shape)}")
    e = exponent.data[0]
    if e == int(e):
        n = int(e)
        if n < 0:
            return unary(base, lambda x: 1 / it.denominator(x) ** (-n))
        return unary(base, lambda x: x**n)
    return unary(base, lambda x: it.ctx.power(x, e))


def _gt(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    one, zero = it.ctx.mpf(1), it.ctx.mpf(0)

    def indicator(a: Num, b: Num) -> Num:
        it.kink(a - b)
        return one if a > b else zero

    return binary(xs[0], xs[1], ">", indicator)


def _reduce(kind: str) -> Callable[[Interp, Apply, list[Arr]], Arr]:
    def impl(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
        axis = node.option("axis")
        total = reduce_sum(it.ctx, xs[0], None if axis is None else int(axis))
        if kind == "mean":
            count = size_of(xs[0].shape) if axis is None else xs[0].shape[norm_axis(xs[0], int(axis))]
            total = unary(total, lambda v: v / count)
        return total

    return impl


def _softmax(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    x = xs[0]
    if x.ndim == 0:
        raise WitnessError("softmax of a scalar")
    axis = norm_axis(x, int(node.option("axis", -1) or 0))
    e = unary(x, it.ctx.exp)
    return binary(e, reduce_sum(it.ctx, e, axis, keep=True), "/", lambda a, b: a / b)


def _log(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    def log(x: Num) -> Num:
        if x <= 0:
            raise PointRejected(f"log of a non-positive number ({it.ctx.nstr(x, 3)})")
        return it.ctx.log(x)

    return unary(xs[0], log)


def _relu(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    zero = it.ctx.mpf(0)

    def relu(x: Num) -> Num:
        it.kink(x)
        return x if x > 0 else zero

    return unary(xs[0], relu)


def _leaky(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    alpha = it.const(Fraction(node.option("alpha", Fraction(1, 100)) or 0)).data[0]

    def leaky(x: Num) -> Num:
        it.kink(x)
        return x if x > 0 else alpha * x

    return unary(xs[0], leaky)


def _product(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    if not xs[0].shape or not xs[1].shape:
        return binary(xs[0], xs[1], "*", lambda a, b: a * b)
    return matmul(it.ctx, xs[0], xs[1])


def _entry(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    return entry(xs[0], [it.integer(i) for i in xs[1:]])


def _function(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    name, order = str(node.option("name")), int(node.option("order", 0) or 0)
    return unary(xs[0], lambda x: it.functions.apply(name, order, x))


def _scalar_function(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    name = str(node.option("name"))
    value, grad = it.functions.scalar_value(name, xs[0])
    gradient = it.functions.gradient_names.get(name)
    if gradient is not None:
        it.gradients[gradient] = grad
    return Arr((), [value])


def _sigmoid(it: Interp, node: Apply, xs: list[Arr]) -> Arr:
    return unary(xs[0], lambda x: 1 / (1 + it.ctx.exp(-x)))


_HANDLERS: dict[str, Callable[[Interp, Apply, list[Arr]], Arr]] = {
    "add": lambda it, n, xs: binary(xs[0], xs[1], "+", lambda a, b: a + b),
    "sub": lambda it, n, xs: binary(xs[0], xs[1], "-", lambda a, b: a - b),
    "mul": lambda it, n, xs: binary(xs[0], xs[1], "*", lambda a, b: a * b),
    "div": _div,
    "pow": _pow,
    "matmul": lambda it, n, xs: matmul(it.ctx, xs[0], xs[1]),
    "product": _product,
    "neg": lambda it, n, xs: unary(xs[0], lambda a: -a),
    "transpose": lambda it, n, xs: transpose(xs[0]),
    "gt": _gt,
    "sum": _reduce("sum"),
    "mean": _reduce("mean"),
    "exp": lambda it, n, xs: unary(xs[0], it.ctx.exp),
    "log": _log,
    "relu": _relu,
    "leaky_relu": _leaky,
    "sigmoid": _sigmoid,
    "tanh": lambda it, n, xs: unary(xs[0], it.ctx.tanh),
    "identity": lambda it, n, xs: xs[0],
    "softmax": _softmax,
    "entry": _entry,
    "function": _function,
    "scalar_function": _scalar_function,
}
