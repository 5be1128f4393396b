"""Time budgets: a `Deadline` every request sizes its time-outs from, and a `watchdog` that shuts
a session's sockets down when the budget is spent, whatever a read is waiting for."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from .cancel import SocketTracker

CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection, for every service: a handshake that takes longer is a stall."""

Clock = Callable[[], float]


class Deadline:
    """A time budget that starts now; requests size their time-outs from what is left."""

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.budget = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self._end - self._clock() <= 0

    def timeouts(self, read: float) -> tuple[float, float]:
        """(connect, read) time-outs for one request: the usual ones, never past the end."""
        left = max(self.remaining(), 0.001)
        return min(CONNECT_TIMEOUT, left), min(read, left)


@contextlib.contextmanager
def watchdog(deadline: Deadline, tracker: SocketTracker) -> Iterator[None]:
    """Shut the session's sockets down when the budget is spent, whatever a read is waiting for.

    One thread, blocked in one wait for whichever comes first: the budget's end, or the end of
    the phase (an event set on leaving the block). It never wakes to look, and it is gone when
    the block is left, so no watchdog outlives its phase."""
    over = threading.Event()

    def guard() -> None:
        if not over.wait(deadline.remaining()):
            tracker.shutdown()

    thread = threading.Thread(target=guard, name="watchdog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        over.set()
        thread.join()
