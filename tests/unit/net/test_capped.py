"""Capped reads: a small answer whole, an endless one cut at the cap and closed."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

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


def test_take_reads_no_chunk_past_the_limit() -> None:
    """Past the limit nothing more is asked of the body: the next read could wait forever."""
    asked: list[int] = []

    def chunks() -> Iterator[bytes]:
        for n in range(10):
            asked.append(n)
            yield b"x" * 40

    assert shared.take(chunks(), 100) == (b"x" * 100, False)
    assert asked == [0, 1, 2]
    assert shared.take(iter([b"a" * 5]), 10, head=b"h" * 20) == (b"h" * 10, False)
