"""The CodeArts Check log-file API: `GET /v1/log-file`, one attempt.

`fetch` sends one request (redirects followed by hand, the credential only on its own origin),
turns an error answer into a typed error — from the JSON body on any status, since CodeArts reports
many `CC.*` errors with HTTP 200 — and streams a ZIP body to a writer, hashing it on the way and
checking its length. An answer that is not a ZIP is read up to `MAX_ERROR_BODY` only, and its
status is kept whatever happens to the body. Retrying, verifying the ZIP and naming the file are
the pipeline's business.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import tenacity
import urllib3.exceptions

from ..auth.transport import check_transport
from ..errorbody import is_throttled, parse_error_body, parse_retry_after
from ..errors import (
    ActionError,
    DownloadTimeout,
    HttpStatusError,
    InvalidResponse,
    NetworkError,
    ServiceError,
)
from ..http import (
    MAX_SMALL_BODY,
    RETRYABLE_STATUS,
    CancelToken,
    Deadline,
    exponential_backoff,
    socket_error_name,
)
from ..ziplog.reader import LOCAL_HEADER, looks_like_zip
from .credential_gate import REFUSED, CredentialGate, Turn

LOG_FILE_PATH = "/v1/log-file"
CHUNK_SIZE = 1 << 18
"""Bytes per read: 256 KiB keeps peak memory flat (a 1 MiB read grows it by a few MiB on large
ZIPs) at no cost in speed."""
READ_TIMEOUT = 60.0
MAX_REDIRECTS = 5
MAX_ERROR_BODY = MAX_SMALL_BODY
"""The most of an answer that is not a ZIP that is read (1 MiB, see `http.MAX_SMALL_BODY`); the
connection is closed after it, and the status is reported with what came."""
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
NEVER_RETRIED = frozenset({400, 401, 403, 404})
"""Never retried, whatever the body says: five failed AK/SK attempts lock the key."""
RETRY_LATER_CODES = frozenset({"CC.00050012"})
"""Codes that say "try again shortly" on a 200."""

MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 20.0

Write = Callable[[bytes], None]
Announce = Callable[[int | None], None]
"""Told the ZIP's announced length (None when the server gave none) before its first byte."""


