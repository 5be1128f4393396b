"""A CodeArts Check simulator on loopback, for tests, the demo and workflow self-tests.

It follows the "Downloading Log Files" API page: `GET /v1/log-file?sub_job_id=…` with
`X-Auth-Token` answers 200 with a ZIP, 400 with the documented body for a bad ID, and 401 with
the documented body for a wrong token. That is the token mode (`Simulator(token=…)`). In account
mode (`Simulator(account=…)`, an `account.Account` shared with the IAM and STS doubles) every
request is authenticated as the API gateway does it (`Account.authenticate`): IAM tokens, AK/SK
signatures with `X-Security-Token` and `X-Project-Id`, the 15-minute date window, the AK lock,
and the gateway's `APIGW.*` refusals. Faults are scripted per sub-job ID (in process with
`script`, or over HTTP at `/_simulator/script`): error statuses and bodies, HTML pages, JSON
errors on a 200, non-ZIP 200s, truncated or reset bodies, stalls, slow trickles, redirects.
The default package holds realistic logs with a few problem lines (`logs.realistic_log_package`),
so triage has something to show. Large ZIPs are generated while they stream, so a 512 MiB
package costs no memory; a ZIP file on disk can be served as it is (`set_zip_file`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import socket
import struct
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

from codearts_check_logs.inputs.values import SUB_JOB_ID
from devtools.doubles.account import Account, GatewayError
from devtools.doubles.logs import realistic_log_package

LOG_FILE_PATH = "/v1/log-file"
BAD_REQUEST_BODY = {
    "error_code": "CC.xxxxxxxx.400",
    "error_msg": (
        "Verify request parameter failed. Check whether the request parameters are correct."
    ),
}
EXPIRED_TOKEN_BODY = {
    "error_code": "CC.00000003",
    "error_msg": "Authentication information expired.",
}
# Incompressible filler for large ZIPs; seeded so every run serves the same bytes.
_BLOCK = random.Random(20260226).randbytes(1 << 20)  # noqa: S311


@dataclass(frozen=True)
class Step:
    """One scripted answer. `kind` picks the behaviour; the other fields tune it."""

    kind: str
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    fraction: float = 0.5
    location: str = ""

    @classmethod
    def zip(cls) -> Step:
        """200 with the sub-job's ZIP."""
        return cls("zip")

    @classmethod
    def json(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> Step:
        """Any status with a JSON body (error bodies, or JSON on a 200)."""
        return cls("raw", status, json.dumps(body).encode(), _ctype("application/json", headers))

    @classmethod
    def raw(
        cls, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> Step:
        """Any status with any body, e.g. an HTML error page or a non-ZIP 200."""
        return cls("raw", status, body, _ctype(content_type, headers))

    @classmethod
    def truncate(cls, fraction: float = 0.5, *, chunked: bool = False) -> Step:
        """The ZIP cut after `fraction` of it: short of Content-Length, or a chunked body cut."""
        return cls("chunked-cut" if chunked else "truncate", fraction=fraction)

    @classmethod
    def close_delimited_cut(cls, fraction: float = 0.5) -> Step:
        """Part of the ZIP with neither Content-Length nor chunking, then a clean close."""
        return cls("eof-cut", fraction=fraction)

    @classmethod
    def reset(cls, fraction: float = 0.5) -> Step:
        """Part of the ZIP, then a TCP reset."""
        return cls("reset", fraction=fraction)

    @classmethod
    def stall(cls, seconds: float, *, after_headers: bool = False) -> Step:
        """Say nothing for `seconds` (before the headers, or after them and a first part)."""
        return cls("stall-body" if after_headers else "stall", seconds=seconds)

    @classmethod
    def trickle(cls, seconds: float) -> Step:
        """The ZIP spread evenly over `seconds`, a few bytes at a time."""
        return cls("trickle", seconds=seconds)

    @classmethod
    def pace(cls, seconds: float) -> Step:
        """The ZIP in its usual pieces (1 MiB for large ones), `seconds` apart."""
        return cls("pace", seconds=seconds)

    @classmethod
    def split_head(cls) -> Step:
        """The ZIP, its first two bytes sent alone a moment before the rest."""
        return cls("split-head", seconds=0.05)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Step:
        """A redirect to `location` (another host, for the token test)."""
        return cls("raw", status, b"", {"Location": location})

    @classmethod
    def drop(cls) -> Step:
        """Close the connection without answering."""
        return cls("drop")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        """A step from the control API's JSON (`body` as text, or `json` as any value)."""
        kind = str(data.get("kind", "zip"))
        headers = {str(k): str(v) for k, v in dict(data.get("headers", {})).items()}
        if "json" in data:
            return cls.json(int(data.get("status", 200)), data["json"], headers)
        return cls(
            kind=kind,
            status=int(data.get("status", 200)),
            body=str(data.get("body", "")).encode(),
            headers=headers,
            seconds=float(data.get("seconds", 0)),
            fraction=float(data.get("fraction", 0.5)),
            location=str(data.get("location", "")),
        )


def _ctype(content_type: str, headers: dict[str, str] | None) -> dict[str, str]:
    return {"Content-Type": content_type, **(headers or {})}


@dataclass(frozen=True)
class RecordedRequest:
    """What reached the simulator."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float = 0.0
    """Wall-clock time (`time.time()`) the request line had been read: cold-start benchmarks
    compare it with when the client process was started."""
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)

    def contains(self, secret: str) -> bool:
        """True when `secret` appears in the path, query, a header name or value."""
        text = "\n".join(
            [self.path, self.raw_query, *(f"{k}: {v}" for k, v in self.headers.items())]
        )
        return any(form in text for form in {secret, quote(secret, safe=""), quote_plus(secret)})


def small_zip(sub_job_id: str) -> bytes:
    """The default log package for a sub-job (about 4 KiB, deterministic): five realistic logs
    with `logs.PROBLEM_LINES` problem lines, one of them GB18030."""
    return realistic_log_package(sub_job_id)


FILE_CHUNK = 1 << 20


class StreamedZip:
    """A stored ZIP of about `size` bytes, produced chunk by chunk (CRC in a data descriptor)."""

    def __init__(self, sub_job_id: str, size: int) -> None:
        self.name = f"{sub_job_id}/large.log".encode()
        overhead = 30 + 16 + 46 + 2 * len(self.name) + 22
        self.payload = max(0, min(size, 0xFFFFFFFE) - overhead)
        self.length = self.payload + overhead

    def chunks(self) -> Iterator[bytes]:
        name = self.name
        yield struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x808, 0, 0, 0, 0, 0, 0, len(name), 0)
        yield name
        crc = 0
        left = self.payload
        while left:
            block = _BLOCK[: min(left, len(_BLOCK))]
            crc = zlib.crc32(block, crc)
            left -= len(block)
            yield block
        yield struct.pack("<4s3L", b"PK\x07\x08", crc, self.payload, self.payload)
        central = struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x808, 0, 0, 0,
            crc, self.payload, self.payload, len(name), 0, 0, 0, 0, 0, 0,
        )  # fmt: skip
        yield central + name
        cd_offset = 30 + len(name) + self.payload + 16
        yield struct.pack(
            "<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), cd_offset, 0
        )


class Simulator:
    """The simulator server; a context manager that serves on a free loopback port."""

    def __init__(
        self,
        *,
        token: str | None = None,
        account: Account | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.account = account
        """Account mode: requests are authenticated as the API gateway does (see the module)."""
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Step]] = {}
        self._sizes: dict[str, int] = {}
        self._files: dict[str, Path] = {}
        self.requests: list[RecordedRequest] = []
        self.served: dict[str, list[tuple[int, str]]] = {}
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> Simulator:
        # A short poll keeps stop() quick: tests start one simulator each.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, sub_job_id: str, *steps: Step) -> None:
        """Answer the next requests for `sub_job_id` with `steps`, then with its ZIP."""
        with self._lock:
            self._scripts.setdefault(sub_job_id, deque()).extend(steps)

    def set_zip_size(self, sub_job_id: str, size: int) -> None:
        """Serve a generated, incompressible ZIP of about `size` bytes for `sub_job_id`."""
        with self._lock:
            self._sizes[sub_job_id] = size

    def set_zip_file(self, sub_job_id: str, path: Path) -> None:
        """Serve the file at `path`, as it is, for `sub_job_id` (read at each request)."""
        with self._lock:
            self._files[sub_job_id] = path

    def zip_bytes(self, sub_job_id: str) -> bytes:
        """The ZIP served for `sub_job_id` (the whole thing, so only for small ones)."""
        with self._lock:
            size = self._sizes.get(sub_job_id)
            path = self._files.get(sub_job_id)
        if path is not None:
            return path.read_bytes()
        if size is None:
            return small_zip(sub_job_id)
        return b"".join(StreamedZip(sub_job_id, size).chunks())

    def requests_for(self, path: str = LOG_FILE_PATH) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def received(self, secret: str) -> list[RecordedRequest]:
        """The requests in which `secret` reached the simulator."""
        with self._lock:
            return [r for r in self.requests if r.contains(secret)]

    def next_step(self, sub_job_id: str) -> Step:
        with self._lock:
            queue = self._scripts.get(sub_job_id)
            return queue.popleft() if queue else Step.zip()

    def body_for(self, sub_job_id: str) -> tuple[int, Iterator[bytes]]:
        with self._lock:
            size = self._sizes.get(sub_job_id)
            path = self._files.get(sub_job_id)
        if path is not None:
            return path.stat().st_size, _file_chunks(path)
        if size is None:
            data = small_zip(sub_job_id)
            return len(data), iter([data])
        streamed = StreamedZip(sub_job_id, size)
        return streamed.length, streamed.chunks()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def record_served(self, sub_job_id: str, size: int, digest: str) -> None:
        with self._lock:
            self.served.setdefault(sub_job_id, []).append((size, digest))


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(FILE_CHUNK):
            yield chunk


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        simulator = sim

    return Handler


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    protocol_version = "HTTP/1.1"
    _received_at = 0.0
    server_version = "CodeArtsCheckSimulator/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read the recorded requests instead."""

    def parse_request(self) -> bool:
        self._received_at = time.time()
        return super().parse_request()

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.simulator.record(
            RecordedRequest(
                "GET",
                parts.path,
                query,
                dict(self.headers.items()),
                self._received_at,
                raw_query=parts.query,
            )
        )
        if parts.path == "/_simulator/requests":
            self._send_json(200, [r.__dict__ for r in self.simulator.requests_for(LOG_FILE_PATH)])
        elif parts.path == LOG_FILE_PATH:
            self._log_file(query, parts.query)
        else:
            self._send_json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        data = json.loads(self.rfile.read(length) or b"{}")
        if parts.path == "/_simulator/script":
            steps = [Step.from_dict(step) for step in data.get("steps", [])]
            self.simulator.script(str(data["sub_job_id"]), *steps)
        elif parts.path == "/_simulator/zip-size":
            self.simulator.set_zip_size(str(data["sub_job_id"]), int(data["size"]))
        else:
            self._send_json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"})
            return
        self._send_json(200, {"ok": True})

    # -- the API ------------------------------------------------------------------------------

    def _log_file(self, query: dict[str, str], raw_query: str) -> None:
        sim = self.simulator
        token = self.headers.get("X-Auth-Token")
        if sim.account is not None:
            verdict = sim.account.authenticate(
                "GET", LOG_FILE_PATH, raw_query, dict(self.headers.items()), b""
            )
            if isinstance(verdict, GatewayError):
                self._send_json(verdict.status, verdict.body())
                return
        elif sim.token is not None and token != sim.token:
            body = (
                EXPIRED_TOKEN_BODY
                if token
                else {
                    "error_code": "APIGW.0301",
                    "error_msg": "Incorrect IAM authentication information: x-auth-token not found",
                    "request_id": "0" * 32,
                }
            )
            self._send_json(401, body)
            return
        sub_job_id = query.get("sub_job_id", "")
        if not SUB_JOB_ID.fullmatch(sub_job_id):
            self._send_json(400, BAD_REQUEST_BODY)
            return
        step = sim.next_step(sub_job_id)
        if step.kind == "raw":
            self._send_raw(step)
        elif step.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif step.kind == "stall":
            sim.stopping.wait(step.seconds)
            self._send_zip(sub_job_id, step)
        else:
            self._send_zip(sub_job_id, step)

    def _send_raw(self, step: Step) -> None:
        self.send_response(step.status)
        for name, value in step.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(step.body)))
        self.send_header("X-Request-Id", hashlib.md5(step.body).hexdigest())  # noqa: S324
        self.end_headers()
        self.wfile.write(step.body)

    def _send_zip(self, sub_job_id: str, step: Step) -> None:
        length, chunks = self.simulator.body_for(sub_job_id)
        cut = int(length * step.fraction)
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Disposition", f'attachment; filename="{sub_job_id}.zip"')
        self.send_header("X-Request-Id", hashlib.md5(sub_job_id.encode()).hexdigest())  # noqa: S324
        if step.kind == "chunked-cut":
            self.send_header("Transfer-Encoding", "chunked")
        elif step.kind == "eof-cut":
            self.send_header("Connection", "close")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        kinds_that_cut = {"truncate", "chunked-cut", "eof-cut", "reset"}
        limit = cut if step.kind in kinds_that_cut else length
        digest = hashlib.sha256()
        sent = 0
        try:
            for chunk in chunks:
                piece = chunk[: max(0, limit - sent)]
                if not piece:
                    break
                self._write(step, piece, first=sent == 0)
                digest.update(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            return
        self.simulator.record_served(sub_job_id, sent, digest.hexdigest())
        self._finish_cut(step)

    def _write(self, step: Step, piece: bytes, *, first: bool) -> None:
        if step.kind == "chunked-cut":
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        elif step.kind == "trickle":
            self._trickle(piece, step.seconds)
        elif step.kind == "pace":
            if not first:
                self.wfile.flush()
                self.simulator.stopping.wait(step.seconds)
            self.wfile.write(piece)
        elif step.kind == "split-head" and first:
            self.wfile.write(piece[:2])
            self.wfile.flush()
            self.simulator.stopping.wait(step.seconds)
            self.wfile.write(piece[2:])
        elif step.kind == "stall-body" and first:
            half = len(piece) // 2
            self.wfile.write(piece[:half])
            self.wfile.flush()
            self.simulator.stopping.wait(step.seconds)
            self.wfile.write(piece[half:])
        else:
            self.wfile.write(piece)

    def _trickle(self, piece: bytes, seconds: float) -> None:
        steps = max(1, min(len(piece), 200))
        size = -(-len(piece) // steps)
        for start in range(0, len(piece), size):
            if self.simulator.stopping.wait(seconds / steps):
                return
            self.wfile.write(piece[start : start + size])

    def _finish_cut(self, step: Step) -> None:
        if step.kind in {"truncate", "chunked-cut", "eof-cut"}:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
        elif step.kind == "reset":
            self.close_connection = True
            linger = struct.pack("ii", 1, 0)
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)

    def _send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", hashlib.md5(data).hexdigest())  # noqa: S324
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    """Serve the simulator until interrupted; prints `listening on <url>` once ready."""
    parser = argparse.ArgumentParser(
        prog="python -m devtools.doubles.codearts", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument("--token", default=None, help="token to require in X-Auth-Token")
    parser.add_argument(
        "--zip-size",
        action="append",
        default=[],
        metavar="ID=BYTES",
        help="serve a generated ZIP of about BYTES for sub-job ID (repeatable)",
    )
    parser.add_argument(
        "--zip-file",
        action="append",
        default=[],
        metavar="ID=PATH",
        help="serve the ZIP file at PATH for sub-job ID, as it is (repeatable)",
    )
    args = parser.parse_args(argv)
    sim = Simulator(token=args.token, host=args.host, port=args.port)
    for item in args.zip_size:
        sub_job_id, _, size = item.partition("=")
        sim.set_zip_size(sub_job_id, int(size))
    for item in args.zip_file:
        sub_job_id, _, path = item.partition("=")
        sim.set_zip_file(sub_job_id, Path(path))
    with sim:
        print(f"listening on {sim.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
