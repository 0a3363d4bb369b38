"""Indicators `[v > 0]` in the exact engine: resolved to masks where they can be, identified almost everywhere
only where that is sound (a mixin of `derive.exact.backend.SymbolicBackend`).

- `[m > 0] = m` for a mask; `[c v > 0] = [v > 0]` for c > 0; `[exp(u) > 0] = 1`; a relu output `m z` tests
  its own mask, a leaky ReLU output too; `[f g > 0] = f [g > 0]` for a 0/1 factor f (a mask, a label, 1 - one).
- `(z < 0)` is `1 - (z > 0)` when z is a rational function of continuous inputs that is not identically zero:
  it vanishes on a null set, where the gradient is a convention anyway. Masks, labels and smooth atoms are
  excluded there: a piecewise function can vanish on a whole region (a relu output without bias), and atoms
  may obey identities the normal form does not know.
- `(relu(z) < 0)` is 0 and so `(relu(z) >= 0)` is 1, at every value.
- An indicator of a formula with at most MAX_CASES 0/1 symbols is split on them: `[f > 0] = Σ_cases
  (the case's indicator) [f at that case > 0]`, exact since the symbols take no other values.
- Otherwise a free 0/1 atom: proofs hold for both of its values.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import sympy as sp

from derive_check.derive.exact.atoms import positive_part
from derive_check.derive.ops.spec import OpDomainError

if TYPE_CHECKING:
    from derive_check.derive.exact.atoms import Atoms

MAX_CASES = 3  # an indicator of a formula with masks or labels is split into at most 2^3 cases


class Indicators:
    """[v > 0] as masks, 0/1 combinations of masks, or free indicator atoms."""

    if TYPE_CHECKING:  # supplied by SymbolicBackend
        atoms: Atoms
        discrete: set[sp.Symbol]

        def _positive(self, v: sp.Expr) -> bool: ...

    def _indicator(self, v: sp.Expr) -> sp.Expr:
        if v.is_number:
            if not (v.is_real and v.is_finite):
                raise OpDomainError(f"the indicator [{v} > 0] has no value (a division by zero)")
            return sp.Integer(1 if v > 0 else 0)
        atoms = self.atoms
        while v in atoms.definition:  # look through line atoms, one definition at a time
            v = atoms.definition[v]
        if v in atoms.exp_argument or (v in atoms.smooth and self._positive(v)):  # exp, σ > 0; sqrt of a positive
            return sp.Integer(1)
        if v in atoms.masks:  # [m > 0] = m for m in {0, 1}
            return v
        coefficient, rest = v.as_coeff_Mul()
        if coefficient.is_positive and coefficient != 1:  # [c v > 0] = [v > 0] for c > 0
            return self._indicator(rest)
        if coefficient.is_negative and self._nonnegative(-v):  # [-relu(z) > 0] = 0 at every value
            return sp.Integer(0)
        relu_mask = self._relu_mask(v)
        if relu_mask is not None:  # relu output m*z: positive exactly when the mask is on
            return relu_mask
        if v.is_Mul:  # [f g > 0] = f [g > 0] for a 0/1 factor f (a mask, a label, 1 - either)
            zero_one = [self._zero_one(f) for f in v.args]
            if any(zero_one):
                flags = sp.Mul(*(f for f, flag in zip(v.args, zero_one, strict=True) if flag))
                return flags * self._indicator(
                    sp.Mul(*(f for f, flag in zip(v.args, zero_one, strict=True) if not flag))
                )
        leaky = self._leaky_mask(v)
        if leaky is not None:  # a leaky ReLU output: positive exactly when its pre-activation is
            return leaky
        key = positive_part(atoms.key(v))  # [2 z > 0] = [z > 0]: a positive factor, also spread over a sum
        if key in atoms.mask_by_preactivation:
            return atoms.mask_by_preactivation[key]
        negated = positive_part(-key) in atoms.mask_by_preactivation
        if (negated or key.could_extract_minus_sign()) and self._nonzero_ae(key):
            return 1 - self._indicator(-key)  # [-z > 0] = 1 - [z > 0] except where z = 0, a null set
        cases = self._cases(key)
        if cases is not None:
            return cases
        return atoms.indicator(key)

    def _cases(self, key: sp.Expr) -> sp.Expr | None:
        """[f > 0] for f depending on at most MAX_CASES 0/1 symbols (masks, labels): Σ over their values of
        the indicator of that case times [f at that case > 0]. Exact, since the symbols take only these values."""
        flags = sorted(key.free_symbols & self._flags(), key=str)
        if not flags or len(flags) > MAX_CASES:
            return None
        total = sp.Integer(0)
        for values in itertools.product((0, 1), repeat=len(flags)):
            weight = sp.Mul(*(f if v else 1 - f for f, v in zip(flags, values, strict=True)))
            total += weight * self._indicator(key.xreplace(dict(zip(flags, map(sp.Integer, values), strict=True))))
        return total

    def _flags(self) -> set[sp.Symbol]:
        """Every symbol that is 0 or 1: masks, indicators, one-hot labels."""
        return self.atoms.masks.keys() | self.atoms.indicators.keys() | self.discrete

    def _zero_one(self, f: sp.Expr) -> bool:
        """Whether f takes only the values 0 and 1: a mask, a label, an indicator, or 1 minus one."""
        flags = self._flags()
        return f in flags or (f.is_Add and len(f.args) == 2 and 1 in f.args and -f + 1 in flags)

    def _relu_mask(self, v: sp.Expr) -> sp.Symbol | None:
        """The mask m when v is a relu output m*z (z the mask's own pre-activation)."""
        atoms = self.atoms
        if v.is_Mul:
            masks = [f for f in v.args if f in atoms.masks]
            if len(masks) == 1:
                rest = atoms.key(sp.Mul(*(f for f in v.args if f is not masks[0])))
                if atoms.masks[masks[0]] == rest:
                    return masks[0]
        return None

    def _nonnegative(self, v: sp.Expr) -> bool:
        """Whether v >= 0 at every value by structure: a relu output, or positive wherever defined."""
        while v in self.atoms.definition:
            v = self.atoms.definition[v]
        coefficient, rest = v.as_coeff_Mul()
        if coefficient.is_positive and coefficient != 1:  # c * relu(z) with c > 0, through the lines naming it
            return self._nonnegative(rest)
        return self._relu_mask(v) is not None or self._positive(v)

    def _nonzero_ae(self, key: sp.Expr) -> bool:
        """Whether `key` is zero only on a null set: a rational function of continuous inputs, not identically 0.

        Such a function vanishes on a set of measure zero, so [-z > 0] and 1 - [z > 0] differ only there, where
        the gradient is itself a convention. Masks, one-hot labels and smooth atoms are excluded: a piecewise
        function can vanish on a whole region, and atoms may obey identities the normal form does not know.
        The answer depends only on `key` (an atom's definition never changes once made), so it is kept.
        """
        memo: dict[sp.Expr, bool] = self.__dict__.setdefault("_nonzero_memo", {})
        if key not in memo:
            memo[key] = self._nonzero_ae_of(key)
        return memo[key]

    def _nonzero_ae_of(self, key: sp.Expr) -> bool:
        full = sp.expand(self.atoms.expand(key))
        if full.atoms(sp.Function) or any(p.exp.is_Rational and not p.exp.is_Integer for p in full.atoms(sp.Pow)):
            return False  # log, declared functions, roots: not a rational function (2 log(u) - log(u^2) is 0)
        return full != 0 and not (full.free_symbols & (set(self.atoms.created) | self.discrete))

    def _leaky_mask(self, v: sp.Expr) -> sp.Symbol | None:
        """The mask m when v = a·m·z + b·z with a + b > 0 and b > 0 (leaky_relu(z) = m z + alpha (z - m z)).

        Then v > 0 exactly when z > 0 (both branches are positive multiples of z), which is m's own test. The
        answer depends only on v (a mask's test never changes once made), so it is kept: a diagnosis search
        evaluates the same indicators for hundreds of readings.
        """
        memo: dict[sp.Expr, sp.Symbol | None] = self.__dict__.setdefault("_leaky_memo", {})
        if v not in memo:
            memo[v] = self._leaky_mask_of(v)
        return memo[v]

    def _leaky_mask_of(self, v: sp.Expr) -> sp.Symbol | None:
        atoms = self.atoms
        tests = {**atoms.masks, **atoms.indicators}  # relu's mask, or [z > 0] met first (np.where(z > 0, ...))
        for m in v.free_symbols & tests.keys():
            on, off = (sp.expand(atoms.expand(v.xreplace({m: sp.Integer(b)}))) for b in (1, 0))  # lines opened
            z = sp.expand(atoms.expand(tests[m]))
            if m in on.free_symbols or m in off.free_symbols or z == 0:
                continue
            k_on, k_off = sp.cancel(on / z), sp.cancel(off / z)
            if k_on.is_number and k_off.is_number and k_on > 0 and k_off > 0:
                return m
        return None
