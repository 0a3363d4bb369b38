"""Candidate corrections of a wrong formula: edits of its tree, as data.

Each rule yields (words, corrected tree) pairs; nothing here decides anything.
The search in `verify.diagnose.search` keeps a candidate only if the exact engine
proves the corrected formula. Rules cover the slips the seeds contain: a
transpose, a sum over the batch never taken, a size constant swapped (/n for
/m), a term missing its 1/N, an activation derivative (a ReLU mask, f') missing,
extra, or on the wrong layer, operands of @ swapped, a reduction over the wrong axis (or over every entry, or
without keepdims), and the blocks of a concatenation swapped. A slope written wrong (tanh' as 1 - h) is read by
`verify.diagnose.derivatives`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.spec import Kind
from derive_check.derive.ops.table import OPS
from derive_check.derive.printing.text import to_text
from derive_check.derive.tree import Apply, Const, Node, Ref, walk
from derive_check.verify.diagnose.local import Local, locals_of, upstream_of

Candidate = tuple[str, Node]


@dataclass(frozen=True)
class Vocabulary:
    """What the rules may use from the file: size names and activation-derivative factors."""

    sizes: tuple[str, ...]
    derivatives: tuple[tuple[str, Node], ...]  # (words, factor tree), e.g. ("the ReLU mask of h1", h1 > 0)
    quantities: tuple[str, ...] = ()  # inputs and forward quantities a dropped term may be (dout, x)
    locals: tuple[Local, ...] = ()  # the derivative of every element-wise piece of the forward in each name
    softmaxes: tuple[tuple[str, int], ...] = ()  # (p, axis) for each line p = softmax(a, axis)
    loss: str = ""
    upstream: Mapping[str, frozenset[str]] = field(default_factory=dict)  # line -> every name it depends on
    names: frozenset[str] = frozenset()  # every name of the file (a placeholder in words must not be one)

    def depends(self, name: str, target: str) -> bool:
        """Whether `name` is `target` or is computed from it."""
        return name == target or target in self.upstream.get(name, frozenset())


def vocabulary_of(spec: ModelSpec) -> Vocabulary:
    """The rewrite vocabulary of one file."""
    factors: list[tuple[str, Node]] = []
    for line in spec.forward:
        expr = line.expr
        if isinstance(expr, Apply) and OPS[expr.op].kind is Kind.PIECEWISE and OPS[expr.op].arity == 1:  # relu, leaky
            factors.append((f"the ReLU mask of {line.name}", Apply("gt", (Ref(line.name), Const(Fraction(0))))))
        if isinstance(expr, Apply) and expr.op == "function" and dict(expr.options)["order"] == 0:
            name = dict(expr.options)["name"]
            derivative = Apply("function", expr.args, (("name", name), ("order", 1)))
            factors.append((f"the factor {name}'({to_text(expr.args[0])}) of {line.name}", derivative))
    factors += [(f"{w} (transposed)", Apply("transpose", (t,))) for w, t in factors]
    quantities = (*spec.inputs, *(line.name for line in spec.forward if line.name != spec.loss))
    simplex = OPS["softmax"].simplex_axis
    assert simplex is not None
    softmaxes = tuple(
        (line.name, simplex(line.expr, len(spec.shapes.get(line.name, ()))))
        for line in spec.forward
        if isinstance(line.expr, Apply) and line.expr.op == "softmax"
    )
    return Vocabulary(
        sizes=tuple(n for n, v in spec.sizes.items() if v > 1),
        derivatives=tuple(factors),
        quantities=quantities,
        locals=locals_of(spec),
        softmaxes=softmaxes,
        loss=spec.loss,
        upstream=upstream_of(spec),
        names=frozenset({*spec.shapes, *spec.sizes}),
    )


def positions(tree: Node) -> Iterator[tuple[Node, Callable[[Node], Node]]]:
    """Every subtree with a function that rebuilds the whole tree with that subtree replaced."""
    yield tree, lambda new: new
    if isinstance(tree, Apply):
        for k, child in enumerate(tree.args):
            for sub, rebuild in positions(child):

                def put(new: Node, k: int = k, rebuild: Callable[[Node], Node] = rebuild) -> Node:
                    args = list(tree.args)
                    args[k] = rebuild(new)
                    return Apply(tree.op, tuple(args), tree.options, span=tree.span)

                yield sub, put


def wrappers(tree: Node) -> Iterator[Candidate]:
    """Whole-formula shape fixes."""
    yield "transposed", Apply("transpose", (tree,))
    yield "not summed over the batch (axis 0)", Apply("sum", (tree,), (("axis", 0),))
    yield "not averaged over the batch (axis 0)", Apply("mean", (tree,), (("axis", 0),))


def scalings(tree: Node, model: Vocabulary, scalars: list[str]) -> Iterator[Candidate]:
    """The whole formula missing (or with an extra) factor of a scalar or a size: dropout's 1/p, attention's
    1/sqrt(d), Huber's delta."""
    for name in [*scalars, *model.sizes]:
        factor: Node = Ref(name)
        yield f"missing a factor {name}", Apply("mul", (factor, tree))
        yield f"missing a factor 1/{name}", Apply("div", (tree, factor))
        if name in model.sizes:
            root = Apply("sqrt", (factor,))
            yield f"missing a factor 1/sqrt({name})", Apply("div", (tree, root))
            yield f"an extra factor 1/sqrt({name})", Apply("mul", (tree, root))


