"""A claim's proof for every size: its formula and the true gradient, in index notation, brought to one normal form
(`verify.decide.general`), for the whole gradient or, for an entry claim, entry by entry.

A claim `wrt = "w[k]", for = { k = 3 }` says formula(k) = dL/dw[k] for k = 0, 1, 2. When every index variable
ranges over a number (not a size), its values are the same at every size, so the claim for every size is the
conjunction of finitely many claims, one per literal position: the formula with k := 0 against the true entry at
position 0 (a literal free index, which the delta rules treat as a value), and so on. Each position must lie
below the target's length for every size. A variable ranging over a size takes unboundedly many values across
sizes and is not unrolled: such a claim is proved at the stated sizes only.
"""

from __future__ import annotations

import itertools
from collections import Counter
from fractions import Fraction

from derive_check.derive.budget import BudgetExceeded
from derive_check.derive.index.diff import Calculus, derivative
from derive_check.derive.index.form import NotGeneral, entry
from derive_check.derive.index.latex import normal_form_latex, raw_latex
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.shapes import infer, resolve_products
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.arith import ZERO_INDEX
from derive_check.derive.ops.dims import below_for_every_size
from derive_check.derive.ops.spec import SymbolicShapeError
from derive_check.derive.tree import Const, Node, Ref, substitute_free
from derive_check.verify.decide.general import canonical_key, class_axis, difference, normalize
from derive_check.verify.decide.local import rational_zero
from derive_check.verify.results import GeneralProof

MAX_UNROLLED = 64  # entries of one entry claim proved one by one


def general_proof(spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: dict[str, Node]) -> GeneralProof:
    """Prove `claim` (formula `tree`) for all sizes, or say why that was not reached."""
    try:
        return _prove(spec, claim, tree, earlier)
    except (NotGeneral, SymbolicShapeError) as exc:
        return GeneralProof(False, f"not attempted for all sizes: {exc}")
    except BudgetExceeded:
        raise
    except Exception as exc:  # a failure here never costs the fixed-size verdict; it is reported
        return GeneralProof(False, f"the proof for all sizes stopped: {type(exc).__name__}: {exc}"[:200])


def _prove(spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: dict[str, Node]) -> GeneralProof:
    if spec.code is not None and spec.code.unrolled:  # the model is the code only at these sizes
        at = ", ".join(f"{n} = {spec.sizes[n]}" for n in spec.code.unrolled if n in spec.sizes)
        raise NotGeneral(f"the code has a loop or writes entries at positions, so it is read at these sizes ({at})")
    if claim.of is not None or claim.labels:
        raise NotGeneral("only gradients of the loss are in the index calculus (not Jacobians or label cases)")
    if not (claim.wrt_index or claim.index_vars):
        return _at(spec, claim, tree, earlier, None)
    proofs = [_at(spec, claim, substitute_free(tree, values), earlier, at) for values, at in _unrolled(spec, claim)]
    if not proofs:
        raise NotGeneral("no index assignment satisfies the claim's condition")
    failed = next((p for p in proofs if not p.proved), None)
    if failed is not None:
        return failed
    values = ", ".join(f"{v} < {n}" for v, n in claim.index_vars)
    summary = f"{proofs[0].summary}, at each of the {len(proofs)} entries ({values})"
    return GeneralProof(True, summary, proofs[0].steps, proofs[0].rules)


