"""`Log` as an opaque function and exp as atoms, so that equality stays decidable.

SymPy's own `exp` folds `exp(a)*exp(a)` into `exp(2a)` and `1/exp(a)` into
`exp(-a)`, so "replace every exp by a symbol afterwards" is neither sound to
undo nor easy to normalise. Instead every `exp(u)` is a symbol from the start
(see `derive.exact.atoms.Atoms.exp`), differentiated with the chain rule through its recorded
argument. `Log` is an undefined function with d/du Log(u) = 1/u; it never
survives differentiation of a softmax cross-entropy, and where it remains it is
one more opaque atom.
"""

from __future__ import annotations

from typing import Any

import sympy as sp


class Log(sp.Function):  # type: ignore[misc]
    """log(u) with d/du Log(u) = 1/u and no automatic rewriting."""

    nargs = 1

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        """Fold log(1) = 0 and numeric floats only."""
        if arg == 1:
            return sp.Integer(0)
        if isinstance(arg, sp.Float):
            return sp.log(arg)
        return None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        """d/du log u = 1/u."""
        return 1 / self.args[0]

    def _eval_evalf(self, prec: int) -> Any:
        return sp.log(self.args[0])._eval_evalf(prec)

    def _latex(self, printer: Any) -> str:
        return rf"\log\left({printer._print(self.args[0])}\right)"
