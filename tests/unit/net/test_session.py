"""Sessions: who we are, no hidden retries, and a head cut by a shutdown is no answer."""

from __future__ import annotations

import time

import pytest
import requests
from devtools.doubles.slow import Answer, Kind, SlowServer, answer

from codearts_check_logs.net.budget import Deadline, watchdog
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import USER_AGENT, new_session


def test_sessions_say_who_they_are_and_never_retry_by_themselves() -> None:
    session, _tracker = new_session(CancelToken())
    assert session.headers["User-Agent"] == USER_AGENT
    adapter = session.get_adapter("https://example.com")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter.max_retries.total == 0


SLACK = 1.0
"""Seconds a budget may be overrun in process: a timer thread on a loaded two-core machine."""


@pytest.mark.realtime
@pytest.mark.parametrize("kind", ["status", "headers"])
def test_a_head_cut_by_the_watchdog_is_no_answer(kind: Kind) -> None:
    """Shut-down reads end like a clean close: "HTTP/1.1 201 Sl" must not pass for a 201."""
    with SlowServer(answer(kind, status=201)) as server:
        session, tracker = new_session(CancelToken())
        started = time.monotonic()
        with session, pytest.raises(requests.ConnectionError), watchdog(Deadline(0.5), tracker):
            session.get(server.url, timeout=(5, 30))
    assert time.monotonic() - started < 0.5 + SLACK


@pytest.mark.realtime
def test_a_chunk_size_line_without_end_ends_with_the_budget() -> None:
    with SlowServer(answer("chunk-size")) as server:
        session, tracker = new_session(CancelToken())
        started = time.monotonic()
        with session, watchdog(Deadline(0.5), tracker):
            response = session.get(server.url, stream=True, timeout=(5, 30))
            with pytest.raises(requests.RequestException):
                response.content  # noqa: B018 - the read is the test
    assert time.monotonic() - started < 0.5 + SLACK


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
