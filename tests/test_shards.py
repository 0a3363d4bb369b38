"""One file's claims shared out over several workers give exactly what one worker gives.

The identities checked: a sharded run's results equal a one-worker run's (verdicts, messages, diagnoses, readings,
in file order), including a diagnosis that needs an earlier claim's verdict from another shard ("fix dz first");
every claim is checked once, by more than one process; several sharded files at once keep their boards apart; a
shard that dies stops its siblings (one of them waiting for the dead shard's verdict) and the file is reported as
stopped; the parent sleeps while a slow shard works; waiting for another shard costs no budget; a counterexample
does not depend on which claims the same process checked before it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import derive_check.verify.run.engine as engine
from derive_check.derive import budget
from derive_check.derive.budget import BudgetExceeded, time_budget
from derive_check.derive.exact.network import build_network
from derive_check.derive.model.spec import parse_spec
from derive_check.verify.check.binding import bind
from derive_check.verify.check.session import Session
from derive_check.verify.decide.equality import Equality
from derive_check.verify.results import ClaimResult, FileResult, Verdict
from derive_check.verify.run import workers
from derive_check.verify.run.cache import file_keys
from derive_check.verify.run.load import load
from derive_check.verify.run.shards import Board, merged, shard_counts
from derive_check.verify.run.workers import Settings, check_in_workers
from tests.test_upstream import MODEL as CHAINED

MODEL = CHAINED.format(dz="2 * (h - T) * (1 - h) / N")  # dz wrong (tanh' as 1 - h); dW and db right given dz


def _run(path: Path, jobs: int) -> FileResult:
    model = load(path)
    assert not isinstance(model, FileResult)
    [result] = check_in_workers([(path, model, file_keys(model, 20.0, False))], Settings(budget=20.0), jobs)
    return result


def _timeless(result: FileResult) -> FileResult:
    return replace(result, seconds=0.0, claims=tuple(replace(c, seconds=0.0) for c in result.claims))


def _who_checks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, only: str = "", pause: float = 0.0) -> Path:
    """A log of (process, claim) for every claim checked (of files whose name ends with `only`, each after `pause`
    seconds); the forked workers inherit the patch."""
    log = tmp_path / "who.log"
    check_claim = engine.check_claim

    def logged(session, claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(session.net.spec.file).endswith(only):
            time.sleep(pause)
            with log.open("a") as out:
                out.write(f"{os.getpid()} {claim.name}\n")
        return check_claim(session, claim, *args, **kwargs)

    monkeypatch.setattr(engine, "check_claim", logged)
    log.write_text("")
    return log


@pytest.fixture
def chained(tmp_path: Path) -> Path:
    path = tmp_path / "chained.toml"
    path.write_text(MODEL)
    return path


def test_shards_give_what_one_worker_gives_a_cross_shard_diagnosis_included(
    chained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _who_checks(monkeypatch, tmp_path)
    alone = _run(chained, 1)
    log.write_text("")
    shared = _run(chained, 4)
    assert _timeless(shared) == _timeless(alone)
    assert [c.name for c in shared.claims] == ["dz", "dW", "db", "dW_twice"]
    for name in ("dW", "db"):  # right given dz: their diagnosis needs dz's verdict, whoever checked dz
        [claim] = [c for c in shared.claims if c.name == name]
        assert claim.diagnosis == "Correct once dz is: dz, which it uses, is wrong (fix dz first)"
    checked = [line.split() for line in log.read_text().splitlines()]
    assert sorted(name for _, name in checked) == ["dW", "dW_twice", "db", "dz"]  # each claim once
    assert len({pid for pid, _ in checked}) > 1  # by more than one worker


def test_several_files_each_shared_out_at_once_give_what_one_worker_gives(tmp_path: Path) -> None:
    # each file has a board of its own, kept while its shards run: a board the parent let go was handed to the
    # next file, its counter and verdicts reset under the running shards (claims lost, a wrong file passed)
    paths = []
    for k, dz in enumerate(["2 * (h - T) * (1 - h) / N", "2 * (h - T) * (1 - h ** 2) / N", "(h - T) / N"]):
        path = tmp_path / f"model_{k}.toml"
        path.write_text(CHAINED.format(dz=dz))
        paths.append(path)
    files = []
    for path in paths:
        model = load(path)
        assert not isinstance(model, FileResult)
        files.append((path, model, file_keys(model, 20.0, False)))
    alone = check_in_workers(files, Settings(budget=20.0), 1)
    shared = check_in_workers(files, Settings(budget=20.0), 6)  # two shards for each file, all running at once
    assert [_timeless(r) for r in shared] == [_timeless(r) for r in alone]
    assert [len(r.claims) for r in shared] == [4, 4, 4]


def test_the_canonical_file_shared_by_two_workers_equals_one_worker() -> None:
    path = Path(__file__).resolve().parent.parent / "examples" / "two_layer_wrong.toml"
    assert _timeless(_run(path, 2)) == _timeless(_run(path, 1))


def test_a_shard_that_dies_stops_the_file_and_its_waiting_siblings(
    chained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_claim = engine.check_claim

    def dying(session, claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        if claim.name == "dz":
            time.sleep(0.3)  # the other shards take dW and db, refute them, and wait for dz's verdict
            os._exit(3)
        return check_claim(session, claim, *args, **kwargs)

    monkeypatch.setattr(engine, "check_claim", dying)
    started = time.perf_counter()
    result = _run(chained, 4)
    assert "stopped unexpectedly (exit code 3)" in result.error
    assert not result.claims
    assert time.perf_counter() - started < 30  # not the hard deadline: the dead shard's siblings were stopped


def test_the_parent_sleeps_while_a_slow_shard_works_on(chained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_claim = engine.check_claim

    def slow(session, claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        if claim.name == "dW_twice":
            time.sleep(1.5)  # the other shards deliver their parts and exit meanwhile
        return check_claim(session, claim, *args, **kwargs)

    monkeypatch.setattr(engine, "check_claim", slow)
    cpu = time.process_time()
    result = _run(chained, 4)
    assert [c.name for c in result.claims] == ["dz", "dW", "db", "dW_twice"]
    assert time.process_time() - cpu < 0.5  # not woken again and again by the finished shards' exits


def test_workers_go_to_the_file_with_the_most_claims_per_worker() -> None:
    assert shard_counts([6], [True], 2) == [2]
    assert shard_counts([6, 3], [True, True], 2) == [1, 1]  # no idle worker: no sharing
    assert shard_counts([6, 2], [True, True], 4) == [3, 1]
    assert shard_counts([6], [False], 4) == [1]  # twins (or --latex) are never shared out
    assert shard_counts([2], [True], 8) == [2]  # never more workers than claims


def test_merged_parts_are_in_file_order_with_the_shape_findings_first() -> None:
    def claim(name: str) -> ClaimResult:
        return ClaimResult(name=name, target="W", formula="0", verdict=Verdict.PROVED, line=1)

    shape = replace(claim("shape of h"), verdict=Verdict.SHAPE_ERROR)
    first = FileResult(file="f", title="f", claims=(shape, claim("a"), claim("d")), seconds=1.0)
    second = FileResult(file="f", title="f", claims=(claim("b"), claim("c")), seconds=2.0)
    joined = merged([first, second], ["a", "b", "c", "d"])
    assert [c.name for c in joined.claims] == ["shape of h", "a", "b", "c", "d"]
    assert joined.seconds == 2.0
    failed = replace(second, error="f: error: building the model took too long", claims=())
    assert merged([first, failed], ["a", "b", "c", "d"]) is failed


def test_the_board_hands_out_claims_once_each_and_tells_verdicts_across() -> None:
    board = Board(["dz", "dW"], multiprocessing.get_context("fork"))
    assert [board.take() for _ in range(3)] == [0, 1, 2]
    threading.Timer(0.05, board.tell, ("dz", True)).start()
    assert board.heard("dz") is True  # waited for the verdict
    board.tell("dW", False)
    assert board.heard("dW") is False


def test_waiting_for_another_shard_is_charged_to_no_budget() -> None:
    with time_budget(0.05):
        with budget.paused():
            time.sleep(0.1)
        budget.check()  # 0.1 s passed, all of it paused: the budget still has its 0.05 s
        time.sleep(0.06)
        with pytest.raises(BudgetExceeded):
            budget.check()
    assert budget._deadlines == {}


GENERIC = """layout = "numerator"
[sizes]
n = 2
h = 3
m = 4
[inputs]
x = "n x 1"
[params]
W1 = "h x n"
b1 = "h x 1"
W2 = "m x h"
b2 = "m x 1"
[functions]
f = "elementwise"
g = "elementwise"
Lt = "scalar, gradient dL_dy"
[forward]
z1 = "W1 @ x + b1"
a1 = "f(z1)"
z2 = "W2 @ a1 + b2"
y = "g(z2)"
L = "Lt(y)"
[claims.da1]
formula = "(dL_dy * dg(z2)).T @ W2"
[claims.db1]
formula = "da1.T"
layout = "denominator"
"""


def test_a_counterexample_is_the_same_whichever_claims_were_checked_before_it() -> None:
    # checking da1 creates function atoms (Lt's partials, f's) that db1 does not use; db1's point and the values
    # it lists once depended on them, so a shard (or a cached run) that skipped da1 showed another counterexample
    def db1(check_first: bool) -> ClaimResult:
        spec = parse_spec("generic.toml", GENERIC)
        net = build_network(spec)
        session = Session(net, Equality(net), dict(net.values))
        da1, last = spec.claims
        if check_first:
            engine.check_claim(session, da1, 20.0)
        else:
            bind(session, da1)
        return engine.check_claim(session, last, 20.0)

    after, alone = db1(True), db1(False)
    assert after.verdict is Verdict.REFUTED and after.counterexample is not None
    assert after.counterexample == alone.counterexample
    shown = [name for name, _ in after.counterexample.point]
    assert "dLt/darg0" not in shown and any(name.startswith("f'(") for name in shown)  # only what db1 uses


def test_the_entry_a_claim_is_refuted_at_does_not_depend_on_the_claims_checked_before_it() -> None:
    # the earlier claims' diagnoses create mask atoms; the random points of the modular screen gave every mask a
    # bit in one stream, so which entry showed first (and its counterexample) moved with them
    text = (Path(__file__).resolve().parent.parent / "examples" / "two_layer.toml").read_text()
    text = text[: text.index("[claims]")] + (
        "[claims]\n"
        'w1 = { wrt = "W1", formula = "X.T @ (h1 * (h1 > 0)) + 2 * reg * W1" }\n'
        's7 = { wrt = "scores", formula = "(Y - P) / N" }\n'
        'h7 = { wrt = "h1", formula = "s7 @ W2.T" }\n'
        'w7 = { wrt = "W1", formula = "X.T @ (h7 * (h1 > 0)) + 2 * reg * W1" }\n'
    )

    def last(check_first: bool) -> ClaimResult:
        spec = parse_spec("masks.toml", text)
        net = build_network(spec)
        session = Session(net, Equality(net), dict(net.values))
        *earlier, w7 = spec.claims
        for claim in earlier:
            engine.check_claim(session, claim, 20.0) if check_first else bind(session, claim)
        return engine.check_claim(session, w7, 20.0)

    after, alone = last(True), last(False)
    assert after.verdict is Verdict.REFUTED
    # (its diagnosis may differ: "fix h7 first" needs h7 found wrong, which only the first session knows)
    assert (after.message, after.counterexample) == (alone.message, alone.counterexample)


def test_a_worker_with_nothing_left_to_start_joins_the_file_still_running(
    chained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two files, two workers: the quick file's worker, once done, takes claims of the slow one off the same board
    log = _who_checks(monkeypatch, tmp_path, only="chained.toml", pause=0.4)
    quick = Path(__file__).resolve().parent.parent / "examples" / "two_layer.toml"
    files = []
    for path in (chained, quick):
        model = load(path)
        assert not isinstance(model, FileResult)
        files.append((path, model, file_keys(model, 20.0, False)))
    shared = check_in_workers(files, Settings(budget=20.0), 2)
    checked = [line.split() for line in log.read_text().splitlines()]
    assert sorted(name for _, name in checked) == ["dW", "dW_twice", "db", "dz"]  # each claim once
    assert len({pid for pid, _ in checked}) == 2  # the second worker joined
    log.write_text("")
    alone = check_in_workers(files, Settings(budget=20.0), 1)
    assert [_timeless(r) for r in shared] == [_timeless(r) for r in alone]


def test_a_claim_that_ends_in_an_internal_error_still_tells_its_verdict(
    chained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dW and db are refuted and their diagnosis asks whether dz was found wrong: an internal error on dz must be
    # told too, or the worker asking waits for it until the file's hard deadline
    inner = engine._check_claim

    def broken(session, claim, *args, **kwargs):  # type: ignore[no-untyped-def]
        if claim.name == "dz":
            raise RuntimeError("planted by the test")
        return inner(session, claim, *args, **kwargs)

    monkeypatch.setattr(engine, "_check_claim", broken)
    monkeypatch.setattr(workers, "hard_deadline", lambda *_: 15.0)  # a worker left waiting is stopped at 15 s
    for jobs in (1, 4):  # one worker has a board too (workers may join it later)
        result = _run(chained, jobs)
        verdicts = {c.name: c.verdict for c in result.claims}
        assert verdicts.get("dz") is Verdict.ERROR and verdicts.get("dW") is Verdict.REFUTED, result.error


def test_idle_workers_join_a_file_only_while_each_can_expect_a_claim() -> None:
    board = Board(["a", "b", "c", "d"], multiprocessing.get_context("fork"))
    job = workers._Job([0], [Path("f.toml")], [object()], [], 0.0, 1e9, ["a", "b", "c", "d"], board, lambda _: None)  # type: ignore[arg-type]
    board.take()  # the first worker is on claim a: three left for one worker
    assert workers._joinable([job]) is job
    job.children.extend([object(), object()])  # two joiners forked, not yet at work: three left for three
    assert workers._joinable([job]) is None  # a fourth would find nothing left
    job.parts[1] = FileResult(file="f.toml", title="f")  # one of them has delivered: its place is free again
    assert workers._joinable([job]) is job
