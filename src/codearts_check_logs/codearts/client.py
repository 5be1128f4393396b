"""The CodeArts Check log-file API: `GET /v1/log-file`, one attempt.

`fetch` sends one request (redirects followed by hand, the credential only on its own origin)
and streams a ZIP body to a writer, hashing it on the way and checking its length. Any other
answer becomes a typed error by the rules in `answers`. Retrying, verifying the ZIP and naming
the file are `download`'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions

from ..errors import ActionError, DownloadTimeout, HttpStatusError, InvalidResponse, NetworkError
from ..net.budget import Deadline
from ..net.cancel import CancelToken
from ..net.retry import RetryPolicy, policy_for, transport_failure
from ..net.transport import check_transport, origin
from ..ziplog.reader import LOCAL_HEADER, looks_like_zip
from .answers import bad_success, collect, content_length, status_error
from .credential_gate import REFUSED, CredentialGate, Turn
from .digests import BodyDigests, Check

LOG_FILE_PATH = "/v1/log-file"
CHUNK_SIZE = 1 << 19
"""Bytes per read, at most: 512 KiB, half the turns of the receive loop that 256 KiB reads cost,
while memory stays flat: with at most `digests.DEPTH` chunks waiting for the digest thread,
about 2.5 MiB are in flight whatever the size (1 MiB reads cost 5-10 MiB more peak RSS at
512 MiB, for no gain that could be measured)."""
MAX_REDIRECTS = 5
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})

Write = Callable[[bytes], None]
Announce = Callable[[int | None], None]
"""Told the ZIP's announced length (None when the server gave none) before its first byte."""


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
        policy: RetryPolicy | None = None,
        gate: CredentialGate | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._policy = policy or policy_for("codearts")
        self._credentials = credentials
        self._session = session
        self._cancel = cancel
        self._deadline = deadline
        self._gate = gate or CredentialGate()
        """Shared by the run's clients: at most one refused credential per run."""

    def __repr__(self) -> str:
        return f"LogClient(base={self._base!r})"

    def fetch(
        self,
        sub_job_id: str,
        write: Write,
        announce: Announce | None = None,
        *,
        check: Check | None = None,
    ) -> Fetched:
        """One attempt: the ZIP's bytes go to `write`; any other answer raises an ActionError.
        `check` hears the same bytes in order, on the digest thread, off the receive loop (the
        stored members' CRC-32); what it raises ends the attempt once the body has arrived."""
        self._cancel.check()
        with self._gate.turn(cancel=self._cancel, deadline=self._deadline) as turn:
            response = self._open(sub_job_id, turn)
            try:
                return self._receive(response, write, announce, check)
            except ActionError as exc:
                # A 401 from another origin (a download host the service redirected to) did not
                # see our credential: it refuses that link, not the credential.
                if response.status_code == REFUSED and origin(response.url) == origin(self._base):
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
                    timeout=self._deadline.timeouts(self._policy.read_timeout),
                )
            except requests.exceptions.ConnectTimeout:
                raise self._stalled(
                    "could not connect to the service", late="no response arrived"
                ) from None
            except requests.exceptions.ReadTimeout:
                raise self._stalled(
                    "the service sent no response", late="no response arrived"
                ) from None
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
        self,
        response: requests.Response,
        write: Write,
        announce: Announce | None,
        check: Check | None,
    ) -> Fetched:
        status = response.status_code
        request_id = response.headers.get("X-Request-Id") or None
        chunks = self._chunks(response)
        try:
            if not 200 <= status < 300:
                raise status_error(response, collect(chunks), request_id)
            head = _head(chunks, len(LOCAL_HEADER))
            # Only the signature, before any byte is written; `download.verify` has the whole
            # file checked once it is on disk.
            if not looks_like_zip(head):
                raise bad_success(response, collect(chunks, head), request_id)
            if announce is not None:
                announce(content_length(response))
            size = 0
            with BodyDigests(check) as digests:
                for chunk in _prepend(head, chunks):
                    write(chunk)
                    digests.feed(chunk)
                    size += len(chunk)
                sha256 = digests.sha256()
        except (InvalidResponse, NetworkError, DownloadTimeout) as exc:
            # A cut or damaged body still came with a status and a request ID: keep them.
            exc.http_status = status if exc.http_status is None else exc.http_status
            exc.request_id = exc.request_id or request_id
            raise
        expected = content_length(response)
        if expected is not None and size != expected:
            raise InvalidResponse(
                f"the body ended after {size} of {expected} bytes (truncated ZIP)",
                http_status=status,
                request_id=request_id,
                retryable=True,
            )
        return Fetched(
            size=size,
            sha256=sha256,
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
                raise self._stalled(
                    "the service stopped sending data", received, late="the ZIP was still arriving"
                ) from None
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

    def _stalled(self, what: str, received: int = 0, *, late: str) -> ActionError:
        """A socket time-out: the budget's end, or a stall we may retry while time is left.

        At the budget's end the read time-out (sized to the time left) and the watchdog fire
        together; whichever is seen first, the user reads the same words (`late`)."""
        self._cancel.check()
        if self._deadline.remaining() <= 0.05:
            return self._timeout(late, received)
        return NetworkError(f"{what} for {self._policy.read_timeout:g} s", retryable=True)

    def _broken(
        self, exc: BaseException, what: str, url: str | None = None, received: int = 0
    ) -> ActionError:
        """A broken connection: cancelled, out of time (the watchdog), cut short, or broken."""
        self._cancel.check()
        if self._deadline.expired:
            return self._timeout(what, received)
        failure = transport_failure(exc)
        if failure.kind == "truncated":
            return InvalidResponse("the body ended early (truncated ZIP)", retryable=True)
        if url is not None:
            host = urlsplit(url).hostname or "the service"
            return NetworkError(f"could not reach {host}: {failure.name}")
        return NetworkError(f"the connection broke while the ZIP arrived: {failure.name}")


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
