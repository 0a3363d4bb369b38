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
from dataclasses import dataclass, field
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
    files: list[int]  # the numbers (in the run's order) of the twins this worker checks, the first one in full
    paths: list[Path]
    child: BaseProcess
    receive: Connection
    started: float
    deadline: float
    got: dict[int, FileResult] = field(default_factory=dict)  # by position in `files`


def hard_deadline(claims: int, budget: float, build_budget: float) -> float:
    """Seconds after which a worker is killed: the build, every claim's budget twice over, and slack."""
    return build_budget + 2 * budget * max(claims, 1) + 30.0


def check_in_workers(
    files: Sequence[tuple[Path, ModelSpec, Keys]],
    settings: Settings,
    jobs: int,
    claim: Callable[[Path, str], None] | None = None,
    entries: Callable[[Path, str, int, int], None] | None = None,
) -> list[FileResult]:
    """Every (file, its resolved model, its cache keys) checked in forked children, at most `jobs` at a time;
    results in order. The caller parsed the model and computed the keys once: a forked child inherits them and
    never reads the file again. Twins (`twins`) go to one child, which checks the first and answers the others
    as the proof cache would. `claim(path, name)` hears of each claim as a worker starts it, `entries(path,
    name, proved, total)` how many of its entries are proved (progress; a worker sends these only if asked)."""
    results: dict[int, FileResult] = {}
    pending = twins(files) if not settings.typeset else [[k] for k in range(len(files))]
    running: list[_Job] = []
    try:
        while pending or running:
            while pending and len(running) < max(jobs, 1):
                running.append(_start([(k, *files[k]) for k in pending.pop(0)], settings, entries is not None))
            now = time.perf_counter()
            timeout = max(0.0, min(j.deadline for j in running) - now)
            wait([r for j in running for r in (j.receive, j.child.sentinel)], timeout)
            for job in list(running):
                _drain(job, claim, entries)
                if len(job.got) == len(job.files) or not job.child.is_alive() or time.perf_counter() >= job.deadline:
                    for n, result in _finish(job).items():
                        results[job.files[n]] = result
                    running.remove(job)
    finally:  # Ctrl-C or an error here: the workers are not daemons, so they are stopped, not waited for
        for job in running:
            job.child.kill()
            job.child.join()
    return [results[k] for k in range(len(files))]


def twins(files: Sequence[tuple[Path, ModelSpec, Keys]]) -> list[list[int]]:
    """The files grouped by twins, in order of first appearance: files whose checks are one check.

    Two files are twins when their cache keys agree: the keys hash everything of the resolved model and of each
    claim that a verdict depends on (`verify.run.cache.file_keys`), and the proof cache already answers a claim by
    them. The declared-shape findings' key also holds where the forward lines are, so a twin's findings are at its
    own lines. A twin is then answered the way a cached run answers it (`verify.run.replay.cached_result`): the
    claim's own line, source and reading, and the witness run again on every pass. Seed 001 re-renders seed 000;
    without this a run over both checked every claim twice.
    """
    groups: dict[tuple[str, ...], list[int]] = {}
    for k, (_, _, keys) in enumerate(files):
        groups.setdefault((keys.shapes, *sorted(keys.claims.values())), []).append(k)
    return list(groups.values())


def _start(group: list[tuple[int, Path, ModelSpec, Keys]], settings: Settings, entries: bool) -> _Job:
    from derive_check.verify.run.engine import BUILD_BUDGET

    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # not a daemon: a daemonic process may not start the pool `verify.decide.parallel` uses; it is always joined
    work = [(path, spec, keys) for _, path, spec, keys in group]
    child = context.Process(target=_work, args=(send, work, settings, entries), daemon=False)
    started = time.perf_counter()
    child.start()
    send.close()
    claims = sum(len(spec.claims) for _, _, spec, _ in group)
    deadline = started + hard_deadline(claims, settings.budget, BUILD_BUDGET)
    return _Job([k for k, *_ in group], [path for _, path, *_ in group], child, receive, started, deadline)


def _drain(
    job: _Job, claim: Callable[[Path, str], None] | None, entries: Callable[[Path, str, int, int], None] | None
) -> None:
    """Read a worker's messages so far: ("claim", n, name) as it starts a claim of its n-th file, ("entries", n,
    name, proved, total) while it proves one, ("done", n, result) at the end of that file."""
    try:
        while job.receive.poll():
            kind, n, *payload = job.receive.recv()
            if kind == "done":
                job.got[n] = payload[0]
            if kind == "claim" and claim:
                claim(job.paths[n], payload[0])
            if kind == "entries" and entries:
                entries(job.paths[n], *payload)
    except (EOFError, OSError):
        pass  # the worker died: `_finish` says so


def _finish(job: _Job) -> dict[int, FileResult]:
    """The job's results by position; a file the worker did not finish gets an error result saying why."""
    try:
        while len(job.got) < len(job.files) and job.receive.poll(max(0.0, job.deadline - time.perf_counter())):
            kind, n, *payload = job.receive.recv()
            if kind == "done":
                job.got[n] = payload[0]
        why = f"was stopped after {job.deadline - job.started:.0f} s (a single step ran past every budget)"
    except EOFError:
        why = f"stopped unexpectedly (exit code {job.child.exitcode}); this is a bug in derive-check"
    finally:
        if job.child.is_alive():
            job.child.kill()
        job.child.join()
        job.receive.close()
    seconds = time.perf_counter() - job.started
    return {
        n: job.got.get(n)
        or FileResult(file=str(p), title=p.stem, error=f"{p}: error: checking this file {why}", seconds=seconds)
        for n, p in enumerate(job.paths)
    }


def _work(send: Connection, group: list[tuple[Path, ModelSpec, Keys]], settings: Settings, entries: bool) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from derive_check.verify.run.cache import ProofCache
    from derive_check.verify.run.engine import check_model
    from derive_check.verify.run.replay import cached_result

    cache = ProofCache.open(settings.cache_path, warn=False) if settings.cache_path else None
    if cache is None and len(group) > 1:
        cache = ProofCache(None)  # in memory: the first file's results answer its twins

    def started(n: int) -> Callable[[str], None]:
        return lambda name: send.send(("claim", n, name))

    for n, (path, spec, keys) in enumerate(group):
        result = cached_result(spec, path, keys, settings.typeset, cache) if n and cache else None
        if result is None:  # the first file, or a twin with a claim the cache does not keep (UNDECIDED)
            result = check_model(
                spec,
                path,
                settings.budget,
                progress=started(n),
                typeset=settings.typeset,
                cache=cache,
                randomized=settings.randomized,
                stated_only=settings.stated_only,
                keys=keys,
                entries=_Throttled(send, n) if entries else None,
            )
        send.send(("done", n, result))
    send.close()


class _Throttled:
    """Sends ("entries", claim, proved, total) at most every ENTRY_INTERVAL seconds, and always the last one."""

    def __init__(self, send: Connection, n: int) -> None:
        self.send = send
        self.n = n  # which file of the worker's group
        self.sent = float("-inf")

    def __call__(self, claim: str, proved: int, total: int) -> None:
        now = time.perf_counter()
        if proved == total or now - self.sent >= ENTRY_INTERVAL:
            self.sent = now
            self.send.send(("entries", self.n, claim, proved, total))
