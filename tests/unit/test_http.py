"""Shared HTTP rules: budgets, the socket tracker behind cancel and the watchdog, the retry
policy."""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator

import pytest
import requests
from devtools.doubles.slow import Answer, Kind, SlowServer, answer

from codearts_check_logs import http as shared
from codearts_check_logs.errors import Cancelled
from codearts_check_logs.http import (
    MIN_ATTEMPT_SECONDS,
    USER_AGENT,
    CancelToken,
    Deadline,
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


def test_the_watchdog_ends_a_request_when_the_budget_is_spent(silent_server: str) -> None:
    session, tracker = new_session(CancelToken())
    started = time.monotonic()
    with pytest.raises(requests.RequestException), watchdog(Deadline(0.5), tracker):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


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


def test_read_capped_costs_its_limit_whatever_the_chunking() -> None:
    """An endless body sent one byte per chunk (as GitHub's ID-token endpoint was seen to): the
    memory it costs is the cap's, not fifty times it (a list of one-byte chunks)."""
    limit = 100_000
    with SlowServer(answer("body", interval=0, piece=1)) as server:
        session, _tracker = new_session(CancelToken())
        with session:
            response = session.get(server.url, stream=True, timeout=(5, 5))
            tracemalloc.start()
            try:
                data, whole = shared.read_capped(response, limit)
                _size, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    assert (len(data), whole) == (limit, False)
    assert peak < 4 * limit, f"{peak:,} bytes at the peak for a cap of {limit:,}"


def redirect_to(location: bytes, body: Answer | None = None) -> Answer:
    """A 307 to `location` (raw bytes), with no body or an endless chunked one."""
    head = b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location + b"\r\n"
    if body is None:
        return Answer(head + b"Content-Length: 0\r\n\r\n", lambda: iter(()), 0)
    return Answer(head + b"Transfer-Encoding: chunked\r\n\r\n", body.drip, 0)


def test_a_redirect_not_followed_is_not_worked_out() -> None:
    """`requests` decodes `Location` as UTF-8 even with redirects off, and fails on a byte that
    is not: a session for clients that follow redirects by hand leaves it alone."""
    with SlowServer(redirect_to(b"/next\xff")) as server:
        plain = requests.Session()
        with plain, pytest.raises(UnicodeDecodeError):
            plain.get(server.url, allow_redirects=False, timeout=(5, 5))
        for follow in (False, True):
            session, _tracker = new_session(CancelToken(), follow_redirects=follow)
            with session:
                response = session.get(server.url, allow_redirects=follow, timeout=(5, 5))
            assert response.status_code == 307
            assert response.headers["Location"].encode("latin-1") == b"/next\xff"


def test_the_body_of_a_redirect_not_followed_is_not_read() -> None:
    """With redirects off, `requests` still reads the whole redirect body to work out the next
    hop: an endless one would never return. Here the answer's head is all that is read."""
    endless = answer("body", interval=0, piece=1 << 16)
    with SlowServer(redirect_to(b"/next", endless)) as server:
        session, tracker = new_session(CancelToken(), follow_redirects=False)
        with session, watchdog(Deadline(10), tracker):
            response = session.get(server.url, allow_redirects=False, stream=True, timeout=(5, 5))
            assert response.status_code == 307
            response.close()
    assert sum(server.sent) < 64 << 20
