"""Shared HTTP rules: budgets, the socket tracker behind cancel and the watchdog, the retry
policy."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from devtools.doubles.slow import Kind, SlowServer, answer

from codearts_check_logs import http as shared
from codearts_check_logs.errors import Cancelled
from codearts_check_logs.http import (
    MIN_ATTEMPT_SECONDS,
    USER_AGENT,
    CancelToken,
    Deadline,
    SocketTracker,
    new_session,
    retrying,
    watchdog,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"


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


def test_sessions_say_who_they_are_and_never_retry_by_themselves() -> None:
    session, _tracker = new_session(CancelToken())
    assert session.headers["User-Agent"] == USER_AGENT
    adapter = session.get_adapter("https://example.com")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.max_retries.total == 0


def test_a_cancel_wakes_a_request_waiting_for_its_answer(silent_server: str) -> None:
    cancel = CancelToken()
    session, _tracker = new_session(cancel)
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(requests.RequestException):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


def test_after_a_cancel_new_connections_fail_at_once(silent_server: str) -> None:
    cancel = CancelToken()
    cancel.cancel()
    session, _tracker = new_session(cancel)
    started = time.monotonic()
    with pytest.raises(requests.RequestException):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


def test_on_cancel_calls_back_once_at_the_cancel_or_at_once_when_already_cancelled() -> None:
    cancel = CancelToken()
    heard: list[str] = []
    cancel.on_cancel(lambda: heard.append("first"))
    forget = cancel.on_cancel(lambda: heard.append("forgotten"))
    forget()
    assert heard == []
    cancel.cancel()
    cancel.cancel()
    assert heard == ["first"]
    cancel.on_cancel(lambda: heard.append("late"))
    assert heard == ["first", "late"]


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


SLACK = 1.0
"""Seconds a budget may be overrun in process: a timer thread on a loaded two-core machine."""


@pytest.mark.parametrize("kind", ["status", "headers"])
def test_a_head_cut_by_the_watchdog_is_no_answer(kind: Kind) -> None:
    """Shut-down reads end like a clean close: "HTTP/1.1 201 Sl" must not pass for a 201."""
    with SlowServer(answer(kind, status=201)) as server:
        session, tracker = new_session(CancelToken())
        started = time.monotonic()
        with session, pytest.raises(requests.ConnectionError), watchdog(Deadline(0.5), tracker):
            session.get(server.url, timeout=(5, 30))
    assert time.monotonic() - started < 0.5 + SLACK


def test_a_chunk_size_line_without_end_ends_with_the_budget() -> None:
    with SlowServer(answer("chunk-size")) as server:
        session, tracker = new_session(CancelToken())
        started = time.monotonic()
        with session, watchdog(Deadline(0.5), tracker):
            response = session.get(server.url, stream=True, timeout=(5, 30))
            with pytest.raises(requests.RequestException):
                response.content  # noqa: B018 - the read is the test
    assert time.monotonic() - started < 0.5 + SLACK


def test_read_capped_stops_reading_at_the_limit() -> None:
    with SlowServer(answer("body", interval=0, piece=1 << 16)) as server:
        session, _tracker = new_session(CancelToken())
        with session:
            response = session.get(server.url, stream=True, timeout=(5, 5))
            data, whole = shared.read_capped(response, 100_000)
    assert (len(data), whole) == (100_000, False)
    assert sum(server.sent) < 64 << 20, "the connection was closed, not drained"


def test_read_capped_reads_a_small_body_whole() -> None:
    with SlowServer(answer("reply", body=b'{"ok": true}')) as server:
        session, _tracker = new_session(CancelToken())
        with session:
            response = session.get(server.url, stream=True, timeout=(5, 5))
            assert shared.read_capped(response, 12) == (b'{"ok": true}', True)


def test_retrying_stops_after_the_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("again")

    attempts = retrying(
        deadline=Deadline(60), cancel=CancelToken(), attempts=3, wait=lambda _s: 0.0,
        retry_if=lambda exc: isinstance(exc, ValueError),
    )  # fmt: skip
    with pytest.raises(ValueError, match="again"):
        attempts(failing)
    assert len(calls) == 3


def test_retrying_never_waits_into_the_last_second() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("again")

    attempts = retrying(
        deadline=Deadline(MIN_ATTEMPT_SECONDS + 0.5), cancel=CancelToken(), attempts=5,
        wait=lambda _s: 1.0, retry_if=lambda exc: True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="again"):
        attempts(failing)
    assert len(calls) == 1


def test_a_cancel_is_never_retried() -> None:
    calls: list[int] = []

    def cancelled() -> None:
        calls.append(1)
        raise Cancelled("the job was cancelled")

    attempts = retrying(
        deadline=Deadline(60), cancel=CancelToken(), attempts=5, wait=lambda _s: 0.0,
        retry_if=lambda exc: True,
    )  # fmt: skip
    with pytest.raises(Cancelled):
        attempts(cancelled)
    assert len(calls) == 1


def test_a_cancel_ends_a_retry_wait() -> None:
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        cancel.sleep(30)
    assert time.monotonic() - started < 3
