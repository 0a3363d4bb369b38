"""Where a refuted backward goes wrong: the first of its own adjoints that differs from the truth.

A model read from code (`derive.code`) carries probes: the backward's intermediates named for a forward quantity
(`dh` for `h`), each checked, like any claim, against the true adjoint. They never decide a verdict; a staged
backward may keep a partial adjoint under such a name. For a refuted gradient they locate the slip: the earliest
statement of its computation whose probe is refuted (that probe's counterexample is proved like any other), or,
when every probe on the way holds, the statements after the last one that holds. The probes are then left out of
the file's result: the report lists what the backward returns.
"""

from __future__ import annotations

from dataclasses import replace

from derive_check.derive.model.code_info import CodeInfo, Probe
from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import ClaimResult, FileResult, Verdict


def located(result: FileResult, spec: ModelSpec) -> FileResult:
    """The file's result with the probes taken out and each refuted gradient's departure line stated."""
    info = spec.code
    if info is None or result.error:
        return result
    probes = {c for p in info.probes for c in p.claims}
    verdicts = {c.name: c.verdict for c in result.claims}
    claims = []
    for claim in result.claims:
        if claim.name in probes:
            continue
        if claim.verdict is Verdict.REFUTED:
            claim = _departure(claim, info, verdicts)
        claims.append(claim)
    return replace(result, claims=tuple(claims))


def _departure(claim: ClaimResult, info: CodeInfo, verdicts: dict[str, Verdict]) -> ClaimResult:
    chain = info.chain(claim.name)
    on_path = sorted((p for p in info.probes if p.line in chain), key=lambda p: p.line)
    wrong = [p for p in on_path if _holds(p, verdicts) is False]
    if wrong:
        first = wrong[0]
        words = f"the backward first departs from the true adjoint at line {first.line}: `{info.statement(first.line)}`"
        return replace(claim, line=first.line, departs=f"{words} ({first.variable} is not the adjoint)")
    held = [p for p in on_path if _holds(p, verdicts)]
    after = [n for n in chain if not held or n > held[-1].line]
    if not after:
        return claim
    start, end = after[0], after[-1]
    since = f" (after {held[-1].variable} at line {held[-1].line}, which is the true adjoint)" if held else ""
    span = f"at line {start}" if start == end else f"between lines {start} and {end}"
    words = f"the backward departs from the true adjoint {span}{since}: `{info.statement(start)}`"
    return replace(claim, line=start, departs=words)


def _holds(probe: Probe, verdicts: dict[str, Verdict]) -> bool | None:
    """True when a reading of the probe is proved, False when every reading is refuted, None otherwise."""
    found = [verdicts.get(c) for c in probe.claims]
    if any(v is Verdict.PROVED for v in found):
        return True
    return False if found and all(v is Verdict.REFUTED for v in found) else None
