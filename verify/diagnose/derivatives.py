"""Readings of a claim that writes a local derivative wrong: f'(u), a product rule, a chain, a softmax Jacobian.

Each rule yields (words, corrected tree) pairs, like `verify.diagnose.rewrites`; nothing here decides, and a
reading is shown only when the exact engine proves its corrected formula.

- **A slope written wrong.** A run of factors of the claim that reads only names of one element-wise piece of
  the forward, and reads the name the piece is differentiated in, is put in place of that piece's derivative
  (`verify.diagnose.local`): softplus' written as exp(x) instead of exp(x) / (1 + exp(x)), SiLU's product rule
  with a term dropped, GELU's inner chain factor forgotten, L1's sign written as w or (w > 0), Huber's clip
  forgotten. The words name the piece as the file writes it and the derivative it has.
- **A softmax Jacobian taken element-wise.** softmax's derivative is a Jacobian: the vector–Jacobian product of
  p = softmax(a) with g is p * (g - sum(p * g, axis, keepdims=True)). A claim writing p * (1 - p) * g (the
  sigmoid's slope) or p * g (the centering term dropped) is read as that product.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Node, Ref, refs, walk
from derive_check.verify.diagnose.local import ONE, times
from derive_check.verify.diagnose.rewrites import Candidate, Vocabulary, positions, windows

SHORT = 40  # a piece longer than this is named by its line ("a term of L")


def slope_readings(tree: Node, model: Vocabulary, loss: bool, target: str) -> Iterator[Candidate]:
    """A run of factors written where a piece's derivative belongs (see the module): the pieces of the loss's line
    (`loss`), or those of the lines before it. Only a derivative on the claim's own path counts: one in a name
    computed from `target` (or in `target` itself); the derivative of y in b says nothing about dL/da."""
    for local in model.locals:
        if (local.line == model.loss) != loss:
            continue
        if not model.depends(local.line if local.slope and local.wrt not in model.names else local.wrt, target):
            continue
        piece = local.piece if len(local.piece) <= SHORT else f"a term of {local.line}"
        for sub, rebuild in positions(tree):
            for written, put in _runs(sub):
                names = refs(written)
                reads = local.through | refs(local.derivative)  # the name it is taken in, or what its slope reads
                if written == local.derivative or not names <= local.names or not names & reads:
                    continue
                if written == tree and local.line == model.loss and not isinstance(tree, Ref):
                    continue  # the whole claim against the whole gradient says nothing of where the slip is
                said = f"the slope {local.slope}" if local.slope else f"the derivative of {piece} in {local.wrt}"
                words = f"{said} is {to_text(local.derivative)}"
                yield f"{words}, not {to_text(written)}", rebuild(put(local.derivative))


def _runs(sub: Node) -> Iterator[tuple[Node, Callable[[Node], Node]]]:
    """What a claim may have written for a slope at `sub`: a name, a run of factors, or a divisor (a / (1 + e))."""
    if isinstance(sub, Ref):
        yield sub, lambda new: new
    yield from windows(sub)
    if isinstance(sub, Apply) and sub.op == "div":
        top, bottom = sub.args
        yield Apply("div", (ONE, bottom)), lambda new: times(top, new)


def jacobian_readings(tree: Node, model: Vocabulary, target: str) -> Iterator[Candidate]:
    """softmax's derivative taken element-wise, or its centering term dropped (see the module): only for a softmax
    computed from `target`, and only where the factor g holds no sum (a claim with a centering term, right or
    wrong, has a different slip)."""
    placeholder = next(n for n in ("g", "u", "v", "w", "G", "g_") if n not in model.names)
    for name, axis in model.softmaxes:
        if not model.depends(name, target):
            continue
        p = Ref(name)
        slope = Apply("sub", (ONE, p))
        for sub, rebuild in positions(tree):
            if not (isinstance(sub, Apply) and sub.op == "mul"):
                continue
            factors = _factors(sub)
            if p not in factors:
                continue
            factors.remove(p)
            elementwise = slope in factors
            if elementwise:
                factors.remove(slope)
            if not factors:
                continue
            g = factors[0]
            for f in factors[1:]:
                g = Apply("mul", (g, f))
            if any(isinstance(n, Apply) and n.op in ("sum", "mean") for n in walk(g)):
                continue
            total = Apply("sum", (Apply("mul", (p, g)),), (("axis", axis), ("keepdims", 1)))
            product = Apply("mul", (p, Apply("sub", (g, total))))
            form = (
                to_text(product)
                if len(to_text(g)) <= SHORT
                else (
                    f"{name} * ({placeholder} - sum({name} * {placeholder}, axis={axis}, keepdims=True)) for "
                    f"{placeholder} the factor it multiplies"
                )
            )
            if elementwise:
                words = f"softmax's derivative taken element-wise as {name} * (1 - {name}): its Jacobian gives {form}"
            else:
                words = f"the centering term of softmax's Jacobian is missing: it gives {form}"
            yield words, rebuild(product)


def _factors(node: Node) -> list[Node]:
    if isinstance(node, Apply) and node.op == "mul":
        return _factors(node.args[0]) + _factors(node.args[1])
    return [node]
