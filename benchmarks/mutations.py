"""Mutants and equivalent rewrites of correct formulas, as rules over expression trees.

Mutation operators (each yields formulas that are *usually* wrong) and
equivalence rewrites (each yields formulas that are always equal) are data: a
name and a function from a subtree to replacements. Which mutants are really
wrong is not decided here, nor by the engine under test: `benchmarks.soundness`
asks an independent float64 finite-difference oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction

from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.diagnose.rewrites import positions

Rule = Callable[[Node], Iterator[Node]]
TWO, HALF = Const(Fraction(2)), Const(Fraction(1, 2))


def _op(node: Node, *ops: str) -> bool:
    return isinstance(node, Apply) and node.op in ops


def _drop_factor(n: Node) -> Iterator[Node]:
    if _op(n, "mul", "div", "matmul"):
        assert isinstance(n, Apply)
        yield n.args[0]
        if n.op != "div":
            yield n.args[1]


def _add_factor(n: Node) -> Iterator[Node]:
    if isinstance(n, Ref):
        yield Apply("mul", (TWO, n))
        yield Apply("div", (n, TWO))


def _swap_matmul(n: Node) -> Iterator[Node]:
    if _op(n, "matmul"):
        assert isinstance(n, Apply)
        yield Apply("matmul", (n.args[1], n.args[0]))


def _transpose_slip(n: Node) -> Iterator[Node]:
    if _op(n, "transpose"):
        assert isinstance(n, Apply)
        yield n.args[0]
    elif isinstance(n, Ref):
        yield Apply("transpose", (n,))


def _flip_sign(n: Node) -> Iterator[Node]:
    if _op(n, "add"):
        assert isinstance(n, Apply)
        yield Apply("sub", n.args)
    if _op(n, "sub"):
        assert isinstance(n, Apply)
        yield Apply("add", n.args)
        yield Apply("sub", (n.args[1], n.args[0]))


def _change_axis(n: Node) -> Iterator[Node]:
    if _op(n, "sum", "mean", "softmax") and n.option("axis") is not None:  # type: ignore[union-attr]
        assert isinstance(n, Apply)
        yield Apply(n.op, n.args, (("axis", 1 - int(n.option("axis"))),))  # type: ignore[arg-type]
        yield Apply(n.op, n.args)


def _drop_term(n: Node) -> Iterator[Node]:
    if _op(n, "add", "sub"):
        assert isinstance(n, Apply)
        yield n.args[0]
        yield n.args[1] if n.op == "add" else Apply("neg", (n.args[1],))


def _change_constant(n: Node) -> Iterator[Node]:
    if isinstance(n, Const) and n.value != 0:
        yield Const(n.value + 1)
        yield Const(n.value / 2)


def _swap_activation_derivative(n: Node) -> Iterator[Node]:
    if _op(n, "gt"):
        assert isinstance(n, Apply)
        h = n.args[0]
        yield Apply("mul", (h, Apply("sub", (Const(Fraction(1)), h))))  # sigmoid's s(1 - s)
        yield Apply("sub", (Const(Fraction(1)), Apply("pow", (h, TWO))))  # tanh's 1 - t^2
        yield Const(Fraction(1))  # identity's derivative: the mask dropped


MUTATIONS: dict[str, Rule] = {
    "drop a factor": _drop_factor,
    "add a factor": _add_factor,
    "swap operands of @": _swap_matmul,
    "drop/add a transpose": _transpose_slip,
    "flip a sign": _flip_sign,
    "change an axis": _change_axis,
    "drop a term": _drop_term,
    "change a constant": _change_constant,
    "replace the activation derivative": _swap_activation_derivative,
}


def _commute(n: Node) -> Iterator[Node]:
    if _op(n, "add", "mul"):
        assert isinstance(n, Apply)
        yield Apply(n.op, (n.args[1], n.args[0]))


def _transpose_product(n: Node) -> Iterator[Node]:
    if _op(n, "matmul"):  # A B = (B^T A^T)^T
        assert isinstance(n, Apply)
        a, b = n.args
        yield Apply("transpose", (Apply("matmul", (Apply("transpose", (b,)), Apply("transpose", (a,)))),))


def _distribute(n: Node) -> Iterator[Node]:
    if _op(n, "matmul", "mul", "div") and _op(n.args[0], "add", "sub"):  # type: ignore[union-attr]
        assert isinstance(n, Apply)
        inner = n.args[0]
        assert isinstance(inner, Apply)
        yield Apply(inner.op, (Apply(n.op, (inner.args[0], n.args[1])), Apply(n.op, (inner.args[1], n.args[1]))))


def _mean_for_sum(n: Node) -> Iterator[Node]:
    """sum(x, axis=0) / S = mean(x, axis=0) when S is the batch size (the oracle confirms which S are)."""
    if _op(n, "div") and _op(n.args[0], "sum") and isinstance(n.args[1], Ref):  # type: ignore[union-attr]
        assert isinstance(n, Apply) and isinstance(n.args[0], Apply)
        yield Apply("mean", n.args[0].args, n.args[0].options)


def _scale_round_trip(n: Node) -> Iterator[Node]:
    if isinstance(n, Ref):
        yield Apply("div", (Apply("mul", (n, TWO)), TWO))
        yield Apply("transpose", (Apply("transpose", (n,)),))


def _split_double(n: Node) -> Iterator[Node]:
    if _op(n, "mul") and n.args[0] == TWO:  # type: ignore[union-attr]
        assert isinstance(n, Apply)
        yield Apply("add", (n.args[1], Apply("mul", (n.args[1], Const(Fraction(1))))))


def _pre_activation_mask(n: Node, pre: dict[str, Node]) -> Iterator[Node]:
    if _op(n, "gt") and isinstance(n.args[0], Ref) and n.args[0].name in pre:  # type: ignore[union-attr]
        assert isinstance(n, Apply)
        yield Apply("gt", (pre[n.args[0].name], n.args[1]))  # type: ignore[union-attr]


EQUIVALENCES: dict[str, Rule] = {
    "a + b = b + a, a * b = b * a": _commute,
    "A @ B = (B.T @ A.T).T": _transpose_product,
    "(a + b) op c = a op c + b op c": _distribute,
    "x = (x * 2) / 2, x = x.T.T": _scale_round_trip,
    "sum(x, axis=0) / N = mean(x, axis=0)": _mean_for_sum,
    "2 * x = x + x * 1": _split_double,
}


def apply_everywhere(tree: Node, rules: dict[str, Rule]) -> Iterator[tuple[str, Node]]:
    """Every tree obtained by applying one rule at one position."""
    for sub, rebuild in positions(tree):
        for name, rule in rules.items():
            for replacement in rule(sub):
                yield name, rebuild(replacement)


def pre_activation_rule(pre: dict[str, Node]) -> dict[str, Rule]:
    """(h > 0) = (z > 0) for h = relu(z): the mask written on the pre-activation."""
    return {"[h > 0] = [z > 0] for h = relu(z)": lambda n: _pre_activation_mask(n, pre)}