def retry_wait(state: tenacity.RetryCallState) -> float:
    """Retry-After when the server gave one (capped), 2-5 s for gateway throttling (Huawei's
    advice), else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ActionError):
        if exc.retry_after is not None:
            return float(min(exc.retry_after, MAX_RETRY_AFTER))
        if is_throttled(exc.code):
            return random.uniform(2.0, 5.0)  # noqa: S311 - jitter, not cryptography
    return exponential_backoff(BACKOFF_INITIAL, BACKOFF_MAX)(state)


@dataclass(frozen=True)
class Fetched:
    """A ZIP body that reached the writer in full, as far as HTTP can tell."""

    size: int
    sha256: str
    http_status: int
    request_id: str | None
    length_confirmed: bool
    """The server announced the length and it matched: a damaged ZIP is then not a cut one."""


class LogClient:
    """One CodeArts Check endpoint, one session, one sub-job's budget."""

    def __init__(
        self,
        base_url: str,
        credentials: requests.auth.AuthBase,
        session: requests.Session,
        *,
        cancel: CancelToken,
        deadline: Deadline,
        gate: CredentialGate | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._credentials = credentials
        self._session = session
        self._cancel = cancel
        self._deadline = deadline
        self._gate = gate or CredentialGate()
        """Shared by the run's clients: at most one refused credential per run."""

    def __repr__(self) -> str:
        return f"LogClient(base={self._base!r})"

    def fetch(self, sub_job_id: str, write: Write, announce: Announce | None = None) -> Fetched:
        """One attempt: the ZIP's bytes go to `write`; any other answer raises an ActionError."""
        self._cancel.check()
        with self._gate.turn(cancel=self._cancel, deadline=self._deadline) as turn:
            response = self._open(sub_job_id, turn)
            try:
                return self._receive(response, write, announce)
            except ActionError as exc:
                if response.status_code == REFUSED:
                    turn.refused(exc)
                raise
            finally:
                response.close()

    def _open(self, sub_job_id: str, turn: Turn) -> requests.Response:
        url = self._base + LOG_FILE_PATH
        params: dict[str, str] | None = {"sub_job_id": sub_job_id}
        for _hop in range(MAX_REDIRECTS + 1):
            self._check_time("no response arrived")
            try:
                response = self._session.get(
                    url,
                    params=params,
                    headers={
                        "Accept": "application/zip, application/octet-stream, application/json",
                        "Accept-Encoding": "identity",
                    },
                    auth=self._credentials,
                    stream=True,
                    allow_redirects=False,
                    timeout=self._deadline.timeouts(READ_TIMEOUT),
                )
            except requests.exceptions.ConnectTimeout:
                raise self._stalled("could not connect to the service") from None
            except requests.exceptions.ReadTimeout:
                raise self._stalled("the service sent no response") from None
            except requests.exceptions.RequestException as exc:
                raise self._broken(exc, "no response arrived", url) from None
            turn.answered(response.status_code)
            if response.status_code not in REDIRECT_STATUS or "Location" not in response.headers:
                return response
            response.close()
            target = urljoin(response.url, _location(response))
            try:
                check_transport(target)
            except ValueError:
                raise HttpStatusError(
                    response.status_code,
                    "the service redirected to a plain-http location; not followed",
                ) from None
            url, params = target, None
        raise HttpStatusError(response.status_code, f"more than {MAX_REDIRECTS} redirects")

    def _receive(
        self, response: requests.Response, write: Write, announce: Announce | None
    ) -> Fetched:
        status = response.status_code
        request_id = response.headers.get("X-Request-Id") or None
        chunks = self._chunks(response)
        try:
            if not 200 <= status < 300:
                raise _status_error(response, _collect(chunks), request_id)
            head = _head(chunks, len(LOCAL_HEADER))
            if not looks_like_zip(head):
                raise _bad_success(response, _collect(chunks, head), request_id)
            if announce is not None:
                announce(_content_length(response))
            digest = hashlib.sha256()
            size = 0
            for chunk in _prepend(head, chunks):
                write(chunk)
                digest.update(chunk)
                size += len(chunk)
        except (InvalidResponse, NetworkError, DownloadTimeout) as exc:
            # A cut or damaged body still came with a status and a request ID: keep them.
            exc.http_status = status if exc.http_status is None else exc.http_status
            exc.request_id = exc.request_id or request_id
            raise
        expected = _content_length(response)
        if expected is not None and size != expected:
            raise InvalidResponse(
                f"the body ended after {size} of {expected} bytes (truncated ZIP)",
                http_status=status,
                request_id=request_id,
                retryable=True,
            )
        return Fetched(
            size=size,
            sha256=digest.hexdigest(),
            http_status=status,
            request_id=request_id,
            length_confirmed=expected is not None,
        )

    def _chunks(self, response: requests.Response) -> Iterator[bytes]:
        """The body as it arrives; each read bounded by the time left."""
        raw = response.raw
        received = 0
        while True:
            self._cancel.check()
            self._check_time("the ZIP was still arriving", received)
            try:
                chunk = raw.read1(CHUNK_SIZE)
            except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
                raise self._stalled("the service stopped sending data", received) from None
            except (urllib3.exceptions.ProtocolError, OSError) as exc:
                raise self._broken(exc, "the ZIP was still arriving", received=received) from None
            if not chunk:
                # A read shut down by the watchdog ends like a clean close: not a complete body.
                self._cancel.check()
                self._check_time("the ZIP was still arriving", received)
                return
            received += len(chunk)
            yield chunk

    # -- time and failures ---------------------------------------------------------------------

    def _check_time(self, what: str, received: int = 0) -> None:
        if self._deadline.expired:
            raise self._timeout(what, received)

    def _timeout(self, what: str, received: int = 0) -> DownloadTimeout:
        so_far = f" ({received} bytes so far)" if received else ""
        return DownloadTimeout(
            f"{what} when time ran out{so_far}; timeout-seconds is {self._deadline.budget:g}"
        )

    def _stalled(self, what: str, received: int = 0) -> ActionError:
        """A socket time-out: the budget's end, or a stall we may retry while time is left."""
        self._cancel.check()
        if self._deadline.remaining() <= 0.05:
            return self._timeout(what, received)
        return NetworkError(f"{what} for {READ_TIMEOUT:g} s", retryable=True)

    def _broken(
        self, exc: BaseException, what: str, url: str | None = None, received: int = 0
    ) -> ActionError:
        """A broken connection: cancelled, out of time (the watchdog), cut short, or broken."""
        self._cancel.check()
        if self._deadline.expired:
            return self._timeout(what, received)
        text = repr(exc)
        if "IncompleteRead" in text or "InvalidChunkLength" in text:
            return InvalidResponse("the body ended early (truncated ZIP)", retryable=True)
        if url is not None:
            host = urlsplit(url).hostname or "the service"
            return NetworkError(f"could not reach {host}: {socket_error_name(exc)}")
        return NetworkError(f"the connection broke while the ZIP arrived: {socket_error_name(exc)}")


def _location(response: requests.Response) -> str:
    """The redirect's `Location` as UTF-8 (`http.client` hands it over decoded as Latin-1), or
    HttpStatusError: a location that is not text cannot be followed, nor shown."""
    try:
        return response.headers["Location"].encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise HttpStatusError(
            response.status_code,
            f"the service redirected (HTTP {response.status_code}) to a Location that is not "
            "valid UTF-8; the redirect was not followed",
            request_id=response.headers.get("X-Request-Id") or None,
        ) from None


def _head(chunks: Iterator[bytes], size: int) -> bytes:
    """The first reads of the body, at least `size` bytes of it unless the body is shorter (a slow
    server can deliver the ZIP's signature over several reads)."""
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head


def _prepend(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


@dataclass(frozen=True)
class _Body:
    """An answer that is not a ZIP, as far as it was read."""

    data: bytes
    ended: str = ""
    """Why reading stopped before the body's end; empty when it was read whole."""


def _collect(chunks: Iterator[bytes], head: bytes = b"") -> _Body:
    """Read a body that is not a ZIP: up to `MAX_ERROR_BODY` bytes and no further (the caller
    closes the connection), or until time runs out or the connection breaks. Either way the
    status already received is what gets reported, with what came."""
    data = bytearray(head)
    try:
        for chunk in chunks:
            data += chunk
            if len(data) > MAX_ERROR_BODY:
                return _Body(
                    bytes(data[:MAX_ERROR_BODY]),
                    f"more than {MAX_ERROR_BODY:,} bytes; read no further",
                )
    except DownloadTimeout:
        return _Body(bytes(data), "still arriving when time ran out")
    except (NetworkError, InvalidResponse):
        return _Body(bytes(data), "cut short: the connection broke")
    return _Body(bytes(data))


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _encoding(response: requests.Response) -> str:
    """The body's content coding, when it has one (we ask for `identity`)."""
    value = response.headers.get("Content-Encoding", "").strip().lower()
    return "" if value in {"", "identity"} else value


def _describe_body(response: requests.Response, body: _Body) -> str:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    encoding = _encoding(response)
    if encoding:
        kind = f"{encoding}-encoded {kind}"
    if not body.data:
        return f"an empty body ({body.ended})" if body.ended else "an empty body"
    ended = f" ({body.ended})" if body.ended else ""
    return f"a {kind} body of {len(body.data)} bytes{ended}"


def _status_error(response: requests.Response, body: _Body, request_id: str | None) -> ActionError:
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    parsed = parse_error_body(body.data)
    if parsed is not None:
        retryable = status not in NEVER_RETRIED and (
            status in RETRYABLE_STATUS or is_throttled(parsed.code)
        )
        # A body cut at the cap keeps the code and message that came before the cut.
        described = (
            f"HTTP {status} {response.reason or 'error'} with {_describe_body(response, body)}"
        )
        return ServiceError(
            parsed.message or (described if body.ended else f"HTTP {status}"),
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


def _bad_success(response: requests.Response, body: _Body, request_id: str | None) -> ActionError:
    """A 2xx that is not a ZIP: an error body (CodeArts uses HTTP 200 for many), else invalid."""
    parsed = parse_error_body(body.data)
    if parsed is not None:
        return ServiceError(
            parsed.message or "the service reported an error",
            code=parsed.code,
            http_status=response.status_code,
            request_id=parsed.request_id or request_id,
            retryable=parsed.code in RETRY_LATER_CODES or is_throttled(parsed.code),
        )
    encoding = _encoding(response)
    if encoding and body.data:
        # We ask for `Accept-Encoding: identity`; a proxy or gateway that compresses anyway has
        # sent the ZIP wrapped in its encoding.
        return InvalidResponse(
            f"the service sent a {encoding}-encoded body, not the ZIP itself (HTTP "
            f"{response.status_code}, {_describe_body(response, body)}); the action asks for "
            "Accept-Encoding: identity, so something on the way compressed it",
            http_status=response.status_code,
            request_id=request_id,
        )
    return InvalidResponse(
        f"HTTP {response.status_code} carried {_describe_body(response, body)}, not a ZIP",
        http_status=response.status_code,
        request_id=request_id,
    )
