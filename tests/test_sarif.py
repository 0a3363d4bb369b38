"""SARIF 2.1.0: valid against the official OASIS schema, with one located result per finding and nothing else."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from derive_check.reports.sarif import error_spot, to_sarif
from derive_check.verify.results import ClaimResult, FileResult, Verdict
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES, ROOT

# The OASIS schema with the 2.1.0 errata (oasis-tcs/sarif-spec, Schemata/sarif-schema-2.1.0.json at ffa72eb4d4d7,
# "Update the github copies of the schemata to match the Approved Errata"; now sarif-2.1/schema/). It declares
# JSON Schema draft-04.
SCHEMA: dict[str, Any] = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())

HEAD = '[sizes]\nN = 2\nD = 3\n\n[inputs]\nX = "N x D"\n\n[params]\nW = "D x N"\n\n[forward]\n'
BAD_FORWARD = HEAD + 'L = "sum(X @ Q)"\n\n[claims]\ndW = "X.T @ ones(N, N)"\n'  # Q unknown: line 12, column 14
BAD_CLAIMS = HEAD + 'L = "sum(X @ W)"\n\n[claims]\ndW = "X.T @ Q"\ndX = { wrt = "W[", formula = "X" }\n'


def validate(text: str) -> dict[str, Any]:
    """The SARIF text parsed and validated with the validator its schema declares (draft-04)."""
    document: dict[str, Any] = json.loads(text)
    validator = jsonschema.validators.validator_for(SCHEMA)
    assert validator is jsonschema.Draft4Validator
    validator.check_schema(SCHEMA)
    validator(SCHEMA, format_checker=validator.FORMAT_CHECKER).validate(document)
    return document


def location(result: dict[str, Any]) -> tuple[str, str | None, int, int | None]:
    where = result["locations"][0]["physicalLocation"]
    region = where["region"]
    artifact = where["artifactLocation"]
    return artifact["uri"], artifact.get("uriBaseId"), region["startLine"], region.get("startColumn")


@pytest.fixture(scope="module")
def wrong() -> FileResult:
    return check_path(EXAMPLES / "two_layer_wrong.toml")


def test_the_wrong_example_gives_one_located_result_per_failing_claim(
    wrong: FileResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    document = validate(to_sarif([check_path(EXAMPLES / "two_layer.toml"), wrong]))
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "derive-check" and driver["version"] == metadata.version("derive-check")
    assert "informationUri" not in driver
    rules = [rule["id"] for rule in driver["rules"]]
    assert rules == ["refuted", "shape-error", "inconsistent", "input-error", "undecided", "probable"]
    assert all(rule["shortDescription"]["text"] and rule["help"]["text"] for rule in driver["rules"])
    assert run["invocations"] == [{"executionSuccessful": True}]
    found = run["results"]  # the passing file adds nothing; dh1, the right claim, neither
    assert [(r["properties"]["claim"], r["ruleId"], location(r)[2:]) for r in found] == [
        ("dscores", "refuted", (30, 12)),
        ("dW2", "refuted", (31, 8)),
        ("dW2_no_l2", "refuted", (32, 38)),
        ("db2", "shape-error", (33, 8)),
        ("db2_unsummed", "shape-error", (34, 41)),
        ("dW1", "refuted", (36, 8)),
        ("dW1_transposed", "shape-error", (37, 43)),
        ("db1", "refuted", (38, 8)),
    ]
    assert {location(r)[:2] for r in found} == {("examples/two_layer_wrong.toml", "%SRCROOT%")}
    assert {r["level"] for r in found} == {"error"}
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in found)
    dw2 = found[1]["message"]["text"].splitlines()
    assert dw2[0] == "dW2 REFUTED: dW2[0,0] differs from the true derivative"
    assert "diagnosis: reg factor 1 instead of 2 on the reg·W2 term" in dw2
    assert "corrected formula, PROVED: h1.T @ (P - Y) / N + 2 * reg * W2" in dw2


def test_the_output_is_deterministic_and_sorted_by_file_and_line(
    wrong: FileResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    shuffled = FileResult(file=wrong.file, title=wrong.title, claims=tuple(reversed(wrong.claims)))
    assert to_sarif([shuffled]) == to_sarif([wrong])
    assert "\\u" not in to_sarif([wrong]) and "\\u00b7" in to_sarif([wrong], ascii_only=True)


def test_input_errors_point_at_their_line_and_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "forward.toml").write_text(BAD_FORWARD)
    (tmp_path / "claims.toml").write_text(BAD_CLAIMS)
    (tmp_path / "toml.toml").write_text("[sizes]\nN = 2\n\tD = = 3\n")  # the tab counts as one column
    results = [check_path(tmp_path / name) for name in ("toml.toml", "forward.toml", "claims.toml")]
    monkeypatch.chdir(tmp_path)
    found = validate(to_sarif(results))["runs"][0]["results"]
    assert [(location(r), r["ruleId"], r["level"]) for r in found] == [
        (("claims.toml", "%SRCROOT%", 15, 13), "input-error", "error"),  # dW = "X.T @ Q"
        (("claims.toml", "%SRCROOT%", 16, 16), "input-error", "error"),  # the '[' of wrt = "W["
        (("forward.toml", "%SRCROOT%", 12, 14), "input-error", "error"),
        (("toml.toml", "%SRCROOT%", 3, 6), "input-error", "error"),
    ]
    assert found[0]["message"]["text"] == "dW ERROR: unknown name 'Q' (known here: D, L, N, W, X)"
    assert found[2]["message"]["text"] == (
        "the file could not be used: forward.L: unknown name 'Q' (known here: D, N, W, X)"
    )
    assert found[3]["message"]["text"] == "the file could not be used: malformed TOML: Invalid value"


def test_a_file_outside_the_working_directory_has_an_absolute_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "my model.toml").write_text("[sizes]\nN = 2\n")
    (tmp_path / "empty.toml").write_text(HEAD)  # [forward] is empty: an error without a line
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    found = validate(to_sarif([check_path(tmp_path / "empty.toml")]))["runs"][0]["results"]
    assert location(found[0]) == ((tmp_path / "empty.toml").as_uri(), None, 1, None)
    monkeypatch.chdir(tmp_path)
    result = FileResult(file="my model.toml", title="t", error="my model.toml:2: error: bad\n    N = 2\n        ^")
    assert location(validate(to_sarif([result]))["runs"][0]["results"][0]) == ("my%20model.toml", "%SRCROOT%", 2, 5)


def claim(name: str, verdict: Verdict, line: int | None, **more: Any) -> ClaimResult:
    return ClaimResult(name=name, target="W", formula="X.T", verdict=verdict, line=line, message="why", **more)


def test_levels_follow_the_verdict_and_an_inconsistency_fails_the_run(tmp_path: Path) -> None:
    claims = (
        claim("a", Verdict.UNDECIDED, 3),
        claim("b", Verdict.PROBABLE, 4),
        claim("c", Verdict.PROVED, 5),
        claim("d", Verdict.INCONSISTENT, None),
    )
    document = validate(to_sarif([FileResult(file=str(tmp_path / "gone.toml"), title="t", claims=claims)]))
    found = document["runs"][0]["results"]
    assert [(r["properties"]["claim"], r["ruleId"], r["level"], location(r)[2:]) for r in found] == [
        ("d", "inconsistent", "error", (1, None)),  # no line: the first, so code scanning can still show it
        ("a", "undecided", "warning", (3, None)),  # the file is gone: no column
        ("b", "probable", "warning", (4, None)),
    ]
    assert document["runs"][0]["invocations"] == [{"executionSuccessful": False}]


def test_the_schema_is_live(wrong: FileResult) -> None:
    document = json.loads(to_sarif([wrong]))
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        validate(json.dumps(document))
    del document["runs"][0]["results"][0]["level"]
    del document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]
    with pytest.raises(jsonschema.ValidationError, match="is not valid under any of the given schemas"):
        validate(json.dumps(document))  # a region needs startLine (errata: the anyOf is no longer ignored)


@pytest.mark.parametrize(
    ("rendered", "file", "expected"),
    [
        ("a.toml:7: error [claims.dW]: bad: no\n    dW = 'x'\n          ^^", "a.toml", (7, 7, "claims.dW: bad: no")),
        ("C:\\d\\a.toml:3: error: malformed TOML\n    x = = 1\n        ^", "C:\\d\\a.toml", (3, 5, "malformed TOML")),
        ("C:\\d\\a.toml:3: error: moved\n    x = = 1\n        ^", "elsewhere.toml", (3, 5, "moved")),
        ("a.toml: error: file is larger than 65536 bytes", "a.toml", (None, None, "file is larger than 65536 bytes")),
        ("a.toml:4: error: no caret here", "a.toml", (4, None, "no caret here")),
        ("something else entirely", "a.toml", (None, None, "something else entirely")),
        ("", "a.toml", (None, None, "")),
    ],
)
def test_error_spot_reads_a_rendered_error(
    rendered: str, file: str, expected: tuple[Any, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # none of these files exists: the caret's column is trusted as it is
    assert tuple(error_spot(rendered, file)) == expected
