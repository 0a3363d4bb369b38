"""Each file is checked in a forked worker with a hard deadline and a memory cap; several run at once.

Budgets inside the engine are cooperative (`derive.budget`): one runaway SymPy call cannot be interrupted by
them. The CLI therefore checks every file in a child process (fork: the parent has already imported SymPy, so
the child starts in milliseconds), caps its address space, and kills it when the hard deadline passes —
generous, a multiple of the per-claim budgets, so it only ever stops work the budgets could not.

Files are independent, so up to `jobs` children run at once (one per core by default); a file's claims are shared
out over workers that would otherwise be idle, at the start and whenever one finishes with nothing left to start
(`verify.run.shards`). The parent forks from its only thread and waits on the children's pipes and process
sentinels: no thread pool, so no fork while another thread holds a lock. The memory cap is per child, so `jobs`
children may use `jobs` times as much.
"""

from __future__ import annotations

import functools
import multiprocessing
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from derive_check.derive.model.spec import ModelSpec
from derive_check.verify.results import FileResult
from derive_check.verify.run.cache import Keys
from derive_check.verify.run.replay import twins
from derive_check.verify.run.shards import Board, Part, merged, shard_counts, shardable
from derive_check.verify.witness.crosscheck import Said

MEMORY_LIMIT = 8 * 2**30  # bytes of address space for a worker
ENTRY_INTERVAL = 0.1  # seconds between a worker's progress messages inside a claim (at most ~10 a second)
JOIN_AT = 2  # claims not yet taken for an idle worker to join a running file


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
    children: list[BaseProcess]  # one worker, or one per shard of a file (`verify.run.shards`)
    receives: list[Connection]  # each child's messages, in the same order
    started: float
    deadline: float
    names: list[str]  # the first file's claims, in file order (a sharded file's parts are joined in this order)
    board: Board | None  # a shareable file's board, held while its shards run (`Process.start` drops its arguments,
    # and a board the parent let go was reused by the next file: its counter and verdicts reset under the shards)
    spawn: Callable[[Part | None], tuple[BaseProcess, Connection]]  # forks one more worker for the group
    got: dict[int, FileResult] = field(default_factory=dict)  # by position in `files`
    parts: dict[int, FileResult] = field(default_factory=dict)  # a sharded file's parts so far, by shard


def hard_deadline(claims: int, budget: float, build_budget: float) -> float:
    """Seconds after which a worker is killed: the build, every claim's budget twice over, and slack."""
    return build_budget + 2 * budget * max(claims, 1) + 30.0


def check_in_workers(
    files: Sequence[tuple[Path, ModelSpec, Keys]],
    settings: Settings,
    jobs: int,
    claim: Callable[[Path, str], None] | None = None,
    entries: Callable[[Path, str, int, int], None] | None = None,
    said: Mapping[int, Mapping[str, Said]] | None = None,
) -> list[FileResult]:
    """Every (file, its resolved model, its cache keys) checked in forked children, at most `jobs` at a time;
    results in order. The caller parsed the model and computed the keys once: a forked child inherits them and
    never reads the file again. Twins (`verify.run.replay.twins`) go to one child, which checks the first and
    answers the others as the proof cache would. `claim(path, name)` hears of each claim as a worker starts it,
    `entries(path, name, proved, total)` how many of its entries are proved (progress; sent only if asked);
    `said`: the witness's reports worked out ahead, by file position and claim (`verify.run.ahead`)."""
    results: dict[int, FileResult] = {}
    groups = twins(files) if not settings.typeset else [[k] for k in range(len(files))]
    claims = [sum(len(files[k][1].claims) for k in group) for group in groups]
    singles = [len(g) == 1 and not settings.typeset and shardable(files[g[0]][1]) for g in groups]
    counts = shard_counts(claims, singles, jobs)
    pending = list(zip(groups, counts, singles, strict=True))
    running: list[_Job] = []
    try:
        while pending or running:
            while pending and _busy(running) < max(jobs, 1):
                group, count, shared = pending.pop(0)
                ahead = [(said or {}).get(k, {}) for k in group]  # each file's own: a twin's seed is its own
                job = _start([(k, *files[k]) for k in group], count, settings, entries is not None, ahead, shared)
                running.append(job)
            while not pending and _busy(running) < max(jobs, 1):
                joined = _joinable(running)  # a worker that would wait for the others helps the busiest file
                if joined is None or joined.board is None:
                    break
                _add(joined, Part(board=joined.board, first=False))
            now = time.perf_counter()
            timeout = max(0.0, min(j.deadline for j in running) - now)
            wait([w for job in running for w in _waited(job)], timeout)
            for job in list(running):
                exited = [not c.is_alive() for c in job.children]  # before reading: a finished child's last message
                _drain(job, claim, entries)  # is in its pipe by the time it has exited
                if _over(job, exited):
                    for n, result in _finish(job).items():
                        results[job.files[n]] = result
                    running.remove(job)
    finally:  # Ctrl-C or an error here: the workers are not daemons, so they are stopped, not waited for
        for job in running:
            for child in job.children:
                child.kill()
                child.join()
    return [results[k] for k in range(len(files))]


