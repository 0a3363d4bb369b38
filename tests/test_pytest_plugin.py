"""The pytest plugin: opt-in, file globs, one test per claim, readable failures, the proof cache, pytest-xdist;
and the pre-commit hook."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
from dataclasses import replace
from xml.etree import ElementTree as ET

import hypothesis  # noqa: F401 - its pytest plugin imports it after every in-process run (2 s) unless it is loaded
import pytest

from derive_check.cli import build_parser, main
from derive_check.derive.model.spec import load_file
from derive_check.pytest_plugin import BUDGET
from derive_check.verify.results import Verdict
from derive_check.verify.run.cache import ProofCache, file_keys
from tests.conftest import EXAMPLES, ROOT

RIGHT = ["dscores", "dW2", "db2", "dh1", "dW1", "db1"]
WRONG = ["dscores", "dW2", "dW2_no_l2", "db2", "db2_unsummed", "dh1", "dW1", "dW1_transposed", "db1"]
ENABLED = '[tool.pytest.ini_options]\nderive_check = true\nderive_check_files = ["*.toml"]\n'


@pytest.fixture
def examples(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A folder with the two bundled two-layer examples (named *.toml, as they ship)."""
    monkeypatch.delenv("DERIVE_CHECK_CACHE", raising=False)
    monkeypatch.setenv("COLUMNS", "300")  # summary lines are cut to the terminal's width
    shutil.copy(EXAMPLES / "two_layer.toml", pytester.path)
    shutil.copy(EXAMPLES / "two_layer_wrong.toml", pytester.path)
    return pytester


def node_ids(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines if "::" in line and " " not in line.split("::")[0]]


def test_nothing_is_collected_unless_the_run_opts_in(examples: pytest.Pytester) -> None:
    installed = examples.runpytest("-o", "derive_check_files=*.toml")
    assert installed.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert not (examples.path / ".derive-check-cache").exists()
    examples.makepyprojecttoml(ENABLED)
    assert len(node_ids(examples.runpytest("--collect-only", "-q"))) == len(RIGHT) + len(WRONG)
    disabled = examples.runpytest("-p", "no:derive_check", "--collect-only", "-q")
    assert disabled.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert examples.runpytest("-p", "no:derive_check", "--derive-check").ret == pytest.ExitCode.USAGE_ERROR


def test_the_flag_collects_one_test_per_claim_and_declared_shape(examples: pytest.Pytester) -> None:
    (examples.path / "sub").mkdir()
    shutil.copy(EXAMPLES / "seeds" / "003_single_layer_column_vectors.toml", examples.path / "sub" / "column.toml")
    examples.makepyprojecttoml("[tool.pytest.ini_options]\n")  # matches *.toml, and is never collected
    result = examples.runpytest("--derive-check", "-o", "derive_check_files=*.toml", "--collect-only", "-q")
    assert node_ids(result) == [
        "sub/column.toml::shape of h",
        "sub/column.toml::dTheta",
        "sub/column.toml::dz",
        "sub/column.toml::dz_relu_prime",
        *(f"two_layer.toml::{claim}" for claim in RIGHT),
        *(f"two_layer_wrong.toml::{claim}" for claim in WRONG),
    ]


def test_derive_check_files_globs_match_paths_from_rootdir_and_file_names(pytester: pytest.Pytester) -> None:
    affine = EXAMPLES / "zoo" / "01_affine.toml"
    for where in ("examples/affine.toml", "examples/deep/er/affine.toml", "top.derive.toml", "sub/x.derive.toml"):
        (pytester.path / where).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(affine, pytester.path / where)
    shutil.copy(affine, pytester.path / "notes.toml")  # a derivation file, but no pattern names it
    (pytester.path / "examples" / "pyproject.toml").write_text('[project]\nname = "x"\n')
    pytester.makepyprojecttoml(
        '[tool.pytest.ini_options]\nderive_check = true\nderive_check_files = ["examples/**/*.toml", "*.derive.toml"]\n'
    )
    files = {line.split("::")[0] for line in node_ids(pytester.runpytest("--collect-only", "-q"))}
    assert files == {"examples/affine.toml", "examples/deep/er/affine.toml", "top.derive.toml", "sub/x.derive.toml"}
    named = pytester.runpytest("--collect-only", "-q", "notes.toml")  # named on the command line: collected
    assert {line.split("::")[0] for line in node_ids(named)} == {"notes.toml"}