def _unrolled(spec: ModelSpec, claim: ClaimSpec) -> list[tuple[dict[str, Node], tuple[str, ...]]]:
    """Every assignment of the index variables, with the literal position it names. Only literal ranges are
    unrolled: `for = { k = 3 }` has the same three values at every size, so the claim for every size is the
    conjunction of three whole-entry claims; a range over a size has unboundedly many values across sizes."""
    dims = spec.shapes.get(claim.target, ())
    if len(claim.wrt_index) != len(dims) or not all(n.isdigit() for _, n in claim.index_vars):
        raise NotGeneral("an entry claim is proved for every size only when its index variables range over numbers")
    names = [v for v, _ in claim.index_vars]
    if claim.when.names() - set(names):  # when = "k < N": which entries the claim covers changes with the sizes
        raise NotGeneral("the claim's condition reads a size, so the entries it covers change with the sizes")
    out: list[tuple[dict[str, Node], tuple[str, ...]]] = []
    for values in itertools.product(*(range(int(n)) for _, n in claim.index_vars)):
        chosen = dict(zip(names, values, strict=True))
        if not claim.when.holds(chosen, {}):
            continue
        at = []
        for node, dim in zip(claim.wrt_index, dims, strict=True):
            k = chosen.get(node.name) if isinstance(node, Ref) else node.value if isinstance(node, Const) else None
            if k is None or int(k) != k or not below_for_every_size(int(k), dim):
                raise NotGeneral(f"the entry {claim.target}[...] is not at a position below {dim} for every size")
            at.append(str(int(k)))
        out.append(({v: Const(Fraction(k)) for v, k in chosen.items()}, tuple(at)))
        if len(out) > MAX_UNROLLED:
            raise NotGeneral(f"more than {MAX_UNROLLED} entries to prove one by one")
    return out


def _at(
    spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: dict[str, Node], position: tuple[str, ...] | None
) -> GeneralProof:
    """The proof for the whole gradient (`position` None) or for its entry at a literal position (a scalar claim)."""
    shapes = dict(spec.shapes)
    for name, formula in earlier.items():
        shapes[name] = infer(formula, shapes)
    lines = {line.name: resolve_products(line.expr, shapes) for line in spec.forward}
    if set(lines) & set(earlier):
        raise NotGeneral(f"claims named like forward quantities: {sorted(set(lines) & set(earlier))}")
    onehot = {d.name: class_axis(d.dims) for d in spec.inputs.values() if d.onehot}
    ctx = Calculus(shapes, {**lines, **earlier}, frozenset(spec.sizes), frozenset(onehot), frozenset({claim.target}))
    ctx.axes.update(onehot)
    ctx.gradients = {function: gradient for gradient, function in spec.gradients.items()}
    dims = shapes.get(claim.target, ())
    free = tuple(ZERO_INDEX if d == 1 else "pqrs"[k] for k, d in enumerate(dims))  # size-1 axes: index 0
    free = free if position is None else position
    ctx.ranges.update((i, d) for i, d in zip(free, dims, strict=True) if not i.isdigit())
    truth = derivative(entry(Ref(spec.loss), (), ctx), claim.target, free, ctx)
    claimed_at = () if position is not None else free if claim.layout == "denominator" else tuple(reversed(free))
    claimed = entry(tree, claimed_at, ctx)  # numerator layout: the transpose
    used: Counter[str] = Counter()
    claimed_form, truth_form = normalize(claimed, ctx, used), normalize(truth, ctx, used)
    residual = difference(truth_form, claimed_form)  # terms normalise one by one: normalize(truth - claimed)
    at = f"{claim.target}[{', '.join(free)}]" if free else claim.target
    steps = (
        (f"The claimed entry {at}, in index form:", raw_latex(claimed, ctx)),
        (f"dL/d{at} by the product rule, one Kronecker delta per index of {claim.target}:", raw_latex(truth, ctx)),
        ("The claimed entry in normal form:", normal_form_latex(claimed_form, ctx)),
        (
            f"dL/d{at} in normal form (deltas eliminated, the identities below applied):",
            normal_form_latex(truth_form, ctx),
        ),
        ("Their difference, in normal form:", normal_form_latex(residual, ctx)),
    )
    if residual and rational_zero(residual, ctx, lambda terms: normalize(terms, ctx), canonical_key):
        used["rational identities of entries at one place (exp, sigmoid, tanh, 1/u opened)"] += 1
        residual = {}
    rules = ", ".join(f"{rule} ({n}x)" for rule, n in sorted(used.items()))
    if not residual:
        return GeneralProof(
            True, f"proved for all sizes ({', '.join(sorted(spec.sizes))}) in index notation", steps, rules
        )
    return GeneralProof(
        False,
        f"not proved for all sizes: the index normal form of the difference has {len(residual)} term(s)",
        steps,
        rules,
    )
