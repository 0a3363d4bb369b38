"""The witness worked out ahead (while the engine loads) is the witness the workers would have run.

The identities checked: the reports the child sends are `said_of` for every claim of every file; a run given them
equals a run without them; they are used (a report saying "disagrees" turns a proved claim INCONSISTENT); a
child that has sent nothing, or died, leaves the workers to witness every claim themselves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import derive_check.verify.run.engine  # noqa: F401 - imported before the workers fork, as the CLI does
from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import FileResult, Verdict
from derive_check.verify.run.ahead import Ahead
from derive_check.verify.run.cache import Keys, file_keys
from derive_check.verify.run.load import load
from derive_check.verify.run.replay import twins
from derive_check.verify.run.workers import Settings, check_in_workers
from derive_check.verify.witness.crosscheck import Said, claim_trees, said_of
from derive_check.verify.witness.report import WitnessReport

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FILES = [EXAMPLES / "two_layer.toml", EXAMPLES / "two_layer_wrong.toml"]


def _loaded() -> list[tuple[Path, ModelSpec, Keys]]:
    out = []
    for path in FILES:
        model = load(path)
        assert not isinstance(model, FileResult)
        out.append((path, model, file_keys(model, 20.0, False)))
    return out


def _finished(models: list[ModelSpec]) -> dict[int, dict[str, Said]]:
    ahead = Ahead.start(models)
    ahead.child.join(120)  # let it finish every claim (the command line takes what is there when the engine is in)
    return ahead.collect()


def _timeless(results: list[FileResult]) -> list[FileResult]:
    return [replace(r, seconds=0.0, claims=tuple(replace(c, seconds=0.0) for c in r.claims)) for r in results]


def test_the_child_sends_said_of_every_claim_of_every_file() -> None:
    files = _loaded()
    said = _finished([m for _, m, _ in files])
    for k, (_, model, _) in enumerate(files):
        trees = claim_trees(model)
        assert said[k] == {c.name: said_of(model, c, trees[c.name], trees) for c in model.claims}
    assert all(s.stated.agrees is True and s.other and s.other.agrees is True for s in said[0].values())  # all right


def test_a_run_given_the_reports_equals_a_run_without_them() -> None:
    files = _loaded()
    said = _finished([m for _, m, _ in files])
    given = check_in_workers(files, Settings(budget=20.0), 2, said=said)
    assert _timeless(given) == _timeless(check_in_workers(files, Settings(budget=20.0), 1))


def test_the_reports_are_used_not_worked_out_again() -> None:
    files = _loaded()[:1]
    doubt = WitnessReport(False, "the numeric witness disagrees (planted by the test)", 1, ())
    said = {0: {"dW2": Said(stated=doubt, other=None)}}
    [result] = check_in_workers(files, Settings(budget=20.0), 2, said=said)
    verdicts = {c.name: c.verdict for c in result.claims}
    assert verdicts["dW2"] is Verdict.INCONSISTENT and verdicts["dW1"] is Verdict.PROVED


def test_collecting_stops_the_child_and_claims_it_did_not_reach_are_witnessed_by_the_workers() -> None:
    files = _loaded()
    ahead = Ahead.start([m for _, m, _ in files])
    said = ahead.collect()  # at once: the child has reached few claims, if any
    assert not ahead.child.is_alive() and ahead.receive.closed
    [result] = check_in_workers(files[:1], Settings(budget=20.0), 2, said=said)
    assert all(c.verdict is Verdict.PROVED and c.witness.startswith("agrees at") for c in result.claims)


def test_a_twin_checked_again_uses_its_own_witness_not_the_first_files(tmp_path: Path) -> None:
    # the twin misses the cache (its ERROR claim is never stored), so its claims are checked again: their witness
    # is its own (its seed is its own file's), never the reports worked out for the first file of the group
    base = tmp_path / "base.toml"
    base.write_text((EXAMPLES / "two_layer.toml").read_text() + 'dx = "1 / zz"\n')
    twin = tmp_path / "twin.toml"
    twin.write_text('extends = "base.toml"\ntitle = "a copy"\n')
    files = []
    for path in (base, twin):
        model = load(path)
        assert not isinstance(model, FileResult)
        files.append((path, model, file_keys(model, 20.0, False)))
    assert twins(files) == [[0, 1]]  # one check: the twin is answered after the first file, in the same worker
    doubt = WitnessReport(False, "the numeric witness disagrees (planted by the test)", 1, ())
    first, second = check_in_workers(files, Settings(budget=20.0), 2, said={0: {"dW2": Said(stated=doubt, other=None)}})
    assert {c.name: c.verdict for c in first.claims}["dW2"] is Verdict.INCONSISTENT  # the first file's, as given
    assert {c.name: c.verdict for c in second.claims}["dW2"] is Verdict.PROVED  # the twin's own witness
    first, second = check_in_workers(files, Settings(budget=20.0), 2, said={1: {"dW2": Said(stated=doubt, other=None)}})
    assert {c.name: c.verdict for c in first.claims}["dW2"] is Verdict.PROVED
    assert {c.name: c.verdict for c in second.claims}["dW2"] is Verdict.INCONSISTENT  # the twin's, worked out ahead


def test_a_twin_answered_from_the_cache_uses_its_own_reports_worked_out_ahead() -> None:
    path = EXAMPLES / "two_layer.toml"
    model = load(path)
    assert not isinstance(model, FileResult)
    twin = replace(model, file="copy.toml")  # another file with the same check: its witness seed is its own
    files = [(path, model, file_keys(model, 20.0, False)), (Path("copy.toml"), twin, file_keys(twin, 20.0, False))]
    assert twins(files) == [[0, 1]]
    doubt = WitnessReport(False, "the numeric witness disagrees (planted by the test)", 1, ())
    first, second = check_in_workers(files, Settings(budget=20.0), 2, said={1: {"db2": Said(stated=doubt, other=None)}})
    assert {c.name: c.verdict for c in first.claims}["db2"] is Verdict.PROVED
    assert {c.name: c.verdict for c in second.claims}["db2"] is Verdict.INCONSISTENT
