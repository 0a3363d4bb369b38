"""Concrete real points: counterexamples a reader can type into numpy.

Inputs and parameters get small rationals, labels a random class per row, and
every mask the value its pre-activation really has at that point (points
closer than MARGIN to a ReLU kink are redrawn, so the finite-difference oracle
is not fooled; so are points where an indicator's argument is 0 to within
TIE without being 0 around it: a tie of a max, or of two saturated tanh values
equal at 60 digits, where the claim's value and the derivative's are not
defined). exp atoms get exp(argument) to 60 significant digits; every
other quantity is computed exactly from those.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.atoms import Atoms, as_expr
from derive_check.derive.exact.cut import CUT_MARK
from derive_check.derive.exact.network import Network, one_hot_groups
from derive_check.derive.ops.table import OPS

MARGIN = sp.Rational(1, 8)
TIE = sp.Rational(1, 10**30)  # an indicator's argument this close to 0 is a jump at the point (60-digit values)
DENOMINATORS = (1, 2, 4, 5, 10)  # every drawn value is an exact decimal a reader can paste
DIGITS = 60


class NoPoint(RuntimeError):
    """No point away from the kinks was found within the tries allowed."""


@dataclass(frozen=True)
class Point:
    """Values for every symbol the network uses, consistent with the activation pattern."""

    values: dict[sp.Basic, sp.Expr]
    classes: dict[str, list[int]]  # one-hot input -> class of each row

    def at(self, expr: sp.Expr) -> sp.Expr:
        """The number `expr` takes at this point (exact rational, or a 60-digit float with exps)."""
        return as_expr(expr).xreplace(self.values)

    def arrays(self, net: Network) -> dict[str, np.ndarray]:
        """Inputs and parameters as float64 arrays, for the numpy oracle."""
        return {
            name: np.vectorize(lambda s: float(self.values[s]), otypes=[float])(arr)
            for name, arr in net.symbols.items()
        }

    def literal(self, net: Network, name: str) -> str:
        """A numpy literal for one input or parameter; the decimals are the exact values. A label vector
        (`y = "N, labels C"`) is shown as the file writes it, its class indices, not its one-hot rows."""
        decl = net.spec.inputs.get(name)
        if decl is not None and decl.classes != "" and name in self.classes:
            return f"np.array({self.classes[name]})"
        arr = np.vectorize(lambda s: exact_decimal(self.values[s]), otypes=[object])(net.symbols[name])
        text = np.array2string(arr, separator=", ", formatter={"object": str}, max_line_width=10_000)
        return f"np.array({text.replace(chr(10), '')})" if arr.ndim else text


def exact_decimal(value: sp.Expr) -> str:
    """An exact decimal for a rational whose denominator divides a power of ten."""
    q = sp.Rational(value)
    if q.q == 1:
        return str(q.p)
    digits = 0
    while (q * 10**digits).q != 1 and digits < 12:
        digits += 1
    return f"{float(q):.{digits}f}"


def draw_point(
    net: Network,
    rng: random.Random,
    tries: int = 200,
    spread: int = 2,
    strict: bool = False,
    labels: dict[str, list[int]] | None = None,
) -> Point:
    """A random point whose pre-activations are all at least MARGIN away from zero, inputs in [-spread, spread].
    `strict`: every atom must be defined there, also those made by claims and readings after the model.
    `labels`: the class of each one-hot group, by input (drawn at random where not given)."""
    for _ in range(tries):
        check()  # a safe point for the time budget
        point = _attempt(net, rng, spread, strict, labels or {})
        if point is not None:
            return point
    raise NoPoint(f"no point with every pre-activation at least {MARGIN} from a kink in {tries} tries")


def _attempt(
    net: Network, rng: random.Random, spread: int = 2, strict: bool = False, labels: dict[str, list[int]] | None = None
) -> Point | None:
    values: dict[sp.Basic, sp.Expr] = {}
    onehot = {d.name for d in net.spec.inputs.values() if d.onehot}
    classes: dict[str, list[int]] = {}
    for name, arr in net.symbols.items():
        if name in onehot:  # one class per group, the groups the normal form reduces by
            groups = one_hot_groups(arr, net.spec.inputs[name].dims)
            given = (labels or {}).get(name)
            classes[name] = list(given) if given else [rng.randrange(len(group)) for group in groups]
            for group, hot in zip(groups, classes[name], strict=True):
                for c, s in enumerate(group):
                    values[s] = sp.Integer(int(c == hot))
            continue
        scalar = np.ndim(arr) == 0  # scalars (reg, a learning rate) are drawn positive
        for s in arr.flat:
            q = rng.choice(DENOMINATORS)
            numerators = [k for k in range(-spread * q, spread * q + 1) if k > 0 or (k < 0 and not scalar)]
            values[s] = sp.Rational(rng.choice(numerators), q)
    atoms = net.backend.atoms
    salt: int | None = None  # drawn at the first function atom: one draw however many there are
    for made, atom in enumerate(atoms.created):  # oldest first: a mask's pre-activation only uses older atoms
        own = strict or made < net.built  # the model's own atom: where it is undefined, this is not a point of it
        if atom in atoms.definition or CUT_MARK in atom.name:  # a cut's atoms are transported away before use
            continue
        if atom in atoms.calls:  # a generic function's value or derivative: any value is realisable
            # its value depends on the atom alone, not on how many function atoms earlier claims (or another
            # worker's) happened to create: the same claim gets the same point in any run
            salt = rng.getrandbits(64) if salt is None else salt
            own_rng = random.Random(f"{salt}:{atom.name}")
            q = own_rng.choice(DENOMINATORS)
            values[atom] = sp.Rational(own_rng.choice([k for k in range(-spread * q, spread * q + 1) if k]), q)
            continue
        if atom in atoms.smooth:
            kind, u = atoms.smooth[atom]
            exact_value = OPS[kind].exact_value
            assert exact_value is not None, f"the smooth op {kind} has no exact value"  # the op-table test checks
            values[atom] = exact_value(sp, atoms.expand(u).xreplace(values)).evalf(DIGITS)
            if not values[atom].is_real:  # sqrt of a negative number here: not a point of the model
                if own:
                    return None
                del values[atom]  # a formula's own atom (a claim, a reading): left undefined, that formula has no value
            continue
        if atom in atoms.exp_argument:
            arg = atoms.expand(atoms.exp_argument[atom]).xreplace(values)
            values[atom] = sp.exp(arg).evalf(DIGITS)
            continue
        if atom in atoms.indicators:  # an indicator's value is exact; only a jump the point sits on is refused
            z = atoms.expand(as_expr(atoms.indicators[atom])).xreplace(values)
            if not z.is_finite:
                if own:
                    return None
                continue
            if abs(z) < TIE and not _zero_nearby(net, atoms.indicators[atom], values):
                if own:
                    return None  # a tie (of a max; of two saturated tanh values): neither side has a value there
                continue  # another formula's: left undefined, a formula using it has no value here
            values[atom] = sp.Integer(1 if z > 0 else 0)
            continue
        z = atoms.expand(as_expr(atoms.masks[atom])).xreplace(values)
        if not z.is_finite or abs(z) < MARGIN:  # undefined here (a division by a mask that is 0), or near a kink
            if own:
                return None  # the model's own: redraw
            continue  # another formula's (a claim's, a reading's): left undefined, as above, never a redraw, so
            # that whether a point is drawn again does not depend on which formulas this process has read
        values[atom] = sp.Integer(1 if z > 0 else 0)
    return Point(values, classes)


def _zero_nearby(net: Network, key: sp.Expr, values: dict[sp.Basic, sp.Expr]) -> bool:
    """Whether an indicator's argument is 0 for every value of the continuous variables once the masks, free
    indicators and labels drawn so far are fixed (masks are MARGIN from their kinks, so they stay fixed around the
    point): then the indicator is constant there and the point is no jump (the correct class's SVM margin, a
    square root of a ReLU at 0). Otherwise a 0 is a tie at this point only, where no derivative exists."""
    atoms = net.backend.atoms
    discrete = atoms.masks.keys() | atoms.indicators.keys() | {y for row in net.label_rows for y in row}
    fixed = {k: v for k, v in values.items() if k in discrete}
    return bool(sp.expand(_opened(atoms, atoms.expand(as_expr(key)), fixed, {})) == 0)


def _opened(atoms: Atoms, expr: sp.Expr, fixed: dict[sp.Basic, sp.Expr], memo: dict[sp.Basic, sp.Expr]) -> sp.Expr:
    """`expr` with the discrete symbols fixed and every exp and smooth atom written as the SymPy function of its
    argument (so sqrt(0) is 0 and tanh(a) - tanh(b) is not)."""
    found = memo.get(expr)
    if found is not None:
        return found
    if expr in fixed:
        result = fixed[expr]
    elif expr in atoms.exp_argument:
        result = sp.exp(_opened(atoms, atoms.expand(atoms.exp_argument[expr]), fixed, memo))
    elif expr in atoms.smooth:
        kind, u = atoms.smooth[expr]
        exact_value = OPS[kind].exact_value
        assert exact_value is not None, f"the smooth op {kind} has no exact value"
        result = exact_value(sp, _opened(atoms, atoms.expand(u), fixed, memo))
    elif not expr.args:
        result = expr
    else:
        result = expr.func(*(_opened(atoms, a, fixed, memo) for a in expr.args))
    memo[expr] = result
    return result