def test_a_failing_claim_is_its_verdict_and_panel_with_the_full_node_id_in_the_summary(
    examples: pytest.Pytester,
) -> None:
    result = examples.runpytest(
        "--derive-check",
        "-o",
        "derive_check_files=*wrong.toml",
        "-o",
        "derive_check_cache=false",
        "-ra",
        "--junitxml=j.xml",
    )
    result.assert_outcomes(passed=1, failed=8)
    result.stdout.fnmatch_lines(
        [
            "*_ dW1 in two_layer_wrong.toml _*",
            "REFUTED: dW1[[]0,1] differs from the true derivative",
            "two_layer_wrong.toml:36: dW1",
            "dW1 = X.T @ dh1 + 2 * reg * W1",
            "diagnosis: Missing the ReLU mask of h1",
            "corrected formula, PROVED: X.T @ (dh1 * (h1 > 0)) + 2 * reg * W1",
            "counterexample: dW1[[]0,1]: true *, claimed *",
        ]
    )
    assert "FAILED two_layer_wrong.toml::dW2 - REFUTED: dW2[0,0] differs from the true derivative" in result.outlines
    assert "FAILED two_layer_wrong.toml::db2 - SHAPE ERROR: the derivative has shape 5, the claim has shape 2" in (
        result.outlines
    )
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert sorted(line.split(" - ")[0] for line in failed) == sorted(
        f"FAILED two_layer_wrong.toml::{claim}" for claim in WRONG if claim != "dh1"
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "pytest_plugin.py" not in out and "DerivationFailure" not in out
    # the summary reads the crash message (pytest 8 shows none for a string), and xdist ships the report as data
    recorded: pytest.HookRecorder = result.reprec  # type: ignore[attr-defined]
    report = next(r for r in recorded.getfailures() if r.nodeid == "two_layer_wrong.toml::dW2")
    config = examples.parseconfig()
    shipped = config.hook.pytest_report_from_serializable(
        config=config, data=config.hook.pytest_report_to_serializable(config=config, report=report)
    )
    assert shipped.longrepr.reprcrash.message == "REFUTED: dW2[0,0] differs from the true derivative"
    assert shipped.longrepr.reprcrash.path == "two_layer_wrong.toml"
    assert "diagnosis: " in shipped.longreprtext and shipped.longreprtext == report.longreprtext
    cases = {case.get("name"): case for case in ET.parse(examples.path / "j.xml").iter("testcase")}
    failure = cases["dW1_transposed"].find("failure")
    assert failure is not None and failure.get("message", "").startswith("SHAPE ERROR: the derivative has shape 3 x 4")
    assert "diagnosis: Transposed" in (failure.text or "")


def test_a_file_that_cannot_be_read_is_one_failing_item(examples: pytest.Pytester) -> None:
    (examples.path / "bad.derive.toml").write_text("[sizes]\nN = = 2\n")  # the default glob: *.derive.toml
    result = examples.runpytest("--derive-check", "-ra")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*/bad.derive.toml:2:5: error: malformed TOML*", "    N = = 2"])
    failed = "FAILED bad.derive.toml::(file) - bad.derive.toml:2:5: error: malformed TOML: Invalid value"
    assert failed in result.outlines


PROBE = """
import os, sys
from pathlib import Path

def pytest_sessionfinish(session):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        Path(session.config.rootpath, f"sympy-{worker}.txt").write_text(str("sympy" in sys.modules))
"""


def test_under_xdist_workers_check_the_claims_and_then_answer_from_the_shared_cache(examples: pytest.Pytester) -> None:
    examples.makeconftest(PROBE)
    arguments = ["-p", "xdist", "-n", "2", "--derive-check", "-o", "derive_check_files=*.toml", "-ra"]
    fresh = examples.runpytest_subprocess(*arguments, "--dist", "loadfile")  # two files at once, one cache
    fresh.assert_outcomes(passed=len(RIGHT) + 1, failed=len(WRONG) - 1)
    assert re.search(r"^\[gw[01]\] ", fresh.stdout.str(), re.MULTILINE)  # the failures came from the workers
    for claim in (c for c in WRONG if c != "dh1"):
        fresh.stdout.fnmatch_lines([f"FAILED two_layer_wrong.toml::{claim} - *"])
    assert "Traceback" not in fresh.stdout.str() and "INTERNALERROR" not in fresh.stdout.str()
    probes = sorted(examples.path.glob("sympy-gw*.txt"))
    assert len(probes) == 2 and "True" in {p.read_text() for p in probes}
    assert (examples.path / ".derive-check-cache" / "proofs.sqlite").is_file()

    cached = examples.runpytest_subprocess(*arguments)  # --dist load: one file's claims on both workers
    cached.assert_outcomes(passed=len(RIGHT) + 1, failed=len(WRONG) - 1)
    cached.stdout.fnmatch_lines(["FAILED two_layer_wrong.toml::dW1 - REFUTED: dW1[[]0,1] differs*"])
    assert {p.read_text() for p in examples.path.glob("sympy-gw*.txt")} == {"False"}  # replayed, nothing checked

    not_enabled = examples.runpytest_subprocess("-o", "derive_check_files=*.toml")
    assert not_enabled.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    no_plugin = examples.runpytest_subprocess("-p", "no:derive_check", "-o", "derive_check=true")
    assert no_plugin.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_plugin_reads_the_cache_the_command_line_wrote_relative_to_rootdir(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build_parser().get_default("budget") == BUDGET  # the same keys, so the same entries
    shutil.copy(EXAMPLES / "zoo" / "01_affine.toml", pytester.path / "affine.toml")
    monkeypatch.setenv("DERIVE_CHECK_CACHE", "shared-cache")
    assert main(["--no-timings", "affine.toml"]) == 1
    spec = load_file(pytester.path / "affine.toml")
    key = file_keys(spec, BUDGET, typeset=False).claims["dx"]
    cache = ProofCache(pytester.path / "shared-cache" / "proofs.sqlite")
    proved = cache.get(key, spec.claims[0])
    assert proved is not None and proved.verdict is Verdict.PROVED
    cache.put(key, replace(proved, verdict=Verdict.REFUTED, message="tampered in the cache"))
    cache.db.close()
    pytester.makepyprojecttoml(ENABLED)
    (pytester.path / "sub").mkdir()
    monkeypatch.chdir(pytester.path / "sub")  # the cache is found from rootdir, not from here

    replayed = pytester.runpytest(str(pytester.path), "-ra")
    replayed.assert_outcomes(passed=2, failed=4)
    replayed.stdout.fnmatch_lines(["FAILED *affine.toml::dx - REFUTED: tampered in the cache"])
    uncached = pytester.runpytest(str(pytester.path), "-o", "derive_check_cache=false")
    uncached.assert_outcomes(passed=3, failed=3)
    assert not list(pytester.path.rglob(".derive-check-cache"))


def test_the_readme_snippets_collect_what_they_say(pytester: pytest.Pytester) -> None:
    section = (ROOT / "README.md").read_text().split("- **pytest and pytest-xdist**", 1)[1].split("\n- **", 1)[0]
    ini = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    one_run = re.search(r"^  (pytest --derive-check .*?) +#", section, re.MULTILINE)
    matrix = re.search(r"^ +paths: (\[.*\])$", section, re.MULTILINE)
    assert ini and one_run and matrix
    shutil.copytree(EXAMPLES, pytester.path / "examples", ignore=shutil.ignore_patterns("zoo"))  # seeds: a subfolder
    examples = {p.relative_to(pytester.path).as_posix() for p in (pytester.path / "examples").rglob("*.toml")}

    pytester.makepyprojecttoml(textwrap.dedent(ini.group(1)))
    configured = {line.split("::")[0] for line in node_ids(pytester.runpytest("--collect-only", "-q"))}
    assert configured == examples and "examples/seeds/003_single_layer_column_vectors.toml" in configured

    pytester.makepyprojecttoml('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')  # as in this repository
    words = [*shlex.split(one_run.group(1))[1:], "--collect-only", "-q"]
    assert {line.split("::")[0] for line in node_ids(pytester.runpytest(*words))} == configured
    for job in json.loads(matrix.group(1)):
        named = pytester.runpytest("--derive-check", "--collect-only", "-q", *job.split())
        assert {line.split("::")[0] for line in node_ids(named)} == set(job.split())


def test_the_pre_commit_hook_runs_the_installed_command() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: derive-check" in hooks and "entry: derive-check" in hooks and "language: python" in hooks
    assert 'derive-check = "derive_check.cli:entry"' in (ROOT / "pyproject.toml").read_text()


def test_python_files_of_pairs_are_collected_one_test_per_returned_gradient(pytester: pytest.Pytester) -> None:
    """Code mode under the plugin: `pair:gradient` items, the probes left out, a slip failing with its line."""
    shutil.copy(EXAMPLES / "code" / "functions_buggy.py", pytester.path / "functions.py")
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\nderive_check = true\nderive_check_files = ["functions.py"]')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=3)
    assert "FAILED functions.py::LinearFunction:grad_bias - REFUTED: grad_bias[0] differs" in "\n".join(result.outlines)
    assert not any("probe_" in line for line in result.outlines)
    result.stdout.fnmatch_lines(["*functions.py:29: LinearFunction:grad_bias*"])
