"""The body's digests off the receive loop: the same SHA-256 as inline, every chunk to the check
in order on the digest thread, a bounded queue, and failures raised on the receiving side."""

from __future__ import annotations

import hashlib
import random
import threading

import pytest

from codearts_check_logs.codearts.digests import BodyDigests


def chunks(count: int, size: int = 4096) -> list[bytes]:
    rng = random.Random(count)  # noqa: S311 - test data
    return [rng.randbytes(rng.randint(1, size)) for _ in range(count)]


def test_the_digest_and_the_check_see_every_chunk_in_order_on_their_own_thread() -> None:
    body = chunks(300)
    seen: list[bytes] = []
    threads: set[int] = set()

    def check(chunk: bytes) -> None:
        seen.append(chunk)
        threads.add(threading.get_ident())

    with BodyDigests(check) as digests:
        for chunk in body:
            digests.feed(chunk)
        digest = digests.sha256()
    assert digest == hashlib.sha256(b"".join(body)).hexdigest()
    assert seen == body
    assert threads
    assert threading.get_ident() not in threads


def test_an_empty_body_has_the_empty_digest() -> None:
    with BodyDigests() as digests:
        digests.feed(b"")
        assert digests.sha256() == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("depth", [1, 4])
def test_no_more_than_the_queue_depth_waits_for_the_digest_thread(depth: int) -> None:
    """Fed but not yet taken by the check: at most the queue, plus the chunk being handed over.
    The check does real work per chunk, so an unbounded queue would run far ahead."""
    fed = taken = worst = 0
    lock = threading.Lock()

    def check(chunk: bytes) -> None:
        nonlocal taken, worst
        with lock:
            taken += 1
            worst = max(worst, fed - taken)
        hashlib.sha256(chunk * 64).digest()

    with BodyDigests(check, depth=depth) as digests:
        for chunk in chunks(200, 1 << 14):
            digests.feed(chunk)
            with lock:
                fed += 1
                worst = max(worst, fed - taken)
        digests.sha256()
    assert worst <= depth + 1


def test_a_failing_check_is_raised_on_the_receiving_side_and_never_blocks_feeding() -> None:
    def check(chunk: bytes) -> None:
        raise ValueError("damaged")

    with BodyDigests(check, depth=1) as digests:
        for chunk in chunks(50):
            digests.feed(chunk)
        with pytest.raises(ValueError, match="damaged"):
            digests.sha256()


def test_leaving_early_stops_the_thread() -> None:
    before = set(threading.enumerate())

    def receive() -> None:
        with BodyDigests() as digests:
            digests.feed(b"part of a body")
            raise RuntimeError("the connection broke")

    with pytest.raises(RuntimeError):
        receive()
    assert set(threading.enumerate()) <= before
