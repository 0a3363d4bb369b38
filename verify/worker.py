"""Each file is checked in a forked worker with a hard deadline and a memory cap.

Budgets inside the engine are cooperative (`derive.budget`): one runaway SymPy call cannot be interrupted by
them. The CLI therefore checks every file in a child process (fork: the parent has already imported SymPy, so
the child starts in milliseconds), caps its address space, and kills it when the hard deadline passes —
generous, a multiple of the per-claim budgets, so it only ever stops work the budgets could not.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from multiprocessing.connection import Connection
from pathlib import Path

from verify.results import FileResult

MEMORY_LIMIT = 8 * 2**30  # bytes of address space for a worker


def hard_deadline(claims: int, budget: float, build_budget: float) -> float:
    """Seconds after which a worker is killed: the build, every claim's budget twice over, and slack."""
    return build_budget + 2 * budget * max(claims, 1) + 30.0


def check_in_worker(path: Path, budget: float, typeset: bool, cache_path: Path | None, claims: int) -> FileResult:
    """`verify.engine.check_path` in a forked child, killed at the hard deadline."""
    from verify.engine import BUILD_BUDGET

    deadline = hard_deadline(claims, budget, BUILD_BUDGET)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_work, args=(send, path, budget, typeset, cache_path), daemon=True)
    started = time.perf_counter()
    child.start()
    send.close()
    try:
        if receive.poll(deadline):
            result: FileResult = receive.recv()
            return result
        why = f"was stopped after {deadline:.0f} s (a single step ran past every budget)"
    except EOFError:
        why = f"stopped unexpectedly (exit code {child.exitcode}); this is a bug in derive-check"
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    message = f"{path}: error: checking this file {why}"
    return FileResult(str(path), path.stem, (), error=message, seconds=time.perf_counter() - started)


def _work(send: Connection, path: Path, budget: float, typeset: bool, cache_path: Path | None) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    from verify.cache import ProofCache
    from verify.engine import check_path

    cache = ProofCache(cache_path) if cache_path else None
    send.send(check_path(path, budget, typeset=typeset, cache=cache))
    send.close()
