"""Verdicts and results: frozen values that reports render and never recompute."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Verdict(IntEnum):
    """What derive-check concluded about a claim, ordered from best to worst."""

    PROVED = 0  # every entry equals dL/d(entry) exactly (a normal form reached zero) and the witness agrees
    PROBABLE = 1  # --randomized only: zero at independent random points, error bound stated; a pass, not a proof
    UNDECIDED = 2  # the budget ran out, no proof and no counterexample, or the witness could not check; not a pass
    REFUTED = 3  # some entry differs at a concrete point, shown with the exact residual
    SHAPE_ERROR = 4  # the claim cannot have the gradient's shape
    ERROR = 5  # the formula or file is malformed, or the claim checks nothing; nothing was proved
    INCONSISTENT = 6  # the proof engine and the independent numeric witness disagree: a bug in derive-check (exit 3)

    @property
    def passed(self) -> bool:
        """Whether a claim with this verdict passes a check run (PROVED, or PROBABLE when randomized was asked)."""
        return self <= Verdict.PROBABLE

    @property
    def label(self) -> str:
        """The verdict as printed: 'SHAPE ERROR', not 'SHAPE_ERROR'."""
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Counterexample:
    """A point where the claim and the true derivative differ, with an independent float check."""

    entry: str  # e.g. "dW1[0,2]"
    point: tuple[tuple[str, str], ...]  # (name, numpy literal) for every input and parameter
    labels: str  # the label assignment in words, e.g. "Y rows are classes [3, 0]"
    true_value: str  # decimal, 15 significant digits
    claimed_value: str
    residual: str  # the exact symbolic residual (true - claimed) at that entry, normalised
    oracle_value: float | None = None  # central finite difference of the loss in float64
    oracle_claim: float | None = None  # the claim evaluated in float64 at the same point


@dataclass(frozen=True)
class WorkedEntry:
    """One entry of a claim worked out for a reader: both sides and why they agree (or do not), in LaTeX."""

    entry: str  # e.g. \frac{\partial L}{\partial {W_{2}}_{0,0}}
    truth: tuple[str, ...]  # the derivative SymPy computed, split into lines
    claimed: tuple[str, ...]  # the claimed entry, split into lines
    denominator: str  # the common denominator of the residual's normal form ("1" if none)
    residual: tuple[str, ...]  # the reduced numerator: "0" when proved


@dataclass(frozen=True)
class ModelSummary:
    """The model as a reader sees it, typeset: declarations, forward pass, assumptions."""

    declarations: tuple[tuple[str, str, str], ...]  # (LaTeX name, shape, role)
    forward: tuple[tuple[str, str], ...]  # (LaTeX name, LaTeX formula)
    loss: str
    assumptions: tuple[str, ...]  # plain sentences (inline math in $...$)


@dataclass(frozen=True)
class GeneralProof:
    """The proof for every size (or why it was not reached), with its steps in LaTeX."""

    proved: bool  # True: the index normal form of (true - claimed) is zero for symbolic sizes and indices
    summary: str  # one line for every report
    steps: tuple[tuple[str, str], ...] = ()  # (caption, LaTeX) for the proof report
    rules: str = ""  # the identities the normal form used, with counts


@dataclass(frozen=True, kw_only=True)
class ClaimResult:
    """The verdict on one claim, with everything a report needs."""

    name: str
    target: str
    formula: str
    verdict: Verdict
    line: int | None
    entries: int = 0  # entries of the gradient checked
    seconds: float = 0.0
    message: str = ""  # one line: why this verdict
    detail: str = ""  # for errors: the rendered message with caret
    counterexample: Counterexample | None = None
    diagnosis: str = ""  # a proved near-miss reading, e.g. "equals the true gradient times N"
    source: str = ""
    corrected: str = ""  # the corrected formula the diagnosis proved
    derivative: str = ""  # what the claim states, as text: "dL/dW2" (or "dyhat[t]/dz[j]" for an `of` claim)
    residual: str = ""  # claim − dL/dX as a matrix formula of the file's language, PROVED
    residual_scope: str = ""  # where that residual is proved: "all" sizes or the "stated" ones
    residual_latex: str = ""  # the same residual typeset (only when typesetting was asked for)
    reading: str = ""  # which reading of an ambiguous source was encoded
    intent: str = ""  # of several readings: "likely" (the author's most likely intent) or "alternative"
    statement: str = ""  # LaTeX: the claim as an equation (only when typesetting was asked for)
    worked: WorkedEntry | None = None
    general: GeneralProof | None = None  # only for claims proved (or probable) at the stated sizes
    crosscheck: str = ""  # PROVED for all sizes: what checked the stated sizes, "normal form" or "modular" (mod p)
    witness: str = ""  # what the independent numeric witness checked for a passing claim
    read_as: str = ""  # for a claim written in LaTeX: the reading taken, as a formula of the language
    departs: str = ""  # for a backward read from code: the statement where its value first departs from the truth

    @property
    def reading_heading(self) -> str:
        """How reports introduce the reading: of several readings of one formula, which one this is."""
        kind = {"likely": " (the author's most likely intent)", "alternative": " (another reading)"}
        return "reading taken" + kind.get(self.intent, "")

    @property
    def scope(self) -> str:
        """Which sizes a passing claim holds for: 'all' (index-notation proof) or 'stated'; '' when it failed."""
        if not self.verdict.passed:
            return ""
        return "all" if self.general and self.general.proved else "stated"


@dataclass(frozen=True, kw_only=True)
class FileResult:
    """All claims of one derivation file (or the error that stopped it from loading)."""

    file: str
    title: str
    sizes: tuple[tuple[str, int], ...] = ()
    claims: tuple[ClaimResult, ...] = ()
    error: str = ""  # rendered InputError when the file itself could not be used
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""
    model: ModelSummary | None = None  # only when typesetting was asked for

    @property
    def worst(self) -> Verdict:
        """The worst verdict in the file (ERROR if the file failed to load)."""
        if self.error:
            return Verdict.ERROR
        return max((c.verdict for c in self.claims), default=Verdict.PROVED)
