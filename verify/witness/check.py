"""The independent numeric witness: a second check of every claim the engine proves.

Independence. The witness reads the parsed model and claim trees (`derive.tree`, `derive.model` data types) and,
from the op table, only each op's `witness` facet (`derive.ops.table.witness_rule`): a second implementation of
the op's meaning over the witness's own mpmath arrays (`verify.witness.interp`, `verify.witness.arrays`,
written from the language's stated semantics and numpy's documented shape rules). It never calls an op's
`evaluate` facet, `derive.exact`, the backends or SymPy, and uses no derivative rule at all. A slip in the
engine's evaluation, its simplifier or its differentiation is therefore not repeated here, and a disagreement
between the two is a bug in derive-check.

Why a directional central difference is a valid check. The true value of dL/dV is the derivative
with V's own value as the variable: V's entries are perturbed and only what depends on V is
recomputed (lines before V keep their values). At a point at least 1e-3 away from every kink
(relu, leaky_relu, '>' indicators) the loss is analytic in V along any direction v, so
(F(V + h v) - F(V - h v)) / 2h = <grad F, v> + O(h^2 |F'''|); with h = 1e-40 (times the smallest entry moved) at
100 digits (more when the loss is large, see `difference`) the
truncation and rounding errors are far below the 1e-25 tolerance. If the claimed
gradient G differs from the true one, <G - grad F, v> is non-zero for almost every random v, so a
random direction detects any wrong entry with probability 1 while costing two evaluations instead
of one per entry; a disagreement is then localised by per-entry differences. Generic functions are
replaced by random concrete ones, which is valid because a claim true for every f is true for these.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from typing import Any

import mpmath

from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.model.spec import ModelSpec
from derive_check.derive.ops.dims import value
from derive_check.derive.tree import Node, refs
from derive_check.verify.witness.arrays import (
    Arr,
    Num,
    PointRejected,
    Points,
    Undefined,
    WitnessError,
    entry_positions,
    fmt,
    ravel,
    unravel,
)
from derive_check.verify.witness.interp import Functions, Interp
from derive_check.verify.witness.report import WitnessReport

DPS, STEP, TOLERANCE = 100, "1e-40", "1e-25"
MAX_ASSIGNMENTS, MAX_TRIES, MAX_LOCALISE, POINT_CHARS = 16, 50, 32, 600
Index = tuple[int, ...]
Prepared = tuple[list[int], list[list[tuple[Index, Num]]]]  # target positions; [k][j] -> (claim index, value)


def _flip(index: Index, flip: bool) -> Index:
    return tuple(reversed(index)) if flip else index


class _Run:
    """One claim at one size tuple: the point, the forward pass and the central differences."""

    def __init__(
        self, spec: ModelSpec, claim: ClaimSpec, tree: Node, earlier: Mapping[str, Node], sizes: Any, seed: int
    ):
        self.spec, self.claim, self.tree = spec, claim, tree
        self.undefined = False  # set when the claim is found to have no value where the loss has one
        self.sizes: dict[str, int] = {**spec.sizes, **(sizes or {})}
        self.ctx = mpmath.MPContext()
        self.ctx.dps = DPS
        self.h, self.tol = self.ctx.mpf(STEP), self.ctx.mpf(TOLERANCE)
        self.rng = random.Random(f"{seed}:{claim.name}:{sorted(self.sizes.items())}")
        self.functions = Functions(self.ctx, self.rng, spec.functions, spec.gradients)
        self.points = Points(self.ctx, self.rng, {**spec.inputs, **spec.params}, self.sizes)
        self.decls, self.shapes = self.points.decls, self.points.shapes
        needed = refs(tree) | (refs(claim.of) if claim.of is not None else set())
        for name in reversed(list(earlier)):
            if name in needed:
                needed |= refs(earlier[name])
        self.earlier = {n: t for n, t in earlier.items() if n in needed}
        lines = [line.name for line in spec.forward]
        start = lines.index(claim.target) + 1 if claim.target in lines else 0
        changed, self.dependent = {claim.target}, []
        for line in spec.forward[start:]:
            if refs(line.expr) & changed:
                self.dependent.append(line)
                changed.add(line.name)

    def forward(self, point: dict[str, Arr], labels: tuple[tuple[str, int], ...]) -> dict[str, Arr]:
        """Inputs with the claim's labels set, then every forward line, then the declared gradients."""
        env = dict(point)
        for name, cls in labels:
            if not 0 <= cls < self.points.classes(name):
                raise WitnessError(f"label class {cls} is out of range for '{name}'")
            env[name] = self.points.onehot(name, [cls] * self.points.rows(name))
        it = Interp(self.ctx, self.sizes, self.functions, guard=True)
        for line in self.spec.forward:
            try:
                env[line.name] = it.value(line.expr, env, {})
            except WitnessError as exc:
                raise WitnessError(f"forward line {line.name}: {exc}") from None
        env.update(it.gradients)
        return env

    def prepare(self, env: dict[str, Arr], local: dict[str, int]) -> Prepared:
        """The target entries, the claimed value and a map (k, j) -> claim index, at the unperturbed point."""
        it = Interp(self.ctx, self.sizes, self.functions, guard=True)
        env = dict(env)
        undefined = set()  # earlier claims with no value here: this claim is undefined only if it uses one
        for name, tree in self.earlier.items():
            try:
                env[name] = it.value(tree, env, local)
            except Undefined:
                undefined.add(name)
            except WitnessError as exc:
                raise WitnessError(f"earlier claim {name} cannot be evaluated: {exc}") from None
        target = env[self.claim.target]
        index = tuple(it.integer(it.value(i, env, local)) for i in self.claim.wrt_index)
        if len(index) > target.ndim or any(not 0 <= i < d for i, d in zip(index, target.shape, strict=False)):
            raise WitnessError(
                f"index {list(index)} of {self.claim.target} is out of range for shape {fmt(target.shape)}"
            )
        positions = entry_positions(target.shape, index)
        rest = target.shape[len(index) :]
        sub = () if index and all(d == 1 for d in rest) else rest  # as `entry` reads it: z[j] of a column is a scalar
        try:
            of = self.of_value(it, env, local)
        except Undefined as exc:  # what is differentiated has no value here: another point
            raise PointRejected(str(exc)) from None
        if refs(self.tree) & undefined:
            raise Undefined(f"it uses {', '.join(sorted(refs(self.tree) & undefined))}, which has no value here")
        value = it.value(self.tree, env, local)
        numerator, m, n = self.claim.layout == "numerator", len(of.data), len(positions)
        if not of.shape:  # a gradient: shaped like the target's entries (transposed in numerator layout)
            expected = tuple(reversed(sub)) if numerator else sub
            table = [[_flip(unravel(j, sub), numerator) for j in range(n)]]
        elif not sub:  # a derivative of an array by one entry: shaped like `of` (transposed in denominator layout)
            expected = of.shape if numerator else tuple(reversed(of.shape))
            table = [[_flip(unravel(k, of.shape), not numerator)] for k in range(m)]
        else:  # a Jacobian: one row per entry of `of` in numerator layout, its transpose in denominator layout
            expected = (m, n) if numerator else (n, m)
            table = [[(k, j) if numerator else (j, k) for j in range(n)] for k in range(m)]
        if value.shape != expected:
            raise WitnessError(
                f"the claim has shape {fmt(value.shape)}, the derivative in {self.claim.layout} layout {fmt(expected)}"
            )
        return positions, [[(i, value.data[ravel(i, expected)]) for i in row] for row in table]

    def of_value(self, it: Interp, env: Mapping[str, Arr], local: dict[str, int]) -> Arr:
        """What is differentiated: the loss, or the claim's `of` expression."""
        if self.claim.of is not None:
            return it.value(self.claim.of, env, local)
        loss = env[self.spec.loss]
        if loss.shape:
            raise WitnessError(f"the loss {self.spec.loss} has shape {fmt(loss.shape)}, not a scalar")
        return loss

    def perturbed(self, env: dict[str, Arr], direction: Mapping[int, Num], step: Num) -> dict[str, Arr]:
        """The environment with the target moved by step * direction and its dependents recomputed."""
        env = dict(env)
        base = env[self.claim.target]
        data = list(base.data)
        for j, v in direction.items():
            data[j] += step * v
        env[self.claim.target] = Arr(base.shape, data)
        it = Interp(self.ctx, self.sizes, self.functions, guard=False)
        for line in self.dependent:
            env[line.name] = it.value(line.expr, env, {})
        return env

    def difference(self, env: dict[str, Arr], local: dict[str, int], direction: Mapping[int, Num]) -> list[Num]:
        """The central difference of every entry of `of` along `direction`.

        Two things keep it honest far from the unit scale. The step is 1e-40 times the smallest non-zero
        entry moved (a softmax probability of 1e-15 under a log must move by much less than itself, or the
        O(h^2) term shows), and the working precision grows with the size of what is differentiated (a loss
        of 1e40 loses 40 digits to cancellation in F(x + h v) - F(x - h v)).
        """
        it = Interp(self.ctx, self.sizes, self.functions, guard=False)
        values = env[self.claim.target].data
        moved = [abs(values[j]) for j in direction if values[j]]
        step = self.h * min([self.ctx.mpf(1), *moved])
        scale = max([self.ctx.mpf(1), *(abs(x) for x in self.of_value(it, env, local).data)])
        saved = self.ctx.dps
        self.ctx.dps = saved + int(self.ctx.log10(scale)) + 1 + max(0, -int(self.ctx.log10(step)) - 40)
        try:
            plus = self.of_value(it, self.perturbed(env, direction, step), local).data
            minus = self.of_value(it, self.perturbed(env, direction, -step), local).data
            return [(a - b) / (2 * step) for a, b in zip(plus, minus, strict=True)]
        finally:
            self.ctx.dps = saved

    def close(self, a: Num, b: Num) -> bool:
        """|a - b| <= 1e-25 (1 + |a| + |b|)."""
        return bool(abs(a - b) <= self.tol * (1 + abs(a) + abs(b)))

    def check(self, point: dict[str, Arr], env: dict[str, Arr], local: dict[str, int], prep: Prepared) -> str | None:
        """None if the claim agrees along a random direction, else the disagreement, localised."""
        positions, entries = prep
        direction = {j: self.ctx.mpf(self.rng.uniform(-1, 1)) for j in positions}
        diffs = self.difference(env, local, direction)
        claimed = [
            self.ctx.fsum(entries[k][j][1] * direction[p] for j, p in enumerate(positions)) for k in range(len(diffs))
        ]
        if all(self.close(a, b) for a, b in zip(claimed, diffs, strict=True)):
            return None
        sample = list(enumerate(positions))
        if len(sample) > MAX_LOCALISE:
            sample = sorted(self.rng.sample(sample, MAX_LOCALISE))
        for j, p in sample:
            for k, d in enumerate(self.difference(env, local, {p: self.ctx.mpf(1)})):
                index, c = entries[k][j]
                if not self.close(c, d):
                    name = f"{self.claim.name}[{','.join(map(str, index))}]" if index else self.claim.name
                    return self.disagree(name, c, d, point, local)
        k = next(k for k, (a, b) in enumerate(zip(claimed, diffs, strict=True)) if not self.close(a, b))
        return self.disagree(
            f"{self.claim.name} along a random direction (entry {k})", claimed[k], diffs[k], point, local
        )

    def disagree(self, entry: str, claimed: Num, true: Num, point: dict[str, Arr], local: dict[str, int]) -> str:
        """The disagreement message: entry, sizes, both numbers, the point."""
        sizes = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        where = f" with {', '.join(f'{k}={v}' for k, v in local.items())}" if local else ""
        shown = {**point, **{n: self.points.onehot(n, [local[v]] * self.points.rows(n)) for n, v in self.claim.labels}}
        text = ", ".join(f"{n} = {self.points.show(a)}" for n, a in shown.items())
        text = text if len(text) <= POINT_CHARS else text[: POINT_CHARS - 3] + "..."
        return (
            f"the proof engine and the numeric witness disagree: this is a bug in derive-check. {entry} at {sizes}"
            f"{where}: claimed {self.ctx.nstr(claimed, 12)}, central difference {self.ctx.nstr(true, 12)} "
            f"({DPS} digits, step {STEP}); point: {text}"
        )

    def assignments(self) -> list[dict[str, int]]:
        """Every index assignment `when` allows (a random 16 when there are more)."""
        names = [v for v, _ in self.claim.index_vars]
        ranges = [range(value(s, self.sizes)) for _, s in self.claim.index_vars]
        every = [dict(zip(names, vs, strict=True)) for vs in itertools.product(*ranges)]
        every = [a for a in every if self.claim.when.holds(a, self.sizes)]
        return every if len(every) <= MAX_ASSIGNMENTS else sorted(self.rng.sample(every, MAX_ASSIGNMENTS), key=str)

    def run(self, points: int) -> WitnessReport:
        """Every point times every assignment; the first disagreement or failure decides."""
        checks = 0
        if self.claim.target not in self.decls and self.claim.target not in {x.name for x in self.spec.forward}:
            return self.report(None, f"'{self.claim.target}' is not an input, parameter or forward line", 0)
        try:
            assignments = self.assignments()
            for p in range(points):
                why = ""
                for _ in range(MAX_TRIES):
                    try:
                        point = self.points.draw(p)
                        failure, done = self.at_point(point, assignments)
                        if failure is not None:  # a true disagreement survives any precision; cancellation does not
                            failure = self.at_higher_precision(point, assignments)
                        break
                    except PointRejected as exc:
                        why = str(exc)
                else:
                    return self.report(None, f"no point away from kinks in {MAX_TRIES} tries (last: {why})", checks)
                checks += done
                if failure is not None:
                    return self.report(False, failure, checks)
        except WitnessError as exc:
            return self.report(None, f"the witness cannot evaluate {self.claim.name}: {exc}", checks)
        except OverflowError:  # exp(1e20 x): numbers beyond what a 60-digit witness can hold
            return self.report(None, f"the witness cannot evaluate {self.claim.name}: its values overflow", checks)
        if not assignments:
            return self.report(True, "no index assignment satisfies the condition: nothing to check", 0)
        return self.report(True, f"{checks} directional central differences agree ({DPS} digits, step {STEP})", checks)

    def at_higher_precision(self, point: dict[str, Arr], assignments: list[dict[str, int]]) -> str | None:
        """The same point again at three times the digits: log(1 - sigmoid(230)) loses all 100 of them."""
        saved = self.ctx.dps
        self.ctx.dps = 3 * DPS
        try:
            return self.at_point(
                {n: Arr(a.shape, [self.ctx.mpf(x) for x in a.data]) for n, a in point.items()}, assignments
            )[0]
        finally:
            self.ctx.dps = saved

    def at_point(self, point: dict[str, Arr], assignments: list[dict[str, int]]) -> tuple[str | None, int]:
        """Prepare every assignment (rejecting points near kinks), then check each; (first failure, checks run)."""
        envs: dict[tuple[tuple[str, int], ...], dict[str, Arr]] = {}
        todo = []
        for local in assignments:
            labels = tuple((n, local[v]) for n, v in self.claim.labels)
            if labels not in envs:
                envs[labels] = self.forward(point, labels)
            try:
                todo.append((local, envs[labels], self.prepare(envs[labels], local)))
            except Undefined as exc:  # the model is defined and differentiable here (it was evaluated), the claim not
                where = f" with {', '.join(f'{k}={v}' for k, v in local.items())}" if local else ""
                self.undefined = True
                return f"{self.claim.name} has no value at a point where the loss is defined{where}: {exc}", 0
        for done, (local, env, prep) in enumerate(todo, 1):
            failure = self.check(point, env, local, prep)
            if failure is not None:
                return failure, done
        return None, len(todo)

    def report(self, agrees: bool | None, message: str, checks: int) -> WitnessReport:
        """A report at this run's sizes."""
        sizes = tuple(self.sizes.items())
        return WitnessReport(agrees, message, checks, sizes, undefined=agrees is False and self.undefined)


def witness_claim(
    spec: ModelSpec,
    claim: ClaimSpec,
    tree: Node,
    earlier: Mapping[str, Node],
    *,
    sizes: Mapping[str, int] | None = None,
    points: int = 2,
    seed: int = 0,
) -> WitnessReport:
    """Check the claim `tree` numerically at `points` random points (sizes override spec.sizes)."""
    unknown = set(sizes or {}) - set(spec.sizes)
    if unknown:
        return WitnessReport(agrees=None, message=f"unknown size(s) {sorted(unknown)}", checks=0, sizes=())
    run = _Run(spec, claim, tree, earlier, sizes, seed)
    # every class of every one-hot input appears in some row of some point (the classes cycle over rows and points)
    need = max((-(-run.points.classes(n) // run.points.rows(n)) for n, d in run.decls.items() if d.onehot), default=1)
    return run.run(max(points, need))
