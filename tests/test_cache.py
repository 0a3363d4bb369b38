"""The proof cache: a re-run of unchanged files is answered without SymPy; an edit re-checks what it touches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derive_check.derive.model.spec import load_file
from derive_check.reports.machine import to_json
from derive_check.verify.results import FileResult, Verdict
from derive_check.verify.run.cache import ProofCache, file_keys
from derive_check.verify.run.engine import check_path
from derive_check.verify.run.replay import cached_result
from tests.conftest import EXAMPLES, ROOT, SOFTMAX_HEAD, two_layer


def _cached(path: Path, budget: float, cache: ProofCache) -> FileResult | None:
    """The file's result from the cache alone, as the command line asks for it."""
    spec = load_file(path)
    return cached_result(spec, path, file_keys(spec, budget, False), False, cache)


def test_a_cached_run_gives_the_same_results(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    first = check_path(EXAMPLES / "two_layer_wrong.toml", cache=cache)
    again = _cached(EXAMPLES / "two_layer_wrong.toml", 10.0, cache)
    assert again is not None
    strip = lambda r: [(c.name, c.verdict, c.message, c.diagnosis, c.corrected, c.counterexample) for c in r.claims]  # noqa: E731
    assert strip(again) == strip(first)


def test_editing_one_claim_rechecks_it_and_the_claims_that_use_it(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    path = tmp_path / "f.toml"
    claims = {
        "dscores": "(P - Y) / N",
        "dh1": "(P - Y) @ W2.T / N",
        "db1": "sum(dh1 * (h1 > 0), axis=0)",
        "db2": "sum(P - Y, axis=0) / N",
    }
    path.write_text(two_layer(claims))
    check_path(path, cache=cache)
    path.write_text(two_layer({**claims, "dh1": "(P - Y) @ W2.T"}))  # now wrong: missing 1/N
    result = {c.name: c for c in check_path(path, cache=cache).claims}
    assert result["dscores"].seconds == 0.0 and result["db2"].seconds == 0.0  # from the cache
    assert result["dh1"].seconds > 0 and result["db1"].seconds > 0  # re-checked: db1 uses dh1
    assert result["dh1"].verdict.label == "REFUTED" and result["db1"].verdict.label == "REFUTED"


def test_a_fully_cached_cli_run_never_imports_sympy(tmp_path: Path) -> None:
    env = {**os.environ, "DERIVE_CHECK_CACHE": str(tmp_path)}
    probe = (
        "import sys\nfrom derive_check.cli import main\ncode = main([sys.argv[1], '--no-timings'])\n"
        "print('sympy' in sys.modules, code)"
    )
    args = [sys.executable, "-c", probe, str(EXAMPLES / "seeds")]
    cold = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    warm = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=env)
    assert cold.stdout.splitlines()[-1] == "True 1"
    assert warm.stdout.splitlines()[-1] == "False 1"
    assert cold.stdout.splitlines()[:-1] == warm.stdout.splitlines()[:-1]


def test_undecided_claims_are_not_cached(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    path = tmp_path / "f.toml"
    path.write_text(two_layer({"dW1": "X.T @ (((P - Y) @ W2.T / N) * (h1 > 0)) + 2 * reg * W1"}))
    [slow] = check_path(path, budget=0.001, cache=cache).claims
    assert slow.verdict.label == "UNDECIDED"
    assert _cached(path, 0.001, cache) is None


def _record(results: list[FileResult]) -> object:
    """The JSON record of a run without timings: what a cached run must reproduce exactly."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(to_json(results)))


@pytest.mark.parametrize(
    "name",
    ["two_layer.toml", "two_layer_wrong.toml", "seeds/001_two_layer_rerendered.toml", "seeds/002b_batch_relu_l2.toml"],
)
def test_a_cached_run_is_indistinguishable_from_a_fresh_one(tmp_path: Path, name: str) -> None:
    fresh = check_path(EXAMPLES / name)
    cache = ProofCache(tmp_path / "c.sqlite")
    filled = check_path(EXAMPLES / name, cache=cache)
    engine_hit = check_path(EXAMPLES / name, cache=cache)  # every claim from the cache, through the engine
    fast = _cached(EXAMPLES / name, 10.0, cache)  # the SymPy-free path
    assert fast is not None
    assert _record([fresh]) == _record([filled]) == _record([engine_hit]) == _record([fast])


def test_a_claim_restored_from_the_cache_restores_what_later_claims_see(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    check_path(EXAMPLES / "two_layer.toml", cache=cache)  # fills dh1's entry, which two_layer_wrong shares
    cached = {c.name: c.verdict for c in check_path(EXAMPLES / "two_layer_wrong.toml", cache=cache).claims}
    fresh = {c.name: c.verdict for c in check_path(EXAMPLES / "two_layer_wrong.toml").claims}
    assert cached == fresh and fresh["dW1"] is Verdict.REFUTED  # once SHAPE ERROR from the cache


ALIASED = (
    SOFTMAX_HEAD.replace("{", "{{").replace("}", "}}")
    + """[aliases]
'\\text{{probs}}' = "{probs}"
[claims.dscores]
latex = '\\frac{{\\partial L}}{{\\partial scores}} = \\frac{{1}}{{N}} (\\text{{probs}} - Y)'
"""
)


def test_editing_an_alias_rechecks_the_claims_that_use_it(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    path = tmp_path / "f.toml"
    path.write_text(ALIASED.format(probs="P"))
    assert check_path(path, cache=cache).claims[0].verdict is Verdict.PROVED
    path.write_text(ALIASED.format(probs="2 * P"))
    assert check_path(path, cache=cache).claims[0].verdict is Verdict.REFUTED  # once PROVED from the cache


def test_a_fixed_formula_gets_the_verdict_of_a_fresh_run(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    path = tmp_path / "f.toml"
    path.write_text(two_layer({"dh1": "(P - Y) @ W2 / N", "db1": "sum(dh1 * (h1 > 0), axis=0)"}))  # a shape slip
    check_path(path, cache=cache)
    path.write_text(two_layer({"dh1": "(P - Y) @ W2.T / N", "db1": "sum(dh1 * (h1 > 0), axis=0)"}))  # fixed
    cached = [(c.name, c.verdict) for c in check_path(path, cache=cache).claims]
    assert (
        cached
        == [(c.name, c.verdict) for c in check_path(path).claims]
        == [
            ("dh1", Verdict.PROVED),
            ("db1", Verdict.PROVED),
        ]
    )


def test_the_engine_version_covers_every_module_that_decides() -> None:
    """Any edit of any module under derive/ or verify/ (sub-packages included) invalidates every cached proof:
    the version digest reads exactly the modules found on disk (a module missing from it could change a verdict
    that the cache would then replay)."""
    from derive_check.verify.run.cache import engine_sources

    on_disk = {
        f"derive_check.{package}/{p.relative_to(ROOT / package).as_posix()}"
        for package in ("derive", "verify")
        for p in (ROOT / package).rglob("*.py")
    }
    hashed = set(engine_sources())
    assert hashed == on_disk
    assert {"derive_check.derive/ops/table.py", "derive_check.verify/decide/general.py"} <= hashed
