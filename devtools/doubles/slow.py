"""A loopback server that answers too slowly to ever finish, on raw sockets.

Per-read socket time-outs cannot bound such a server: each read gets its byte in time, and the
status line, a header line, a chunk-size line or a TLS handshake still never ends. Tests aim a
client at it to show that one budget ends the whole exchange. Every connection gets the same
answer: `head` at once, then `drip` one piece every `interval` seconds until the client goes
away or the server stops. `answer(...)` builds the usual ones.
"""

from __future__ import annotations

import contextlib
import itertools
import selectors
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, Self

from devtools.doubles.serving import Service

Kind = Literal["status", "headers", "chunk-size", "body", "tls", "reply"]


@dataclass(frozen=True)
class Answer:
    """What the server sends on every connection."""

    head: bytes
    drip: Callable[[], Iterator[bytes]]
    """A fresh, usually endless, series of pieces per connection."""
    interval: float
    read_request: bool = True
    """Read the request before answering (not for TLS: the client speaks first, in binary)."""


def _forever(prefix: bytes, filler: bytes) -> Callable[[], Iterator[bytes]]:
    def pieces() -> Iterator[bytes]:
        yield from (prefix[i : i + 1] for i in range(len(prefix)))
        yield from itertools.repeat(filler)

    return pieces


def _nothing() -> Iterator[bytes]:
    return iter(())


def answer(
    kind: Kind,
    *,
    status: int = 200,
    body: bytes = b"",
    content_type: str = "application/json",
    interval: float = 0.05,
    piece: int = 1,
    filler: bytes = b"x",
) -> Answer:
    """The answer that stalls in `kind`, one `piece`-byte step every `interval` seconds.

    - `status`: the status line itself never ends (its reason phrase keeps growing).
    - `headers`: a full status line, then a header line that never ends.
    - `chunk-size`: a chunked `status` answer whose first chunk-size line never ends.
    - `body`: a chunked `status` answer: `body`, then `piece` bytes of `filler` per chunk, without
      end (`interval` 0: as fast as the client reads).
    - `tls`: a TLS handshake record that never ends (for an https:// URL).
    - `reply`: a complete answer with `body`, at once (to lead a client to a slow one).
    """
    line = f"HTTP/1.1 {status} Slow\r\n".encode()
    chunked = line + f"Content-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    if kind == "status":
        return Answer(b"", _forever(f"HTTP/1.1 {status} Sl".encode(), b"o"), interval)
    if kind == "headers":
        return Answer(line, _forever(b"X-Slow: ", b"a"), interval)
    if kind == "chunk-size":
        return Answer(chunked, _forever(b"1", b"0"), interval)
    if kind == "body":
        first = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
        chunk = b"%x\r\n%s\r\n" % (piece, (filler * piece)[:piece])
        return Answer(chunked + first, lambda: itertools.repeat(chunk), interval)
    if kind == "tls":
        # A handshake record announcing 16 KiB, whose bytes then come one at a time.
        return Answer(b"", _forever(b"\x16\x03\x03\x40\x00", b"\x02"), interval, read_request=False)
    reply = line + (
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
    )
    return Answer(reply, _nothing, interval)


class SlowServer(Service):
    """Serves `answer` on 127.0.0.1; `url` for http, `tls_url` for https."""

    def __init__(self, served: Answer) -> None:
        self.answer = served
        self.connections = 0
        self.request_lines: list[str] = []
        """The first line of each request, in the order they arrived."""
        self.sent: list[int] = []
        """Bytes written per connection, once it has ended."""
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._wake_read, self._wake_write = socket.socketpair()

    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("not started")
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self._listener = listener
        self._spawn(self._accept, listener)
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")  # the accept loop ends now, not at its next poll
        for thread in list(self._threads):
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
        self._wake_read.close()
        self._wake_write.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            while not self._stop.is_set():
                ready = selector.select()
                if any(key.fileobj is self._wake_read for key, _ in ready):
                    return
                self._take(listener)

    def _take(self, listener: socket.socket) -> None:
        try:
            conn, _peer = listener.accept()
        except OSError:
            return
        with self._lock:
            self.connections += 1
        self._spawn(self._serve, conn)

    def _serve(self, conn: socket.socket) -> None:
        sent = 0
        with conn:
            try:
                if self.answer.read_request:
                    self._read_request(conn)
                conn.sendall(self.answer.head)
                sent += len(self.answer.head)
                for piece in self.answer.drip():
                    if self._stop.wait(self.answer.interval):
                        break
                    conn.sendall(piece)
                    sent += len(piece)
            except OSError:
                pass  # the client went away: that is the point
            finally:
                with self._lock:
                    self.sent.append(sent)
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

    def _read_request(self, conn: socket.socket) -> None:
        """The request head, then its body drained in the background (a PUT may be large)."""
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 1 << 16:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        with self._lock:
            self.request_lines.append(data.split(b"\r\n", 1)[0].decode("latin-1"))
        self._spawn(self._drain, conn)

    def _drain(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self._stop.is_set() and conn.recv(1 << 16):
                pass