def dropped_terms(tree: Node, model: Vocabulary) -> Iterator[Candidate]:
    """A term that is one quantity of the file, dropped or added: a residual block's skip path (+ dout)."""
    for name in model.quantities:
        yield f"missing the term + {name}", Apply("add", (tree, Ref(name)))
        yield f"an extra term {name}", Apply("sub", (tree, Ref(name)))


def size_swaps(tree: Node, model: Vocabulary) -> Iterator[Candidate]:
    """One size constant written for another: '/n instead of /m'."""
    for sub, rebuild in positions(tree):
        if isinstance(sub, Ref) and sub.name in model.sizes:
            for other in model.sizes:
                if other != sub.name:
                    divides = any(isinstance(n, Apply) and n.op == "div" and n.args[1] == sub for n in walk(tree))
                    words = f"divided by {sub.name} instead of {other}" if divides else f"{sub.name} for {other}"
                    yield words, rebuild(Ref(other))


def _axes(sub: Apply, rebuild: Callable[[Node], Node]) -> Iterator[Candidate]:
    """A reduction (or softmax) over the wrong axis, over every entry instead of one axis, or without keepdims."""
    axis, keep = sub.option("axis"), sub.option("keepdims")
    if not (axis is None or isinstance(axis, int)):
        return
    reduction = sub.op != "softmax"
    if axis is None:
        for new in (0, 1) if reduction else ():
            for kept in (False, True):
                options = (("axis", new), ("keepdims", 1)) if kept else (("axis", new),)
                words = f"{sub.op} over every entry instead of over axis {new}" + (" (keepdims=True)" if kept else "")
                yield words, rebuild(Apply(sub.op, sub.args, options))
        return
    if reduction and not keep:
        yield f"{sub.op} over axis {axis} without keepdims=True", rebuild(_reaxed(sub, axis, True))
    for new in (0, 1):
        if new != axis:
            yield f"{sub.op} over axis {axis} instead of {new}", rebuild(_reaxed(sub, new, bool(keep)))
            if reduction and not keep:
                yield f"{sub.op} over axis {axis} instead of {new} (keepdims=True)", rebuild(_reaxed(sub, new, True))


def _reaxed(sub: Apply, axis: int, keep: bool) -> Apply:
    return Apply(sub.op, sub.args, (("axis", axis), ("keepdims", 1)) if keep else (("axis", axis),))


def every_axis(tree: Node) -> Iterator[Candidate]:
    """Every reduction over one axis taken over the other (keepdims=True): layernorm's sums written over the batch."""
    for old, new in ((0, 1), (1, 0)):
        moved = _every(tree, old, new)
        if moved != tree:
            kinds = sorted(
                {
                    n.op
                    for n in walk(tree)
                    if isinstance(n, Apply) and n.op in ("sum", "mean") and n.option("axis") == old
                }
            )
            yield f"every {' and '.join(kinds)} over axis {old} should be over axis {new} (keepdims=True)", moved


def _every(node: Node, old: int, new: int) -> Node:
    if not isinstance(node, Apply):
        return node
    args = tuple(_every(a, old, new) for a in node.args)
    if node.op in ("sum", "mean") and node.option("axis") == old:
        return _reaxed(Apply(node.op, args), new, True)
    return Apply(node.op, args, node.options, span=node.span)