def _start(
    group: list[tuple[int, Path, ModelSpec, Keys]],
    count: int,
    settings: Settings,
    entries: bool,
    said: Sequence[Mapping[str, Said]],
    shared: bool = False,
) -> _Job:
    """Fork the workers of one group: one, or `count` shards of its one file (`verify.run.shards`); a `shared`
    file gets a board even with one worker, so that idle workers can join it later (`_joinable`)."""
    from derive_check.verify.run.engine import BUILD_BUDGET

    context = multiprocessing.get_context("fork")
    work = [(path, spec, keys) for _, path, spec, keys in group]
    names = [c.name for c in group[0][2].claims]
    board = Board(names, context) if count > 1 or shared else None
    claims = sum(len(spec.claims) for _, _, spec, _ in group)
    started = time.perf_counter()
    deadline = started + hard_deadline(claims, settings.budget, BUILD_BUDGET)
    files, paths = [k for k, *_ in group], [path for _, path, *_ in group]
    spawn = functools.partial(_spawn, work, settings, entries, said)
    job = _Job(files, paths, [], [], started, deadline, names, board, spawn)
    for k in range(count):
        _add(job, Part(board=board, first=k == 0) if board else None)
    return job


def _spawn(
    work: list[tuple[Path, ModelSpec, Keys]],
    settings: Settings,
    entries: bool,
    said: Sequence[Mapping[str, Said]],
    part: Part | None,
) -> tuple[BaseProcess, Connection]:
    """One forked worker for a group (or one shard of its file), and the pipe it reports on."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    # not a daemon: a daemonic process may not start the pool `verify.decide.parallel` uses; it is always joined
    child = context.Process(target=_work, args=(send, work, settings, entries, part, said), daemon=False)
    child.start()
    send.close()
    return child, receive


def _add(job: _Job, part: Part | None) -> None:
    """Fork one more worker for the job (a first one, or a shard joining its file)."""
    child, receive = job.spawn(part)
    job.children.append(child)
    job.receives.append(receive)


def _joinable(running: list[_Job]) -> _Job | None:
    """The running file with the most claims not yet taken per worker on it, if at least JOIN_AT (a joiner builds
    the model again) and more than its workers (one just forked has taken none yet: else every free place got a
    joiner at once, most of them to find nothing left)."""
    best, most = None, 0.0
    for job in running:
        if job.board is None or _complete(job):
            continue
        left = len(job.names) - job.board.next.value
        working = _working(job)
        if left >= JOIN_AT and left > working and left / max(working, 1) > most:
            best, most = job, left / max(working, 1)
    return best


def _take(job: _Job, shard: int, message: tuple[object, ...]) -> tuple[str, int, list[object]]:
    """Record a "done" message of the job's `shard`-th child (a shard's part joins the others when all are in)."""
    kind, n, *payload = message
    if kind == "done":
        result = payload[0]
        assert isinstance(result, FileResult) and isinstance(n, int)
        if job.board is None:
            job.got[n] = result
        else:
            job.parts[shard] = result
            if len(job.parts) == len(job.children):
                job.got[n] = merged([job.parts[k] for k in range(len(job.children))], job.names)
    return str(kind), int(n), payload  # type: ignore[call-overload]


def _drain(
    job: _Job, claim: Callable[[Path, str], None] | None, entries: Callable[[Path, str, int, int], None] | None
) -> None:
    """Read the job's messages so far: ("claim", n, name) as a worker starts a claim of its n-th file, ("entries",
    n, name, proved, total) while it proves one, ("done", n, result) at the end of that file (or its part)."""
    for shard, receive in enumerate(job.receives):
        try:
            while receive.poll():
                kind, n, payload = _take(job, shard, receive.recv())
                if kind == "claim" and claim:
                    claim(job.paths[n], str(payload[0]))
                if kind == "entries" and entries:
                    entries(job.paths[n], *payload)  # type: ignore[arg-type]
        except (EOFError, OSError):
            pass  # the worker died: `_finish` says so


def _busy(running: list[_Job]) -> int:
    """How many workers are at work: a shard that has delivered its part frees its place for another."""
    return sum(_working(job) for job in running)


def _working(job: _Job) -> int:
    """How many of the job's workers have not yet sent everything they owe."""
    return sum(not _delivered(job, k) for k in range(len(job.children)))


