"""SARIF 2.1.0 for code-scanning tools, and where a rendered input error points (shared with the annotations).

One run, one result per claim that is not PROVED and per file that could not be used, each located at its line of
the derivation file (and column, where the error's caret gives one). Rules are the kinds of finding; levels follow
the verdict: `error` for what is wrong, `warning` for what is not proved (UNDECIDED) or only probable (PROBABLE).
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from derive_check.verify.results import ClaimResult, FileResult, Verdict

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INPUT_ERROR = "input-error"

# (id, name, verdicts, level, short description, full description / help)
RULES: tuple[tuple[str, str, tuple[Verdict, ...], str, str, str], ...] = (
    (
        "refuted",
        "Refuted",
        (Verdict.REFUTED,),
        "error",
        "The claimed gradient formula is wrong",
        "Some entry of the claimed gradient differs from the true derivative of the loss at a concrete point "
        "(the exact residual and the point are in the message). When a diagnosis is given, its corrected formula "
        "is PROVED equal to the true gradient.",
    ),
    (
        "shape-error",
        "ShapeError",
        (Verdict.SHAPE_ERROR,),
        "error",
        "The formula cannot have the gradient's shape",
        "The claimed formula (or a forward quantity) has a shape that cannot match the quantity it is a gradient "
        "of, or its operands' shapes do not combine: check transposes, reductions and broadcasting.",
    ),
    (
        "inconsistent",
        "Inconsistent",
        (Verdict.INCONSISTENT,),
        "error",
        "The proof engine and the numeric witness disagree",
        "The exact engine and the independent float64 witness reached different conclusions about this claim. "
        "This is a bug in derive-check, not in the derivation: please report it with the file.",
    ),
    (
        INPUT_ERROR,
        "InputError",
        (Verdict.ERROR,),
        "error",
        "The derivation file or a formula in it is malformed",
        "The file, a declaration or a claim's formula could not be read, or the claim checks nothing; nothing "
        "was proved. The message says what is wrong, and the location points at the offending text.",
    ),
    (
        "undecided",
        "Undecided",
        (Verdict.UNDECIDED,),
        "warning",
        "The claim was neither proved nor refuted",
        "The time budget ran out (or the witness could not check) before a proof or a counterexample was found. "
        "This is not a pass: raise --budget, or use smaller sizes.",
    ),
    (
        "probable",
        "Probable",
        (Verdict.PROBABLE,),
        "warning",
        "The claim holds at random points but is not proved",
        "With --randomized, the residual was zero at independent random points, with the error bound stated; "
        "this passes a check run but is not a proof. Run without --randomized for a proof.",
    ),
)
RULE_INDEX = {verdict: k for k, rule in enumerate(RULES) for verdict in rule[2]}


def to_sarif(results: Sequence[FileResult], ascii_only: bool = False) -> str:
    """The results as a SARIF 2.1.0 log (JSON text): one run, a result per finding, sorted by location."""
    findings = [_file_result(r) for r in results if r.error]
    findings += [_claim_result(r, c) for r in results for c in r.claims if c.verdict is not Verdict.PROVED]
    findings.sort(key=_order)
    failed = any(r.worst is Verdict.INCONSISTENT or "internal error (a bug" in r.error for r in results)
    driver = {"name": "derive-check", "version": installed_version(), "rules": [_rule(rule) for rule in RULES]}
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": not failed}],
        "columnKind": "unicodeCodePoints",
        "results": findings,
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=ascii_only)


def installed_version() -> str:
    """The installed version of derive-check ("unknown" when run from a source tree without installing)."""
    from importlib import metadata  # here, not at the top: only who asks pays for it (~10 ms)

    try:
        return metadata.version("derive-check")
    except metadata.PackageNotFoundError:
        return "unknown"


def _rule(rule: tuple[str, str, tuple[Verdict, ...], str, str, str]) -> dict[str, Any]:
    rule_id, name, _, level, short, full = rule
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": full},
        "defaultConfiguration": {"level": level},
    }


def _claim_result(result: FileResult, claim: ClaimResult) -> dict[str, Any]:
    lines = [f"{claim.name} {claim.verdict.label}: {claim.message}"]
    lines += [f"diagnosis: {claim.diagnosis}"] if claim.diagnosis else []
    lines += [f"corrected formula, PROVED: {claim.corrected}"] if claim.corrected else []
    cx = claim.counterexample
    lines += [f"counterexample: {cx.entry}: true {cx.true_value}, claimed {cx.claimed_value}"] if cx else []
    col = claim_column(result.file, claim)
    found = _result(RULE_INDEX[claim.verdict], "\n".join(lines), result.file, claim.line, col)
    found["properties"] = {"claim": claim.name, "formula": claim.formula, "verdict": claim.verdict.label}
    return found


def _file_result(result: FileResult) -> dict[str, Any]:
    spot = error_spot(result.error, result.file)
    text = f"the file could not be used: {spot.message}"
    found = _result(RULE_INDEX[Verdict.ERROR], text, result.file, spot.line, spot.col)
    found["properties"] = {"verdict": Verdict.ERROR.label}
    return found


def _result(index: int, text: str, file: str, line: int | None, col: int | None) -> dict[str, Any]:
    region = {"startLine": line or 1, **({"startColumn": col} if col else {})}  # no column: the whole line
    return {
        "ruleId": RULES[index][0],
        "ruleIndex": index,
        "level": RULES[index][3],
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(file), "region": region}}],
    }


def _order(found: dict[str, Any]) -> tuple[str, int, int, str, str]:
    where = found["locations"][0]["physicalLocation"]
    region = where["region"]
    uri = where["artifactLocation"]["uri"]
    return uri, region["startLine"], region.get("startColumn", 0), found["ruleId"], found["message"]["text"]


def artifact_location(file: str) -> dict[str, str]:
    """A file as SARIF names it: relative to the working directory under %SRCROOT%, else an absolute file URI."""
    target, cwd = Path(os.path.abspath(file)), Path(os.getcwd())
    for base, path in ((cwd, target), (cwd.resolve(), target.resolve())):
        if path != base and path.is_relative_to(base):
            return {"uri": quote(path.relative_to(base).as_posix()), "uriBaseId": "%SRCROOT%"}
    return {"uri": target.as_uri()}


class ErrorSpot(NamedTuple):
    """Where a rendered input error points (1-based line and column, None when unknown) and its message."""

    line: int | None
    col: int | None
    message: str


_HEAD = r"(?::(?P<line>\d+)(?::(?P<col>\d+))?)?: error(?: \[(?P<key>[^\]]*)\])?: (?P<message>.*)"
_CARET = re.compile(r" {4}( *)\^+\s*")


def error_spot(rendered: str, file: str) -> ErrorSpot:
    """Line, column and message of a rendered error: `file:line[:col]: error [key]: message`, the quoted text, a
    caret (the column is read from the caret where the header does not state it)."""
    lines = rendered.splitlines() or [""]
    first = lines[0]
    head = re.fullmatch(_HEAD, first[len(file) :]) if first.startswith(file) else None
    head = head or re.fullmatch(".*?" + _HEAD, first)
    if head is None:
        return ErrorSpot(None, None, first.strip())
    message = f"{head['key']}: {head['message']}" if head["key"] else head["message"]
    if head["line"] is None:
        return ErrorSpot(None, None, message)
    line = int(head["line"])
    if head["col"] is not None:  # the header states the file's column (InputError.render)
        return ErrorSpot(line, int(head["col"]), message)
    for k in range(len(lines) - 1, 1, -1):  # the caret under the quoted text (never the header itself)
        caret = _CARET.fullmatch(lines[k])
        if caret and lines[k - 1].startswith("    "):
            return ErrorSpot(line, _file_column(file, line, lines[k - 1][4:], len(caret[1])), message)
    return ErrorSpot(line, None, message)


def claim_column(file: str, claim: ClaimResult) -> int | None:
    """The 1-based column a claim's finding points at: an error's caret, else where its formula starts in its line."""
    if claim.detail:
        return error_spot(claim.detail, file).col
    source = _source_line(file, claim.line) if claim.line else None
    return _quoted_column(source, claim.formula, 0) if source is not None else None


def _file_column(file: str, line: int, quoted: str, offset: int) -> int | None:
    """The caret's 1-based column in the file: the quoted text is the file's line, or a string written in it."""
    source = _source_line(file, line)
    if source is None or source.rstrip() == quoted.rstrip():  # a file gone: the quoted text is most often its line
        return offset + 1
    return _quoted_column(source, quoted, offset)


def _quoted_column(source: str, text: str, offset: int) -> int | None:
    for mark in ('"', "'"):
        at = source.find(f"{mark}{text}{mark}")
        if text.strip() and at >= 0:
            return at + 2 + offset
    return None


def _source_line(file: str, line: int) -> str | None:
    """Line `line` of the file as InputError.render quotes it (tabs as spaces), None if it cannot be read."""
    try:
        with open(file, encoding="utf-8", errors="replace") as stream:
            source = next(itertools.islice(stream, line - 1, None), None)
    except (OSError, ValueError):
        return None
    return None if source is None else source.rstrip("\r\n").replace("\t", " ")