def edits(tree: Node, model: Vocabulary) -> Iterator[Candidate]:
    """Single local structural edits of the tree."""
    for sub, rebuild in positions(tree):
        if isinstance(sub, Apply) and sub.op == "mul":
            for k in (0, 1):
                if _is_factor(sub.args[k], model):
                    yield "an activation derivative where none belongs", rebuild(sub.args[1 - k])
        if isinstance(sub, Apply) and sub.op in ("sum", "mean", "softmax"):
            yield from _axes(sub, rebuild)
        if isinstance(sub, Apply) and sub.op == "concatenate":
            for i in range(len(sub.args)):
                for j in range(i + 1, len(sub.args)):
                    blocks = list(sub.args)
                    blocks[i], blocks[j] = blocks[j], blocks[i]
                    swapped = Apply("concatenate", tuple(blocks), sub.options)
                    yield f"blocks {i + 1} and {j + 1} of the concatenation swapped", rebuild(swapped)
        if isinstance(sub, Apply) and sub.op == "matmul":
            yield "operands of @ swapped", rebuild(Apply("matmul", (sub.args[1], sub.args[0])))
        if isinstance(sub, Apply) and sub.op in ("add", "sub"):
            for k in (0, 1):
                for size in model.sizes:
                    args = list(sub.args)
                    args[k] = Apply("div", (args[k], Ref(size)))
                    yield f"a term is missing its 1/{size}", rebuild(Apply(sub.op, tuple(args)))
        if not isinstance(sub, Const):
            for words, factor in model.derivatives:
                yield f"missing {words}", rebuild(Apply("mul", (sub, factor)))
    for sub, rebuild in positions(tree):  # a transpose missing or extra on one operand: w where w.T belongs
        if isinstance(sub, Ref) and sub.name not in model.sizes:
            yield (
                f"a transpose missing: {sub.name}.T belongs where {sub.name} stands",
                rebuild(Apply("transpose", (sub,))),
            )
        if isinstance(sub, Apply) and sub.op == "transpose" and isinstance(sub.args[0], Ref):
            yield f"a transpose too many: {sub.args[0].name} belongs where {to_text(sub)} stands", rebuild(sub.args[0])
    yield from moved_factors(tree, model)


def moved_factors(tree: Node, model: Vocabulary) -> Iterator[Candidate]:
    """A factor removed where it stands and put elsewhere: 'mask on the wrong layer'."""
    for sub, rebuild in positions(tree):
        if isinstance(sub, Apply) and sub.op == "mul":
            for k in (0, 1):
                if _is_factor(sub.args[k], model):
                    without = rebuild(sub.args[1 - k])
                    for other, put in positions(without):
                        if not isinstance(other, Const):
                            for words, factor in model.derivatives:
                                yield f"{words} on the wrong quantity", put(Apply("mul", (other, factor)))


def windows(node: Node) -> Iterator[tuple[Node, Callable[[Node], Node]]]:
    """The node itself, and for a product a·b·c·… every run of consecutive factors (h * (1 + h) inside
    2 * (h - T) * h * (1 + h)), with a function putting something else in its place."""
    if not (isinstance(node, Apply) and node.op == "mul"):
        if isinstance(node, Apply):
            yield node, lambda new: new
        return
    factors = _factors(node)
    for i in range(len(factors)):
        for j in range(i + 1, len(factors) + 1):
            if j - i == len(factors):
                yield node, lambda new: new
                continue

            def put(new: Node, i: int = i, j: int = j) -> Node:
                return _product([*factors[:i], new, *factors[j:]])

            yield _product(factors[i:j]), put


def _factors(node: Node) -> list[Node]:
    if isinstance(node, Apply) and node.op == "mul":
        return [f for a in node.args for f in _factors(a)]
    return [node]


def _product(factors: list[Node]) -> Node:
    out = factors[0]
    for f in factors[1:]:
        out = Apply("mul", (out, f))
    return out


def _is_factor(node: Node, model: Vocabulary) -> bool:
    if isinstance(node, Apply) and node.op in ("gt", "function"):
        return True
    return isinstance(node, Apply) and node.op == "transpose" and _is_factor(node.args[0], model)
