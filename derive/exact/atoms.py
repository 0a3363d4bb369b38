"""Atoms: the symbols the model invents, each with what it stands for.

Five kinds, one table:

- **line atoms** — one per entry of each forward quantity (`scores[0,1]`), with
  its definition in terms of earlier atoms. The loss stays small, and the
  chain rule runs through definitions, each step a structural partial derivative (`partial`).
  Before the equality test they are expanded away (`expand`), so nothing is
  assumed about them.
- **exp atoms** — `exp(u)` as a symbol with its argument recorded, in a normal form: exp(a + b - c) is
  exp(a) exp(b) / exp(c) and exp(2 v) is exp(v)^2 when the argument is a sum of integer multiples of symbols
  (a softmax with its max shift, exp(-z) in a sigmoid written out). SymPy's own `exp` folds and unfolds at
  will; an atom never does. Beyond that normal form exp atoms are independent variables: that can only miss
  a true identity, never accept a false one.
- **smooth atoms** — `sigmoid(u)`, `tanh(u)` (any smooth element-wise op of the op table) as symbols whose
  derivative is the op's `derivative` formula evaluated on atoms (σ' = σ(1 - σ), tanh' = 1 - tanh²), exactly
  as exp' = exp. Residuals stay polynomial in them (no 1/(1 + e) denominators).
- **function atoms** — `f(z[0])`, `f'(z[0])`, `dL/dy[2]`: applications of a function the
  user declares but does not define (seed 004's f, g and L). Each partial derivative
  is another atom, so a proof with them free holds for *every* smooth function.
- **masks** — `mask(h1)[i,j]` ∈ {0, 1}, relu(z) = mask·z, keyed by the expanded
  pre-activation so `(h1 > 0)` and `(X @ W1 + b1 > 0)` are the same mask.
  Masks are constants for differentiation: relu'(z) = [z > 0], relu'(0) = 0.

Names are unique by construction: SymPy symbols with equal names are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from derive_check.derive.budget import check
from derive_check.derive.exact.exp_form import ExpForm
from derive_check.derive.exact.partial import accumulate, expanded, partial
from derive_check.derive.exact.walk import substitute
from derive_check.derive.printing.symbols import Label


def as_expr(value: object) -> sp.Expr:
    """An internal value (SymPy object, int or Fraction) as a SymPy expression; never parses text."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise TypeError(f"not an exact value: {type(value).__name__}")
    return sp.Rational(value.numerator, value.denominator)


Slope = Callable[[str, sp.Symbol, sp.Expr], sp.Expr]  # (op, atom, argument) -> d atom / d argument


@dataclass(frozen=True)
class FunctionCall:
    """A declared function's partial derivative `partial` (argument positions) applied to `args`."""

    name: str
    partial: tuple[int, ...]
    args: tuple[sp.Expr, ...]

    def label(self, arg_labels: tuple[Label, ...]) -> Label:
        """How the atom reads: f(z[0]), f'(z[0]), or d(L)/d(y[2]) for a scalar function's partials."""
        if len(self.args) == 1:
            return Label("call", self.name, primes=len(self.partial), of=arg_labels[0])
        if not self.partial:
            return Label("call", self.name, of=Label("text", "..."))
        return Label("text", f"d({self.name})/" + "".join(f"d({arg_labels[p].text()})" for p in self.partial))


