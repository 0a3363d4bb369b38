"""Progress inside a claim: a worker tells how many of the claim's entries are proved, and a terminal shows it."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

import derive_check.verify.run.engine  # noqa: F401 - imported before the workers fork, as the CLI does
from derive_check.run import run_files
from derive_check.verify.decide.parallel import failing
from derive_check.verify.results import FileResult, Verdict
from derive_check.verify.run import workers
from derive_check.verify.run.cache import file_keys
from derive_check.verify.run.load import load
from derive_check.verify.run.workers import Settings, check_in_workers

ROOT = Path(__file__).resolve().parent.parent
TWO_LAYER = ROOT / "examples" / "two_layer.toml"
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")


def _heard(interval: float, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, ...]], FileResult]:
    """Every message the worker sent while checking examples/two_layer.toml, in order."""
    monkeypatch.setattr(workers, "ENTRY_INTERVAL", interval)  # read by the forked worker
    model = load(TWO_LAYER)
    assert not isinstance(model, FileResult)
    heard: list[tuple[str, ...]] = []
    [result] = check_in_workers(
        [(TWO_LAYER, model, file_keys(model, 60.0, False))],
        Settings(budget=60.0),
        1,
        claim=lambda _path, name: heard.append(("claim", name)),
        entries=lambda _path, name, proved, total: heard.append(("entries", name, str(proved), str(total))),
    )
    return heard, result


def _counts(heard: list[tuple[str, ...]], name: str) -> list[tuple[int, int]]:
    start = heard.index(("claim", name))
    out: list[tuple[int, int]] = []
    for message in heard[start + 1 :]:
        if message[0] == "claim":
            break
        assert message[1] == name  # one worker, one claim at a time: only this claim's entries in between
        out.append((int(message[2]), int(message[3])))
    return out


def test_a_worker_tells_every_entry_of_a_claim_proved_as_it_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    heard, result = _heard(0.0, monkeypatch)  # no throttle: every count is sent
    assert [c.verdict for c in result.claims if c.name == "dW1"] == [Verdict.PROVED]
    assert _counts(heard, "dW1") == [(n, 12) for n in range(13)]  # dW1 is D x H = 3 x 4: 12 entries, one by one


def test_throttled_progress_still_grows_and_ends_at_the_total(monkeypatch: pytest.MonkeyPatch) -> None:
    heard, result = _heard(workers.ENTRY_INTERVAL, monkeypatch)
    for claim in result.claims:
        counts = _counts(heard, claim.name)
        assert counts, claim.name
        assert counts[-1] == (claim.entries, claim.entries)
        assert [n for n, _ in counts] == sorted(set(n for n, _ in counts))  # growing, never back


def test_the_throttle_sends_at_most_one_message_per_interval_and_always_the_last() -> None:
    class Pipe:
        def __init__(self) -> None:
            self.sent: list[tuple[str, int, str, int, int]] = []

        def send(self, message: tuple[str, int, str, int, int]) -> None:
            self.sent.append(message)

    pipe = Pipe()
    tell = workers._Throttled(pipe, 1)  # type: ignore[arg-type] - the second file of the worker's group
    began = time.perf_counter()
    for n in range(1001):
        tell("dW", n, 1000)
    allowed = 2 + (time.perf_counter() - began) / workers.ENTRY_INTERVAL
    assert pipe.sent[0] == ("entries", 1, "dW", 0, 1000)
    assert pipe.sent[-1] == ("entries", 1, "dW", 1000, 1000)
    assert len(pipe.sent) <= allowed


@pytest.mark.parametrize("processes", [1, 3])
def test_failing_tells_how_many_entries_passed_so_far(processes: int) -> None:
    told: list[int] = []
    assert failing(40, lambda k: k % 5 != 0, processes, passed=told.append, serial_seconds=0) == list(range(0, 40, 5))
    assert told[-1] == 32
    assert told == sorted(set(told))
    if processes == 1:
        assert told == list(range(1, 33))
    else:  # the pool answers share by share, several per process
        assert 3 < len(told) <= 3 * 8


def test_run_files_on_a_terminal_shows_the_entry_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")  # not a dumb terminal: the progress bar draws
    buffer = io.StringIO()
    err = Console(file=buffer, force_terminal=True, width=120)
    [result] = run_files([TWO_LAYER], Settings(budget=60.0), err, jobs=1)
    assert not result.error
    shown = ANSI.sub("", buffer.getvalue())
    assert "two_layer.toml: dW1 (entry 12/12)" in shown


def test_run_files_off_a_terminal_prints_no_progress() -> None:
    buffer = io.StringIO()
    [result] = run_files([TWO_LAYER], Settings(budget=60.0), Console(file=buffer, force_terminal=False), jobs=1)
    assert not result.error
    assert buffer.getvalue() == ""


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_the_cli_under_a_pseudo_terminal_shows_the_entry_count(tmp_path: Path) -> None:
    import fcntl
    import termios

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TTY_", "NO_COLOR", "FORCE_COLOR", "COLUMNS"))}
    env.update(TERM="xterm-256color", DERIVE_CHECK_CACHE=str(tmp_path / "cache"))
    parent, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    command = [sys.executable, "-c", "from derive_check.cli import entry; entry()", "--no-cache", str(TWO_LAYER)]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=child
    )
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([parent], [], [], 1.0)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(parent, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            chunks.append(data)
        stdout = process.communicate(timeout=60)[0].decode()
    finally:
        os.close(parent)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stdout
    shown = ANSI.sub("", b"".join(chunks).decode(errors="replace"))
    assert re.search(r"two_layer\.toml: dW1 \(entry \d+/12\)", shown), shown[-2000:]
