"""JSON against its schema, JUnit read back, and `file:line:` annotations pointing at the claims' lines."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from derive_check.cli import main
from derive_check.reports.machine import SCHEMA, annotation_lines, to_json, to_junit
from derive_check.verify.results import FileResult, Verdict
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES


@pytest.fixture(scope="module")
def results() -> list[FileResult]:
    return [check_path(EXAMPLES / "two_layer.toml"), check_path(EXAMPLES / "two_layer_wrong.toml")]


def test_json_validates_against_its_schema(results: list[FileResult]) -> None:
    document = json.loads(to_json(results))
    jsonschema.validate(document, SCHEMA)
    assert document["summary"] == {"passed": 7, "failed": 8, "exit_code": 1}
    wrong = {c["claim"]: c for c in document["files"][1]["claims"]}
    assert wrong["dW1"]["verdict"] == "REFUTED" and wrong["dW1"]["corrected"] == "X.T @ (dh1 * (h1 > 0)) + 2 * reg * W1"
    assert wrong["dW1"]["counterexample"]["entry"].startswith("dW1[")


def test_the_schema_rejects_a_document_with_an_unknown_verdict(results: list[FileResult]) -> None:
    document = json.loads(to_json(results))
    document["files"][0]["claims"][0]["verdict"] = "PROBABLY"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_junit_counts_match_the_results(results: list[FileResult]) -> None:
    root = ET.fromstring(to_junit(results))
    suites = root.findall("testsuite")
    assert [s.get("tests") for s in suites] == ["6", "9"]
    assert [s.get("failures") for s in suites] == ["0", "8"]
    failed = {c.get("name") for c in suites[1].iter("testcase") if c.find("failure") is not None}
    assert failed == {c.name for c in results[1].claims if c.verdict is not Verdict.PROVED}
    assert suites[1].find("testcase[@name='dW2']").get("line") == "31"  # type: ignore[union-attr]


def test_annotations_point_at_the_claims_lines(results: list[FileResult]) -> None:
    lines = annotation_lines(results).splitlines()
    wrong = EXAMPLES / "two_layer_wrong.toml"
    assert lines[0] == f"{wrong}:30: error: dscores REFUTED: Equals the true derivative times 2 (= N: a missing 1/N?)"
    assert len(lines) == 8
    github = annotation_lines(results, github=True).splitlines()
    assert github[0].startswith(f"::error file={wrong},line=30,title=derive-check::dscores")


def test_the_cli_writes_junit_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "out" / "results.xml"
    code = main([str(EXAMPLES / "two_layer.toml"), "--format", "json", "--junit", str(junit)])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["exit_code"] == 0
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_the_cli_prints_its_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json-schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "derive-check results"
