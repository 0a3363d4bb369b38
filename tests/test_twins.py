"""One check per distinct check: twins in a run, shape findings from the cache, and a pool only when it pays.

Twins are files whose cache keys agree (seed 001 re-renders seed 000): a run checks the first and answers the
others as the proof cache would. The identity checked: a twin's record is the record of a run over that file
alone, and the engine ran once for the pair.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from rich.console import Console

from derive_check.derive.model.spec import load_file
from derive_check.run import run_files
from derive_check.verify.decide.parallel import failing
from derive_check.verify.results import Verdict
from derive_check.verify.run import engine
from derive_check.verify.run.cache import ProofCache, file_keys
from derive_check.verify.run.engine import check_path
from derive_check.verify.run.replay import twins
from derive_check.verify.run.workers import Settings
from tests.conftest import EXAMPLES, two_layer
from tests.test_cache import _record
from tests.test_error_columns import HEAD

SEED_000 = EXAMPLES / "seeds" / "000_two_layer_linear_algebra.toml"
SEED_001 = EXAMPLES / "seeds" / "001_two_layer_rerendered.toml"


def _quiet() -> Console:
    return Console(file=io.StringIO(), force_terminal=False)


def test_a_twin_is_reported_as_a_run_over_it_alone_and_checked_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = tmp_path / "built"
    real = engine.check_model

    def counted(*args: object, **kwargs: object) -> object:
        with built.open("a") as log:  # the worker is a forked child: it tells through a file
            log.write(f"{args[1]}\n")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "check_model", counted)
    settings = Settings(budget=10.0)
    both = run_files([SEED_000, SEED_001], settings, _quiet(), jobs=2)
    assert built.read_text().splitlines() == [str(SEED_000)]  # the twin was never built nor checked
    alone = run_files([SEED_001], settings, _quiet(), jobs=1)
    assert _record(both[1:]) == _record(alone)
    assert [c.line for c in both[1].claims] == [c.line for c in alone[0].claims]
    assert {c.verdict for c in both[1].claims} >= {Verdict.REFUTED, Verdict.PROVED}


@pytest.mark.parametrize("cache", [False, True])
def test_an_error_is_shown_where_the_twin_has_it(tmp_path: Path, cache: bool) -> None:
    """Twins whose broken claim sits at another column: each file's error quotes its own line, column and caret
    (the key leaves the claim's place out, so a result that quotes the file is never replayed)."""
    (tmp_path / "base.toml").write_text(HEAD)  # h = tanh(X @ W), L = sum(h**2)
    first, second = tmp_path / "c1.toml", tmp_path / "c3.toml"
    first.write_text('extends = "base.toml"\n[claims]\ndh = "2 * h"\ndW = "X.T @ (2 * hh)"\n')
    second.write_text('extends = "base.toml"\ntitle = "three"\n[claims]\ndh = "2 * h"\n"dW"  =   "X.T @ (2 * hh)"\n')
    store = ProofCache(tmp_path / "c.sqlite") if cache else None
    settings = Settings(budget=10.0)
    both = run_files([first, second], settings, _quiet(), jobs=2, cache=store)
    again = run_files([first, second], settings, _quiet(), jobs=2, cache=store)  # warm, if there is a cache
    alone = run_files([second], settings, _quiet(), jobs=1)
    error = next(c for c in alone[0].claims if c.name == "dW")
    assert error.verdict is Verdict.ERROR and error.detail.startswith(f"{second}:5:")
    assert _record(both[1:]) == _record(again[1:]) == _record(alone)


def test_files_that_differ_in_a_claim_are_not_twins(tmp_path: Path) -> None:
    first, second, third = tmp_path / "a.toml", tmp_path / "b.toml", tmp_path / "c.toml"
    first.write_text(two_layer({"dW2": "h1.T @ (P - Y) / N"}))
    second.write_text("# the same file, a comment longer\n" + two_layer({"dW2": "h1.T @ (P - Y) / N"}))
    third.write_text(two_layer({"dW2": "h1.T @ (P - Y)"}))
    specs = [load_file(p) for p in (first, second, third)]
    files = [(p, s, file_keys(s, 10.0, False)) for p, s in zip((first, second, third), specs, strict=True)]
    # a and b are one check, except that b's forward lines are one line lower: its shape findings are its own
    assert twins(files) == [[0], [1], [2]]
    files[1] = (second, specs[0], files[0][2])
    assert twins(files) == [[0, 1], [2]]


def test_a_cached_shape_finding_is_reported_at_the_current_files_line(tmp_path: Path) -> None:
    """The findings' key holds where the forward lines are: a file whose lines moved is not given the old lines."""
    head = two_layer({"dW2": "h1.T @ (P - Y) / N"})
    head = head.replace('h1 = "relu(X @ W1 + b1)"', 'h1 = { formula = "relu(X @ W1 + b1)", shape = "N x N" }')
    assert "shape =" in head
    cache = ProofCache(tmp_path / "c.sqlite")
    before, after = tmp_path / "before.toml", tmp_path / "after.toml"
    before.write_text(head)
    after.write_text("# a comment that moves every line down\n\n" + head)
    first = check_path(before, cache=cache).claims[0]
    [result] = run_files([after], Settings(budget=engine.DEFAULT_BUDGET), _quiet(), jobs=1, cache=cache)
    moved = result.claims[0]
    assert first.name == moved.name == "shape of h1" and first.verdict is Verdict.SHAPE_ERROR
    assert moved.line == first.line + 2


def test_an_in_memory_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = ProofCache(None)
    result = check_path(EXAMPLES / "two_layer.toml", cache=cache)
    spec = load_file(EXAMPLES / "two_layer.toml")
    keys = file_keys(spec, engine.DEFAULT_BUDGET, False)
    again = cache.get(keys.claims["dW2"], spec.claims[1])
    assert again is not None and again.verdict is result.claims[1].verdict is Verdict.PROVED
    assert list(tmp_path.iterdir()) == []


def test_quick_entries_are_tested_without_forking_a_pool() -> None:
    tested_here: list[int] = []  # a forked worker appends to its own copy: the parent sees only its own calls

    def quick(k: int) -> bool:
        tested_here.append(k)
        return k != 7

    assert failing(64, quick, processes=2) == [7]
    assert tested_here == list(range(64))  # all here: no pool was worth forking
    tested_here.clear()
    assert failing(64, quick, processes=2, serial_seconds=0) == [7]
    assert tested_here == []  # every entry went to the pool


def test_slow_entries_go_to_the_pool_after_the_serial_start() -> None:
    tested_here: list[int] = []

    def slow(k: int) -> bool:
        tested_here.append(k)
        time.sleep(0.02)
        return k % 10 != 3

    assert failing(40, slow, processes=2, serial_seconds=0.05) == [3, 13, 23, 33]
    assert 1 <= len(tested_here) < 10  # a few here, then the rest on every core


def test_the_twins_of_a_seed_run_are_000_and_001() -> None:
    specs = [(p, load_file(p)) for p in sorted((EXAMPLES / "seeds").glob("*.toml"))]
    files = [(p, s, file_keys(s, 10.0, False)) for p, s in specs]
    grouped = [[files[k][0].name[:3] for k in group] for group in twins(files) if len(group) > 1]
    assert grouped == [["000", "001"]]
