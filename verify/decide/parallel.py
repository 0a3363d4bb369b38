"""Entries checked on every core: a forked pool filters a claim's entries by an exact test.

The test closes over SymPy expressions that are expensive to pickle, so nothing is sent
to the workers but entry numbers: the test is stored in a module global before the pool
forks, and each worker inherits it (and the open time budgets, which are deadlines in
module state). A worker that fails or runs out of time returns nothing for its share, and
the parent runs that share itself, so a verdict never depends on the pool.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable

from derive_check.derive.budget import check

MIN_ENTRIES = 16  # below this, forking a pool costs more than it saves
_test: Callable[[int], bool] | None = None


def workers() -> int:
    """How many processes to use: the cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def failing(count: int, test: Callable[[int], bool], processes: int | None = None) -> list[int]:
    """The indices k < count for which test(k) is False, in order."""
    processes = workers() if processes is None else processes
    if processes <= 1 or count < MIN_ENTRIES:
        return [k for k in range(count) if not _checked(test, k)]
    global _test
    _test = test
    shares = [list(range(w, count, processes)) for w in range(processes)]
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            answers: list[list[int] | None] = pool.map(_share, shares)
    except (AssertionError, OSError):  # no pool here (a daemonic process, no fork): the parent does it all
        answers = [None] * len(shares)
    finally:
        _test = None
    out: list[int] = []
    for share, answer in zip(shares, answers, strict=True):
        out += [k for k in share if not _checked(test, k)] if answer is None else answer
    return sorted(out)


def _checked(test: Callable[[int], bool], k: int) -> bool:
    check()  # a safe point for the time budget
    return test(k)


def _share(share: list[int]) -> list[int] | None:
    assert _test is not None
    try:
        return [k for k in share if not _checked(_test, k)]
    except Exception:  # BudgetExceeded included: the parent redoes the share, under its own budget
        return None
