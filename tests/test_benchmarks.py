"""The ladder benchmark's plumbing: model files at other sizes, timing with a limit, reading results."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.ladder import Run, crosschecks, model_file, summary, timed
from derive_check.derive.model.spec import load_file


def test_a_ladder_file_has_the_rung_sizes_and_the_canonical_claims(tmp_path: Path) -> None:
    spec = load_file(model_file((4, 6, 8, 10), tmp_path))
    assert spec.sizes == {"N": 4, "D": 6, "H": 8, "C": 10}
    assert [c.name for c in spec.claims] == ["dscores", "dW2", "db2", "dh1", "dW1", "db1"]


def test_a_run_past_the_limit_is_stopped_and_marked_unfinished() -> None:
    run = timed([sys.executable, "-c", "import time; time.sleep(30)"], limit=0.5)
    assert not run.finished and run.seconds < 10


def test_a_finished_run_keeps_its_output_and_memory() -> None:
    run = timed([sys.executable, "-c", "print('hello')"], limit=30)
    assert run.finished and run.output.strip() == "hello" and run.peak_mb > 1


def test_exact_results_are_counted_from_the_json_record() -> None:
    record = '{"files": [{"claims": [{"verdict": "PROVED", "entries": 10}, {"verdict": "PROBABLE", "entries": 5}]}]}'
    assert summary("exact", Run(1.0, 50.0, True, "log line\n" + record)) == (15, "1 PROBABLE, 1 PROVED")
    # the CLI's last line, "N passed, N failed", follows the JSON (stderr and stdout share the file)
    assert summary("stated", Run(1.0, 50.0, True, record + "\n2 passed, 0 failed\n")) == (15, "1 PROBABLE, 1 PROVED")


def test_the_cross_checks_are_counted_from_the_json_record() -> None:
    record = '{"files": [{"claims": [{"crosscheck": "modular"}, {"crosscheck": "modular"}, {"crosscheck": ""}]}]}'
    assert crosschecks(Run(1.0, 50.0, True, record + "\n3 passed, 0 failed\n")) == "2 modular, 1 none"
    assert summary("exact", Run(1.0, 50.0, False, "")) == (0, "no output")
