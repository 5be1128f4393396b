"""The body's digests, computed beside the receive loop instead of inside it.

The thread that reads the socket should only read and write: every millisecond it spends on
something else is a millisecond the socket's buffer fills and the sender waits. `BodyDigests`
takes each chunk through a short bounded queue to a thread of its own, which computes the
SHA-256 (the digest reported and sent to the artifact service) and hands the same chunk, in
order, to any per-chunk check (the stored members' CRC-32). `hashlib` and `zlib.crc32` release
the interpreter lock on large buffers, so that thread runs beside the receive loop on another
core. The queue holds at most `DEPTH` chunks: memory stays flat however large the ZIP, and a
slow consumer slows the receive loop instead of piling bytes up.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

DEPTH = 4
"""Chunks waiting for the digest thread at most: with 512 KiB reads, 2 MiB queued."""

Check = Callable[[bytes], None]
"""Hears every chunk of the body, in order, on the digest thread."""

_END = b""
"""Put last: `feed` never queues an empty chunk, so an empty one ends the stream."""


class BodyDigests:
    """`with BodyDigests(check) as digests:` `feed` each chunk, then `sha256()` once at the end.

    Leaving the block without `sha256()` (an error on the receive side) stops the thread after
    the chunks already queued. An error on the digest thread (raised by `check`) is kept and
    raised again by `sha256()` on the receiving thread; the digest thread goes on draining the
    queue meanwhile, so `feed` never waits on a thread that is no longer taking chunks."""

    def __init__(self, check: Check | None = None, *, depth: int = DEPTH) -> None:
        self._check = check
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=depth)
        self._digest = hashlib.sha256()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._consume, name="digest", daemon=True)
        self._ended = False

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def feed(self, chunk: bytes) -> None:
        """The next chunk of the body (not empty); waits only while `DEPTH` chunks are queued."""
        if chunk:
            self._queue.put(chunk)

    def sha256(self) -> str:
        """The hex SHA-256 of every chunk fed, once the thread has taken them all."""
        self._end()
        if self._failure is not None:
            raise self._failure
        return self._digest.hexdigest()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put(_END)
            self._thread.join()

    def _consume(self) -> None:
        update, check = self._digest.update, self._check
        while chunk := self._queue.get():
            if self._failure is not None:
                continue  # keep taking chunks, so that `feed` never waits on a dead consumer
            try:
                update(chunk)
                if check is not None:
                    check(chunk)  # the caller's own check (ziplog's stream check), handed down
            except BaseException as exc:  # raised again on the receiving thread
                self._failure = exc
