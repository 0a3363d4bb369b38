"""Softmax rows as scale × probabilities: the change of variables that keeps normal forms small.

A softmax row shows up in residuals as exp atoms e_0..e_{C-1} and the denominator
S = e_0 + ... + e_{C-1}. With N rows, bringing a residual over a common denominator
multiplies numerators by up to N such sums: C^N terms. Instead each row is rewritten
in new variables, a scale t and probabilities p_0..p_{C-2}:

    e_c = t·p_c (c < C-1),   e_{C-1} = t·(1 - p_0 - ... - p_{C-2}),   so S = t.

Every positive row (e_c) has a preimage (t = S, p_c = e_c/S), so a residual that is
the zero rational function of (t, p) is zero at every point of the original
variables where it is defined: the substitution is sound. It is also complete for
rational functions (the map is birational), and denominators become monomials in t,
whose powers cancel in the derivatives of softmax losses (they are homogeneous of
degree 0 in each row). Rows must not share an exp atom; any that do are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp

from derive_check.derive.exact.walk import leaves


def softmax_rows(exprs: Iterable[sp.Expr], exp_atoms: set[sp.Symbol]) -> list[tuple[sp.Symbol, ...]]:
    """The disjoint rows of exp atoms that appear summed (coefficient 1) in some denominator."""
    rows: set[tuple[sp.Symbol, ...]] = set()
    for base in leaves(exprs).denominators:
        if base.is_Add and len(base.args) > 1 and all(a in exp_atoms for a in base.args):
            rows.add(tuple(sorted(base.args, key=str)))
    seen: dict[sp.Symbol, int] = {}
    for row in rows:
        for atom in row:
            seen[atom] = seen.get(atom, 0) + 1
    return sorted((r for r in rows if all(seen[a] == 1 for a in r)), key=str)


def substitution(rows: Sequence[tuple[sp.Symbol, ...]]) -> dict[sp.Basic, sp.Expr]:
    """exp atom -> scale·probability for every row (fresh Dummy variables: they never meet user names)."""
    out: dict[sp.Basic, sp.Expr] = {}
    for row in rows:
        scale = sp.Dummy("t")
        probabilities = [sp.Dummy(f"p[{atom}]") for atom in row[:-1]]
        for atom, p in zip(row[:-1], probabilities, strict=True):
            out[atom] = scale * p
        out[row[-1]] = scale * (1 - sp.Add(*probabilities))
        out[sp.Add(*row)] = scale  # the sum itself, matched whole before its terms (xreplace works top-down)
    return out
