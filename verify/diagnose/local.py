"""Local derivatives of the forward pass, as formulas: what `f'(u)` is where a claim writes it wrong.

A *piece* is an element-wise sub-formula of a forward line: the whole line `out = 0.5 * x * (1 + t)`, or the
argument of the loss's `np.sum(...)`. Its derivative in one name u is taken by the chain rule on the tree,
through earlier element-wise lines: `t = tanh(...)` is differentiated as `1 - t ** 2`, in the line's own name, as
a person writes it. A reduction, a product `@`, a softmax or an entry ends a piece (its derivative is not
element-wise), and a piece that contains one is not differentiated at all.

Nothing here decides. A derivative is only part of a candidate reading, and a reading is shown only when the
exact engine proves its corrected formula; a rule here that were wrong would cost a diagnosis, never give a wrong
one. The rules are the op table's own `derivative` formulas plus the sum, product and quotient rules; the
comparison `>` (and so `where`, `abs`, `sign`, which parse into it) is constant wherever it is differentiable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction

from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.spec import Kind
from derive_check.derive.ops.spellings import SPELLINGS, spelled
from derive_check.derive.ops.table import OPS, derivative_at
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref, refs, walk

ZERO, ONE = Const(Fraction(0)), Const(Fraction(1))


@dataclass(frozen=True)
class Local:
    """d piece / d u: the derivative of one element-wise piece of line `line` in the name `wrt`."""

    line: str
    piece: str  # the piece as the file writes it: the line's name, or the sub-formula's text (np.abs(w))
    wrt: str
    derivative: Node
    names: frozenset[str]  # the names the piece reaches through its chain: a written slope may use only these
    through: frozenset[str]  # those of them that are `wrt` or reach it: a written slope reads one
    slope: str = ""  # "tanh'(z)" when the piece is a line h = tanh(z) taken in z itself: its derivative is that slope


class NotElementwise(Exception):
    """A piece holds an op whose derivative is not element-wise (a reduction, @, softmax, an entry)."""


def upstream_of(spec: ModelSpec) -> dict[str, frozenset[str]]:
    """For each forward line, every name it depends on, through every line (not only element-wise ones)."""
    up: dict[str, frozenset[str]] = {}
    for line in spec.forward:
        names = refs(line.expr)
        up[line.name] = frozenset(names.union(*(up.get(n, frozenset()) for n in names)))
    return up


def locals_of(spec: ModelSpec) -> tuple[Local, ...]:
    """Every piece's derivative in every name it reads, once each. A name a piece reaches also through a line
    that is not element-wise (m = mean(x) in y = x * m) has no local derivative: the chain rule here would give
    the partial with that line held fixed, not the derivative."""
    lines = {line.name: line.expr for line in spec.forward}
    chained = {name: expr for name, expr in lines.items() if _elementwise(expr)}
    up = upstream_of(spec)
    out: dict[tuple[str, str, Node], Local] = {}
    for line in spec.forward:
        own = _own_slope(line.name, line.expr)
        if own is not None:
            out[(line.name, own.wrt, own.derivative)] = own
        for piece in _pieces(line.expr):
            reach = _reach(piece, chained) | ({line.name} if piece is line.expr else set())  # t = tanh(..): 1 - t ** 2
            opaque = [n for n in reach if n in lines and n not in chained and n != line.name]
            start, end = piece.span
            text = line.name if piece is line.expr else line.text[start:end] if end > start else ""
            for u in [*sorted(refs(piece)), *sorted(reach - refs(piece))]:
                if u in spec.sizes or not text or any(u in up[n] for n in opaque):
                    continue
                if u in chained and u not in refs(piece):
                    continue  # a name inside the chain: its own piece says it
                try:
                    d = Chain(chained, line.name if piece is line.expr else "").partial(piece, u)
                except NotElementwise:
                    continue
                if refs(d) and (line.name, u, d) not in out:  # a number is no slope a claim writes in names
                    through = frozenset(n for n in reach if u in _reach(Ref(n), chained))
                    slope = _slope_name(piece, u) if piece is line.expr else ""
                    out[(line.name, u, d)] = Local(line.name, text, u, d, frozenset(reach), through, slope)
    return tuple(out.values())


def _own_slope(name: str, expr: Node) -> Local | None:
    """h = op(v) for a smooth element-wise op: op'(v) written in h, whatever v is (tanh(x @ W): 1 - h ** 2)."""
    if not (isinstance(expr, Apply) and _smooth(expr)):
        return None
    slope = derivative_at(expr, Ref(name))
    if refs(slope) != {name}:
        return None  # log'(v) = 1 / v reads v, not h: no slope in the line's own name
    argument = to_text(expr.args[0])
    return Local(name, name, argument, slope, frozenset({name}), frozenset({name}), f"{expr.op}'({argument})")


