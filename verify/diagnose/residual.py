"""The residual of a refuted claim as a matrix formula, `claim − dL/dX = R`, written in the file's language and proved.

A diagnosis comes with a corrected formula C that the exact engine PROVES equal to dL/dX, so claim − dL/dX is
exactly claim − C. That difference is written compactly by walking both trees from the root: while they apply the
same operator and it is linear in the operands where they differ — sums and differences (in each operand), negation,
products and quotients by a factor equal on both sides, matrix products, transposes, sums and means over an axis,
slices — the difference moves inside (A @ u − A @ v = A @ (u − v), (u + w) − (v + w) = u − v). Where the trees stop
agreeing, the difference of the two subtrees is written out: a common scalar factor is taken out
(u − u / N = (N − 1) / N · u, u − k·u = (1 − k)·u) and equal terms are collected (`verify.diagnose.tidy`).

Each step is an identity of linear algebra, but nothing rests on that: R is proved like any claim. The exact engine
proves claim − R equal to the true gradient at the stated sizes (so "claim − dL/dX = R" is a theorem there), and the
index engine is asked for the same statement at every size. A residual that is not proved is not shown.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.diagnose.tidy import tidy

ONE = Const(Fraction(1))
LINEAR_UNARY = frozenset({"neg", "transpose", "sum", "mean", "slice"})  # linear in their first operand


def matrix_residual(claim: Node, corrected: Node) -> Node:
    """claim − corrected, with the difference moved inside every shared linear operator (see the module)."""
    return tidy(_difference(claim, corrected))


def _difference(a: Node, b: Node) -> Node:
    if isinstance(a, Apply) and isinstance(b, Apply) and a.op == b.op and a.options == b.options:
        inside = _inside(a, b)
        if inside is not None:
            return inside
    return _written_out(a, b)


def _inside(a: Apply, b: Apply) -> Node | None:
    """The difference moved inside a shared linear operator, or None when the operator is not linear there."""
    op, same = a.op, [x == y for x, y in zip(a.args, b.args, strict=False)]
    if len(a.args) != len(b.args):
        return None
    if op in ("add", "sub"):
        left, right = _difference(a.args[0], b.args[0]), _difference(a.args[1], b.args[1])
        if same[0]:
            return right if op == "add" else Apply("neg", (right,))
        if same[1]:
            return left
        return Apply(op, (left, right))
    if op in LINEAR_UNARY and all(same[1:]):  # a slice's bounds, an axis option: the same on both sides
        return Apply(op, (_difference(a.args[0], b.args[0]), *a.args[1:]), a.options)
    if op in ("mul", "matmul") and same.count(True) == 1:
        k = same.index(False)
        args = list(a.args)
        args[k] = _difference(a.args[k], b.args[k])
        return Apply(op, tuple(args), a.options)
    if op == "div" and same == [False, True]:
        return Apply("div", (_difference(a.args[0], b.args[0]), a.args[1]))
    return None


def _written_out(a: Node, b: Node) -> Node:
    """a − b where the trees part: b = a / s gives (s − 1) / s · a, b = s · a gives (1 − s) · a; else a − b."""
    if isinstance(b, Apply) and b.op == "div" and b.args[0] == a and _scalar(b.args[1]):
        s = b.args[1]
        if isinstance(s, Const) and s.value != 0:
            return _times(1 - 1 / s.value, a)
        return Apply("mul", (Apply("div", (Apply("sub", (s, ONE)), s)), a))
    if isinstance(b, Apply) and b.op == "mul" and a in b.args:
        s = b.args[1] if b.args[0] == a else b.args[0]
        if _scalar(s):
            return _times(1 - s.value, a) if isinstance(s, Const) else Apply("mul", (Apply("sub", (ONE, s)), a))
    if isinstance(a, Apply) and a.op == "div" and a.args[0] == b and _scalar(a.args[1]):  # b / s − b
        s = a.args[1]
        if isinstance(s, Const) and s.value != 0:
            return _times(1 / s.value - 1, b)
        return Apply("mul", (Apply("div", (Apply("sub", (ONE, s)), s)), b))
    if isinstance(b, Apply) and b.op in ("add", "sub") and b.args[0] == a:  # a − (a ± t) = ∓t
        return Apply("neg", (b.args[1],)) if b.op == "add" else b.args[1]
    return Apply("sub", (a, b))


def _times(k: Fraction, a: Node) -> Node:
    """k · a for a number k, written -a for -1."""
    return Apply("neg", (a,)) if k == -1 else a if k == 1 else Apply("mul", (Const(k), a))


def _scalar(node: Node) -> bool:
    """A number or a size name, or arithmetic on them (the factors a constant-factor diagnosis writes)."""
    if isinstance(node, Const | Ref):
        return True
    return isinstance(node, Apply) and node.op in ("div", "mul", "neg", "add", "sub") and all(map(_scalar, node.args))


def proved_residual(claim: Node, corrected: Node, proves: Callable[[Node], bool]) -> Node | None:
    """The matrix residual R when `proves(claim − R)` (claim − R equals the true gradient), else None."""
    residual = matrix_residual(claim, corrected)
    if residual == Const(Fraction(0)):
        return None
    return residual if proves(Apply("sub", (claim, residual))) else None
