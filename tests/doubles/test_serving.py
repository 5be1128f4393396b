"""devtools/doubles/serving: a test server whose shutdown waits for no poll, and a loopback
double whose port outlives its stop."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from devtools.doubles.serving import LoopbackServer, PromptHTTPServer


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def get(port: int) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read()
    finally:
        conn.close()


def test_shutdown_ends_the_loop_before_it_returns() -> None:
    server = PromptHTTPServer(("127.0.0.1", 0), _Hello)
    server.serve_in_background()
    assert get(int(server.server_address[1])) == b"hello"
    loops = [t for t in threading.enumerate() if t.name == f"serve:{server.server_address[1]}"]
    server.shutdown()
    server.server_close()
    assert loops
    assert not any(loop.is_alive() for loop in loops), "the loop outlived shutdown()"


def test_a_shutdown_before_the_loop_began_does_not_hang() -> None:
    server = PromptHTTPServer(("127.0.0.1", 0), _Hello)
    server.shutdown()  # nothing serves yet: returns, and a later loop ends at its first look
    done = threading.Event()

    def serve() -> None:
        server.serve_forever()
        done.set()

    threading.Thread(target=serve, daemon=True).start()
    assert done.wait(5)
    server.server_close()


def test_a_client_gone_mid_answer_leaves_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    class Gone(_Hello):
        def do_GET(self) -> None:
            raise BrokenPipeError("the client went away")

    server = PromptHTTPServer(("127.0.0.1", 0), Gone)
    server.serve_in_background()
    with pytest.raises(http.client.RemoteDisconnected):
        get(int(server.server_address[1]))
    server.shutdown()
    server.server_close()
    assert "Traceback" not in capsys.readouterr().err


def test_a_loopback_double_keeps_its_port_once_stopped() -> None:
    class Double(LoopbackServer):
        def start(self) -> Double:
            self._serve(_Hello)
            return self

    with pytest.raises(RuntimeError, match="not started"):
        _ = Double().port
    with Double() as double:
        port = double.port
        assert get(port) == b"hello"
    assert double.port == port
