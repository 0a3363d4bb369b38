"""Corrected formulas in the form a person writes them: `2 * reg * W2`, not `reg * W2 + reg * W2`.

The rewrites are identities of real arithmetic (x / a / (1 / a) = x, a + a = 2a, x + (-1)·y = x - y, 1·x = x,
a · (b / c) = a · b / c; products are element-wise, so they associate),
applied bottom-up until none applies. Nothing here decides: the tidy formula is the one the exact engine then
proves, so a rewrite that were wrong would cost a diagnosis, never a proof.
"""

from __future__ import annotations

from fractions import Fraction

from derive_check.derive.tree import Apply, Const, Node

ONE = Const(Fraction(1))


def tidy(node: Node) -> Node:
    """The formula with its arithmetic tidied (see the module)."""
    if not isinstance(node, Apply):
        return node
    node = Apply(node.op, tuple(tidy(a) for a in node.args), node.options)
    while True:
        tidier = _step(node)
        if tidier == node:
            return node
        if not isinstance(tidier, Apply):
            return tidier
        node = tidier


def _step(node: Apply) -> Node:
    op, args = node.op, node.args
    if op in ("add", "sub"):
        return _terms(node)
    if op == "mul" and len(args) == 2:
        a, b = args
        if a == ONE:
            return b
        if b == ONE:
            return a
        if a == Const(Fraction(-1)):
            return Apply("neg", (b,))
        for x, y in ((a, b), (b, a)):  # (x / y) · y = x
            if isinstance(x, Apply) and x.op == "div" and x.args[1] == y:
                return x.args[0]
        if isinstance(b, Apply) and b.op == "mul":  # a · (b · c) = a · b · c, read left to right
            return Apply("mul", (tidy(Apply("mul", (a, b.args[0]))), b.args[1]))
        if isinstance(b, Apply) and b.op == "div":  # a · (b / c) = a · b / c
            return Apply("div", (tidy(Apply("mul", (a, b.args[0]))), b.args[1]))
    if op == "div" and len(args) == 2:
        a, b = args
        if b == ONE:
            return a
        if isinstance(b, Const) and b.value != 0 and (1 / b.value).denominator == 1:  # x / (1/2) = 2 · x
            return Apply("mul", (Const(1 / b.value), a))
        if isinstance(b, Apply) and b.op == "div" and b.args[0] == ONE:  # x / (1 / y) = x · y
            return tidy(Apply("mul", (a, b.args[1])))
        if isinstance(a, Apply) and a.op == "mul" and b in a.args:  # (x · y) / y = x
            return a.args[1] if a.args[0] == b else a.args[0]
    return node


def _terms(node: Apply) -> Node:
    """A sum or difference with equal terms collected (a + a = 2·a, a + 3·a - a = 3·a) and negated terms
    subtracted (x + (-1)·y = x - y, x - -y = x + y)."""
    terms: list[tuple[Fraction, Node]] = []
    for term in _summands(node):
        k, base = _coefficient(term)
        for n, (j, other) in enumerate(terms):
            if other == base:
                terms[n] = (j + k, other)
                break
        else:
            terms.append((k, base))
    out: Node | None = None
    for k, base in terms:
        if k == 0:
            continue
        if out is None:
            out = _scaled(k, base)
        elif k < 0:
            out = Apply("sub", (out, _scaled(-k, base)))
        else:
            out = Apply("add", (out, _scaled(k, base)))
    return out if out is not None else Const(Fraction(0))


def _summands(node: Node) -> list[Node]:
    if isinstance(node, Apply) and node.op == "add":
        return [t for a in node.args for t in _summands(a)]
    if isinstance(node, Apply) and node.op == "sub":
        return [*_summands(node.args[0]), *(Apply("neg", (t,)) for t in _summands(node.args[1]))]
    return [node]


def _coefficient(term: Node) -> tuple[Fraction, Node]:
    """term = k · base with k a number: -x is (-1, x), 2·x is (2, x)."""
    if isinstance(term, Apply) and term.op == "neg":
        k, base = _coefficient(term.args[0])
        return -k, base
    if isinstance(term, Apply) and term.op == "mul" and isinstance(term.args[0], Const):
        k, base = _coefficient(term.args[1])
        return term.args[0].value * k, base
    return Fraction(1), term


def _scaled(k: Fraction, base: Node) -> Node:
    if k == 1:
        return base
    if k == -1:
        return Apply("neg", (base,))
    if isinstance(base, Apply) and base.op == "mul":  # 2 · (reg · W2) is written 2 * reg * W2
        return Apply("mul", (Apply("mul", (Const(k), base.args[0])), base.args[1]))
    return Apply("mul", (Const(k), base))
