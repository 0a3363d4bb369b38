"""Per-claim time budgets with an interval timer.

`signal.setitimer` interrupts pure-Python work, which is all the engine does
(SymPy and its sparse polynomials are pure Python here). Off the main thread,
or where SIGALRM does not exist, the budget is not enforced and the caller is
told so by `enforced()`.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class BudgetExceeded(Exception):
    """The claim's time budget ran out."""


def enforced() -> bool:
    """Whether budgets can interrupt work in this thread."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise BudgetExceeded inside the block once `seconds` of wall time have passed."""
    if seconds <= 0 or not enforced():
        yield
        return

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        raise BudgetExceeded(f"time budget of {seconds:g} s exhausted")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
