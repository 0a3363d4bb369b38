"""The expression IR: `Ex` nodes, builders that simplify as they build (constants fold, scalars go first), and
tree walks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction

Dim = str | int
Shape = tuple[Dim, ...]


class Unsupported(Exception):
    """The emitter has no rule for this construction (the generator avoids it)."""


@dataclass(frozen=True)
class Ex:
    """One node: op, operands, and the data some ops carry (a name, a constant, an axis, alpha, a shape)."""

    op: str
    args: tuple[Ex, ...] = ()
    name: str = ""
    value: Fraction = Fraction(0)
    axis: int | None = None
    shape: Shape = ()


def dim_value(dim: Dim, sizes: dict[str, int]) -> int:
    """A dimension's value: an integer, a size, or k*size (the width of sliced gates, 2*H)."""
    text = str(dim)
    if text.isdigit():
        return int(text)
    k, _, name = text.rpartition("*")
    return (int(k) if k else 1) * sizes[name]


def var(name: str, shape: Shape) -> Ex:
    """A declared quantity, a forward line, a claim or a gradient name."""
    return Ex("var", name=name, shape=shape)


def size(name: str) -> Ex:
    """A size name used as a constant (`/ N`)."""
    return Ex("size", name=name)


def const(value: Fraction | int | str) -> Ex:
    """An exact constant."""
    return Ex("const", value=Fraction(value))


ONE, TWO, ZERO = const(1), const(2), const(0)


def _broadcast(a: Shape, b: Shape) -> Shape:
    out: list[Dim] = []
    for k in range(max(len(a), len(b))):
        x = a[len(a) - 1 - k] if k < len(a) else 1
        y = b[len(b) - 1 - k] if k < len(b) else 1
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            raise Unsupported(f"shapes {a} and {b} do not broadcast")
    return tuple(reversed(out))


def _is_const(e: Ex, value: int | Fraction | None = None) -> bool:
    return e.op == "const" and (value is None or e.value == value)


def add(a: Ex, b: Ex) -> Ex:
    """a + b (a + (-b) is written a - b)."""
    if b.op == "neg":
        return sub(a, b.args[0])
    return Ex("add", (a, b), shape=_broadcast(a.shape, b.shape))


def sub(a: Ex, b: Ex) -> Ex:
    """a - b."""
    if b.op == "neg":
        return add(a, b.args[0])
    return Ex("sub", (a, b), shape=_broadcast(a.shape, b.shape))


def neg(a: Ex) -> Ex:
    """-a, with double negation removed."""
    if a.op == "neg":
        return a.args[0]
    if _is_const(a):
        return const(-a.value)
    return Ex("neg", (a,), shape=a.shape)


def mul(a: Ex, b: Ex) -> Ex:
    """a * b, element-wise with broadcasting; scalar factors go first and constants fold."""
    if _is_const(a, 1):
        return b
    if _is_const(b, 1):
        return a
    if _is_const(a) and _is_const(b):
        return const(a.value * b.value)
    if b.shape == () and a.shape != ():
        return scale(a, b)
    if a.shape == () and b.shape != ():
        return scale(b, a)
    return Ex("mul", (a, b), shape=_broadcast(a.shape, b.shape))


def smul(a: Ex, b: Ex) -> Ex:
    """The product of two scalars, constants first."""
    if _is_const(b) and not _is_const(a):
        a, b = b, a
    if _is_const(a, 1):
        return b
    if _is_const(b, 1):
        return a
    if _is_const(a) and _is_const(b):
        return const(a.value * b.value)
    if b.op == "neg":
        return neg(smul(a, b.args[0]))
    if a.op == "neg":
        return neg(smul(a.args[0], b))
    return Ex("mul", (a, b))


def scale(x: Ex, k: Ex) -> Ex:
    """x times the scalar k, written the way people do: `2 * reg * W`, `(P - Y) / N`, `-x`."""
    if k.shape != ():
        raise Unsupported("scale by a non-scalar")
    if _is_const(k, 1):
        return x
    if _is_const(k, -1):
        return neg(x)
    if k.op == "neg":
        return neg(scale(x, k.args[0]))
    if k.op == "div":
        return div(scale(x, k.args[0]), k.args[1])
    if _is_const(k) and k.value.numerator == 1 and k.value > 0:
        return div(x, const(k.value.denominator))
    if _is_const(k) and k.value.numerator == -1:
        return neg(div(x, const(k.value.denominator)))
    if x.op == "neg":
        return neg(scale(x.args[0], k))
    if x.op == "mul" and x.args[0].shape == ():
        return Ex("mul", (smul(k, x.args[0]), x.args[1]), shape=x.shape)
    if x.shape == ():
        return smul(k, x)
    return Ex("mul", (k, x), shape=x.shape)


