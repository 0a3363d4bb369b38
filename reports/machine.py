"""Renderers for machines: JSON (with a documented schema), JUnit XML, and `file:line:col:` annotations.

All three are functions of the results (an input error's column is checked against its line of the file, see
`sarif.error_spot`). JSON is the complete record; JUnit has one testcase per claim, class `derive_check.<file stem>`
(refuted, undecided and shape errors are failures, malformed input is an error); annotations are one line per
failing claim or unusable file, `file:line:col: severity: message`, or GitHub's `::error file=…,line=…,col=…::`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import PurePath
from typing import Any
from xml.etree import ElementTree as ET

from derive_check.reports.sarif import claim_column, error_spot
from derive_check.verify.results import ClaimResult, FileResult, Verdict

SCHEMA_VERSION = 1

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "derive-check results",
    "type": "object",
    "required": ["schema_version", "files", "summary"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "summary": {
            "type": "object",
            "required": ["passed", "failed", "exit_code"],
            "properties": {
                "passed": {"type": "integer"},
                "failed": {"type": "integer"},
                "exit_code": {"enum": [0, 1, 2, 3]},
            },
        },
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "title", "sizes", "claims", "error", "seconds", "notes"],
                "properties": {
                    "file": {"type": "string"},
                    "title": {"type": "string"},
                    "source": {"type": "string"},
                    "sizes": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "error": {"type": "string", "description": "set when the file itself could not be used"},
                    "seconds": {"type": "number"},
                    "notes": {"type": "array", "items": {"type": "string"}},
                    "claims": {"type": "array", "items": {"$ref": "#/$defs/claim"}},
                },
            },
        },
    },
    "$defs": {
        "claim": {
            "type": "object",
            "required": ["claim", "target", "formula", "verdict", "line", "entries", "seconds", "message"],
            "properties": {
                "claim": {"type": "string"},
                "target": {"type": "string", "description": "the quantity differentiated against"},
                "formula": {"type": "string"},
                "verdict": {"enum": [v.label for v in Verdict]},
                "line": {"type": ["integer", "null"]},
                "entries": {"type": "integer", "description": "scalar entries compared"},
                "seconds": {"type": "number"},
                "message": {"type": "string"},
                "detail": {"type": "string"},
                "residual": {"type": "string", "description": "exact residual (true - claimed) of the entry"},
                "counterexample": {"type": ["object", "null"]},
                "diagnosis": {"type": "string"},
                "corrected": {
                    "type": "string",
                    "description": (
                        "the corrected formula the diagnosis PROVED (empty when the claim itself is right and an "
                        "earlier claim it uses is wrong)"
                    ),
                },
                "matrix_residual": {
                    "type": ["object", "null"],
                    "description": (
                        "claim - dL/dX as a formula of the file's language, PROVED at the stated sizes ('sizes': "
                        "'stated') or for every size ('all'); null when there is no proved diagnosis"
                    ),
                    "properties": {"formula": {"type": "string"}, "sizes": {"enum": ["all", "stated"]}},
                    "required": ["formula", "sizes"],
                },
                "source": {"type": "string"},
                "reading": {"type": "string"},
                "sizes": {
                    "enum": ["all", "stated", ""],
                    "description": "for a passing claim: proved for all sizes in index notation, or at the stated ones",
                },
                "witness": {"type": "string", "description": "what the independent numeric witness checked"},
                "read_as": {"type": "string", "description": "for a LaTeX claim: the reading taken, as a formula"},
                "departs": {
                    "type": "string",
                    "description": "for a backward read from code: the statement where its value first departs",
                },
                "general": {
                    "type": ["object", "null"],
                    "description": "the proof for all sizes: proved, summary, the identities used",
                    "properties": {
                        "proved": {"type": "boolean"},
                        "summary": {"type": "string"},
                        "rules": {"type": "string"},
                    },
                },
            },
        }
    },
}


def exit_code(results: Sequence[FileResult]) -> int:
    """0 all passed; 3 the engine and the witness disagree (a bug); 2 some input error; 1 otherwise."""
    worst = max((r.worst for r in results), default=Verdict.PROVED)
    if worst is Verdict.INCONSISTENT:
        return 3
    return 0 if worst.passed else 2 if worst is Verdict.ERROR else 1


def to_json(results: Sequence[FileResult], ascii_only: bool = False) -> str:
    """The complete results as JSON, matching SCHEMA (non-ASCII characters as \\u escapes if `ascii_only`)."""
    passed = sum(c.verdict.passed for r in results for c in r.claims)
    failed = sum(not c.verdict.passed for r in results for c in r.claims) + sum(bool(r.error) for r in results)
    document = {
        "schema_version": SCHEMA_VERSION,
        "summary": {"passed": passed, "failed": failed, "exit_code": exit_code(results)},
        "files": [_file(r) for r in results],
    }
    return json.dumps(document, indent=2, ensure_ascii=ascii_only)


def _file(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.file,
        "title": result.title,
        "source": result.source,
        "sizes": dict(result.sizes),
        "error": result.error,
        "seconds": round(result.seconds, 4),
        "notes": list(result.notes),
        "claims": [_claim(c) for c in result.claims],
    }


def _claim(claim: ClaimResult) -> dict[str, Any]:
    cx = claim.counterexample
    return {
        "claim": claim.name,
        "target": claim.target,
        "formula": claim.formula,
        "verdict": claim.verdict.label,
        "line": claim.line,
        "entries": claim.entries,
        "seconds": round(claim.seconds, 4),
        "message": claim.message,
        "detail": claim.detail,
        "residual": cx.residual if cx else "",
        "counterexample": asdict(cx) if cx else None,
        "diagnosis": claim.diagnosis,
        "corrected": claim.corrected,
        "matrix_residual": {"formula": claim.residual, "sizes": claim.residual_scope} if claim.residual else None,
        "source": claim.source,
        "reading": claim.reading,
        "intent": claim.intent,
        "sizes": claim.scope,
        "witness": claim.witness,
        "crosscheck": claim.crosscheck,
        "read_as": claim.read_as,
        "departs": claim.departs,
        "general": (
            {"proved": claim.general.proved, "summary": claim.general.summary, "rules": claim.general.rules}
            if claim.general
            else None
        ),
    }


def to_junit(results: Sequence[FileResult]) -> str:
    """JUnit XML: a testsuite per file, a testcase per claim (classname `derive_check.<file stem>`)."""
    suites = ET.Element("testsuites", name="derive-check")
    for result in results:
        suite = ET.SubElement(suites, "testsuite", name=result.file, time=f"{result.seconds:.3f}")
        cases = list(result.claims)
        failures = sum(c.verdict in (Verdict.REFUTED, Verdict.UNDECIDED, Verdict.SHAPE_ERROR) for c in cases)
        errors = sum(c.verdict in (Verdict.ERROR, Verdict.INCONSISTENT) for c in cases) + bool(result.error)
        suite.set("tests", str(len(cases) + bool(result.error)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        classname = junit_classname(result.file)
        if result.error:
            spot = error_spot(result.error, result.file)
            case = ET.SubElement(
                suite, "testcase", classname=classname, name="(file)", file=result.file, line=str(spot.line or 0)
            )
            ET.SubElement(case, "error", message="the file could not be used").text = result.error
        for claim in cases:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=classname,
                name=claim.name,
                time=f"{claim.seconds:.3f}",
                file=result.file,
                line=str(claim.line or 0),
            )
            if claim.verdict in (Verdict.ERROR, Verdict.INCONSISTENT):
                ET.SubElement(case, "error", message=claim.message).text = claim.detail or claim.message
            elif not claim.verdict.passed:
                failure = ET.SubElement(
                    case, "failure", message=f"{claim.verdict.label}: {claim.message}", type=claim.verdict.label
                )
                failure.text = failure_text(claim)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def junit_classname(file: str) -> str:
    """The dotted JUnit class name of a file: `derive_check.` and its stem, non-word characters as `_`."""
    return "derive_check." + (re.sub(r"\W", "_", PurePath(file).stem) or "_")


def failure_text(claim: ClaimResult) -> str:
    """The details of a failing claim as plain text: formula, diagnosis, counterexample, residual."""
    lines = [f"{claim.name} = {claim.formula}", claim.message]
    if claim.departs:
        lines.append(f"where: {claim.departs}")
    if claim.read_as:
        lines.append(f"LaTeX read as: {claim.read_as}")
    if claim.diagnosis:
        lines += [f"diagnosis: {claim.diagnosis}"]
        lines += [f"corrected formula, PROVED: {claim.corrected}"] if claim.corrected else []
    cx = claim.counterexample
    if cx:
        lines += [f"counterexample: {cx.entry}: true {cx.true_value}, claimed {cx.claimed_value}"]
        lines += [f"  {name} = {literal}" for name, literal in cx.point]
        lines += [f"exact residual: {cx.residual}"]
    return "\n".join(lines)


def annotation_lines(results: Sequence[FileResult], github: bool = False) -> str:
    """One `file:line:col: severity: message` line per failing claim or unusable file (GitHub commands if `github`)."""
    out = []
    for result in results:
        if result.error:
            spot = error_spot(result.error, result.file)
            out.append(
                _annotation(result.file, spot.line or 1, spot.col or 1, "error", "input error", spot.message, github)
            )
        for claim in result.claims:
            if claim.verdict is Verdict.PROVED:
                continue
            level = {Verdict.UNDECIDED: "warning", Verdict.PROBABLE: "notice"}.get(claim.verdict, "error")
            col = claim_column(result.file, claim)
            title = f"{claim.name} {claim.verdict.label}"
            words = f"{title}: {claim.diagnosis or claim.message}"
            out.append(_annotation(result.file, claim.line or 1, col or 1, level, title, words, github))
    return "\n".join(out) + ("\n" if out else "")


def _annotation(file: str, line: int, col: int, level: str, title: str, words: str, github: bool) -> str:
    if not github:
        return f"{file}:{line}:{col}: {level}: {' '.join(words.splitlines())}"
    where = f"file={_escape(file, True)},line={line},col={col},title={_escape(title, True)}"
    return f"::{level} {where}::{_escape(words)}"


def _escape(text: str, property: bool = False) -> str:
    """GitHub workflow-command escaping: % CR LF in data, and also : , in a property's value."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text
