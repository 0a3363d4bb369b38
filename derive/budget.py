"""Time budgets, checked cooperatively at safe points.

An earlier version raised from a SIGALRM handler, which interrupts work anywhere — including inside numpy's
object-array loops that call back into SymPy and inside the import machinery — and that crashed the
interpreter (segfaults seen in tests, always after a tiny budget had expired). Budgets now only *record*
deadlines; the engine calls `check()` at safe points of its own loops (each chain-rule step, each
normal-form conversion, each entry, each counterexample point), which raises BudgetExceeded for the budget
that ran out. A single runaway SymPy call cannot be interrupted this way; the CLI bounds that with a
worker process it kills at a hard deadline (`verify.run.workers`).

Budgets nest: the exception names the budget that ran out, so an inner attempt ("try the plain normal
form for 1 s") can give up without swallowing the claim's own budget.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager

_deadlines: dict[int, float] = {}  # owner id -> absolute deadline, one per open budget
_ids = itertools.count()


class BudgetExceeded(Exception):
    """A time budget ran out; `owner` identifies which one."""

    def __init__(self, message: str, owner: int = -1) -> None:
        super().__init__(message)
        self.owner = owner


def check() -> None:
    """Raise BudgetExceeded for the earliest open budget whose deadline has passed (a safe point)."""
    if _deadlines and time.monotonic() >= min(_deadlines.values()):
        owner = min(_deadlines, key=lambda k: (_deadlines[k], k))
        raise BudgetExceeded("time budget exhausted", owner)


@contextmanager
def time_budget(seconds: float) -> Iterator[int]:
    """A budget of `seconds` for the block; `check()` inside it raises BudgetExceeded(owner=its id) after."""
    owner = next(_ids)
    if seconds <= 0:
        yield owner
        return
    _deadlines[owner] = time.monotonic() + seconds
    try:
        yield owner
    finally:
        del _deadlines[owner]


@contextmanager
def paused() -> Iterator[None]:
    """The block's time is charged to no open budget: every deadline moves on by it (a worker waiting for another
    worker's answer is not doing its claim's work)."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = time.monotonic() - started
        for owner in _deadlines:
            _deadlines[owner] += spent
