"""One pass over shared expression DAGs.

Residuals are trees in SymPy's eyes but DAGs in fact: the same softmax sum or
line-atom expansion occurs in hundreds of places. `free_symbols` and `atoms()`
walk every occurrence (millions of nodes at N=4, C=10); this walk visits each
distinct sub-expression once, which SymPy's cached hashes make cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sympy as sp


@dataclass
class Leaves:
    """What a set of expressions is built from."""

    symbols: set[sp.Symbol] = field(default_factory=set)
    applications: set[sp.Basic] = field(default_factory=set)  # opaque function applications such as Log(u)
    denominators: set[sp.Basic] = field(default_factory=set)  # bases raised to a negative power


def leaves(exprs: Iterable[sp.Basic]) -> Leaves:
    """The symbols, function applications and denominators of `exprs`, each shared node visited once."""
    out = Leaves()
    seen: set[sp.Basic] = set()
    stack = list(exprs)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.is_Symbol or node is sp.pi:  # π is transcendental: an identity in it as a variable holds at π
            out.symbols.add(node)
            continue
        if isinstance(node, sp.Function):
            out.applications.add(node)
        elif node.is_Pow and node.exp.is_negative:
            out.denominators.add(node.base)
        stack.extend(node.args)
    return out


def substitute(expr: sp.Basic, mapping: dict[sp.Basic, sp.Basic], memo: dict[sp.Basic, sp.Basic]) -> sp.Basic:
    """`expr.xreplace(mapping)`, visiting each shared sub-expression once (`memo` may be reused across calls)."""
    found = memo.get(expr)
    if found is not None:
        return found
    if expr in mapping:
        result = mapping[expr]
    elif not expr.args:
        result = expr
    else:
        args = tuple(substitute(a, mapping, memo) for a in expr.args)
        result = expr.func(*args) if any(x is not y for x, y in zip(args, expr.args, strict=True)) else expr
    memo[expr] = result
    return result
