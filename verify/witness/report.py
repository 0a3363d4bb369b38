"""What the witness says about one claim."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WitnessReport:
    """The witness's verdict on one claim: True agrees, False disagrees, None cannot judge."""

    agrees: bool | None
    message: str
    checks: int
    sizes: tuple[tuple[str, int], ...]
    undefined: bool = False  # the disagreement is that the formula has no value where the loss has one
