"""numpy spellings that are not ops of their own: each is rewritten, when parsed, into a tree of table ops.

`np.square(x)` is `x ** 2`, `np.dot(a, b)` is `a @ b`, `np.maximum(x, 0)` is `relu(x)`: exact identities, so a
spelling adds no meaning and needs no facet of any engine. Each entry checks its arguments and says what is
supported when they are not (`np.maximum(a, b)` of two quantities is not a ReLU).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from derive_check.derive.tree import Apply, Const, Node

ONE, ZERO = Const(Fraction(1)), Const(Fraction(0))
Options = dict[str, int | Fraction | str]


class SpellingError(ValueError):
    """Arguments a spelling does not support; the message names the supported form."""


@dataclass(frozen=True, kw_only=True)
class Spelling:
    """A numpy function name read as a tree of ops of the table."""

    name: str
    arity: int
    doc: str
    build: Callable[[list[Node], Options], Node]
    options: tuple[str, ...] = ()  # keyword options, as the ops' (axis=0, keepdims=True)


def _maximum(args: list[Node], options: Options) -> Node:
    a, b = args
    if b == ZERO:
        return Apply("relu", (a,))
    if a == ZERO:
        return Apply("relu", (b,))
    raise SpellingError("maximum(x, 0) (a ReLU) is supported; the maximum of two quantities is not yet")


def _power(args: list[Node], options: Options) -> Node:
    return Apply("pow", (args[0], args[1]))


def _variance(args: list[Node], options: Options) -> Node:
    """var(x, axis) = mean((x - mean(x, axis, keepdims=True)) ** 2, axis): the population variance (ddof = 0)."""
    axis = tuple((k, v) for k, v in options.items() if k == "axis")
    centred = Apply("sub", (args[0], Apply("mean", (args[0],), (*axis, ("keepdims", 1)))))
    square = Apply("pow", (centred, Const(Fraction(2))))
    return Apply("mean", (square,), tuple(sorted(options.items())))


SPELLINGS: dict[str, Spelling] = {
    s.name: s
    for s in (
        Spelling(name="dot", arity=2, doc="a @ b", build=lambda a, o: Apply("matmul", (a[0], a[1]))),
        Spelling(name="matmul", arity=2, doc="a @ b", build=lambda a, o: Apply("matmul", (a[0], a[1]))),
        Spelling(name="transpose", arity=1, doc="x.T", build=lambda a, o: Apply("transpose", (a[0],))),
        Spelling(name="square", arity=1, doc="x ** 2", build=lambda a, o: Apply("pow", (a[0], Const(Fraction(2))))),
        Spelling(name="power", arity=2, doc="x ** k", build=_power),
        Spelling(name="reciprocal", arity=1, doc="1 / x", build=lambda a, o: Apply("div", (ONE, a[0]))),
        Spelling(
            name="log1p", arity=1, doc="log(1 + x)", build=lambda a, o: Apply("log", (Apply("add", (ONE, a[0])),))
        ),
        Spelling(
            name="expm1", arity=1, doc="exp(x) - 1", build=lambda a, o: Apply("sub", (Apply("exp", (a[0],)), ONE))
        ),
        Spelling(
            name="var",
            arity=1,
            doc="mean((x - x.mean(axis, keepdims=True)) ** 2, axis)",
            build=_variance,
            options=("axis", "keepdims"),
        ),
        Spelling(
            name="std",
            arity=1,
            doc="sqrt(var(x, axis))",
            build=lambda a, o: Apply("sqrt", (_variance(a, o),)),
            options=("axis", "keepdims"),
        ),
        Spelling(name="maximum", arity=2, doc="maximum(x, 0) = relu(x)", build=_maximum),
        Spelling(name="zeros_like", arity=1, doc="0 * x", build=lambda a, o: Apply("mul", (ZERO, a[0]))),
        Spelling(
            name="ones_like",
            arity=1,
            doc="0 * x + 1",
            build=lambda a, o: Apply("add", (Apply("mul", (ZERO, a[0])), ONE)),
        ),
    )
}