def div(a: Ex, b: Ex) -> Ex:
    """a / b."""
    if _is_const(b, 1):
        return a
    if _is_const(a, 0):
        return a
    return Ex("div", (a, b), shape=_broadcast(a.shape, b.shape))


def power(a: Ex, k: int) -> Ex:
    """a ** k for an integer k."""
    if k == 1:
        return a
    if k == 0:
        return ONE
    return Ex("pow", (a, const(k)), shape=a.shape)


def matmul(a: Ex, b: Ex) -> Ex:
    """a @ b for 2-D operands."""
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise Unsupported(f"matmul of {a.shape} and {b.shape}")
    return Ex("matmul", (a, b), shape=(a.shape[0], b.shape[1]))


def transpose(a: Ex) -> Ex:
    """a.T (and a.T.T = a)."""
    if a.op == "T":
        return a.args[0]
    if len(a.shape) < 2:
        return a
    return Ex("T", (a,), shape=tuple(reversed(a.shape)))


def reduce(kind: str, a: Ex, axis: int | None = None, keep: bool = False) -> Ex:
    """sum, mean or max, over all entries or one axis (`keep`: keepdims=True, the axis stays with length 1)."""
    if axis is None:
        shape: Shape = ()
    else:
        if axis >= len(a.shape):
            raise Unsupported("axis out of range")
        kept = [1 if k == axis else d for k, d in enumerate(a.shape)]
        shape = tuple(kept) if keep else tuple(d for k, d in enumerate(a.shape) if k != axis)
    return Ex(kind, (a,), axis=axis, shape=shape, name="keep" if keep and axis is not None else "")


def at_least(a: Ex, b: Ex) -> Ex:
    """The indicator (a >= b), broadcast."""
    return Ex("ge", (a, b), shape=_broadcast(a.shape, b.shape))


def columns(a: Ex, lo: Dim, hi: Dim, width: Dim, after: Dim) -> Ex:
    """a[:, lo:hi] of a matrix: `width` = hi - lo and `after` = (a's columns) - hi as dimension texts (bounds are
    size texts such as 2*H); the name keeps "lo:hi;lo;after" for printing and for the adjoint's zero padding."""
    if len(a.shape) != 2:
        raise Unsupported("column slices of matrices only")
    return Ex("slice", (a,), name=f"{lo}:{hi};{lo};{after}", shape=(a.shape[0], width))


def joined(parts: list[Ex], width: Dim) -> Ex:
    """np.concatenate(parts, axis=1) of matrices with the same rows."""
    return Ex("concat", tuple(parts), axis=1, shape=(parts[0].shape[0], width))


def zeros(shape: Shape) -> Ex:
    """np.zeros(shape)."""
    return Ex("zeros", shape=shape)


def call(op: str, a: Ex, name: str = "", value: Fraction | int = 0, axis: int | None = None) -> Ex:
    """An element-wise function (exp, log, relu, leaky, sigmoid, tanh, identity, fn, softmax, sfn)."""
    shape = () if op == "sfn" else a.shape
    return Ex(op, (a,), name=name, value=Fraction(value), axis=axis, shape=shape)


def mask(a: Ex) -> Ex:
    """The indicator (a > 0)."""
    return Ex("gt", (a, ZERO), shape=a.shape)


def entry(a: Ex, indices: str) -> Ex:
    """a[i, j] with index variables or integers (for entry claims)."""
    return Ex("entry", (a,), name=indices, shape=())


def ones_like(e: Ex) -> Ex:
    """A matrix of ones shaped like e, written in the language as `0 * e + 1`."""
    return Ex("add", (Ex("mul", (ZERO, e), shape=e.shape), ONE), shape=e.shape)


def nodes(e: Ex) -> Iterator[Ex]:
    """Every node of e, pre-order."""
    yield e
    for a in e.args:
        yield from nodes(a)


def names_in(e: Ex) -> set[str]:
    """The variable names e uses."""
    return {n.name for n in nodes(e) if n.op == "var"}


def positions(e: Ex) -> Iterator[tuple[Ex, Callable[[Ex], Ex]]]:
    """Every subtree with a function that rebuilds the whole tree with that subtree replaced."""
    yield e, lambda r: r
    for k, a in enumerate(e.args):
        for sub_tree, rebuild in positions(a):

            def again(r: Ex, k: int = k, rebuild: Callable[[Ex], Ex] = rebuild) -> Ex:
                """The whole tree with this subtree replaced by r."""
                args = list(e.args)
                args[k] = rebuild(r)
                return replace(e, args=tuple(args))

            yield sub_tree, again


def substitute(e: Ex, table: dict[Ex, Ex]) -> Ex:
    """e with every subtree found in `table` replaced (outermost first)."""
    if e in table:
        return table[e]
    if not e.args:
        return e
    return replace(e, args=tuple(substitute(a, table) for a in e.args))