def _waited(job: _Job) -> list[Connection | int]:
    """What to wait on for the job: each child's pipe and exit, but not a shard's that delivered its part (its
    pipe at end of file and its exit would wake the parent at once, again and again, while the others work)."""
    live = [k for k in range(len(job.children)) if not _delivered(job, k)]
    return [*(job.receives[k] for k in live), *(job.children[k].sentinel for k in live)]


def _over(job: _Job, exited: list[bool]) -> bool:
    """Whether the job is to be finished: complete, a child exited without delivering, or past its deadline."""
    gone = any(e and not _delivered(job, k) for k, e in enumerate(exited))
    return _complete(job) or gone or time.perf_counter() >= job.deadline


def _delivered(job: _Job, shard: int) -> bool:
    """Whether the job's `shard`-th child has sent everything it owes (its part, or every file of its group)."""
    return shard in job.parts if job.board is not None else _complete(job)


def _complete(job: _Job) -> bool:
    return len(job.got) == len(job.files)


def _finish(job: _Job) -> dict[int, FileResult]:
    """The job's results by position, its children stopped; a file the workers did not finish gets an error
    result saying why. Called once the job is complete, a child has exited without delivering (then the others,
    a dead shard's siblings waiting for its verdicts included, are stopped too), or the deadline has passed."""
    _drain(job, None, None)  # what a child sent just before the job was judged over
    timed_out = time.perf_counter() >= job.deadline
    code = next((c.exitcode for c in job.children if c.exitcode), None)  # before the others are stopped
    for child in job.children:
        child.kill()  # harmless on a child that has exited: multiprocessing does not signal one it has reaped
        child.join()
    for receive in job.receives:
        receive.close()
    if timed_out:
        why = f"was stopped after {job.deadline - job.started:.0f} s (a single step ran past every budget)"
    else:
        why = f"stopped unexpectedly (exit code {code}); this is a bug in derive-check"
    seconds = time.perf_counter() - job.started
    return {
        n: job.got.get(n)
        or FileResult(file=str(p), title=p.stem, error=f"{p}: error: checking this file {why}", seconds=seconds)
        for n, p in enumerate(job.paths)
    }


def _work(
    send: Connection,
    group: list[tuple[Path, ModelSpec, Keys]],
    settings: Settings,
    entries: bool,
    part: Part | None = None,
    said: Sequence[Mapping[str, Said]] = (),
) -> None:
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
        own = said[n] if n < len(said) else None  # the witness's reports worked out ahead for this very file
        result = cached_result(spec, path, keys, settings.typeset, cache, own) if n and cache else None
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
                part=part,
                said=own,
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
