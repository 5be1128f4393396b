"""Cancellation: a `CancelToken` set from the signal handler shuts down every socket the run's
sessions opened (`SocketTracker`), so no read outlives a cancel. A response whose head was still
arriving when its sockets were shut down is refused (`ShutDown`), never taken for a complete one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from functools import partial

from ..errors import Cancelled


class SocketTracker:
    """The sockets one session has opened, so that another thread can shut them all down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once `shutdown` ran: whatever its sockets were still receiving is incomplete."""
        with self._lock:
            return self._closed

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
            closed = self._closed
        if closed:
            _shutdown(sock)

    def shutdown(self) -> None:
        """Wake every blocked read or write with an error; later connections fail at once too."""
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class CancelToken:
    """Cancels the run from the signal handler: a flag, and every tracked socket shut down."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._trackers: weakref.WeakSet[SocketTracker] = weakref.WeakSet()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self) -> None:
        self.event.set()
        with self._lock:
            trackers = list(self._trackers)
            callbacks, self._callbacks = self._callbacks, []
        for tracker in trackers:
            tracker.shutdown()
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` once when the job is cancelled (at once if it already is), so that a
        thread waiting for several things blocks on its own event instead of waking every so
        often to look. Returns what forgets the callback; call it when the wait is over."""
        with self._lock:
            if not self.event.is_set():
                self._callbacks.append(callback)
                return partial(self._forget, callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def watch(self, tracker: SocketTracker) -> None:
        with self._lock:
            self._trackers.add(tracker)
        if self.event.is_set():
            tracker.shutdown()

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled("the job was cancelled")

    def sleep(self, seconds: float) -> None:
        """A retry wait that ends early, with Cancelled, when the job is cancelled."""
        if self.event.wait(seconds):
            raise Cancelled("the job was cancelled")


class ShutDown(ConnectionAbortedError):
    """An answer's head was still arriving when its sockets were shut down (time ran out, or the
    job was cancelled): what came is not a response."""
