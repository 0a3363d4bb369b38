"""Binding a claim's value for the claims after it: one step, the same for fresh and cached claims.

Later claims may use earlier ones by name (`dW1 = X.T @ dz1`), so each claim's value enters the
environment of the claims after it. Whether it does must not depend on how the claim's own verdict
was reached: a claim answered from the proof cache binds exactly what a freshly checked one binds,
or a cached run could decide later claims differently from a fresh run. So binding is its own step,
run for every claim in file order before its verdict is looked up or computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from derive_check.derive.errors import InputError
from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.shapes import infer, resolve_products
from derive_check.derive.ops.spec import SymbolicShapeError
from derive_check.derive.source import formula_location, span_location
from derive_check.derive.tree import Node, refs
from derive_check.verify.check.session import Session
from derive_check.verify.results import Verdict


@dataclass(frozen=True)
class Binding:
    """A claim's formula with LaTeX products resolved, or why it cannot be checked."""

    tree: Node | None
    problem: tuple[Verdict, str, str] | None = None  # (verdict, message, detail)


def bind(session: Session, claim: ClaimSpec) -> Binding:
    """Resolve the claim's formula, record its symbolic shape and (without index variables) its value."""
    if claim.expr is None:
        error = claim.error or InputError("formula did not parse", claim.where)
        return Binding(None, (Verdict.ERROR, error.message, error.render()))
    variables = {v for v, _ in claim.index_vars}
    missing = sorted(n for n in refs(claim.expr) if n not in session.env and n not in variables)
    if missing:
        return Binding(None, (Verdict.ERROR, f"uses {', '.join(missing)}, which could not be evaluated", ""))
    local_shapes = {**session.shapes, **dict.fromkeys(variables, ())}
    tree: Node | None = None
    try:
        tree = resolve_products(claim.expr, local_shapes)
        session.shapes[claim.name] = infer(tree, local_shapes)
    except SymbolicShapeError as exc:  # the tree, when it was resolved, is kept for the diagnosis search only
        span = exc.node.span
        caret = InputError(str(exc), span_location(claim.where, claim.text, span)).render() if span[1] else ""
        return Binding(tree, (Verdict.SHAPE_ERROR, str(exc), caret))
    if not claim.index_vars:
        try:
            where = formula_location(claim.where, claim.text)
            value = evaluate(tree, session.env, session.net.backend, where)
        except (InputError, ValueError, ZeroDivisionError):
            return Binding(tree)  # checking the claim reports why; later claims cannot use it
        session.env[claim.name] = np.asarray(value, dtype=object)
        session.trees[claim.name] = tree
    return Binding(tree)