@dataclass
class Atoms(ExpForm):
    """Every invented symbol and its meaning."""

    definition: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # line atom -> definition
    exp_argument: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # exp atom -> argument
    exp_by_argument: dict[sp.Expr, sp.Symbol] = field(default_factory=dict)  # expanded argument -> atom
    masks: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # mask -> expanded pre-activation
    mask_by_preactivation: dict[sp.Expr, sp.Symbol] = field(default_factory=dict)
    indicators: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)  # [expr > 0] with no mask of its own
    calls: dict[sp.Symbol, FunctionCall] = field(default_factory=dict)  # function atom -> what it applies
    smooth: dict[sp.Symbol, tuple[str, sp.Expr]] = field(default_factory=dict)  # smooth atom -> (kind, argument)
    _smooth_by_key: dict[tuple[str, sp.Expr], sp.Symbol] = field(default_factory=dict)
    _call_by_key: dict[tuple[str, tuple[int, ...], tuple[sp.Expr, ...]], sp.Symbol] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    created: list[sp.Symbol] = field(default_factory=list)  # every invented symbol, oldest first
    _full: dict[sp.Basic, sp.Expr] = field(default_factory=dict)
    _polynomial: dict[sp.Symbol, bool] = field(default_factory=dict)
    _shallow: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    _opened: dict[sp.Basic, sp.Basic] | None = None
    _opened_from: int = 0
    _shallow_memo: dict[sp.Basic, sp.Basic] = field(default_factory=dict)
    _partials: dict[tuple[sp.Expr, sp.Symbol], sp.Expr] = field(default_factory=dict)
    slope: Slope | None = None  # a smooth op's derivative, from its op-table formula (set by the exact backend)
    _slopes: dict[sp.Symbol, sp.Expr] = field(default_factory=dict)
    labels: dict[sp.Symbol, Label] = field(default_factory=dict)  # how each symbol reads (text and LaTeX)

    def fresh(self, label: Label | str) -> sp.Symbol:
        """A symbol named by its label, with a name no other invented symbol has."""
        label = Label("text", label) if isinstance(label, str) else label
        name = label.text()
        candidate, k = name, 1
        while candidate in self.used_names:
            k += 1
            candidate = f"{name}#{k}"
        self.used_names.add(candidate)
        symbol = sp.Symbol(candidate)
        self.created.append(symbol)
        self.labels[symbol] = label
        return symbol

    def label_of(self, u: sp.Expr, fallback: Label) -> Label:
        """How `u` reads: its label if it is a labelled symbol, else `fallback` (the entry being computed)."""
        if getattr(u, "is_Symbol", False):
            return self.labels.get(u, Label("text", str(u)))
        if getattr(u, "is_number", False):  # sqrt(2/pi) reads as itself, not as the entry being computed
            return Label("number", str(u), tex=sp.latex(u))
        return fallback

    def define(self, value: sp.Expr, name: Label | str) -> sp.Expr:
        """A line atom standing for `value` (symbols and numbers are returned as they are)."""
        if value.is_Symbol or value.is_number:
            return value
        atom = self.fresh(name)
        self.definition[atom] = value
        return atom

    def key(self, u: sp.Expr) -> sp.Expr:
        """The canonical form of an atom's argument, in terms of line atoms (cheap: never expanded through them).

        A line atom stands for its definition, so `exp(scores[0,1])` and `exp(h1[0,:] @ W2[:,1] + b2[1])`
        must meet: an argument that is a line atom is keyed by its (expanded) definition.
        """
        while u in self.definition:
            u = self.definition[u]
        return expanded(u)

    def call(self, name: str, partial: tuple[int, ...], args: tuple[sp.Expr, ...], label: Label | str) -> sp.Symbol:
        """The atom for a declared function's (partial derivative's) value at `args`."""
        key = (name, tuple(sorted(partial)), tuple(self.key(a) for a in args))
        atom = self._call_by_key.get(key)
        if atom is None:
            atom = self._call_by_key[key] = self.fresh(label)
            self.calls[atom] = FunctionCall(name, key[1], args)
        return atom

    def smooth_atom(self, kind: str, u: sp.Expr, name: Label | str) -> sp.Symbol:
        """The atom for sigmoid(u) or tanh(u)."""
        key = (kind, self.key(u))
        atom = self._smooth_by_key.get(key)
        if atom is None:
            atom = self._smooth_by_key[key] = self.fresh(name)
            self.smooth[atom] = (kind, u)
        return atom

    def slope_of(self, atom: sp.Symbol) -> sp.Expr:
        """d atom / d argument for a smooth atom, in terms of atoms (σ' = σ(1 - σ)): the op table's formula."""
        found = self._slopes.get(atom)
        if found is None:
            if self.slope is None:
                raise ValueError("smooth atoms need the exact backend's slope rule")
            kind, u = self.smooth[atom]
            found = self._slopes[atom] = self.slope(kind, atom, u)
        return found

    def mask(self, z: sp.Expr, name: Label | str) -> sp.Symbol:
        """The mask symbol of pre-activation `z`, created on first use. Masks are found by `positive_part(key)`:
        [c z > 0] = [z > 0] for c > 0, so relu(2 x) and an indicator (x > 0) test one 0/1 function."""
        key = self.key(z)
        found = positive_part(key)
        mask = self.mask_by_preactivation.get(found)
        earlier = next((s for s, k in self.indicators.items() if k == found), None) if mask is None else None
        if earlier is not None:  # an indicator [z > 0] met before relu(z): the same 0/1 function, one symbol
            del self.indicators[earlier]
            mask = earlier
            self.mask_by_preactivation[found] = mask
            self.masks[mask] = key
        if mask is None:
            mask = self.fresh(name)
            self.mask_by_preactivation[found] = mask
            self.masks[mask] = key
        return mask

    def indicator(self, key: sp.Expr) -> sp.Symbol:
        """A 0/1 atom for [key > 0] where no mask tests `key` (free, so proofs cover both values)."""
        for symbol, expr in self.indicators.items():
            if expr == key:
                return symbol
        symbol = self.fresh(Label("text", f"[{str(key)[:40]} > 0]"))
        self.indicators[symbol] = key
        return symbol

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with every line atom replaced by its full definition (exp atoms and masks stay): one walk over
        the DAG, each shared sub-expression opened once (`_full` remembers every node opened, across calls)."""
        found = self._full.get(expr)
        if found is not None:
            return found
        if expr in self.definition:
            check()  # a safe point for the time budget, once per line atom opened
            result = self.expand(self.definition[expr])
        elif not expr.args:
            result = expr
        else:
            args = tuple(self.expand(a) for a in expr.args)
            result = expr.func(*args) if any(x is not y for x, y in zip(args, expr.args, strict=True)) else expr
        self._full[expr] = result
        return result

    def shallow(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with only the line atoms that are not polynomials (softmax outputs, logs) expanded.

        Polynomial line atoms (h1[0,2], scores[1,0]) stay as symbols. Treating them as free variables is
        sound (a zero polynomial stays zero under substitution) and keeps residuals small; when it misses a
        zero, the caller falls back to `expand`.
        """
        if self._opened is None or self._opened_from != len(self.definition):  # rebuilt when atoms were added
            self._opened = {a: self._shallow_expanded(a) for a in self.definition if not self._is_polynomial(a)}
            self._opened_from, self._shallow_memo = len(self.definition), {}
        return substitute(expr, self._opened, self._shallow_memo)

    def _shallow_expanded(self, atom: sp.Symbol) -> sp.Expr:
        found = self._shallow.get(atom)
        if found is None:
            value = self.definition[atom]
            inner = [a for a in value.free_symbols & self.definition.keys() if not self._is_polynomial(a)]
            found = self._shallow[atom] = value.xreplace({a: self._shallow_expanded(a) for a in inner})
        return found

    def _is_polynomial(self, atom: sp.Symbol) -> bool:
        found = self._polynomial.get(atom)
        if found is None:
            value = self.definition[atom]
            found = not value.atoms(sp.Function) and all(
                not p.exp.is_negative and p.exp.is_Integer for p in value.atoms(sp.Pow)
            )
            found = found and all(self._is_polynomial(a) for a in value.free_symbols & self.definition.keys())
            self._polynomial[atom] = found
        return found

    def total_diff(self, expr: sp.Expr, x: sp.Symbol, memo: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
        """d expr/dx through every atom: ∂expr/∂x + Σ_a ∂expr/∂a · da/dx (memo caches da/dx)."""
        check()  # a safe point for the time budget
        result = sp.diff(expr, x)
        for atom in expr.free_symbols:
            if atom == x or not (
                atom in self.definition or atom in self.exp_argument or atom in self.calls or atom in self.smooth
            ):
                continue
            inner = memo.get(atom)
            if inner is None:
                inner = memo[atom] = self._atom_diff(atom, x, memo)
            if inner != 0:
                result += self._partial(expr, atom) * inner
        return result

    def gradient(self, expr: sp.Expr, wanted: frozenset[sp.Basic] | None = None) -> dict[sp.Symbol, sp.Expr] | None:
        """d expr / d s at once for every symbol s (every one in `wanted`, if given; the derivative with respect to
        any other symbol is then not computed, so the caller must not read it), by reverse accumulation over the
        atoms (None if it cannot).

        Atoms are created after what they depend on, so newest-first is a topological order. One pass
        replaces one forward pass per parameter entry. Declared-function atoms create their higher partials
        while being differentiated, so with them the caller uses `total_diff`.
        """
        if self.calls:
            return None
        chained = (self.definition, self.exp_argument, self.smooth)  # atoms the chain rule runs through

        def keep(symbol: sp.Basic) -> bool:
            return wanted is None or symbol in wanted or any(symbol in table for table in chained)

        parts: dict[sp.Symbol, list[sp.Expr]] = {}  # contributions, summed once when all are in
        accumulate(expr, sp.Integer(1), parts, keep)  # one walk per expression (`derive.exact.partial`)
        for atom in reversed(self.created):
            check()  # a safe point for the time budget
            found = parts.get(atom)
            if not found:
                continue
            weight = parts[atom] = [sp.Add(*found)]  # every contribution comes from a newer atom: all in
            if weight[0] == 0:
                continue
            if atom in self.definition:
                accumulate(self.definition[atom], weight[0], parts, keep)
            elif atom in self.exp_argument:
                accumulate(self.exp_argument[atom], weight[0] * atom, parts, keep)
            elif atom in self.smooth:
                accumulate(self.smooth[atom][1], weight[0] * self.slope_of(atom), parts, keep)
        adjoint = {symbol: sp.Add(*terms) for symbol, terms in parts.items()}
        return {symbol: total for symbol, total in adjoint.items() if total != 0}

    def _atom_diff(self, atom: sp.Symbol, x: sp.Symbol, memo: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
        if atom in self.definition:
            return self.total_diff(self.definition[atom], x, memo)
        if atom in self.exp_argument:
            return atom * self.total_diff(self.exp_argument[atom], x, memo)
        if atom in self.smooth:
            return self.slope_of(atom) * self.total_diff(self.smooth[atom][1], x, memo)
        call = self.calls[atom]  # d F_p(args)/dx = Σ_q F_{p+q}(args) · d args[q]/dx
        total = sp.Integer(0)
        for q, arg in enumerate(call.args):
            inner = self.total_diff(arg, x, memo)
            if inner != 0:
                labels = tuple(self.label_of(a, Label("text", str(a))) for a in call.args)
                higher = FunctionCall(call.name, (*call.partial, q), call.args)
                total += self.call(call.name, higher.partial, call.args, higher.label(labels)) * inner
        return total

    def _partial(self, expr: sp.Expr, atom: sp.Symbol) -> sp.Expr:
        key = (expr, atom)
        found = self._partials.get(key)
        if found is None:
            found = self._partials[key] = partial(expr, atom)
        return found


def positive_part(key: sp.Expr) -> sp.Expr:
    """`key` without a positive constant factor (2x -> x, 2x + 4 -> x + 2): the same sign everywhere."""
    if key.is_Mul:
        coefficient, rest = key.as_coeff_Mul()
        return rest if coefficient.is_positive else key
    if key.is_Add:
        content, primitive = key.primitive()
        return primitive if content.is_positive else key
    return key
