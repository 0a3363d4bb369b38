"""Each file is checked in a forked worker with a hard deadline and a memory cap; several run at once.

Budgets inside the engine are cooperative (`derive.budget`): one runaway SymPy call cannot be interrupted by
them. The CLI therefore checks every file in a child process (fork: the parent has already imported SymPy, so
the child starts in milliseconds), caps its address space, and kills it when the hard deadline passes —
generous, a multiple of the per-claim budgets, so it only ever stops work the budgets could not.

Files are independent, so up to `jobs` children run at once (one per core by default). The parent forks from
its only thread and waits on the children's pipes and process sentinels: no thread pool, so no fork while
another thread holds a lock. The memory cap is per child, so `jobs` children may use `jobs` times as much.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import FileResult
from derive_check.verify.run.cache import Keys

MEMORY_LIMIT = 8 * 2**30  # bytes of address space for a worker
ENTRY_INTERVAL = 0.1  # seconds between a worker's progress messages inside a claim (at most ~10 a second)


@dataclass(frozen=True)
class Settings:
    """How each file is checked (the same for every file of a run)."""

    budget: float
    typeset: bool = False
    cache_path: Path | None = None
    randomized: bool = False
    stated_only: bool = False  # no proof for all sizes: the fixed-size engine alone


@dataclass(frozen=True)
class _Job:
    path: Path
    child: BaseProcess
    receive: Connection
    started: float
    deadline: float


def hard_deadline(claims: int, budget: float, build_budget: float) -> float:
    """Seconds after which a worker is killed: the build, every claim's budget twice over, and slack."""
    return build_budget + 2 * budget * max(claims, 1) + 30.0


def check_in_workers(
    files: Sequence[tuple[Path, ModelSpec, Keys | None]],
    settings: Settings,
    jobs: int,
    done: Callable[[Path], None] | None = None,
    claim: Callable[[Path, str], None] | None = None,
    entries: Callable[[Path, str, int, int], None] | None = None,
) -> list[FileResult]:
    """Every (file, its resolved model, its cache keys) checked in forked children, at most `jobs` at a time;
    results in order. The caller parsed the model and computed the keys once: a forked child inherits them and
    never reads the file again. `claim(path, name)` hears of each claim as a worker starts it, `entries(path,
    name, proved, total)` how many of its entries are proved (progress; a worker sends these only if asked)."""
    results: dict[int, FileResult] = {}
    pending = list(enumerate(files))
    running: dict[int, _Job] = {}
    try:
        while pending or running:
            while pending and len(running) < max(jobs, 1):
                k, (path, spec, keys) = pending.pop(0)
                running[k] = _start(path, spec, keys, settings, entries is not None)
            now = time.perf_counter()
            timeout = max(0.0, min(j.deadline for j in running.values()) - now)
            wait([r for j in running.values() for r in (j.receive, j.child.sentinel)], timeout)
            for k, job in list(running.items()):
                finished = _drain(job, claim, entries)
                if finished is not None or not job.child.is_alive() or time.perf_counter() >= job.deadline:
                    results[k] = _finish(job, finished)
                    del running[k]
                    if done:
                        done(job.path)
    finally:  # Ctrl-C or an error here: the workers are not daemons, so they are stopped, not waited for
        for job in running.values():
            job.child.kill()
            job.child.join()
    return [results[k] for k in range(len(files))]


def _start(path: Path, spec: ModelSpec, keys: Keys | None, settings: Settings, entries: bool) -> _Job:
    from derive_check.verify.run.engine import BUILD_BUDGET

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # not a daemon: a daemonic process may not start the pool `verify.decide.parallel` uses; it is always joined
    child = context.Process(target=_work, args=(send, path, spec, keys, settings, entries), daemon=False)
    started = time.perf_counter()
    child.start()
    send.close()
    return _Job(path, child, receive, started, started + hard_deadline(len(spec.claims), settings.budget, BUILD_BUDGET))


def _drain(
    job: _Job, claim: Callable[[Path, str], None] | None, entries: Callable[[Path, str, int, int], None] | None
) -> FileResult | None:
    """Read a worker's messages so far: ("claim", name) as it starts a claim, ("entries", name, proved, total)
    while it proves one, ("done", result) at the end."""
    try:
        while job.receive.poll():
            kind, *payload = job.receive.recv()
            if kind == "done":
                finished: FileResult = payload[0]
                return finished
            if kind == "claim" and claim:
                claim(job.path, payload[0])
            if kind == "entries" and entries:
                entries(job.path, *payload)
    except (EOFError, OSError):
        return None  # the worker died: `_finish` says so
    return None


def _finish(job: _Job, finished: FileResult | None = None) -> FileResult:
    try:
        if finished is not None:
            return finished
        while job.receive.poll(max(0.0, job.deadline - time.perf_counter())):
            kind, *payload = job.receive.recv()
            if kind == "done":
                result: FileResult = payload[0]
                return result
        why = f"was stopped after {job.deadline - job.started:.0f} s (a single step ran past every budget)"
    except EOFError:
        why = f"stopped unexpectedly (exit code {job.child.exitcode}); this is a bug in derive-check"
    finally:
        if job.child.is_alive():
            job.child.kill()
        job.child.join()
        job.receive.close()
    message = f"{job.path}: error: checking this file {why}"
    return FileResult(file=str(job.path), title=job.path.stem, error=message, seconds=time.perf_counter() - job.started)


def _work(send: Connection, path: Path, spec: ModelSpec, keys: Keys | None, settings: Settings, entries: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from derive_check.verify.run.cache import ProofCache
    from derive_check.verify.run.engine import check_model

    cache = ProofCache.open(settings.cache_path, warn=False) if settings.cache_path else None
    result = check_model(
        spec,
        path,
        settings.budget,
        progress=lambda name: send.send(("claim", name)),
        typeset=settings.typeset,
        cache=cache,
        randomized=settings.randomized,
        stated_only=settings.stated_only,
        keys=keys,
        entries=_Throttled(send) if entries else None,
    )
    send.send(("done", result))
    send.close()


class _Throttled:
    """Sends ("entries", claim, proved, total) at most every ENTRY_INTERVAL seconds, and always the last one."""

    def __init__(self, send: Connection) -> None:
        self.send = send
        self.sent = float("-inf")

    def __call__(self, claim: str, proved: int, total: int) -> None:
        now = time.perf_counter()
        if proved == total or now - self.sent >= ENTRY_INTERVAL:
            self.sent = now
            self.send.send(("entries", claim, proved, total))
