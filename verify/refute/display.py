"""Readable residuals: exact, but written in the quantities the reader named.

The engine works on fully expanded residuals (exp atoms, masks, labels).
For the report, the residual of one entry is shown at the counterexample's
labels (Y fixed to its one-hot rows), expanded, with every
exp(s_ic) / Σ_c exp(s_ic) folded back into the softmax entry that defines it.
This is a rewriting of the same exact value, never used to decide anything.

SymPy's `expand` and `factor_terms` cannot be interrupted by a time budget (budgets are checked at the engine's
own safe points), and a deep model's residual can take minutes to expand: the shape of a refutation would then
cost its verdict. So the rewriting is attempted only when an upper bound on the expanded size is small: the
number of monomials before like terms combine (sums add their terms' counts, products multiply them, integer
powers raise them) is at most MAX_TERMS. Otherwise the residual is shown over the network's atoms as it stands.
"""

from __future__ import annotations

import sympy as sp

from derive_check.derive.exact.atoms import Atoms

LIMIT = 600
MAX_TERMS = 2000  # monomials an expansion may produce before the readable form is not attempted


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
    """The residual with `fixed` values substituted and softmax quotients folded back into P (the residual as it
    stands, over the network's atoms, when expanding it could be large: see MAX_TERMS)."""
    shown = residual.xreplace(fixed)
    if _terms(shown, {}) > MAX_TERMS:
        return shown
    opened = atoms.expand(residual).xreplace(fixed)
    if _terms(opened, {}) > MAX_TERMS:
        return opened
    expr = sp.expand(opened)
    folds = softmax_folds(atoms)
    return sp.factor_terms(sp.Add(*[_fold(term, folds) for term in sp.Add.make_args(expr)]))


def readable_residual(residual: sp.Expr, atoms: Atoms, fixed: dict[sp.Basic, sp.Expr]) -> str:
    """`readable_expr` as text, shortened if long."""
    text = str(readable_expr(residual, atoms, fixed))
    return text if len(text) <= LIMIT else text[: LIMIT - 30] + f" … ({len(text)} characters in all)"


def _terms(expr: sp.Basic, memo: dict[sp.Basic, int]) -> int:
    """An upper bound on the monomials `sp.expand(expr)` writes before like terms combine (capped: it only has to
    say whether that exceeds MAX_TERMS)."""
    found = memo.get(expr)
    if found is not None:
        return found
    cap = MAX_TERMS + 1
    if expr.is_Add:
        found = min(cap, sum(_terms(a, memo) for a in expr.args))
    elif expr.is_Mul:
        found = 1
        for a in expr.args:
            found = min(cap, found * _terms(a, memo))
    elif expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        found = min(cap, _terms(expr.base, memo) ** min(int(expr.exp), 64))
    else:
        found = 1  # an atom, or a function application expand leaves whole at the top
    memo[expr] = found
    return found


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
