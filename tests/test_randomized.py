"""The opt-in randomized verdict (Schwartz–Zippel) and parallel workers."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest
import sympy as sp

from derive_check.cli import main
from derive_check.verify.decide.parallel import failing
from derive_check.verify.decide.randomized import NotApplicable, RandomizedZero, randomized_zero
from derive_check.verify.results import Verdict
from derive_check.verify.run.cache import ProofCache
from derive_check.verify.run.engine import check_path
from tests.conftest import EXAMPLES, two_layer

x, y, m = sp.symbols("x y m")
y0, y1, y2 = sp.symbols("y0:3")


def test_a_zero_polynomial_passes_with_its_degree_bound() -> None:
    outcome = randomized_zero([(x + 1) * (x - 1) - (x**2 - 1)], [], [], random.Random(1))
    assert isinstance(outcome, RandomizedZero)
    assert outcome.points == 3 and outcome.degree == 2
    assert outcome.log2_error == pytest.approx(3 * (1 - 61), abs=0.01)  # (2 / p)^3 with p ≈ 2^61


def test_a_non_zero_residual_is_found_and_its_index_returned() -> None:
    assert randomized_zero([sp.Integer(0), x - y], [], [], random.Random(1)) == 1


def test_a_one_hot_identity_holds_through_the_last_entry_substitution() -> None:
    # y0 + y1 + y2 = 1 on every one-hot row; the randomized test must accept it, and reject y0 + y1 = 1
    assert isinstance(randomized_zero([y0 + y1 + y2 - 1], [], [[y0, y1, y2]], random.Random(1)), RandomizedZero)
    assert randomized_zero([y0 + y1 - 1], [], [[y0, y1, y2]], random.Random(1)) == 0


@pytest.mark.parametrize("residual", [m**2 - m, m * (m - 1), y0 * y1])
def test_squared_discrete_symbols_make_the_bound_inapplicable(residual: sp.Expr) -> None:
    # m^2 = m and y0*y1 = 0 hold on the variety but not for field values: no honest bound, so no verdict
    with pytest.raises(NotApplicable):
        randomized_zero([residual], [m], [[y0, y1, y2]], random.Random(1))


def test_randomized_mode_gives_probable_for_true_claims_and_refutes_false_ones(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_text(two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2", "db2": "sum(P - Y, axis=0)"}))
    good, bad = check_path(path, randomized=True, stated_only=True).claims
    assert good.verdict is Verdict.PROBABLE and "P(wrong) <= 2^-" in good.message
    assert bad.verdict is Verdict.REFUTED and bad.counterexample is not None


def test_randomized_mode_still_proves_what_the_index_engine_proves_for_all_sizes(tmp_path: Path) -> None:
    # the theorem for every size is exact; --randomized only chooses the cheap cross-check at the stated sizes
    path = tmp_path / "f.toml"
    path.write_text(two_layer({"dW2": "h1.T @ (P - Y) / N + 2 * reg * W2", "db2": "sum(P - Y, axis=0)"}))
    good, bad = check_path(path, randomized=True).claims
    assert good.verdict is Verdict.PROVED and good.scope == "all" and good.crosscheck == "modular"
    assert "0 mod 2^61-1 at 3 random points" in good.message
    assert bad.verdict is Verdict.REFUTED and bad.counterexample is not None


def test_randomized_results_are_never_served_to_an_exact_run(tmp_path: Path) -> None:
    cache = ProofCache(tmp_path / "c.sqlite")
    path = tmp_path / "f.toml"
    path.write_text(two_layer({"dscores": "(P - Y) / N"}))
    assert check_path(path, cache=cache, randomized=True, stated_only=True).claims[0].verdict is Verdict.PROBABLE
    assert check_path(path, cache=cache, stated_only=True).claims[0].verdict is Verdict.PROVED


def test_the_cli_passes_probable_claims_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(EXAMPLES / "two_layer.toml"), "--randomized", "--stated-only", "--no-cache", "--format", "json"])
    record = json.loads(capsys.readouterr().out)
    verdicts = {c["claim"]: c["verdict"] for f in record["files"] for c in f["claims"]}
    assert code == 0 and set(verdicts.values()) == {"PROBABLE"} and len(verdicts) == 6


def test_parallel_workers_return_results_in_file_order(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(EXAMPLES / "two_layer_wrong.toml"), str(EXAMPLES / "two_layer.toml")]
    code = main([*files, "--jobs", "2", "--no-cache", "--no-timings", "--color", "never"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.index("two_layer_wrong.toml") < out.index("two_layer.toml;")


@pytest.mark.parametrize("jobs", ["0", "65"])
def test_jobs_out_of_range_is_a_usage_error(capsys: pytest.CaptureFixture[str], jobs: str) -> None:
    assert main([str(EXAMPLES / "two_layer.toml"), "--jobs", jobs]) == 2
    assert "--jobs must be between 1 and 64" in capsys.readouterr().err


def test_the_entry_pool_finds_the_same_failing_entries_as_a_serial_loop() -> None:
    assert failing(200, lambda k: k % 7 != 3, processes=2, serial_seconds=0) == [k for k in range(200) if k % 7 == 3]


def test_a_pool_worker_that_fails_leaves_its_share_to_the_parent() -> None:
    parent = os.getpid()

    def only_in_the_parent(k: int) -> bool:
        if os.getpid() != parent:
            raise RuntimeError("a worker broke")
        return k != 5

    assert failing(100, only_in_the_parent, processes=2, serial_seconds=0) == [5]