def _slope_name(piece: Node, u: str) -> str:
    """op'(u) for a piece op(u) of a smooth element-wise op applied to the name itself, else ''."""
    if isinstance(piece, Apply) and _smooth(piece) and piece.args[0] == Ref(u):
        return f"{piece.op}'({u})"
    return ""


def _pieces(expr: Node) -> Iterator[Node]:
    """The maximal element-wise sub-formulas of a line that read a name (the line, or what its sums add up)."""
    if _elementwise(expr):
        if isinstance(expr, Apply) and refs(expr):
            yield expr
        return
    if isinstance(expr, Apply):
        for arg in expr.args:
            yield from _pieces(arg)


def _elementwise(expr: Node) -> bool:
    return all(not isinstance(n, Apply) or n.op in ELEMENTWISE or _smooth(n) for n in walk(expr))


def _smooth(node: Apply) -> bool:
    op = OPS.get(node.op)
    return op is not None and op.kind is Kind.SMOOTH and op.arity == 1 and op.derivative is not None


def _reach(piece: Node, chained: Mapping[str, Node]) -> set[str]:
    """The names a piece reads, directly or through the element-wise lines it reads."""
    seen: set[str] = set()
    todo = list(refs(piece))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += refs(chained[name]) if name in chained else []
    return seen


class Chain:
    """The chain rule on trees, through the element-wise lines `chained`."""

    def __init__(self, chained: Mapping[str, Node], own: str) -> None:
        self.chained, self.own = chained, own  # own: the line whose whole expression is differentiated, if any

    def partial(self, node: Node, u: str, root: bool = True) -> Node:
        """d node / d u (see the module); `root` marks the line's whole expression, whose value is the line's name."""
        if isinstance(node, Const):
            return ZERO
        if isinstance(node, Ref):
            if node.name == u:
                return ONE
            if node.name in self.chained:
                return Chain(self.chained, node.name).partial(self.chained[node.name], u)
            return ZERO
        if not isinstance(node, Apply):
            raise NotElementwise(type(node).__name__)
        own: Node = Ref(self.own) if root and self.own else node  # the value of node, by name where it has one
        known = self._known(node, u, own)
        if known is not None:
            return known
        a = node.args
        d = [self.partial(arg, u, root=False) for arg in a] if node.op != "gt" else []
        if node.op == "add":
            return plus(d[0], d[1])
        if node.op == "sub":
            return plus(d[0], neg(d[1]))
        if node.op == "neg":
            return neg(d[0])
        if node.op == "mul":
            return plus(times(d[0], a[1]), times(a[0], d[1]))
        if node.op == "div":
            return plus(over(d[0], a[1]), neg(over(times(a[0], d[1]), Apply("pow", (a[1], Const(Fraction(2)))))))
        if node.op == "gt":
            return ZERO
        if node.op == "relu":
            return times(Apply("gt", (a[0], ZERO)), d[0])
        if node.op == "leaky_relu":
            alpha = Const(Fraction(node.option("alpha", Fraction(1, 100))))  # type: ignore[arg-type]
            slope = plus(alpha, times(Const(1 - alpha.value), Apply("gt", (a[0], ZERO))))
            return times(slope, d[0])
        if node.op == "pow" and isinstance(a[1], Const):
            return times(times(a[1], _power(a[0], a[1].value - 1)), d[0])
        if _smooth(node):
            return times(derivative_at(node, own), d[0])
        raise NotElementwise(node.op)

    def _known(self, node: Apply, u: str, own: Node) -> Node | None:
        """The derivatives a person writes in a known form: abs' is sign, where's is a where, and the logistic
        1 / (1 + exp(-v)) has slope s * (1 - s) in its own value s."""
        sugar = spelled(node)
        if sugar is not None and sugar[0] == "abs":
            return times(SPELLINGS["sign"].build([sugar[1][0]], {}), self.partial(sugar[1][0], u, root=False))
        if sugar is not None and sugar[0] == "where":
            c, x, y = sugar[1]
            dx, dy = self.partial(x, u, root=False), self.partial(y, u, root=False)
            return ZERO if dx == dy == ZERO else SPELLINGS["where"].build([c, dx, dy], {})
        v = _logistic(node)
        if v is not None:
            return times(times(own, Apply("sub", (ONE, own))), self.partial(v, u, root=False))
        return None


