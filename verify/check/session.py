"""A session: one built network and what the claims checked so far have bound.

Its own module so that everything that works on a session (the engine, binding, typesetting) imports it
from here and nothing imports the engine back: the import graph has no circle.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from derive_check.derive.budget import BudgetExceeded, paused, time_budget
from derive_check.derive.exact.network import Network
from derive_check.derive.model.claims import ClaimSpec
from derive_check.derive.ops.spec import Array, Shape, shape_text
from derive_check.derive.tree import Node
from derive_check.verify.check.entries import Derivatives, Entry, claim_entries, transport_map
from derive_check.verify.decide.equality import Equality
from derive_check.verify.decide.modular_point import Point
from derive_check.verify.results import ClaimResult, Verdict


@dataclass
class Session:
    """One built network and what claims have computed so far."""

    net: Network
    eq: Equality
    env: dict[str, Array]
    randomized: bool = False  # opt-in: random-point evaluation with a stated bound instead of the normal form
    stated_only: bool = False  # opt-in: no proof for all sizes, the fixed-size engine alone
    trees: dict[str, Node] = field(default_factory=dict)  # earlier claims' formulas, for the general proofs
    checked: dict[str, list[Entry]] = field(default_factory=dict)  # each claim's entries, as the engine compared them
    entries_proved: Callable[[str, int, int], None] | None = None  # progress: (claim, entries proved, total)
    derivatives: Derivatives = field(init=False)
    points: list[Point] = field(default_factory=list)  # the modular cross-check's random points, made once
    failed: set[str] = field(default_factory=set)  # earlier claims found wrong (REFUTED or SHAPE ERROR)
    judged: set[str] = field(default_factory=set)  # the claims whose verdict this process has (checked or cached)
    heard: Callable[[str], bool] | None = None  # whether an earlier claim another worker checks was found wrong
    tell: Callable[[str, bool], None] | None = None  # tells the workers checking later claims each verdict here

    shapes: dict[str, Shape] = field(init=False)

    def __post_init__(self) -> None:
        self.derivatives = Derivatives(self.net)
        self.shapes = dict(self.net.spec.shapes)

    def prepare(self, seconds: float) -> None:
        """The loss's reverse pass within `seconds` (`Derivatives.prepare`); what does not fit is left to the first
        claims that need it, under their own budgets."""
        with contextlib.suppress(BudgetExceeded), time_budget(max(seconds, 1e-3)):
            self.derivatives.prepare()

    def note(self, result: ClaimResult) -> None:
        """Remember a claim found wrong: only such a claim may be named as the one to fix first (`upstream`)."""
        wrong = result.verdict in (Verdict.REFUTED, Verdict.SHAPE_ERROR)
        self.judged.add(result.name)
        if wrong:
            self.failed.add(result.name)
        if self.tell is not None:
            self.tell(result.name, wrong)

    def was_wrong(self, name: str) -> bool:
        """Whether the earlier claim `name` was found wrong, here or by the worker that checks it (waiting for
        that worker's verdict if need be, with every open budget paused meanwhile)."""
        if name in self.judged or self.heard is None:
            return name in self.failed
        with paused():
            return self.heard(name)

    def gradient_mismatch(self, claim: ClaimSpec) -> str:
        """Why the claim's symbolic shape cannot be the gradient's, or '' (plain gradients of the loss only)."""
        if claim.of is not None or claim.wrt_index:
            return ""
        shape = self.shapes.get(claim.name, ())
        expected = self.shapes.get(claim.target, ())
        expected = tuple(reversed(expected)) if claim.layout == "numerator" else expected
        if shape != expected:  # only consulted when the concrete shapes agreed: the sizes coincide
            return (
                f"for symbolic sizes the claim has shape {shape_text(shape)}, the gradient {shape_text(expected)} "
                f"(they agree only because of the sizes chosen)"
            )
        return ""

    def progress(self, claim: ClaimSpec) -> Callable[[int, int], None] | None:
        """What `Equality.proves` tells of the claim's entries, (proved, total), passed on; None if nobody listens."""
        told = self.entries_proved
        return (lambda proved, total: told(claim.name, proved, total)) if told else None

    def entries(self, claim: ClaimSpec, tree: Node, transport: bool = True, bound: bool = False) -> list[Entry]:
        """The comparisons deciding `tree` read as `claim`'s formula (`transport`: see `claim_entries`; `bound`:
        the environment is as `bind` left it, so the claim's own bound value may be reused)."""
        known = self.env.get(claim.name) if bound and self.trees.get(claim.name) is tree else None
        return claim_entries(self.net, self.derivatives, claim, tree, self.env, transport, known)

    def transport(self, claim: ClaimSpec) -> dict[sp.Symbol, sp.Expr] | None:
        """For a claim about a forward quantity, its cut's free symbols with their values; else None."""
        if claim.target not in {line.name for line in self.net.spec.forward}:
            return None
        return transport_map(self.net, self.derivatives, claim.target)
