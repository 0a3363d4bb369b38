"""What a model read from code (`derive.code`) carries beyond a derivation file's model.

A pair of functions is proved as a model whose loss is the vector-Jacobian product sum(out * dout): the gradient
of that loss with respect to an input is exactly the adjoint the backward must return. Beside the returned
gradients, the backward's own intermediate adjoints (`dh` for a forward `h`) are checked as probes: they never
decide a verdict (a staged backward may keep a partial adjoint under such a name), they only say where a refuted
gradient's computation first departs from the truth.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Probe:
    """An intermediate of the backward, checked against the true adjoint of the forward quantity it names."""

    claims: tuple[str, ...]  # its readings' claim names (the adjoint of h, or of h's argument): any one may hold
    variable: str  # the backward's variable, e.g. "dh"
    line: int  # the source line that gave it its final value


@dataclass(frozen=True, kw_only=True)
class CodeInfo:
    """The source of a model read from code, for locating a refutation and for scoping the all-sizes proof."""

    kind: str  # "numpy pair", "torch Function" or "loss function"
    forward: str  # the forward function's name (qualified for a torch Function)
    backward: str  # the backward function's name ("" for a loss function)
    probes: tuple[Probe, ...] = ()
    chains: tuple[tuple[str, tuple[int, ...]], ...] = ()  # claim -> source lines of the statements it reads
    statements: tuple[tuple[int, str], ...] = ()  # source line -> its text (the backward's statements)
    unrolled: tuple[str, ...] = ()  # sizes a loop was unrolled over: proved at the stated sizes only

    def chain(self, claim: str) -> tuple[int, ...]:
        """The source lines a returned gradient's computation reads, in order."""
        return dict(self.chains).get(claim, ())

    def statement(self, line: int) -> str:
        """The source text of a statement line."""
        return dict(self.statements).get(line, "").strip()
