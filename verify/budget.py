"""Time budgets with an interval timer, nestable.

`signal.setitimer` interrupts pure-Python work, which is all the engine does
(SymPy and its sparse polynomials are pure Python here). Budgets nest: a stack
of absolute deadlines, the timer always armed for the nearest, and the
exception names the budget that ran out, so an inner attempt ("try the plain
normal form for 1 s") can give up without swallowing the claim's own budget.
Off the main thread, or where SIGALRM does not exist, budgets are not enforced
and `enforced()` says so.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_deadlines: list[tuple[float, int]] = []  # (absolute deadline, owner id), one per open budget
_ids = itertools.count()


class BudgetExceeded(Exception):
    """A time budget ran out; `owner` identifies which one."""

    def __init__(self, message: str, owner: int = -1) -> None:
        super().__init__(message)
        self.owner = owner


def enforced() -> bool:
    """Whether budgets can interrupt work in this thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if not _deadlines:
        return
    deadline, owner = min(_deadlines)
    if time.monotonic() >= deadline - 1e-3:
        raise BudgetExceeded("time budget exhausted", owner)
    _arm()


def _arm() -> None:
    if _deadlines:
        signal.setitimer(signal.ITIMER_REAL, max(min(_deadlines)[0] - time.monotonic(), 1e-4))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def time_budget(seconds: float) -> Iterator[int]:
    """Raise BudgetExceeded(owner=this budget's id) inside the block once `seconds` have passed."""
    owner = next(_ids)
    if seconds <= 0 or not enforced():
        yield owner
        return
    if not _deadlines:
        signal.signal(signal.SIGALRM, _on_alarm)
    entry = (time.monotonic() + seconds, owner)
    _deadlines.append(entry)
    _arm()
    try:
        yield owner
    finally:
        _deadlines.remove(entry)
        _arm()
