"""Entries checked on every core: a forked pool filters a claim's entries by an exact test.

The test closes over SymPy expressions that are expensive to pickle, so nothing is sent
to the workers but entry numbers: the test is stored in a module global before the pool
forks, and each worker inherits it (and the open time budgets, which are deadlines in
module state). A worker that fails or runs out of time returns nothing for its share, and
the parent runs that share itself, so a verdict never depends on the pool.

The entries are dealt out in several small shares per process, answered as each is done, so
that `passed` (progress) hears how many entries have passed so far while the pool works.

A pool costs tens of milliseconds to fork and gather, and how long an entry takes is not known
in advance (a millisecond at the canonical sizes, seconds at large ones). So the entries are first
tested here, one by one, for SERIAL_SECONDS: if they are all done by then no pool was worth forking,
and otherwise the pool takes the rest. The waste is bounded either way: at most SERIAL_SECONDS of
work done on one core that two could have shared, or one pool's start-up for work that needed it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable

from derive_check.derive.budget import check

MIN_ENTRIES = 16  # below this, forking a pool costs more than it saves
SERIAL_SECONDS = 0.1  # entries tested here before a pool is forked for the rest (a pool's start-up, a few times)
SHARES_PER_PROCESS = 8  # more, smaller shares: finer progress and balance, at one message per share
_test: Callable[[int], bool] | None = None


def workers() -> int:
    """How many processes to use: the cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def failing(
    count: int,
    test: Callable[[int], bool],
    processes: int | None = None,
    passed: Callable[[int], None] | None = None,
    serial_seconds: float = SERIAL_SECONDS,
) -> list[int]:
    """The indices k < count for which test(k) is False, in order; `passed(n)` hears the number of entries
    found to pass so far each time it grows. The first entries are tested here for `serial_seconds`, the rest
    (if any) on every core."""
    processes = workers() if processes is None else processes
    tally = _Tally(passed)
    if processes <= 1 or count < MIN_ENTRIES:
        return tally.run(test, range(count))
    out: list[int] = []
    done, until = 0, time.perf_counter() + serial_seconds
    while done < count and time.perf_counter() < until:
        out += tally.run(test, [done])
        done += 1
    rest = list(range(done, count))
    if not rest:
        return out
    global _test
    _test = test
    pieces = min(len(rest), processes * SHARES_PER_PROCESS)
    shares = [rest[w::pieces] for w in range(pieces)]
    answers: list[list[int] | None] = [None] * len(shares)
    no_pool = contextlib.suppress(AssertionError, OSError)  # a daemonic process, no fork: the parent does the rest
    try:
        with no_pool, multiprocessing.get_context("fork").Pool(processes) as pool:
            for w, answer in pool.imap_unordered(_share, enumerate(shares)):
                answers[w] = answer
                if answer is not None:
                    tally.add(len(shares[w]) - len(answer))
    finally:
        _test = None
    for share, answer in zip(shares, answers, strict=True):
        out += tally.run(test, share) if answer is None else answer
    return sorted(out)


class _Tally:
    """How many entries have passed, told to `passed` as the count grows."""

    def __init__(self, passed: Callable[[int], None] | None) -> None:
        self.passed = passed
        self.count = 0

    def add(self, more: int) -> None:
        self.count += more
        if more and self.passed:
            self.passed(self.count)

    def run(self, test: Callable[[int], bool], share: range | list[int]) -> list[int]:
        """The entries of `share` that fail the test, run here (each pass counted as it is found)."""
        out: list[int] = []
        for k in share:
            if _checked(test, k):
                self.add(1)
            else:
                out.append(k)
        return out


def _checked(test: Callable[[int], bool], k: int) -> bool:
    check()  # a safe point for the time budget
    return test(k)


def _share(numbered: tuple[int, list[int]]) -> tuple[int, list[int] | None]:
    assert _test is not None
    w, share = numbered
    try:
        return w, [k for k in share if not _checked(_test, k)]
    except Exception:  # BudgetExceeded included: the parent redoes the share, under its own budget
        return w, None
