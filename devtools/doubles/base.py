"""What every credential double shares: a loopback HTTP server that records each request as it
arrived and can be told to misbehave for the next N requests.

Recording is what lets tests say "nothing was sent" and scan which service received which secret;
scripted faults (an answer, a stall, a dropped connection) are how refusals, throttling and
outages are set up without touching the double's normal logic.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal, Self
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from devtools.doubles.serving import LoopbackServer

JSON_TYPE = "application/json;charset=UTF-8"


def request_id() -> str:
    """A 32-hex request ID, the shape Huawei's gateway puts in bodies and `X-Request-Id`."""
    return secrets.token_hex(16)


@dataclass
class RecordedRequest:
    """One request as it arrived, and what the double did with it."""

    service: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0
    """0 until answered; stays 0 for a dropped connection."""
    fault: str = ""
    """The scripted fault that handled it ("answer", "echo", "stall", "drop"), or empty."""
    response: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def text(self) -> str:
        """Everything a secret could travel in: path, query, header names and values, body."""
        headers = "\n".join(f"{name}: {value}" for name, value in self.headers.items())
        body = self.body.decode("utf-8", "replace")
        return f"{self.method} {self.path}?{self.query}\n{headers}\n\n{body}"

    def contains(self, secret: str) -> bool:
        """True when `secret` appears anywhere in the request, raw or URL-encoded."""
        text = self.text()
        return any(form in text for form in {secret, quote(secret, safe=""), quote_plus(secret)})


@dataclass(frozen=True)
class Reply:
    """An answer: JSON (anything `json.dumps` takes) unless `body` is bytes."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Fault:
    kind: Literal["answer", "echo", "stall", "drop"]
    remaining: int
    path: str | None
    reply: Reply | None = None
    seconds: float = 0.0


class DoubleServer(LoopbackServer):
    """A recording, fault-scriptable loopback service; subclasses implement `handle`."""

    service = "double"
    server_version = "double/1.0"
    unscripted_paths: frozenset[str] = frozenset()
    """Paths that scripted faults skip unless a fault names them: traffic that is not the
    client's (e.g. Huawei fetching the GitHub JWKS) must not eat a fault meant for the client."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    # --- what tests script and read ----------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: Any = None,
        *,
        times: int = 1,
        path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests (to `path` only, if given) with `status` and `body`;
        without a body, the answer this service gives for that status (see `fault_body`)."""
        reply = Reply(status, self.fault_body(status) if body is None else body, headers or {})
        self._add(_Fault("answer", times, path, reply=reply))

    def echo_next(self, status: int, code: str, *, times: int = 1, path: str | None = None) -> None:
        """Refuse the next `times` requests (to `path` only, if given) with `status` and a JSON
        error whose message quotes the request body back, as some services do for a body they
        cannot read: a secret in it comes back JSON-escaped (`\\u00e4`, `\\"`)."""
        self._add(_Fault("echo", times, path, reply=Reply(status, {"error_code": code})))

    def stall_next(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Hold the next `times` requests for `seconds` before serving them normally."""
        self._add(_Fault("stall", times, path, seconds=seconds))

    def drop_next(self, *, times: int = 1, path: str | None = None) -> None:
        """Close the connection of the next `times` requests without answering."""
        self._add(_Fault("drop", times, path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def calls(self, path: str | None = None, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [
                r for r in self.requests if path in {None, r.path} and method in {None, r.method}
            ]

    def received(self, secret: str) -> list[RecordedRequest]:
        """The requests in which `secret` reached this service."""
        return [r for r in self.calls() if r.contains(secret)]

    # --- what subclasses provide ------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        raise NotImplementedError

    def fault_body(self, status: int) -> Any:
        """The body a scripted fault of `status` carries when the test gives none. The API
        gateway answers throttling and backend failures itself, the same for every service."""
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            return gateway_body(
                "APIGW.0308",
                "The throttling threshold has been reached: policy user over ratelimit,"
                "limit:20,time:1 minute",
            )
        if status in {HTTPStatus.BAD_GATEWAY, HTTPStatus.GATEWAY_TIMEOUT}:
            cause = "unavailable" if status == HTTPStatus.BAD_GATEWAY else "timeout"
            return gateway_body("APIGW.0201", f"Backend {cause}")
        return {"error_code": f"HTTP.{status}", "error_msg": HTTPStatus(status).phrase}

    # --- plumbing ------------------------------------------------------------------------------

    def _add(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _next_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                applies = fault.path == path or (
                    fault.path is None and path not in self.unscripted_paths
                )
                if fault.remaining > 0 and applies:
                    fault.remaining -= 1
                    return fault
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def start(self) -> Self:
        self._stopping.clear()
        self._serve(_handler_for(self))
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases stalled handlers so shutdown does not wait for them
        super().stop()

    def _dispatch(self, request: RecordedRequest) -> Reply | None:
        """The reply to send, or None to drop the connection."""
        fault = self._next_fault(request.path)
        if fault is not None:
            request.fault = fault.kind
            if fault.kind == "drop":
                return None
            if fault.kind == "answer" and fault.reply is not None:
                return fault.reply
            if fault.kind == "echo" and fault.reply is not None:
                quoted = request.body.decode("utf-8", "replace")
                message = f"The request body is invalid: {quoted}"
                return Reply(fault.reply.status, {**fault.reply.body, "error_msg": message})
            self._stopping.wait(fault.seconds)
        return self.handle(request)


def stop_all(doubles: list[DoubleServer]) -> None:
    """Stop several doubles; each stop returns at once (see `PromptHTTPServer`)."""
    for double in doubles:
        double.stop()


def gateway_body(code: str, message: str, rid: str | None = None) -> dict[str, str]:
    """An API gateway error body: `error_code`, `error_msg` and `request_id`."""
    return {"error_code": code, "error_msg": message, "request_id": rid or request_id()}


def _handler_for(double: DoubleServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = double.server_version

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the recorded requests instead."""

        def do_GET(self) -> None:
            self._serve()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            record = RecordedRequest(
                service=double.service,
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers=dict(self.headers.items()),
                body=self.rfile.read(length) if length else b"",
                at=time.time(),
            )
            double._record(record)
            reply = double._dispatch(record)
            if reply is None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            payload = (
                reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            )
            rid = reply.body.get("request_id") if isinstance(reply.body, dict) else None
            record.status, record.response = reply.status, payload
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", JSON_TYPE)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("X-Request-Id", str(rid or request_id()))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler
