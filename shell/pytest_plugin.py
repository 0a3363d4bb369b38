"""A pytest plugin, opt-in: derivation files are collected and checked like tests, one test per claim.

Installing derive-check registers this module as the `pytest11` entry point `derive_check`, so it loads in every
pytest run of that environment, the project's or not. It therefore only adds options until asked to collect,
with `--derive-check` or `derive_check = true` in the ini file (as pytest-mypy and nbval wait for `--mypy` and
`--nbval`): a repository whose `.toml` files are configuration never grows failing tests because derive-check is
installed beside it. `-p no:derive_check` removes it altogether, options included.

Which files: `derive_check_files` (default `*.derive.toml`) holds globs matched with fnmatch against the path
relative to rootdir and against the file name. fnmatch's `*` crosses `/`, but `**/` must also match no folder at
all, or `examples/**/*.toml` would skip `examples/two_layer.toml`: each `**/` is tried both kept and dropped. A
file named on the command line is collected whatever its name, as pytest treats `python_files`; `pyproject.toml`
never is (it is the one `.toml` a `*.toml` pattern is sure to meet, and never a derivation file).

Collection only parses the file (TOML and formula parsers, no SymPy): under pytest-xdist every worker collects
every file, so collection must stay cheap. The file is checked once per process, when the first of its claims
runs. Under xdist's default `--dist load` a file's claims may be spread over several workers, and each of them
then checks the whole file: the verdicts are the same, the work is repeated; `--dist loadfile` keeps a file on one
worker. The check runs in the pytest process, not in the command line's forked worker: an xdist worker already
has execnet's threads, and forking a threaded process is what `verify.run.workers` is careful never to do. So the
per-claim budgets bound the work, but no hard deadline kills a single runaway SymPy step (pytest-timeout can).

The proof cache is the command line's: `proofs.sqlite` in `$DERIVE_CHECK_CACHE` or `.derive-check-cache`, taken
relative to rootdir rather than the working directory (so `pytest` from a subfolder finds the same cache), with
the keys `file_keys` computes at the command line's default budget, so a `derive-check` run and a pytest run answer
each other's claims. A file whose every claim is cached is replayed (`cached_result`) without importing SymPy. The
cache is opened lazily, so a run that checks nothing creates no folder. Each xdist worker opens the SQLite file
itself: a connection waits up to 5 s (sqlite3's default) for another's lock, and a write that still finds it
locked is dropped (`ProofCache.put` suppresses `sqlite3.Error`): that claim is only checked again next time.

A failure is the verdict and the claim's panel (`failure_text`), never a Python traceback. The short summary
(`-ra`) shows the report's crash message, so the exception's str() is one line (`REFUTED: dW2[0,0] differs …`)
and the report carries it as its crash message. That report is built from pytest's own representation classes
rather than returned as a string: pytest 8 shows no message for a string longrepr, and a report keeps its crash
message across xdist's process boundary only if it has both a traceback and a crash location (anything else is
flattened to text). The classes are not public API, so should they move the plain text is returned instead. The
head line is `dW2 in file.toml`, not the node id's tail: pytest rewrites the dots of a domain that ends the node
id (`file::toml`).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from derive_check.derive.model.spec import ModelSpec
    from derive_check.verify.results import FileResult
    from derive_check.verify.run.cache import ProofCache

DEFAULT_FILES = ("*.derive.toml",)
BUDGET = 10.0  # seconds per claim: the command line's default, so both write and read the same cache keys
NEVER = frozenset({"pyproject.toml"})

_CACHE = pytest.StashKey["ProofCache | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """The opt-in flag, and the ini options that enable the plugin, choose the files and the cache."""
    group = parser.getgroup("derive-check", "derive-check: derivation files as tests")
    group.addoption(
        "--derive-check",
        action="store_true",
        dest="derive_check",
        help="collect derivation files (see the ini option derive_check_files), one test per claim",
    )
    parser.addini("derive_check", "collect derivation files, as --derive-check does", type="bool", default=False)
    parser.addini(
        "derive_check_files",
        "globs (relative to rootdir, or file names) of derivation files; **/ also matches no folder",
        type="args",
        default=list(DEFAULT_FILES),
    )
    parser.addini(
        "derive_check_cache",
        "use the proof cache ($DERIVE_CHECK_CACHE or .derive-check-cache, relative to rootdir)",
        type="bool",
        default=True,
    )


def enabled(config: pytest.Config) -> bool:
    """Whether this run collects derivation files: `--derive-check` or `derive_check = true`."""
    return bool(config.getoption("derive_check", False) or config.getini("derive_check"))


def matches(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    """Whether `path` matches a glob, by its path relative to `root` (posix) or its name."""
    names = [path.name]
    if path.is_relative_to(root):
        names.append(path.relative_to(root).as_posix())
    return any(fnmatch.fnmatch(name, glob) for pattern in patterns for glob in _spellings(pattern) for name in names)


def _spellings(pattern: str) -> list[str]:
    """The pattern with each `**/` kept or dropped (fnmatch's `*` already crosses folders; dropped, none)."""
    parts = pattern.split("**/")
    out = []
    for joins in itertools.product(("**/", ""), repeat=len(parts) - 1):
        out.append(parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True)))
    return out


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect derivation files, once the run has opted in."""
    config = parent.config
    if not enabled(config) or file_path.name in NEVER:
        return None
    named = parent.session.isinitpath(file_path) and file_path.suffix == ".toml"
    if named or matches(file_path, config.rootpath, config.getini("derive_check_files")):
        return DerivationFile.from_parent(parent, path=file_path)
    return None


def proof_cache(config: pytest.Config) -> ProofCache | None:
    """This process's proof cache, opened on first use (None when `derive_check_cache = false` or unusable)."""
    if _CACHE not in config.stash:
        cache = None
        if config.getini("derive_check_cache"):
            from derive_check.verify.run.cache import ProofCache

            folder = config.rootpath / (os.environ.get("DERIVE_CHECK_CACHE") or ".derive-check-cache")
            cache = ProofCache.open(folder / "proofs.sqlite")
        config.stash[_CACHE] = cache
    return config.stash[_CACHE]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Close the cache, if this process opened one."""
    cache = config.stash.get(_CACHE, None)
    if cache is not None:
        cache.db.close()


class DerivationFailure(Exception):
    """A claim that is not PROVED: str() is one line (the verdict); `details` is the claim's panel."""

    def __init__(self, summary: str, details: str) -> None:
        super().__init__(summary)
        self.details = details


class DerivationFile(pytest.File):
    """One derivation file (or Python file of forward/backward pairs): its claims are the tests."""

    _models: list[ModelSpec | FileResult]
    _results: dict[int, FileResult]

    def collect(self) -> Iterator[pytest.Item]:
        """One item per claim, and per forward line with a declared shape (or one item for a file, or a pair,
        that cannot be read); the file is parsed here, once. A Python file's items are named `pair:claim`."""
        from derive_check.verify.results import FileResult
        from derive_check.verify.run.load import load_all

        found = load_all(self.path)
        self._models, self._results = (found if isinstance(found, list) else [found]), {}
        for k, model in enumerate(self._models):
            prefix = f"{model.title.split(' ')[0].removesuffix('_forward')}:" if self.path.suffix == ".py" else ""
            if isinstance(model, FileResult):
                at = _error_line(model.error)
                yield ClaimItem.from_parent(self, name=f"{prefix}(file)", line=at, model=k, claim="")
                continue
            probes = {c for p in model.code.probes for c in p.claims} if model.code else set()
            for line in model.forward:  # the command line fails a file whose declared shape is contradicted
                if line.declared is not None:
                    name = f"shape of {line.name}"
                    yield ClaimItem.from_parent(
                        self, name=name, line=line.where.line or 1, shape=True, model=k, claim=name
                    )
            for claim in model.claims:
                if claim.name not in probes:
                    where = claim.where.line or 1
                    yield ClaimItem.from_parent(self, name=prefix + claim.name, line=where, model=k, claim=claim.name)

    def result(self, k: int) -> FileResult:
        """Model k's results: from the cache if every claim is there, else checked (and cached) once."""
        if k not in self._results:
            self._results[k] = self._check(self._models[k])
        return self._results[k]

    def _check(self, model: ModelSpec | FileResult) -> FileResult:
        from derive_check.verify.results import FileResult
        from derive_check.verify.run.cache import file_keys
        from derive_check.verify.run.code import located
        from derive_check.verify.run.replay import cached_result

        if isinstance(model, FileResult):
            return model
        cache = proof_cache(self.config)
        keys = None
        if cache is not None:
            keys = file_keys(model, BUDGET, typeset=False)
            replayed = cached_result(model, self.path, keys, False, cache)
            if replayed is not None:
                return located(replayed, model)
        from derive_check.verify.run.engine import check_model  # SymPy: only when something is not cached

        return located(check_model(model, self.path, BUDGET, cache=cache, keys=keys), model)


def _error_line(rendered: str) -> int:
    """The line a rendered error names (`file:12:5: error: ...`), or 1."""
    import re

    found = re.match(r".*?:(\d+)(?::\d+)?: error", rendered)
    return int(found[1]) if found else 1


class ClaimItem(pytest.Item):
    """One claim (or one declared shape): passes when PROVED (or PROBABLE)."""

    def __init__(self, *, line: int, model: int = 0, claim: str = "", shape: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.line = line
        self.shape = shape
        self.model = model  # which model of the file (a Python file has one per pair)
        self.claim = claim  # the claim's name in that model

    def runtest(self) -> None:
        """Check the file (once) and fail unless this claim passed."""
        from derive_check.reports.machine import failure_text

        assert isinstance(self.parent, DerivationFile)
        result = self.parent.result(self.model)
        if result.error:  # its first line, with the path as the node id has it: `file.toml:2: error: ...`
            first = result.error.strip().splitlines()[0].replace(str(self.path), self.location[0])
            raise DerivationFailure(first, result.error)
        claim = next((c for c in result.claims if c.name == self.claim), None)
        if claim is None:
            if self.shape:  # no finding: the declared shape is the one the forward pass gives
                return
            raise DerivationFailure(f"ERROR: claim {self.name} was not checked", "")
        if not claim.verdict.passed:
            first = (claim.message.strip().splitlines() or [""])[0]
            raise DerivationFailure(f"{claim.verdict.label}: {first}", failure_text(claim))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        """The verdict, where the claim is written, and its details; not a Python traceback."""
        failure = excinfo.value
        if not isinstance(failure, DerivationFailure):
            return super().repr_failure(excinfo, style)
        where = self.location[0]
        text = "\n".join(part for part in (str(failure), f"{where}:{self.line}: {self.name}", failure.details) if part)
        try:
            from _pytest._code.code import ReprEntryNative, ReprExceptionInfo, ReprFileLocation, ReprTraceback

            return ReprExceptionInfo(
                reprtraceback=ReprTraceback([ReprEntryNative([text + "\n"])], None, "native"),
                reprcrash=ReprFileLocation(where, self.line, str(failure)),
            )
        except (ImportError, TypeError):  # not public API: should it move, the text is still the whole report
            return text

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the claim is written; the domain (the failure's head line) is `claim in file.toml`."""
        return self.path, self.line - 1, f"{self.name} in {self.path.name}"
