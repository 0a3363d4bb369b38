"""The numeric witness's own interpreter of the parsed expression tree, over mpmath.

It reads the tree's data types and, from the op table, only each op's `witness` facet: the op's meaning written
a second time, over this interpreter's own mpmath arrays (`verify.witness.arrays`, numpy's documented rules
re-implemented), never the `evaluate` facet, the backends or SymPy. So the witness shares no evaluation code with
the proof engine, and adding an op to the table gives the witness its meaning in the same place.
Declared generic functions are instantiated as concrete random smooth functions with exact
derivatives: a claim proved for every f must hold for this f too.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from derive_check.derive.ops.table import witness_rule
from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.witness.arrays import (
    Arr,
    Num,
    PointRejected,
    Undefined,
    WitnessError,
    binary,
    concat,
    entry,
    fmt,
    matmul,
    norm_axis,
    reduce_sum,
    select,
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
        if node.op == "index_sum":  # the one op that binds an index: its body is evaluated once per value
            return self.index_sum(node, env, local)
        rule = witness_rule(node.op)
        if rule is None:
            raise WitnessError(f"the witness does not know the operation '{node.op}'")
        result: Arr = rule(self, node, [self.value(a, env, local) for a in node.args])
        return result

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
        value = self.scalar(a, "an index must be a scalar")
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
        """A division by 0 has no value; one by a number below 1e-30 in size only rejects the point (a softmax
        probability or 1 - sigmoid(z) can be that small where everything is defined)."""
        if x == 0:
            raise Undefined("a division by 0")
        if abs(x) < self.tiny:
            raise PointRejected("a division by a number smaller than 1e-30")
        return x

    def log(self, x: Num) -> Num:
        """The natural log; a non-positive argument has no value."""
        return self.ctx.log(self.positive_argument(x, "log"))

    def positive_argument(self, x: Num, op: str) -> Num:
        """x itself, where an op defined (and differentiable) for positive arguments only may take it."""
        if x <= 0:
            raise Undefined(f"{op} of a non-positive number ({self.ctx.nstr(x, 3)})")
        return x

    # The arithmetic the op table's `witness` facets use (`derive.ops.spec.WitnessArith`), on this module's arrays.

    def unary(self, x: Arr, fn: Callable[[Num], Num]) -> Arr:
        """An element-wise function."""
        return unary(x, fn)

    def binary(self, a: Arr, b: Arr, symbol: str, fn: Callable[[Num, Num], Num]) -> Arr:
        """An element-wise binary operation with numpy's broadcasting."""
        return binary(a, b, symbol, fn)

    def matmul(self, a: Arr, b: Arr) -> Arr:
        """numpy's @ on vectors and matrices."""
        return matmul(self.ctx, a, b)

    def transpose(self, a: Arr) -> Arr:
        """Axes reversed."""
        return transpose(a)

    def reduce_sum(self, a: Arr, axis: int | None, keep: bool = False) -> Arr:
        """The sum over an axis, or of all entries."""
        return reduce_sum(self.ctx, a, axis, keep)

    def reduce(self, a: Arr, axis: int | None, keep: bool, fold: Callable[[list[Num]], Num]) -> Arr:
        """A fold (a max) over an axis, or of all entries."""
        return reduce_sum(self.ctx, a, axis, keep, fold)

    def concat(self, parts: list[Arr], axis: int) -> Arr:
        """numpy's concatenate along an existing axis."""
        return concat(parts, axis)

    def select(self, a: Arr, keys: list[int | range | None]) -> Arr:
        """numpy's basic indexing: per axis an integer, a range of positions, or None (a new axis)."""
        return select(a, keys)

    def reshape(self, a: Arr, shape: tuple[int, ...]) -> Arr:
        """The same entries under another shape of the same size."""
        if size_of(shape) != len(a.data):
            raise WitnessError(f"cannot reshape {fmt(a.shape)} to {fmt(shape)}")
        return Arr(shape, a.data)

    def count(self, a: Arr, axis: int | None) -> int:
        """How many entries a reduction over `axis` adds up."""
        return size_of(a.shape) if axis is None else a.shape[norm_axis(a, axis)]

    def rank(self, a: Arr) -> int:
        """The number of axes."""
        return a.ndim

    def axis(self, a: Arr, axis: int) -> int:
        """A possibly negative axis as a position."""
        return norm_axis(a, axis)

    def entry(self, a: Arr, indices: list[Arr]) -> Arr:
        """a[i, j, ...] at integer index values."""
        return entry(a, [self.integer(i) for i in indices])

    def scalar(self, a: Arr, message: str) -> Num:
        """The value of a rank-0 array."""
        if a.shape:
            raise WitnessError(f"{message}, got shape {fmt(a.shape)}")
        return a.data[0]

    def declared(self, name: str, order: int, x: Num) -> Num:
        """A declared element-wise function's random concrete instance (or its derivative)."""
        return self.functions.apply(name, order, x)

    def declared_scalar(self, name: str, y: Arr) -> Arr:
        """A declared scalar function's random concrete instance; its exact gradient is kept for the file's name."""
        value, grad = self.functions.scalar_value(name, y)
        gradient = self.functions.gradient_names.get(name)
        if gradient is not None:
            self.gradients[gradient] = grad
        return Arr((), [value])

    def fail(self, message: str) -> Exception:
        """The error for a formula the witness cannot evaluate at these sizes."""
        return WitnessError(message)
