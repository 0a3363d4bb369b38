"""The baseline a user would write: real sympy exp/log, sympy.diff, then simplify(diff - claim).

It gets the same formula parser and the same ReLU masks as derive-check (relu(z) = m*z), and the
same one-hot information written the plain way (each label row's last entry is 1 - the others),
so the comparison is only about the equality method.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from derive_check.derive.exact.evaluate import evaluate
from derive_check.derive.exact.network import declared_symbols, size_constants
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.source import formula_location


class NaiveBackend:
    """Plain SymPy: exp is sympy.exp, log is sympy.log, relu is mask * z."""

    dtype: Any = object

    def __init__(self) -> None:
        self.masks: dict[sp.Expr, sp.Symbol] = {}

    def const(self, value: Fraction) -> Any:
        return np.asarray(sp.Rational(value.numerator, value.denominator), dtype=object)

    def _map(self, fn: Any, x: Any) -> Any:
        return np.asarray(np.frompyfunc(fn, 1, 1)(x), dtype=object)

    def exp(self, x: Any) -> Any:
        return self._map(sp.exp, x)

    def log(self, x: Any) -> Any:
        return self._map(sp.log, x)

    def _mask(self, z: sp.Expr) -> sp.Symbol:
        return self.masks.setdefault(sp.expand(z), sp.Symbol(f"m{len(self.masks)}"))

    def relu(self, x: Any) -> Any:
        return self._map(lambda z: self._mask(z) * z, x)

    def positive(self, x: Any) -> Any:
        def indicator(v: sp.Expr) -> sp.Expr:
            for z, m in self.masks.items():
                if sp.expand(v - m * z) == 0 or sp.expand(v - z) == 0:
                    return m
            raise ValueError(f"no mask for {v}")

        return self._map(indicator, x)

    def total(self, x: Any, axis: int | None, keepdims: bool = False) -> Any:
        """numpy's sum, as a plain SymPy user would write it."""
        return np.asarray(np.sum(x, axis=axis, keepdims=keepdims), dtype=object)


def naive_pairs(spec: ModelSpec) -> list[tuple[str, sp.Expr, sp.Expr]]:
    """(entry, true derivative, claimed entry) for every claim on a parameter, built the plain way."""
    backend = NaiveBackend()
    symbols = declared_symbols(spec)
    onehot = {}
    for decl in spec.inputs.values():
        if decl.onehot:
            for row in symbols[decl.name]:
                onehot[row[-1]] = 1 - sum(row[:-1])
    env: dict[str, Any] = {**size_constants(spec, backend), **symbols}  # type: ignore[arg-type]
    for name, arr in symbols.items():
        env[name] = np.asarray(np.frompyfunc(lambda s: s.xreplace(onehot), 1, 1)(arr), dtype=object)
    for line in spec.forward:
        env[line.name] = evaluate(line.expr, env, backend, formula_location(line.where, line.text))  # type: ignore[arg-type]
    loss = env[spec.loss].item()
    pairs = []
    for claim in spec.claims:
        assert claim.expr is not None
        value = evaluate(claim.expr, env, backend, formula_location(claim.where, claim.text))  # type: ignore[arg-type]
        env[claim.name] = value
        if claim.target not in symbols:
            continue  # the naive way differentiates with respect to symbols only
        for index in np.ndindex(np.shape(value)):
            truth = sp.diff(loss, symbols[claim.target][index])
            pairs.append((f"{claim.name}[{','.join(map(str, index))}]", truth, value[index]))
    return pairs
