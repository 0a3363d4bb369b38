"""Mutants: wrong claims made from a true one, one operator at a time (drop a factor, swap @ operands, wrong axis,
flip a sign, mask on the wrong layer, a size written as its value, ...).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

from tests.modelgen.backprop import Model
from tests.modelgen.claims import Claim, as_latex, used_claims
from tests.modelgen.ir import Ex, Unsupported, const, neg, positions, var
from tests.modelgen.layers import Names
from tests.modelgen.printing import LatexStyle, text


def _size_value(model: Model, name: str) -> int:
    return model.sizes[name]


def mutations(e: Ex, model: Model, claims: list[Claim]) -> Iterator[tuple[str, Ex, dict[str, int]]]:
    """(operator, mutant, size literals it wrote) for every position of e."""
    earlier = {c.key: c.target for c in claims if c.believed and c.mutation == "" and not c.extra}
    for node, rebuild in positions(e):
        op = node.op
        if op in ("mul", "div", "matmul"):
            yield "drop a factor", rebuild(node.args[0]), {}
            if op != "div":
                yield "drop a factor", rebuild(node.args[1]), {}
        if op == "T":
            yield "drop a transpose", rebuild(node.args[0]), {}
        if op == "matmul":
            yield "swap @ operands", rebuild(Ex("matmul", (node.args[1], node.args[0]), shape=node.shape)), {}
        if op in ("sum", "mean") and node.axis is not None:
            yield "wrong axis", rebuild(replace(node, axis=1 - node.axis)), {}
            yield "wrong axis", rebuild(replace(node, axis=None)), {}
        if op in ("add", "sub"):
            yield "drop a term", rebuild(node.args[0]), {}
            yield "drop a term", rebuild(node.args[1] if op == "add" else neg(node.args[1])), {}
            yield "flip a sign", rebuild(replace(node, op="sub" if op == "add" else "add")), {}
        if op == "neg":
            yield "flip a sign", rebuild(node.args[0]), {}
        if op == "const" and node.value not in (0, 1):
            yield "change a constant", rebuild(const(node.value + 1)), {}
            yield "change a constant", rebuild(const(node.value / 2)), {}
        if op == "gt":
            for other in model.layer_masks:
                if _pre_activation(other.args[0], model) != _pre_activation(node.args[0], model):
                    yield "mask on the wrong layer", rebuild(other), {}
        if op == "div" and node.args[1].op == "size" and node.args[1].name == model.batch:
            yield "1/N dropped", rebuild(node.args[0]), {}
        if op == "size":
            value = _size_value(model, node.name)
            yield "size written as its value", rebuild(const(value)), {node.name: value}
        if op == "var" and node.name in earlier:
            yield "earlier claim replaced by the forward name", rebuild(var(earlier[node.name], node.shape)), {}


def _pre_activation(x: Ex, model: Model) -> Ex:
    """What a mask is taken of, with lines and activations looked through: (h > 0), (relu(z) > 0), (z > 0) agree."""
    lines = dict(model.lines)
    for _ in range(8):
        if x.op == "var" and x.name in lines:
            x = lines[x.name]
        elif x.op in ("relu", "leaky", "identity"):
            x = x.args[0]
        else:
            break
    return x


def mutants(
    claim: Claim,
    model: Model,
    names: Names,
    rng: random.Random,
    claims: list[Claim],
    style: LatexStyle | None,
) -> list[Claim]:
    """One or two wrong claims made from a true one."""
    assert claim.expr is not None
    made = [(op, m, s) for op, m, s in mutations(claim.expr, model, claims) if m != claim.expr]
    made = [(op, m, s) for op, m, s in made if printable(m) and text(m) != claim.formula]
    out = []
    for op, m, literal in rng.sample(made, min(len(made), rng.choice([1, 1, 2]))):
        key = names.claim_key(claim.target + "_wrong", False)
        believed = bool(literal)
        mutant = Claim(
            key,
            claim.target,
            m,
            text(m),
            believed,
            False,
            op,
            table=True,
            uses=used_claims(m, claims),
            sizes_used=literal,
        )
        if style is not None and claim.form == "latex":
            as_latex(mutant, model, style, rng)
        out.append(mutant)
    return out


def printable(e: Ex) -> bool:
    try:
        text(e)
    except Unsupported:
        return False
    return True
