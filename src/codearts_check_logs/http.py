"""What every HTTP client here shares: sessions, time budgets, cancellation and the retry policy.

Each client (CodeArts Check, the results service, blob storage, the credential services) gets its
sessions from `new_session`, bounds its work by a `Deadline`, and retries through `retrying`.
Sessions track the sockets they open, so a cancelled job (`CancelToken.cancel`) or a spent budget
(`watchdog`) can shut them down from another thread: no read, not even one that receives a status
line a byte at a time, outlives either. A response whose head was still arriving when its
sockets were shut down is refused, never taken for a complete one (a status line cut after
"HTTP/1.1 201" would otherwise parse as a success without headers). Small answers (JSON, XML,
error pages) are read with `read_capped`, so an endless one costs neither memory nor the budget.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import requests
import tenacity
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import __version__
from .errors import Cancelled

USER_AGENT = f"codearts-check-logs/{__version__}"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
"""Statuses worth another attempt, for every service (as the official artifact client)."""

CONNECT_TIMEOUT = 10.0
MAX_SMALL_BODY = 1 << 20
"""The most of a small answer (an error body, a JSON reply, an error page) that is ever read:
1 MiB. Huawei's and GitHub's JSON error bodies are under 1 KiB and a proxy's HTML page is tens of
KiB, so every real one fits whole (and its error code is kept), while a body that never ends
costs at most this much memory and is then closed, keeping the status that came with it."""
_CAPPED_READ = 1 << 16
MIN_ATTEMPT_SECONDS = 1.0
"""No retry starts with less time left than this: it could only end in a time-out, which would hide
the error that made us retry behind "no response in time"."""

Clock = Callable[[], float]


class Deadline:
    """A time budget that starts now; requests size their time-outs from what is left."""

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self.budget = seconds
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    @property
    def expired(self) -> bool:
        return self._end - self._clock() <= 0

    def timeouts(self, read: float) -> tuple[float, float]:
        """(connect, read) time-outs for one request: the usual ones, never past the end."""
        left = max(self.remaining(), 0.001)
        return min(CONNECT_TIMEOUT, left), min(read, left)


class SocketTracker:
    """The sockets one session has opened, so that another thread can shut them all down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once `shutdown` ran: whatever its sockets were still receiving is incomplete."""
        with self._lock:
            return self._closed

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)
            closed = self._closed
        if closed:
            _shutdown(sock)

    def shutdown(self) -> None:
        """Wake every blocked read or write with an error; later connections fail at once too."""
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class CancelToken:
    """Cancels the run from the signal handler: a flag, and every tracked socket shut down."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._lock = threading.Lock()
        self._trackers: weakref.WeakSet[SocketTracker] = weakref.WeakSet()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def cancel(self) -> None:
        self.event.set()
        with self._lock:
            trackers = list(self._trackers)
        for tracker in trackers:
            tracker.shutdown()

    def watch(self, tracker: SocketTracker) -> None:
        with self._lock:
            self._trackers.add(tracker)
        if self.event.is_set():
            tracker.shutdown()

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled("the job was cancelled")

    def sleep(self, seconds: float) -> None:
        """A retry wait that ends early, with Cancelled, when the job is cancelled."""
        if self.event.wait(seconds):
            raise Cancelled("the job was cancelled")


class _Session(requests.Session):
    """A session that works out where a redirect leads only when it is to follow it.

    With `allow_redirects=False`, `requests` still computes the next hop: it reads the whole
    redirect body (an endless one would fill the memory) and decodes `Location` as UTF-8 (a
    non-UTF-8 byte raises UnicodeDecodeError from inside `send`). Clients that follow redirects
    by hand, or not at all, read `Location` themselves; those that let `requests` follow them
    get a redirect whose `Location` cannot be decoded back as the 3xx answer it is."""

    def __init__(self, *, follow_redirects: bool) -> None:
        super().__init__()
        self._follow_redirects = follow_redirects

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        if not self._follow_redirects:
            return None
        try:
            return super().get_redirect_target(resp)
        except UnicodeError:
            return None


