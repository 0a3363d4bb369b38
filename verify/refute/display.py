"""Readable residuals: exact, but written in the quantities the reader named.

The engine works on fully expanded residuals (exp atoms, masks, labels).
For the report, the residual of one entry is shown at the counterexample's
labels (Y fixed to its one-hot rows), expanded, with every
exp(s_ic) / Σ_c exp(s_ic) folded back into the softmax entry that defines it.
This is a rewriting of the same exact value, never used to decide anything.
"""

from __future__ import annotations

import sympy as sp

from derive_check.derive.exact.atoms import Atoms

LIMIT = 600


def softmax_folds(atoms: Atoms) -> dict[tuple[sp.Symbol, sp.Expr], sp.Symbol]:
    """(exp atom, denominator sum) -> the line atom defined as their quotient (P[i,c])."""
    folds = {}
    for atom, definition in atoms.definition.items():
        factors = sp.Mul.make_args(definition)
        exps = [f for f in factors if f in atoms.exp_argument]
        inverse = [f.base for f in factors if f.is_Pow and f.exp == -1]
        if len(factors) == 2 and len(exps) == 1 and len(inverse) == 1:
            folds[(exps[0], inverse[0])] = atom
    return folds


def readable_expr(residual: sp.Expr, atoms: Atoms, fixed: dict[sp.Basic, sp.Expr]) -> sp.Expr:
    """The residual with `fixed` values substituted and softmax quotients folded back into P."""
    expr = sp.expand(atoms.expand(residual).xreplace(fixed))
    folds = softmax_folds(atoms)
    return sp.factor_terms(sp.Add(*[_fold(term, folds) for term in sp.Add.make_args(expr)]))


def readable_residual(residual: sp.Expr, atoms: Atoms, fixed: dict[sp.Basic, sp.Expr]) -> str:
    """`readable_expr` as text, shortened if long."""
    text = str(readable_expr(residual, atoms, fixed))
    return text if len(text) <= LIMIT else text[: LIMIT - 30] + f" … ({len(text)} characters in all)"


def _fold(term: sp.Expr, folds: dict[tuple[sp.Symbol, sp.Expr], sp.Symbol]) -> sp.Expr:
    factors = list(sp.Mul.make_args(term))
    for k, f in enumerate(factors):
        if not (f.is_Pow and f.exp == -1 and f.base.is_Add):
            continue
        content, total = f.base.primitive()  # SymPy writes 1/(2*S) as 1/(2*e0 + 2*e1 + ...)
        for e in [g for g in factors if (g, total) in folds]:
            factors[k] = 1 / content
            factors.remove(e)
            factors.append(folds[(e, total)])
            break
    return sp.Mul(*factors)
