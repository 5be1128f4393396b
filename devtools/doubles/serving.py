"""One way to run a loopback HTTP double: a threading server on a free port, in the background,
that stops at once.

`socketserver`'s `serve_forever` looks for a shutdown request only between polls, so each
`shutdown()` waits for up to one poll interval (0.5 s by default), and a suite starts thousands
of servers. `PromptHTTPServer` also watches one end of a socket pair: `shutdown()` writes a byte
to the other end and the loop ends on it, without waiting for a poll.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class Service:
    """Something the tests start and stop: `with Service() as running:` does both."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PromptHTTPServer(ThreadingHTTPServer):
    """A `ThreadingHTTPServer` whose `shutdown()` returns as soon as its loop has ended.

    Handlers run in daemon threads and `server_close()` does not wait for them: a handler that
    is still stalling on purpose must not hold a test up (the doubles release theirs through an
    event of their own when they stop)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._wake_read, self._wake_write = socket.socketpair()
        self._lock = threading.Lock()
        self._closed = False
        self._looping = False
        self._ended = threading.Event()
        self._thread: threading.Thread | None = None

    def serve_in_background(self) -> None:
        """`serve_forever` in a daemon thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, name=f"serve:{self.server_address[1]}", daemon=True
        )
        self._thread.start()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Handle requests until `shutdown()`; `poll_interval` is accepted and not needed."""
        with self._lock:
            if self._closed:
                return
            self._looping = True
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_read, selectors.EVENT_READ)
                while True:
                    ready = selector.select()
                    if any(key.fileobj is self._wake_read for key, _ in ready):
                        return
                    self.handle_request()  # the listener is ready: this accepts at once
                    self.service_actions()
        finally:
            self._ended.set()

    def shutdown(self) -> None:
        """End the loop now (also when it has not begun yet: it will end at its first look)."""
        with contextlib.suppress(OSError):
            self._wake_write.send(b"\0")
        with self._lock:
            looping = self._looping
        if looping:
            self._ended.wait()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away mid-answer is what many tests do on purpose (a budget ran
        out, a job was cancelled): not worth a traceback. Anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]

    def server_close(self) -> None:
        with self._lock:
            self._closed = True
        super().server_close()
        self._wake_read.close()
        self._wake_write.close()


class LoopbackServer(Service):
    """Serves a handler class on 127.0.0.1 from a daemon thread."""

    _server: PromptHTTPServer | None = None
    _port: int | None = None

    @property
    def port(self) -> int:
        """The port it serves on, still known once stopped: a handler that was answering when
        `stop()` returned may yet build a URL from it."""
        if self._port is None:
            raise RuntimeError("not started")
        return self._port

    def _serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._server = PromptHTTPServer(("127.0.0.1", 0), handler)
        self._port = int(self._server.server_address[1])
        self._server.serve_in_background()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