def new_session(
    cancel: CancelToken, *, pool_size: int = 4, follow_redirects: bool = True
) -> tuple[requests.Session, SocketTracker]:
    """A session without hidden retries whose sockets `cancel` (and a watchdog) can shut down.
    `follow_redirects=False` for clients that never let `requests` follow one (see `_Session`)."""
    tracker = SocketTracker()
    cancel.watch(tracker)
    session = _Session(follow_redirects=follow_redirects)
    session.headers["User-Agent"] = USER_AGENT
    adapter = _TrackingAdapter(tracker, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, tracker


@contextlib.contextmanager
def watchdog(deadline: Deadline, tracker: SocketTracker) -> Iterator[None]:
    """Shut the session's sockets down when the budget is spent, whatever a read is waiting for."""
    timer = threading.Timer(deadline.remaining(), tracker.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _TrackingAdapter(HTTPAdapter):
    """Connection pools whose connections report each socket they open to one tracker."""

    def __init__(self, tracker: SocketTracker, *, pool_maxsize: int) -> None:
        self._tracker = tracker
        super().__init__(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _tracked_pools(self._tracker)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> urllib3.PoolManager:
        manager: urllib3.PoolManager = super().proxy_manager_for(proxy, **kwargs)
        manager.pool_classes_by_scheme = _tracked_pools(self._tracker)
        return manager


class ShutDown(ConnectionAbortedError):
    """An answer's head was still arriving when its sockets were shut down (time ran out, or the
    job was cancelled): what came is not a response."""


def _tracked_pools(tracker: SocketTracker) -> dict[str, type[HTTPConnectionPool]]:
    def tracked(base: type[HTTPConnection]) -> type[HTTPConnection]:
        def connect(self: HTTPConnection) -> None:
            base.connect(self)
            if self.sock is not None:
                tracker.add(self.sock)

        def getresponse(self: HTTPConnection) -> urllib3.HTTPResponse:
            response = base.getresponse(self)
            if tracker.closed:
                # Reads that were shut down end like a clean close: "HTTP/1.1 201 Cre" then
                # nothing still parses as a 201 without headers.
                response.close()
                raise ShutDown("the connection was shut down before its answer had arrived")
            return response

        return type(
            f"Tracked{base.__name__}", (base,), {"connect": connect, "getresponse": getresponse}
        )

    http_pool = type(
        "TrackedPool", (HTTPConnectionPool,), {"ConnectionCls": tracked(HTTPConnection)}
    )
    https_pool = type(
        "TrackedTLSPool", (HTTPSConnectionPool,), {"ConnectionCls": tracked(HTTPSConnection)}
    )
    return {"http": http_pool, "https": https_pool}


def read_capped(response: requests.Response, limit: int = MAX_SMALL_BODY) -> tuple[bytes, bool]:
    """A streamed response's body, or its first `limit` bytes and False when it runs longer.

    The rest is never read: the connection is closed instead, so a body that never ends costs
    `limit` bytes and no time, whatever its chunking: the bytes go into one growing buffer (a list
    of the chunks of a body sent a byte per chunk costs some fifty times its size). Errors while
    reading are the usual `requests` exceptions."""
    data = bytearray()
    for chunk in response.iter_content(_CAPPED_READ):
        data += chunk[: limit + 1 - len(data)]
        if len(data) > limit:
            response.close()
            del data[limit:]
            return bytes(data), False
    return bytes(data), True


Wait = Callable[[tenacity.RetryCallState], float]


def retrying(
    *,
    deadline: Deadline,
    cancel: CancelToken,
    attempts: int,
    wait: Wait,
    retry_if: Callable[[BaseException], bool],
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> tenacity.Retrying:
    """The one retry policy: at most `attempts`, never a wait that leaves less than
    `MIN_ATTEMPT_SECONDS` of the budget, never after a cancel; the last error is re-raised.
    `sleep` replaces the cancellable wait when a caller has more reasons to stop waiting."""

    class out_of_time(tenacity.stop.stop_base):
        def __call__(self, state: tenacity.RetryCallState) -> bool:
            return deadline.remaining() - state.upcoming_sleep < MIN_ATTEMPT_SECONDS

    def worth_retrying(exc: BaseException) -> bool:
        return not isinstance(exc, Cancelled) and retry_if(exc)

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts) | out_of_time(),
        wait=wait,
        retry=tenacity.retry_if_exception(worth_retrying),
        before_sleep=before_sleep,
        sleep=sleep or cancel.sleep,
        reraise=True,
    )


def exponential_backoff(initial: float, maximum: float) -> Wait:
    """`initial`, doubling each attempt up to `maximum`, each randomised down to half."""

    def wait(state: tenacity.RetryCallState) -> float:
        step = min(maximum, initial * 2.0 ** (state.attempt_number - 1))
        return step * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    return wait


def socket_error_name(exc: BaseException) -> str:
    """A short, URL-free name for what broke a connection (URLs may carry signatures)."""
    chain = repr(exc.__context__ or exc) + repr(exc)
    for needle, name in (
        ("ConnectionRefused", "connection refused"),
        ("Errno 111", "connection refused"),
        ("NameResolution", "host name not found"),
        ("getaddrinfo", "host name not found"),
        ("SSL", "TLS handshake failed"),
        ("ConnectionReset", "connection reset"),
        ("Errno 104", "connection reset"),
    ):
        if needle in chain:
            return name
    return type(exc).__name__
