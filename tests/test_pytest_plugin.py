"""The pytest plugin collects *.derive.toml files, one test per claim, with readable failures; pre-commit hook."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import EXAMPLES, ROOT


def test_the_plugin_collects_the_example_files(pytester: pytest.Pytester) -> None:
    shutil.copy(EXAMPLES / "two_layer.toml", pytester.path / "two_layer.derive.toml")
    shutil.copy(EXAMPLES / "two_layer_wrong.toml", pytester.path / "wrong.derive.toml")
    (pytester.path / "ignored.toml").write_text("not a derivation file")
    result = pytester.runpytest_subprocess("-p", "derive_check", "-q")
    result.assert_outcomes(passed=7, failed=8)
    result.stdout.fnmatch_lines(["*wrong.derive.toml:36: dW1: REFUTED*", "*diagnosis: Missing the ReLU mask of h1*"])
    assert "Traceback" not in result.stdout.str()


def test_a_broken_file_is_one_failing_item(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.derive.toml").write_text("[sizes]\nN = = 2\n")
    result = pytester.runpytest_subprocess("-p", "derive_check", "-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*malformed TOML*"])


def test_the_pre_commit_hook_runs_the_installed_command() -> None:
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "- id: derive-check" in hooks and "entry: derive-check" in hooks and "language: python" in hooks
    assert 'derive-check = "derive_check.cli:entry"' in (ROOT / "pyproject.toml").read_text()
