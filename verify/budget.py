"""Time budgets with an interval timer, nestable.

`signal.setitimer` interrupts pure-Python work, which is all the engine does
(SymPy and its sparse polynomials are pure Python here). Budgets nest: a stack
of absolute deadlines, the timer always armed for the nearest, and the
exception names the budget that ran out, so an inner attempt ("try the plain
normal form for 1 s") can give up without swallowing the claim's own budget.
The alarm never raises while the import machinery is on the stack (SymPy
imports lazily inside its own functions; an exception mid-import corrupts the
interpreter's module state): it waits a millisecond and tries again. Off the
main thread, or where SIGALRM does not exist, budgets are not enforced and
`enforced()` says so.
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


def _importing(frame: FrameType | None) -> bool:
    """Whether Python's import machinery is on the stack (SymPy imports lazily, inside its functions)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if not _deadlines:
        return  # a late alarm for a budget that has already closed
    if _importing(frame):
        # An exception raised mid-import can leave a half-initialised module or a held module lock behind,
        # which later breaks unrelated code (seen: TypeErrors, once a segfault). Try again in a millisecond.
        signal.setitimer(signal.ITIMER_REAL, 1e-3)
        return
    deadline, owner = min(_deadlines)
    if time.monotonic() >= deadline - 1e-3:
        signal.setitimer(signal.ITIMER_REAL, 0)  # one exception per expiry; the budget's exit re-arms the rest
        raise BudgetExceeded("time budget exhausted", owner)
    _arm()


def _arm() -> None:
    if _deadlines:
        signal.setitimer(signal.ITIMER_REAL, max(min(_deadlines)[0] - time.monotonic(), 1e-4))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


@contextmanager
def _alarm_blocked() -> Iterator[None]:
    """SIGALRM held back while the deadline stack changes, so the stack is never left half-updated."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


@contextmanager
def time_budget(seconds: float) -> Iterator[int]:
    """Raise BudgetExceeded(owner=this budget's id) inside the block once `seconds` have passed."""
    owner = next(_ids)
    if seconds <= 0 or not enforced():
        yield owner
        return
    entry = (time.monotonic() + seconds, owner)
    with _alarm_blocked():
        if not _deadlines:
            signal.signal(signal.SIGALRM, _on_alarm)
        _deadlines.append(entry)
        _arm()
    try:
        yield owner
    finally:
        with _alarm_blocked():  # an alarm arriving now is delivered after the entry is gone, and ignored
            _deadlines.remove(entry)
            _arm()
