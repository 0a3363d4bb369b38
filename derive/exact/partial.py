"""Partial derivatives by structure: sums, products and constant powers, without `sympy.diff`.

The chain rule over line atoms asks for ∂term/∂symbol millions of times at large sizes, almost always of a
product of a few factors in which the symbol occurs once (`W1[0,1]·X[0,0]`). `sympy.diff` builds a
`Derivative` object, dispatches through it and re-flattens for each; the three rules below give the same
derivative (as a polynomial or rational function, not necessarily as the same tree) with one constructor call
per rule:

- (Σ aᵢ)′ = Σ aᵢ′;
- (Π fᵢ)′ = Σᵢ fᵢ′ · Π_{j≠i} fⱼ (only factors that contain the symbol contribute);
- (b^e)′ = e · b^(e−1) · b′ for an exponent e free of the symbol.

Anything else (a function application, an exponent that contains the symbol) goes to `sympy.diff`, so the
result is always the derivative; the rules only decide how fast it is found. Factors that do not contain the
symbol are recognised by `free_symbols`, which SymPy caches per node.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

ZERO = sp.Integer(0)


def partial(expr: sp.Expr, symbol: sp.Symbol) -> sp.Expr:
    """∂expr/∂symbol by the sum, product and power rules (`sympy.diff` beyond them)."""
    if expr == symbol:
        return sp.Integer(1)
    if expr.is_Atom or symbol not in expr.free_symbols:
        return ZERO
    if expr.is_Add:
        return sp.Add(*(partial(a, symbol) for a in expr.args if symbol in a.free_symbols))
    if expr.is_Mul:
        factors = expr.args
        terms = []
        for k, factor in enumerate(factors):
            if symbol in factor.free_symbols:
                inner = partial(factor, symbol)
                if inner != 0:
                    terms.append(sp.Mul(*factors[:k], inner, *factors[k + 1 :]))
        return sp.Add(*terms)
    if expr.is_Pow and symbol not in expr.exp.free_symbols:
        base, exponent = expr.args
        inner = partial(base, symbol)
        if inner == 0:
            return ZERO
        return sp.Mul(exponent, sp.Pow(base, exponent - 1), inner)
    return sp.diff(expr, symbol)


def accumulate(
    expr: sp.Expr,
    seed: sp.Expr,
    out: dict[sp.Symbol, list[sp.Expr]],
    keep: Callable[[sp.Basic], bool] | None = None,
) -> None:
    """Add seed · ∂expr/∂s to `out[s]` for every symbol s of `expr` (those `keep` accepts, if given), in one walk
    (reverse mode inside one expression): a sum passes the seed to each term, a product passes seed · (the other
    factors) to each factor, a constant power passes seed · e · b^(e−1) to its base. Other nodes use `partial`
    per symbol. A factor that is a symbol `keep` rejects is skipped before its seed is built."""
    if expr.is_Symbol:
        if keep is None or keep(expr):
            out.setdefault(expr, []).append(seed)
    elif expr.is_Atom:
        return
    elif expr.is_Add:
        for term in expr.args:
            accumulate(term, seed, out, keep)
    elif expr.is_Mul:
        factors = expr.args
        for k, factor in enumerate(factors):
            if not factor.is_number and not (factor.is_Symbol and keep is not None and not keep(factor)):
                accumulate(factor, sp.Mul(seed, *factors[:k], *factors[k + 1 :]), out, keep)
    elif expr.is_Pow and expr.exp.is_number:
        base, exponent = expr.args
        accumulate(base, sp.Mul(seed, exponent, sp.Pow(base, exponent - 1)), out, keep)
    else:
        for symbol in expr.free_symbols:
            if keep is None or keep(symbol):
                out.setdefault(symbol, []).append(seed * partial(expr, symbol))


def expanded(expr: sp.Expr) -> sp.Expr:
    """`sympy.expand(expr)`, skipped when `expr` is already a sum of monomials (numbers times powers of symbols):
    expand would return it unchanged, after walking every term (most keys of masks and exp atoms are such sums)."""
    terms = expr.args if expr.is_Add else (expr,)
    return expr if all(_monomial(t) for t in terms) else sp.expand(expr)


def _monomial(term: sp.Basic) -> bool:
    factors = term.args if term.is_Mul else (term,)
    return all(f.is_Symbol or f.is_Number or (f.is_Pow and f.base.is_Symbol and f.exp.is_Integer) for f in factors)
