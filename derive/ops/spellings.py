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
    """maximum(a, b) = b + relu(a - b), exact at every value; maximum(x, 0) is relu(x) itself."""
    a, b = args
    if b == ZERO:
        return Apply("relu", (a,))
    if a == ZERO:
        return Apply("relu", (b,))
    return Apply("add", (b, Apply("relu", (Apply("sub", (a, b)),))))


def _minimum(args: list[Node], options: Options) -> Node:
    """minimum(a, b) = a - relu(a - b), exact at every value (minimum(x, 0) = x - relu(x), relu(x)'s own mask)."""
    a, b = args
    if a == ZERO:
        a, b = b, a
    return Apply("sub", (a, Apply("relu", (a if b == ZERO else Apply("sub", (a, b)),))))


def _clip(args: list[Node], options: Options) -> Node:
    """clip(x, lo, hi) = minimum(maximum(x, lo), hi), numpy's definition; with number bounds lo < hi it is
    lo + relu(x - lo) - relu(x - hi), the same function with one mask per bound."""
    x, lo, hi = args
    if isinstance(lo, Const) and isinstance(hi, Const) and lo.value < hi.value:
        rise = Apply("add", (lo, Apply("relu", (Apply("sub", (x, lo)),))))
        return Apply("sub", (rise, Apply("relu", (Apply("sub", (x, hi)),))))
    return _minimum([_maximum([x, lo], options), hi], options)


def is_indicator(node: Node) -> bool:
    """Whether a formula is a 0/1 indicator: a comparison, 1 - a comparison, or a product of indicators."""
    if not isinstance(node, Apply):
        return False
    if node.op == "gt":
        return True
    if node.op == "sub" and node.args[0] == ONE:
        return is_indicator(node.args[1])
    return node.op == "mul" and all(is_indicator(a) for a in node.args)


def _where(args: list[Node], options: Options) -> Node:
    """where(c, a, b) = c a + (1 - c) b for a 0/1 condition c: exact at every value."""
    c, a, b = args
    if not is_indicator(c):
        raise SpellingError("where(condition, a, b) needs a comparison as its condition, such as where(x > 0, a, b)")
    return Apply("add", (Apply("mul", (c, a)), Apply("mul", (Apply("sub", (ONE, c)), b))))


def _abs(args: list[Node], options: Options) -> Node:
    """abs(x) = x (2 [x > 0] - 1): exact at every value (both sides are 0 at x = 0)."""
    x = args[0]
    sign = Apply("sub", (Apply("mul", (Const(Fraction(2)), Apply("gt", (x, ZERO)))), ONE))
    return Apply("mul", (x, sign))


def _min(args: list[Node], options: Options) -> Node:
    """min(x, axis) = -max(-x, axis)."""
    return Apply("neg", (Apply("max", (Apply("neg", (args[0],)),), tuple(sorted(options.items()))),))


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
        Spelling(name="maximum", arity=2, doc="b + relu(a - b); maximum(x, 0) = relu(x)", build=_maximum),
        Spelling(name="minimum", arity=2, doc="a - relu(a - b)", build=_minimum),
        Spelling(name="clip", arity=3, doc="minimum(maximum(x, lo), hi)", build=_clip),
        Spelling(name="where", arity=3, doc="c * a + (1 - c) * b for a comparison c", build=_where),
        Spelling(name="abs", arity=1, doc="x * (2 * (x > 0) - 1)", build=_abs),
        Spelling(
            name="sign",
            arity=1,
            doc="(x > 0) - (x < 0)",
            build=lambda a, o: Apply("sub", (Apply("gt", (a[0], ZERO)), Apply("gt", (ZERO, a[0])))),
        ),
        Spelling(name="min", arity=1, doc="-max(-x, axis)", build=_min, options=("axis", "keepdims")),
        Spelling(name="zeros_like", arity=1, doc="0 * x", build=lambda a, o: Apply("mul", (ZERO, a[0]))),
        Spelling(
            name="ones_like",
            arity=1,
            doc="0 * x + 1",
            build=lambda a, o: Apply("add", (Apply("mul", (ZERO, a[0])), ONE)),
        ),
    )
}


def spelled(node: Node) -> tuple[str, list[Node]] | None:
    """The numpy spelling whose parse is exactly `node`, with its arguments, if there is one: the inverse of the
    builders above, for printers (`x * (2 * (x > 0) - 1)` prints as abs(x)). A match is accepted only when the
    spelling builds back the very tree, so what a printer shows parses to what was proved."""
    if not isinstance(node, Apply) or len(node.args) != 2:
        return None
    a, b = node.args
    guesses: list[tuple[str, list[Node]]] = []
    if node.op == "mul":
        guesses.append(("abs", [a]))
    if node.op == "sub" and isinstance(a, Apply) and a.op == "gt":
        guesses.append(("sign", [a.args[0]]))
    if node.op == "sub" and isinstance(b, Apply) and b.op == "relu":
        guesses.append(("minimum", [a, ZERO]))
    if node.op == "add" and isinstance(a, Apply) and a.op == "mul" and isinstance(b, Apply) and b.op == "mul":
        guesses.append(("where", [a.args[0], a.args[1], b.args[1]]))
    for name, args in guesses:
        try:
            if SPELLINGS[name].build(args, {}) == node:
                return name, args
        except SpellingError:
            continue
    return None
