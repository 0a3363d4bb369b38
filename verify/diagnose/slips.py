"""Readings for the slips people make in one place of a formula: a sign, an operator, a factor, a quantity.

Each rule yields (words, corrected tree) pairs, like `verify.diagnose.rewrites`; nothing here decides. A reading
is shown only when the exact engine PROVES its corrected formula, so a rule that proposes nonsense costs a
little search time (the search tries a bounded number of readings per claim), never a wrong diagnosis.

- operands of a subtraction swapped (y - p for p - y), or one term's sign flipped;
- a scalar multiplying where it divides, or dividing where it multiplies (dropout's p);
- a term missing a scalar factor (Huber's delta on one branch), or the formula missing a quantity as a factor
  (the upstream gradient dout);
- a run of factors that does not belong (an extra sigmoid' in p * (1 - p));
- one quantity written where another belongs (xc for xhat).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fractions import Fraction

from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref
from derive_check.verify.diagnose.rewrites import Candidate, Vocabulary, positions, windows
from derive_check.verify.diagnose.tidy import tidy

ONE, TWO = Const(Fraction(1)), Const(Fraction(2))
SHORT = 40  # a sub-formula longer than this is called "a term" in the words


def _named(node: Node) -> str:
    """A sub-formula as the words show it: its text when short, else "a term"."""
    text = to_text(tidy(node))  # the same value as the claim writes it, tidied: (abs(r) > delta), not 1 - (... <= ...)
    return text if len(text) <= SHORT else "a term"


def slips(tree: Node, model: Vocabulary, scalars: list[str]) -> Iterator[Candidate]:
    """Every one-place slip reading of `tree` (see the module)."""
    names = [*scalars, *model.sizes]
    for sub, rebuild in positions(tree):
        if isinstance(sub, Apply) and sub.op == "sub":
            a, b = sub.args
            yield f"operands of - swapped: {_named(b)} - {_named(a)}", rebuild(Apply("sub", (b, a)))
        if isinstance(sub, Apply) and sub.op in ("add", "sub"):
            for k in (0, 1):
                args = list(sub.args)
                args[k] = Apply("neg", (args[k],))
                yield f"the sign of {_named(sub.args[k])} flipped", rebuild(Apply(sub.op, tuple(args)))
                for name in names:
                    for op, words in (("mul", f"missing a factor {name}"), ("div", f"missing a factor 1/{name}")):
                        args = list(sub.args)
                        args[k] = Apply(op, (args[k], Ref(name)))
                        yield f"{_named(sub.args[k])} {words}", rebuild(Apply(sub.op, tuple(args)))
        divisor = sub.args[1] if isinstance(sub, Apply) and sub.op in ("mul", "div") else None
        if isinstance(sub, Apply) and isinstance(divisor, Ref) and divisor.name in names:
            other, verb, should = ("div", "multiplies", "divide") if sub.op == "mul" else ("mul", "divides", "multiply")
            yield f"{divisor.name} {verb} where it should {should}", rebuild(Apply(other, sub.args))
        for run, put in windows(sub):
            if run is not sub and isinstance(sub, Apply) and sub.op == "mul":
                yield f"an extra factor {_named(run)}", rebuild(put(ONE))
        yield from _powers(sub, rebuild, model)
        if isinstance(sub, Ref) and sub.name in model.quantities:
            for other in model.quantities:
                if other != sub.name:
                    yield f"{sub.name} where {other} belongs", rebuild(Ref(other))
    for name in model.quantities:
        yield f"missing the factor {name}", Apply("mul", (Ref(name), tree))


def _powers(sub: Node, rebuild: Callable[[Node], Node], model: Vocabulary) -> Iterator[Candidate]:
    """A square or a square root missing or extra: na where na ** 2 belongs, sigma2 + eps where its sqrt does."""
    quantity = isinstance(sub, Ref) and sub.name in model.quantities
    if quantity:
        yield f"{_named(sub)} where {_named(sub)} ** 2 belongs", rebuild(Apply("pow", (sub, TWO)))
    if isinstance(sub, Apply) and sub.op == "pow" and sub.args[1] == TWO:
        yield f"{_named(sub)} where {_named(sub.args[0])} belongs", rebuild(sub.args[0])
    if quantity or (isinstance(sub, Apply) and sub.op in ("add", "sub")):
        root = Apply("sqrt", (sub,))
        yield f"a square root missing: sqrt({_named(sub)}) where {_named(sub)} stands", rebuild(root)
    if isinstance(sub, Apply) and sub.op == "sqrt":
        yield f"a square root too many: {_named(sub.args[0])} where {_named(sub)} stands", rebuild(sub.args[0])
