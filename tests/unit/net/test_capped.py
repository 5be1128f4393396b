"""Capped reads: a small answer whole, an endless one cut at the cap and closed."""

from __future__ import annotations

from devtools.doubles.slow import SlowServer, answer

from codearts_check_logs.net import capped as shared
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import new_session


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


def test_take_keeps_the_head_and_stops_at_the_limit() -> None:
    assert shared.take(iter([b"cd", b"ef"]), 3, b"ab") == (b"abc", False)
    assert shared.take(iter([b"cd"]), 4, b"ab") == (b"abcd", True)
    assert shared.take(iter([]), 1, b"abc") == (b"a", False)
