"""JSON against its schema, JUnit read back, and `file:line:` annotations pointing at the claims' lines."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from derive_check.cli import main
from derive_check.reports.machine import SCHEMA, annotation_lines, to_json, to_junit
from derive_check.verify.results import ClaimResult, FileResult, Verdict
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
    dw2 = suites[1].find("testcase[@name='dW2']")
    assert dw2 is not None and (dw2.get("line"), dw2.get("file")) == ("31", str(EXAMPLES / "two_layer_wrong.toml"))
    assert {c.get("classname") for c in suites[0].iter("testcase")} == {"derive_check.two_layer"}
    assert {c.get("classname") for c in suites[1].iter("testcase")} == {"derive_check.two_layer_wrong"}


def test_junit_names_a_file_that_could_not_be_used_by_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "my model.v2.toml"
    bad.write_text("[sizes]\nN = 2\n\tD = = 3\n")
    case = ET.fromstring(to_junit([check_path(bad)])).find("testsuite/testcase")
    assert case is not None and case.get("name") == "(file)"
    assert (case.get("classname"), case.get("file"), case.get("line")) == ("derive_check.my_model_v2", str(bad), "3")
    error = case.find("error")
    assert error is not None and error.text is not None and "malformed TOML" in error.text


ANNOTATION = re.compile(r"(?P<file>.+):(?P<line>[1-9]\d*):(?P<col>[1-9]\d*): (?P<level>error|warning|notice): \S.*")


def test_annotations_point_at_the_claims_lines_and_formulas(results: list[FileResult]) -> None:
    lines = annotation_lines(results).splitlines()
    wrong = EXAMPLES / "two_layer_wrong.toml"
    assert (
        lines[0] == f"{wrong}:30:12: error: dscores REFUTED: Equals the true derivative times 2 (= N: a missing 1/N?)"
    )
    assert lines[3] == f"{wrong}:33:8: error: db2 SHAPE ERROR: Sum over axis 1 instead of 0"
    assert [line.split(": ")[0] for line in lines] == [
        f"{wrong}:{n}" for n in ("30:12", "31:8", "32:38", "33:8", "34:41", "36:8", "37:43", "38:8")
    ]
    assert all(ANNOTATION.fullmatch(line) for line in lines)
    github = annotation_lines(results, github=True).splitlines()
    assert github[0] == (
        f"::error file={wrong},line=30,col=12,title=dscores REFUTED::"
        "dscores REFUTED: Equals the true derivative times 2 (= N: a missing 1/N?)"
    )
    assert len(github) == 8 and all(re.match(r"::error file=[^,]+,line=\d+,col=\d+,title=", g) for g in github)


def test_input_errors_are_annotated_at_their_own_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"  # a file that cannot be used: the TOML is malformed on line 3, column 6
    broken.write_text("[sizes]\nN = 2\n\tD = = 3\n")
    claims = tmp_path / "claims.toml"  # a claim that is malformed: 'Q' is unknown, line 15, column 13
    claims.write_text(
        '[sizes]\nN = 2\nD = 3\n\n[inputs]\nX = "N x D"\n\n[params]\nW = "D x N"\n\n[forward]\n'
        'L = "sum(X @ W)"\n\n[claims]\ndW = "X.T @ Q"\n'
    )
    results = [check_path(broken), check_path(claims)]
    assert annotation_lines(results).splitlines() == [
        f"{broken}:3:6: error: malformed TOML: Invalid value",
        f"{claims}:15:13: error: dW ERROR: unknown name 'Q' (known here: D, L, N, W, X)",
    ]
    assert annotation_lines(results, github=True).splitlines()[0] == (
        f"::error file={broken},line=3,col=6,title=input error::malformed TOML: Invalid value"
    )


def test_github_annotations_escape_properties_and_data() -> None:
    claim = ClaimResult(
        name="dW", target="W", formula="X", verdict=Verdict.UNDECIDED, line=None, message="50% done,\nthen: stop\r"
    )
    result = FileResult(file="a,b:c%.toml", title="t", claims=(claim,))
    assert annotation_lines([result], github=True) == (
        "::warning file=a%2Cb%3Ac%25.toml,line=1,col=1,title=dW UNDECIDED::dW UNDECIDED: 50%25 done,%0Athen: stop%0D\n"
    )
    assert annotation_lines([result]) == "a,b:c%.toml:1:1: warning: dW UNDECIDED: 50% done, then: stop\n"
    assert (
        annotation_lines([FileResult(file="a.toml", title="t", claims=(replace(claim, verdict=Verdict.PROVED),))]) == ""
    )


def test_the_cli_writes_junit_and_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "out" / "results.xml"
    code = main([str(EXAMPLES / "two_layer.toml"), "--format", "json", "--junit", str(junit)])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["summary"]["exit_code"] == 0
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_the_cli_prints_its_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json-schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "derive-check results"
