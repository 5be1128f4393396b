"""Run the Azurite blob emulator on a free loopback port, and talk to it as its account owner.

The artifact upload goes to an Azure Blob SAS URL; Azurite (npm, pinned in package.json) is the
real storage protocol on loopback. This module starts and stops it, signs SAS tokens with the
emulator's documented development account key, and offers a small fault-injecting proxy to put
in front of it, so tests can see retries against real blob semantics.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import requests

from devtools.doubles.serving import LoopbackServer, Service

ACCOUNT = "devstoreaccount1"
"""Azurite's documented development account."""

ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's documented, public development key (not a secret)."""

SAS_VERSION = "2024-11-04"
ROOT = Path(__file__).resolve().parents[2]
_LISTENING = re.compile(r"Blob service successfully listens on http://[^:]+:(\d+)")


class AzuriteError(RuntimeError):
    """Azurite could not be started or did not answer."""


def _sign(string_to_sign: str) -> str:
    key = base64.b64decode(ACCOUNT_KEY)
    digest = hmac.new(key, string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _sas_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def blob_sas(container: str, blob: str, permissions: str, *, hours: float = 6.0) -> str:
    """A service SAS query string for one blob (`sr=b`), like the URLs GitHub hands out."""
    expiry = _sas_time(datetime.now(UTC) + timedelta(hours=hours))
    start = _sas_time(datetime.now(UTC) - timedelta(minutes=5))
    resource = f"/blob/{ACCOUNT}/{container}/{blob}"
    # Field order of the service SAS string-to-sign for versions 2020-12-06 and later.
    fields = [permissions, start, expiry, resource, "", "", "", SAS_VERSION, "b", "", ""]
    fields += ["", "", "", "", ""]
    params = {
        "sv": SAS_VERSION,
        "st": start,
        "se": expiry,
        "sr": "b",
        "sp": permissions,
        "sig": _sign("\n".join(fields)),
    }
    return urlencode(params, quote_via=quote)


def account_sas(*, hours: float = 6.0) -> str:
    """An account SAS with every blob permission, for the double's own housekeeping."""
    expiry = _sas_time(datetime.now(UTC) + timedelta(hours=hours))
    permissions, services, types = "rwdlacup", "b", "sco"
    fields = [ACCOUNT, permissions, services, types, "", expiry, "", "", SAS_VERSION, "", ""]
    params = {
        "sv": SAS_VERSION,
        "ss": services,
        "srt": types,
        "sp": permissions,
        "se": expiry,
        "sig": _sign("\n".join(fields)),
    }
    return urlencode(params, quote_via=quote)


@dataclass
class BlobState:
    """What the emulator holds for one blob: content, type and committed block sizes."""

    content: bytes
    blob_type: str
    content_type: str
    committed_blocks: list[int]


class Azurite(Service):
    """Azurite's blob service as a context manager: started on a free port, stopped after."""

    def __init__(
        self,
        *,
        node_modules: Path | None = None,
        startup_timeout: float = 30.0,
        in_memory: bool = True,
    ) -> None:
        """`in_memory=False` keeps blob data on disk (a temporary folder), for blobs larger
        than the in-memory extent limit, such as the benchmark's 512 MiB ZIPs."""
        self._binary = (node_modules or ROOT / "node_modules") / ".bin" / "azurite-blob"
        self._in_memory = in_memory
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: str | None = None
        self.port = 0

    @classmethod
    def attached(cls, port: int) -> Azurite:
        """An emulator someone else runs on `port` (see `shared_azurite`): `stop()` is a no-op."""
        azurite = cls()
        azurite.port = port
        return azurite

    @property
    def endpoint(self) -> str:
        """`http://127.0.0.1:<port>/devstoreaccount1`: path-style, as Azurite expects."""
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    def start(self) -> Self:
        log_path = self._prepare()
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self._argv(),
                cwd=self._workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        process = self._process
        return self._wait_until_listening(log_path, lambda: process.poll() is not None)

    def start_detached(self) -> dict[str, int | str]:
        """Start an emulator that is no child of this process, so that it may outlive it (see
        `shared_azurite`): a shell puts it in the background and ends. Returns its port, process
        id and folder, what `stop_shared` needs to end it; this object's `stop()` leaves it."""
        log_path = self._prepare()
        launched = subprocess.run(
            ["/bin/sh", "-c", '"$@" >"$0" 2>&1 </dev/null & echo $!', str(log_path), *self._argv()],
            cwd=self._workdir,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        pid, workdir = int(launched.stdout), str(self._workdir)
        try:
            self._wait_until_listening(log_path, lambda: not _alive(pid))
        except AzuriteError:
            _end(pid)
            raise
        self._workdir = None
        return {"port": self.port, "pid": pid, "dir": workdir}

    def _prepare(self) -> Path:
        if not self._binary.exists():
            raise AzuriteError(f"{self._binary} is missing; run `npm ci` first")
        self._workdir = tempfile.mkdtemp(prefix="azurite-")
        return Path(self._workdir) / "azurite.log"

    def _argv(self) -> list[str]:
        # Port 0 lets the OS choose; Azurite prints the port it got. No telemetry: tests must
        # not reach beyond loopback.
        return [
            str(self._binary),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "0",
            *(
                ["--inMemoryPersistence", "--extentMemoryLimit", "512"]
                if self._in_memory
                else ["--location", str(self._workdir)]
            ),
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
            "--silent",
        ]

    def _wait_until_listening(self, log_path: Path, exited: Callable[[], bool]) -> Self:
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace")
            match = _LISTENING.search(text)
            if match:
                self.port = int(match.group(1))
                if self._answers():
                    return self
            if exited():
                self.stop()
                raise AzuriteError(f"Azurite exited early:\n{text[-2000:]}")
            time.sleep(0.05)
        self.stop()
        raise AzuriteError("Azurite did not start in time")

    def _answers(self) -> bool:
        try:
            requests.get(f"{self.endpoint}?comp=list&{account_sas()}", timeout=(1, 2))
        except requests.RequestException:
            return False
        return True

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if self._workdir:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    # --- owner-side operations (account SAS), for doubles and assertions -------------------

    def create_container(self, container: str) -> None:
        response = requests.put(
            f"{self.endpoint}/{container}?restype=container&{account_sas()}",
            headers={"x-ms-version": SAS_VERSION},
            timeout=(2, 10),
        )
        if response.status_code not in {201, 409}:
            raise AzuriteError(f"create container: HTTP {response.status_code}")

    def blob_url(self, container: str, blob: str) -> str:
        return f"{self.endpoint}/{container}/{quote(blob)}"

    def read_blob(self, container: str, blob: str) -> BlobState | None:
        """The blob's content and properties, or None when it does not exist (yet)."""
        url = self.blob_url(container, blob)
        headers = {"x-ms-version": SAS_VERSION}
        response = requests.get(f"{url}?{account_sas()}", headers=headers, timeout=(2, 60))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise AzuriteError(f"get blob: HTTP {response.status_code}")
        blocks = requests.get(
            f"{url}?comp=blocklist&blocklisttype=committed&{account_sas()}",
            headers=headers,
            timeout=(2, 10),
        )
        sizes = [int(size) for size in re.findall(r"<Size>(\d+)</Size>", blocks.text)]
        return BlobState(
            content=response.content,
            blob_type=response.headers.get("x-ms-blob-type", ""),
            content_type=response.headers.get("Content-Type", ""),
            committed_blocks=sizes,
        )

    def delete_blob(self, container: str, blob: str) -> None:
        requests.delete(
            f"{self.blob_url(container, blob)}?{account_sas()}",
            headers={"x-ms-version": SAS_VERSION},
            timeout=(2, 10),
        )

    def list_blobs(self, container: str) -> list[str]:
        response = requests.get(
            f"{self.endpoint}/{container}?restype=container&comp=list&{account_sas()}",
            headers={"x-ms-version": SAS_VERSION},
            timeout=(2, 10),
        )
        return re.findall(r"<Name>([^<]*)</Name>", response.text)


@contextmanager
def running_azurite() -> Iterator[Azurite]:
    """`with running_azurite() as azurite:` for scripts that want the plain form."""
    with Azurite() as azurite:
        yield azurite


# --- one emulator for several processes (parallel test workers) -------------------------------

_RECORD = "azurite.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _end(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


def shared_azurite(folder: Path) -> Azurite:
    """The one emulator of every process that passes the same `folder`.

    The first caller starts it (under a file lock, so two never race) and writes where it
    listens to `folder`; later callers attach to that port. It outlives whichever process
    started it, since the others may still use it: `stop_shared(folder)`, called once all are
    done, ends it. Each caller gets its own `Azurite` whose `stop()` leaves the emulator alone.
    """
    import filelock  # a test-only dependency; `make demo` and the benchmark never get here

    record = folder / _RECORD
    with filelock.FileLock(folder / "azurite.lock"):
        if not record.exists():
            record.write_text(json.dumps(Azurite().start_detached()))
        return Azurite.attached(int(json.loads(record.read_text())["port"]))


def stop_shared(folder: Path) -> None:
    """End the emulator `shared_azurite(folder)` started, if it did, and remove its folder."""
    record = folder / _RECORD
    if not record.exists():
        return
    found = json.loads(record.read_text())
    _end(int(found["pid"]))
    shutil.rmtree(found["dir"], ignore_errors=True)
    record.unlink()


# --- fault-injecting proxy --------------------------------------------------------------------


@dataclass
class ProxiedRequest:
    """One blob request as it reached the proxy: enough to compare two clients' blob traffic."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body_size: int
    status: int


@dataclass
class _Fault:
    status: int
    operation: str | None
    remaining: int
    reset: bool = False
    stall: float = 0.0


@dataclass
class BlobProxy(LoopbackServer):
    """A loopback HTTP proxy in front of Azurite that records requests and can fail some.

    `fail(500, times=1, operation="block")` answers the next matching request with 500 instead of
    forwarding it; `reset=True` closes the connection without an answer (a connection reset);
    `stall=S` says nothing for S seconds first (a blob store that hangs).
    `operation` matches the `comp` query value (`block`, `blocklist`) or `blob` for a Put Blob.
    """

    upstream_port: int
    requests: list[ProxiedRequest] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    """Set by `stop()`: a stalled answer ends then, not after its `stall` seconds."""

    def fail(
        self,
        status: int = 500,
        *,
        times: int = 1,
        operation: str | None = None,
        reset: bool = False,
        stall: float = 0.0,
    ) -> None:
        with self._lock:
            self._faults.append(_Fault(status, operation, times, reset, stall))

    def rewrite(self, url: str) -> str:
        """The same signed URL, pointed at the proxy instead of Azurite."""
        parts = urlsplit(url)
        return parts._replace(netloc=f"127.0.0.1:{self.port}").geturl()

    def _take_fault(self, operation: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.operation in {None, operation}:
                    fault.remaining -= 1
                    return fault
        return None

    def start(self) -> Self:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet; tests read `requests` instead."""

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            break
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._read_body()
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query, keep_blank_values=True))
                operation = query.get("comp", "blob")
                fault = proxy._take_fault(operation)
                status = fault.status if fault else 0
                if fault and fault.stall:
                    proxy._record(self, parts.path, query, body, 0)
                    if proxy._stopping.wait(fault.stall):
                        self.close_connection = True  # stopped mid-stall: no answer at all
                        return
                if fault and fault.reset:
                    proxy._record(self, parts.path, query, body, 0)
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault:
                    payload = (
                        f"<?xml version='1.0' encoding='utf-8'?><Error><Code>InjectedFault"
                        f"</Code><Message>injected HTTP {status}</Message></Error>"
                    ).encode()
                    proxy._record(self, parts.path, query, body, status)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                try:
                    headers = {
                        key: value
                        for key, value in self.headers.items()
                        if key.lower() not in {"transfer-encoding", "connection", "content-length"}
                    }
                    headers["Content-Length"] = str(len(body))
                    conn.request(self.command, self.path, body=body, headers=headers)
                    upstream = conn.getresponse()
                    payload = upstream.read()
                    # Record before answering: the client may look as soon as it has the answer.
                    proxy._record(self, parts.path, query, body, upstream.status)
                    self.send_response(upstream.status)
                    for key, value in upstream.getheaders():
                        if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                finally:
                    conn.close()

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _handle

        self._stopping.clear()
        self._serve(Handler)
        return self

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def _record(
        self,
        handler: BaseHTTPRequestHandler,
        path: str,
        query: dict[str, str],
        body: bytes,
        status: int,
    ) -> None:
        entry = ProxiedRequest(
            method=handler.command,
            path=path,
            query=query,
            headers={key.lower(): value for key, value in handler.headers.items()},
            body_size=len(body),
            status=status,
        )
        with self._lock:
            self.requests.append(entry)