def _logistic(node: Apply) -> Node | None:
    """v when node is 1 / (1 + exp(-v)), the logistic function written out."""
    if node.op != "div" or node.args[0] != ONE:
        return None
    bottom = node.args[1]
    if not (isinstance(bottom, Apply) and bottom.op == "add" and bottom.args[0] == ONE):
        return None
    power = bottom.args[1]
    if isinstance(power, Apply) and power.op == "exp":
        inner = power.args[0]
        if isinstance(inner, Apply) and inner.op == "neg":
            return inner.args[0]
    return None


ELEMENTWISE = frozenset({"add", "sub", "neg", "mul", "div", "gt", "relu", "leaky_relu", "pow"})


def _power(base: Node, k: Fraction) -> Node:
    return ONE if k == 0 else base if k == 1 else Apply("pow", (base, Const(k)))


def plus(a: Node, b: Node) -> Node:
    """a + b, without a zero term; a + (-b) is a - b, and 1 - (1 - c) is c (a `where` of a `<=`)."""
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    if isinstance(b, Apply) and b.op == "neg":
        inner = b.args[0]
        if isinstance(inner, Apply) and inner.op == "sub" and inner.args[0] == a:
            return inner.args[1]
        return Apply("sub", (a, inner))
    return Apply("add", (a, b))


def neg(a: Node) -> Node:
    """-a, without a double sign."""
    if isinstance(a, Const):
        return Const(-a.value)
    return a.args[0] if isinstance(a, Apply) and a.op == "neg" else Apply("neg", (a,))


def times(a: Node, b: Node) -> Node:
    """a · b as a person writes it: numbers multiplied out and put first, a sign in front, no factor 1, the
    divisors of either side under one fraction bar."""
    coefficient, tops, bottoms = Fraction(1), [], []
    for part in (a, b):
        c, top, bottom = _split(part)
        coefficient *= c
        tops += top
        bottoms += bottom
    if coefficient == 0:
        return ZERO
    out = _product([Const(abs(coefficient))] if abs(coefficient) != 1 or not tops else [], tops)
    if bottoms:
        out = Apply("div", (out, _product([], bottoms)))
    return neg(out) if coefficient < 0 else out


def _split(node: Node) -> tuple[Fraction, list[Node], list[Node]]:
    """A product as (number, factors, divisors): 2 * x / (1 + y) is (2, [x], [1 + y])."""
    if isinstance(node, Const):
        return node.value, [], []
    if isinstance(node, Apply) and node.op == "neg":
        c, top, bottom = _split(node.args[0])
        return -c, top, bottom
    if isinstance(node, Apply) and node.op == "mul":
        (c1, t1, b1), (c2, t2, b2) = _split(node.args[0]), _split(node.args[1])
        return c1 * c2, t1 + t2, b1 + b2
    if isinstance(node, Apply) and node.op == "div" and not isinstance(node.args[1], Const):
        c, top, bottom = _split(node.args[0])
        return c, top, [*bottom, node.args[1]]
    return Fraction(1), [node], []


def _product(first: list[Node], factors: list[Node]) -> Node:
    items = [*first, *factors] or [ONE]
    out = items[0]
    for f in items[1:]:
        out = Apply("mul", (out, f))
    return out


def over(a: Node, b: Node) -> Node:
    """a / b, without dividing 0 or by 1; a number over b is written (number / b)."""
    if a == ZERO or b == ONE:
        return a
    if isinstance(a, Apply) and a.op == "neg":
        return neg(over(a.args[0], b))
    return Apply("div", (a, b))
