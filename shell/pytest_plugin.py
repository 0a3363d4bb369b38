"""A pytest plugin: `*.derive.toml` files are collected and checked like tests, one test per claim.

Registered as the `pytest11` entry point `derive_check`, so installing derive-check is enough: `pytest` in a
repository of derivation files checks them. Collection only parses the file; the whole file is checked once,
when its first claim runs. Like `derive_check.cli`, this module is a composition root: it may call `reports/`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SUFFIX = ".derive.toml"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect derivation files by their suffix."""
    if file_path.name.endswith(SUFFIX):
        return DerivationFile.from_parent(parent, path=file_path)
    return None


class DerivationFailure(Exception):
    """A claim that is not PROVED, with the text to show."""


class DerivationFile(pytest.File):
    """One derivation file: its claims are the tests."""

    _result: Any = None
    _model: Any = None

    def collect(self) -> Iterator[pytest.Item]:
        """One item per claim (or one for the file, if it cannot be read); the file is parsed here, once."""
        from derive_check.derive.errors import InputError
        from derive_check.derive.model.spec import load_file

        try:
            self._model = load_file(self.path)
        except InputError as exc:
            yield ClaimItem.from_parent(self, name="(file)", line=exc.where.line or 1)
            return
        for claim in self._model.claims:
            yield ClaimItem.from_parent(self, name=claim.name, line=claim.where.line or 1)

    def result(self) -> Any:
        """The file's results, computed once from the model collection read."""
        if self._result is None:
            from derive_check.derive.errors import InputError
            from derive_check.verify.run.engine import check_model, check_path
            from derive_check.verify.run.load import check_work, failed_result

            if self._model is None:
                self._result = check_path(self.path)  # reports why the file cannot be read
            else:
                try:
                    check_work(self._model)
                    self._result = check_model(self._model, self.path)
                except InputError as exc:
                    self._result = failed_result(self.path, exc.render(), time.perf_counter())
        return self._result


class ClaimItem(pytest.Item):
    """One claim: passes when PROVED."""

    def __init__(self, *, line: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line

    def runtest(self) -> None:
        """Check the file (once) and fail unless this claim is PROVED."""
        from derive_check.reports.machine import failure_text

        assert isinstance(self.parent, DerivationFile)
        result = self.parent.result()
        if result.error:
            raise DerivationFailure(result.error)
        claim = next((c for c in result.claims if c.name == self.name), None)
        if claim is None:
            raise DerivationFailure(f"claim {self.name} was not checked")
        if not claim.verdict.passed:
            raise DerivationFailure(f"{claim.verdict.label}\n{failure_text(claim)}")

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The verdict and its details, not a Python traceback."""
        if isinstance(excinfo.value, DerivationFailure):
            return f"{self.path}:{self.line}: {self.name}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the claim is written."""
        return self.path, self.line - 1, f"derive-check {self.name}"
