"""Budgets: time-outs sized from what is left, and the watchdog that ends a stalled read."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from codearts_check_logs.net.budget import Deadline, watchdog
from codearts_check_logs.net.cancel import CancelToken, SocketTracker
from codearts_check_logs.net.session import new_session


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_sizes_time_outs_from_what_is_left() -> None:
    clock = Clock()
    deadline = Deadline(30, clock=clock)
    assert deadline.timeouts(60) == (10.0, 30.0)
    clock.now += 25
    assert deadline.timeouts(60) == (5.0, 5.0)
    clock.now += 10
    assert deadline.expired
    assert deadline.remaining() == 0
    assert deadline.timeouts(60)[1] > 0


def test_the_watchdog_ends_a_request_when_the_budget_is_spent(silent_server: str) -> None:
    session, tracker = new_session(CancelToken())
    started = time.monotonic()
    with pytest.raises(requests.RequestException), watchdog(Deadline(0.5), tracker):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


def test_the_watchdog_is_gone_when_its_phase_ends() -> None:
    """Leaving the block ends the watchdog's one wait at once: no thread is left behind, and
    the sockets of a phase that ended in time are not shut down."""
    tracker = SocketTracker()
    before = set(threading.enumerate())
    with watchdog(Deadline(3600), tracker):
        assert len(set(threading.enumerate()) - before) == 1
    assert set(threading.enumerate()) <= before
    assert not tracker.closed
