"""The CodeArts Check API: `GET /v1/log-file`, streamed to disk, retried inside one time budget.

Each attempt streams the body in chunks (hashing as it goes) to a hidden temporary file that is
renamed only once the length matches and the ZIP's central directory reads back. Errors come
from the JSON body on any status (CodeArts reports many `CC.*` errors with HTTP 200), else from
the status. Retries (tenacity) cover 429, 5xx, resets and truncated bodies; the budget covers
connecting, stalls and slow trickles, because every read's socket timeout is the time left.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from . import __version__, logzip
from .auth import TokenAuth, check_transport
from .errors import (
    ActionError,
    Cancelled,
    DownloadTimeout,
    HttpStatusError,
    InvalidResponse,
    NetworkError,
    ServiceError,
    WriteFailed,
)

DEFAULT_ENDPOINT = "https://codearts-check.{region}.myhuaweicloud.com"
REGION = re.compile(r"[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]{1,3}")
LOG_FILE_PATH = "/v1/log-file"
USER_AGENT = f"codearts-check-logs/{__version__}"

CHUNK_SIZE = 1 << 18
"""Bytes per read: 256 KiB keeps peak memory flat (a 1 MiB read grows it by a few MiB on
large ZIPs) at no cost in speed."""
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MAX_ATTEMPTS = 5
MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 60.0
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 20.0
# No retry starts with less time left than this: it could only end in TIMEOUT, and that would
# hide the error that made us retry (a damaged ZIP, a 5xx) behind "no response in time".
MIN_ATTEMPT_SECONDS = 1.0
MAX_ERROR_BODY = 12 << 20  # the gateway's own request-size ceiling; enough for any error JSON
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
# Codes that say "try again shortly" whatever the HTTP status.
THROTTLE_SUFFIX = ".0308"
RETRY_LATER_CODES = frozenset({"CC.00050012"})
NEVER_RETRIED = frozenset({400, 401, 403, 404})

# (code key, message key) pairs the official SDKs accept, in their order of preference.
_ERROR_KEYS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))


def base_url(region: str, endpoint: str) -> str:
    """The service's base URL: `endpoint` when given, else the region's public host."""
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"endpoint must be a full http(s) URL, got {endpoint!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("endpoint must not carry credentials, a query or a fragment")
        try:
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            raise ValueError(f"endpoint has an invalid port: {endpoint!r}") from None
        return endpoint.rstrip("/")
    if not REGION.fullmatch(region):
        raise ValueError(f"region must look like cn-north-4, got {region!r}")
    return DEFAULT_ENDPOINT.format(region=region)


@dataclass(frozen=True)
class ErrorBody:
    """The error a service body carries."""

    code: str
    message: str
    request_id: str | None = None


def parse_error_body(data: bytes) -> ErrorBody | None:
    """The error in a JSON body, in any of the shapes the official SDKs accept, else None.

    Top level first, then nested under `error` (the v1 APIs' `{"status": "error", "error": …}`).
    """
    try:
        try:
            document = json.loads(data)
        except UnicodeDecodeError:
            # One invalid byte in a message must not cost the error its code: use U+FFFD.
            document = json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    request_id = _text(document.get("request_id"))
    nested = document.get("error")
    for candidate in (document, nested):
        if not isinstance(candidate, dict):
            continue
        for code_key, message_key in _ERROR_KEYS:
            code = _text(candidate.get(code_key))
            if code:
                message = _text(candidate.get(message_key)) or _text(candidate.get("msg")) or ""
                return ErrorBody(
                    code=code,
                    message=message,
                    request_id=request_id or _text(candidate.get("request_id")),
                )
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_throttled(code: str) -> bool:
    """Gateway throttling (`APIGW.0308`, also written `APIG.0308`)."""
    return code.upper().startswith(("APIGW.", "APIG.")) and code.endswith(THROTTLE_SUFFIX)


class ChunkSink(Protocol):
    """Something that receives the ZIP's bytes while they stream in (e.g. an artifact upload)."""

    def write(self, chunk: bytes) -> None: ...

    def reset(self) -> None: ...


class CancelToken:
    """Cancels downloads from another thread: sets a flag and shuts their sockets down."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self) -> None:
        """Wake every blocked read so the workers can clean up and stop."""
        self.event.set()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def track(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._sockets.add(sock)

    def untrack(self, sock: socket.socket | None) -> None:
        if sock is not None:
            with self._lock:
                self._sockets.discard(sock)

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled("the job was cancelled")

    def sleep(self, seconds: float) -> None:
        """A retry wait that ends early, with Cancelled, when the job is cancelled."""
        if self.event.wait(seconds):
            raise Cancelled("the job was cancelled")


@dataclass(frozen=True)
class Download:
    """A ZIP saved under its final name, and what we learnt while fetching it."""

    path: Path
    size: int
    sha256: str
    http_status: int
    request_id: str | None
    listing: logzip.Listing
    attempts: int


RetryHook = Callable[[str, ActionError, float, int], None]
"""Called before each retry wait with (sub-job ID, error, wait seconds, attempt number)."""


class LogClient:
    """Downloads log packages from one CodeArts Check endpoint."""

    def __init__(
        self,
        base: str,
        auth: TokenAuth,
        *,
        session_factory: Callable[[], requests.Session] = requests.Session,
        cancel: CancelToken | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_retry: RetryHook | None = None,
    ) -> None:
        self._base = base.rstrip("/")
        self._auth = auth
        self._session_factory = session_factory
        self._cancel = cancel or CancelToken()
        self._clock = clock
        self._on_retry = on_retry

    def __repr__(self) -> str:
        return f"LogClient(base={self._base!r})"

    def download(
        self,
        sub_job_id: str,
        dest: Path,
        *,
        budget: float,
        sink: ChunkSink | None = None,
    ) -> Download:
        """Fetch one sub-job's ZIP to `dest` within `budget` seconds, retries included."""
        deadline = self._clock() + budget
        attempt = _Attempt(self, sub_job_id, dest, deadline, budget, sink)
        retrying = Retrying(
            stop=stop_after_attempt(MAX_ATTEMPTS) | stop_before_delay(budget - MIN_ATTEMPT_SECONDS),
            wait=_wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, ActionError) and exc.retryable),
            before_sleep=lambda state: self._before_sleep(sub_job_id, state),
            sleep=self._cancel.sleep,
            reraise=True,
        )
        with self._session_factory() as session:
            session.headers["User-Agent"] = USER_AGENT
            return retrying(attempt.run, session)

    def _before_sleep(self, sub_job_id: str, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if self._on_retry and isinstance(exc, ActionError):
            self._on_retry(sub_job_id, exc, state.upcoming_sleep, state.attempt_number)


def _wait(state: RetryCallState) -> float:
    """Retry-After when the server gave one (capped), 2-5 s for gateway throttling,
    else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ActionError):
        if exc.retry_after is not None:
            return float(min(exc.retry_after, MAX_RETRY_AFTER))
        if is_throttled(exc.code):
            return random.uniform(2.0, 5.0)  # noqa: S311 - jitter, not cryptography
    step: float = BACKOFF_INITIAL * 2.0 ** (state.attempt_number - 1)
    return min(BACKOFF_MAX, step) * random.uniform(0.5, 1.0)  # noqa: S311


class _Attempt:
    """One sub-job's download state across attempts."""

    def __init__(
        self,
        client: LogClient,
        sub_job_id: str,
        dest: Path,
        deadline: float,
        budget: float,
        sink: ChunkSink | None,
    ) -> None:
        self.client = client
        self.sub_job_id = sub_job_id
        self.dest = dest
        self.deadline = deadline
        self.budget = budget
        self.sink = sink
        self.count = 0
        self.sink_dirty = False
        self.received = 0

    # -- time ---------------------------------------------------------------------------------

    def remaining(self) -> float:
        left = self.deadline - self.client._clock()
        if left <= 0:
            raise self.timeout("the download did not finish in time")
        return left

    def timeout(self, what: str) -> DownloadTimeout:
        return DownloadTimeout(f"{what}; timeout-seconds is {self.budget:g}")

    def stalled(self, what: str) -> ActionError:
        """A socket time-out: the budget's end, or a stall we may retry while time is left."""
        if self.deadline - self.client._clock() <= 0.05:
            if self.received:
                return self.timeout(
                    f"the ZIP was still arriving when time ran out ({self.received} bytes so far)"
                )
            return self.timeout(f"{what} before the time budget ran out")
        return NetworkError(f"{what} for {READ_TIMEOUT:g} s", retryable=True)

    # -- request ------------------------------------------------------------------------------

    def run(self, session: requests.Session) -> Download:
        self.count += 1
        self.received = 0
        self.client._cancel.check()
        response = self.open(session)
        try:
            return self.handle(response)
        finally:
            response.close()

    def open(self, session: requests.Session) -> requests.Response:
        """Send the request, following redirects by hand so the token stays on its origin."""
        url = self.client._base + LOG_FILE_PATH
        params: dict[str, str] | None = {"sub_job_id": self.sub_job_id}
        for _hop in range(MAX_REDIRECTS + 1):
            left = self.remaining()
            headers = {
                "Accept": "application/zip, application/octet-stream, application/json",
                "Accept-Encoding": "identity",
                **self.client._auth.headers_for(url),
            }
            try:
                response = session.get(
                    url,
                    params=params,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left)),
                )
            except requests.exceptions.ConnectTimeout:
                raise self.stalled("could not connect to the service") from None
            except requests.exceptions.ReadTimeout:
                raise self.stalled("the service sent no response") from None
            except requests.exceptions.RequestException as exc:
                raise _network_error(exc, url) from None
            if response.status_code not in REDIRECT_STATUS or "Location" not in response.headers:
                return response
            target = urljoin(response.url, response.headers["Location"])
            response.close()
            try:
                check_transport(target)
            except ValueError:
                raise HttpStatusError(
                    response.status_code,
                    "the service redirected to a plain-http location; not followed",
                ) from None
            url, params = target, None
        raise HttpStatusError(response.status_code, f"more than {MAX_REDIRECTS} redirects")

    def handle(self, response: requests.Response) -> Download:
        status = response.status_code
        request_id = response.headers.get("X-Request-Id") or None
        chunks = self.chunks(response)
        if not 200 <= status < 300:
            body = _collect(chunks, MAX_ERROR_BODY)
            raise _status_error(response, body, request_id)
        head = _head(chunks, len(logzip.LOCAL_HEADER))
        if not logzip.looks_like_zip(head):
            body = head + _collect(chunks, MAX_ERROR_BODY - len(head))
            raise _bad_success(response, body, request_id)
        try:
            return self.save(response, head, chunks, request_id)
        except InvalidResponse as exc:
            # A truncated or damaged ZIP still came with a status and a request ID: keep them.
            exc.http_status = status if exc.http_status is None else exc.http_status
            exc.request_id = exc.request_id or request_id
            raise

    def chunks(self, response: requests.Response) -> Iterator[bytes]:
        """The body as it arrives, each read bounded by the time left and watched for cancel."""
        raw = response.raw
        sock = _socket_of(response)
        cancel = self.client._cancel
        cancel.track(sock)
        try:
            while True:
                cancel.check()
                left = self.remaining()
                if sock is not None:
                    sock.settimeout(min(READ_TIMEOUT, left))
                try:
                    chunk = raw.read1(CHUNK_SIZE)
                except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                    raise self.stalled("the service stopped sending data") from None
                except urllib3.exceptions.ProtocolError as exc:
                    cancel.check()
                    raise _broken_body(exc) from None
                except OSError as exc:
                    cancel.check()
                    raise NetworkError(f"the connection failed: {type(exc).__name__}") from None
                if not chunk:
                    cancel.check()
                    return
                self.received += len(chunk)
                yield chunk
        finally:
            cancel.untrack(sock)

    def save(
        self,
        response: requests.Response,
        head: bytes,
        chunks: Iterator[bytes],
        request_id: str | None,
    ) -> Download:
        """Stream to a hidden temporary file; rename only once complete and verified."""
        if self.sink is not None and self.sink_dirty:
            self.sink.reset()
        expected = _content_length(response)
        tmp = self.dest.with_name(f".{self.dest.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        size = 0
        try:
            with _closing(_writable(tmp)) as handle:
                for chunk in _prepend(head, chunks):
                    _write(handle, chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if self.sink is not None:
                        self.sink_dirty = True
                        self.sink.write(chunk)
            if expected is not None and size != expected:
                raise InvalidResponse(
                    f"the body ended after {size} of {expected} bytes (truncated ZIP)",
                    retryable=True,
                )
            try:
                listing = logzip.inspect(tmp)
            except logzip.BadZip as exc:
                raise InvalidResponse(
                    f"the ZIP is not valid: {exc}", retryable=exc.truncated
                ) from None
            try:
                os.replace(tmp, self.dest)
            except OSError as exc:
                raise WriteFailed(f"cannot save {self.dest.name}: {exc.strerror or exc}") from None
        except BaseException:
            # Not unlink(missing_ok=True): below a file that raises NotADirectoryError, which
            # would replace the WriteFailed on its way out.
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return Download(
            path=self.dest,
            size=size,
            sha256=digest.hexdigest(),
            http_status=response.status_code,
            request_id=request_id,
            listing=listing,
            attempts=self.count,
        )


def _writable(tmp: Path) -> BinaryIO:
    """Create the temporary file (and its folder), as a typed local failure if we cannot."""
    try:
        tmp.parent.mkdir(parents=True, exist_ok=True)
        return tmp.open("xb")
    except OSError as exc:
        raise WriteFailed(f"cannot write to {tmp.parent.name}/: {exc.strerror or exc}") from None


@contextlib.contextmanager
def _closing(handle: BinaryIO) -> Iterator[BinaryIO]:
    """Close the file; a failing close (the last buffered bytes hit a full disk) is WriteFailed,
    and never hides the error that is already on its way out."""
    try:
        yield handle
    except BaseException:
        with contextlib.suppress(OSError):
            handle.close()
        raise
    try:
        handle.close()
    except OSError as exc:
        raise WriteFailed(f"writing the ZIP failed: {exc.strerror or exc}") from None


def _write(handle: BinaryIO, chunk: bytes) -> None:
    try:
        handle.write(chunk)
    except OSError as exc:
        raise WriteFailed(f"writing the ZIP failed: {exc.strerror or exc}") from None


def _head(chunks: Iterator[bytes], size: int) -> bytes:
    """The first reads of the body, at least `size` bytes of it unless the body is shorter.

    A slow server can deliver the ZIP's signature over several reads.
    """
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head


def _prepend(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


def _collect(chunks: Iterator[bytes], limit: int) -> bytes:
    """Read an error body, keeping at most `limit` bytes (the rest is drained, not stored)."""
    parts: list[bytes] = []
    kept = 0
    for chunk in chunks:
        if kept < limit:
            parts.append(chunk[: limit - kept])
            kept += len(parts[-1])
    return b"".join(parts)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The response's socket, to bound each read by the time left (urllib3 2 exposes it)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    return sock if isinstance(sock, socket.socket) else None


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _describe_body(response: requests.Response, body: bytes) -> str:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    if not body:
        return "an empty body"
    return f"a {kind} body of {len(body)} bytes"


def _status_error(response: requests.Response, body: bytes, request_id: str | None) -> ActionError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    parsed = parse_error_body(body)
    if parsed is not None:
        retryable = status not in NEVER_RETRIED and (
            status in RETRYABLE_STATUS or is_throttled(parsed.code)
        )
        return ServiceError(
            parsed.message or f"HTTP {status}",
            code=parsed.code,
            http_status=status,
            request_id=parsed.request_id or request_id,
            retryable=retryable,
            retry_after=retry_after,
        )
    reason = response.reason or "error"
    asked = f"; it asked to retry after {retry_after:.0f} s" if retry_after is not None else ""
    return HttpStatusError(
        status,
        f"HTTP {status} {reason} with {_describe_body(response, body)}{asked}",
        request_id=request_id,
        retryable=status in RETRYABLE_STATUS,
        retry_after=retry_after,
    )


def _bad_success(response: requests.Response, body: bytes, request_id: str | None) -> ActionError:
    """A 2xx that is not a ZIP: an error body (CodeArts uses HTTP 200 for many), else invalid."""
    parsed = parse_error_body(body)
    if parsed is not None:
        return ServiceError(
            parsed.message or "the service reported an error",
            code=parsed.code,
            http_status=response.status_code,
            request_id=parsed.request_id or request_id,
            retryable=parsed.code in RETRY_LATER_CODES or is_throttled(parsed.code),
        )
    return InvalidResponse(
        f"HTTP {response.status_code} carried {_describe_body(response, body)}, not a ZIP",
        http_status=response.status_code,
        request_id=request_id,
    )


def _broken_body(exc: urllib3.exceptions.ProtocolError) -> ActionError:
    """A body cut short (retry: it may be whole next time) or a connection reset."""
    text = repr(exc)
    if "IncompleteRead" in text or "InvalidChunkLength" in text:
        return InvalidResponse("the body ended early (truncated ZIP)", retryable=True)
    return NetworkError("the connection broke while the ZIP was streaming")


def _network_error(exc: requests.exceptions.RequestException, url: str) -> ActionError:
    """A failure to reach the service, described without URLs (they may hold signatures)."""
    host = urlsplit(url).hostname or "the service"
    cause = exc.__context__ or exc
    chain = repr(cause)
    if "ConnectionRefused" in chain or "Errno 111" in chain:
        what = "connection refused"
    elif "NameResolution" in chain or "getaddrinfo" in chain:
        what = "host name not found"
    elif "SSL" in chain:
        what = "TLS handshake failed"
    elif "ConnectionReset" in chain or "Errno 104" in chain:
        what = "connection reset"
    else:
        what = type(exc).__name__
    return NetworkError(f"could not reach {host}: {what}")
