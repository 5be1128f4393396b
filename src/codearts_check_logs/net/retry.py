"""THE retry policy, for every client: one `RetryPolicy` record (attempts, back-off, time-outs),
one wait function (`wait_for`), one way to build the attempts (`retrying`), and one map from the
exceptions `requests` and `urllib3` raise to what we report (`transport_failure`).

Services differ only where they really do, and each difference is a field of their policy with
its reason beside it (`CODEARTS`, `RESULTS`, `BLOB`, `CREDENTIALS`). Clients take a policy, or
the active one for their service (`policy_for`); tests shorten them all with `shortened` (one
test) or `shorten` (a whole process, e.g. the entrypoint run as a subprocess).
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, cast

import requests
import tenacity
import urllib3.exceptions

from ..errorbody import is_throttled
from ..errors import Cancelled
from .budget import Deadline
from .cancel import CancelToken

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
"""Statuses worth another attempt, for every service (as the official artifact client)."""

Wait = Callable[[tenacity.RetryCallState], float]
Sleep = Callable[[float], None]
Service = Literal["codearts", "results", "blob", "credentials"]


@dataclass(frozen=True)
class RetryPolicy:
    """How one service's requests are timed and retried."""

    attempts: int = 5
    """Requests per call at most, the first one included."""
    initial: float = 0.5
    """The first back-off, in seconds."""
    growth: float = 2.0
    """Each later back-off is this many times the one before…"""
    maximum: float = 20.0
    """…up to this."""
    jitter: tuple[float, float] = (0.5, 1.0)
    """Each back-off is multiplied by a random factor in this range, so that clients retrying
    the same outage do not arrive together."""
    jitter_first: bool = True
    """Whether the first back-off is randomised too."""
    max_retry_after: float = 30.0
    """The longest `Retry-After` honoured; a longer one is cut to this."""
    throttled: tuple[float, float] | None = None
    """A random wait in this range after a gateway's throttling code, when given."""
    read_timeout: float = 60.0
    """Seconds a request may wait for each read (never past the budget)."""
    min_attempt: float = 1.0
    """No retry starts with less of the budget left than this: it could only end in a time-out,
    which would hide the error that made us retry behind "no response in time"."""
    wait: Wait | None = None
    """How long to wait before the next attempt; None: the schedule above. Tests give their own
    (a wait into the budget's last moment, say)."""
    sleep: Sleep | None = None
    """The wait between attempts; None: the cancel token's (ends early on a cancel). Tests give
    one that records or skips the wait."""

    def shortened(self, factor: float = 0.01) -> RetryPolicy:
        """The same policy with every wait `factor` times as long (for tests)."""
        return dataclasses.replace(
            self,
            initial=self.initial * factor,
            maximum=self.maximum * factor,
            max_retry_after=self.max_retry_after * factor,
            throttled=None if self.throttled is None else _scaled(self.throttled, factor),
            min_attempt=self.min_attempt * factor,
        )


def _scaled(pair: tuple[float, float], factor: float) -> tuple[float, float]:
    return pair[0] * factor, pair[1] * factor


CODEARTS = RetryPolicy(
    maximum=20.0,
    # CodeArts asks for longer pauses than the other services when it is busy.
    max_retry_after=60.0,
    # Huawei's API gateway advice after APIG.0308 and its kin: wait 2-5 s.
    throttled=(2.0, 5.0),
    read_timeout=60.0,
)
RESULTS = RetryPolicy(
    # The official artifact client's schedule: 3 s, then 1.5 times longer each time, the first
    # wait exact and each later one randomised upwards, with no upper bound.
    initial=3.0,
    growth=1.5,
    maximum=float("inf"),
    jitter=(1.0, 1.5),
    jitter_first=False,
    read_timeout=60.0,
)
BLOB = RetryPolicy(
    initial=1.0,
    maximum=30.0,
    # A block of 8 MiB may take a while to be taken over a slow uplink.
    read_timeout=120.0,
)
CREDENTIALS = RetryPolicy(
    # A credential exchange that takes longer is broken: fail fast and say so.
    maximum=8.0,
    read_timeout=30.0,
)

_DEFAULTS: dict[Service, RetryPolicy] = {
    "codearts": CODEARTS,
    "results": RESULTS,
    "blob": BLOB,
    "credentials": CREDENTIALS,
}
_active: dict[Service, RetryPolicy] = dict(_DEFAULTS)


def policy_for(service: Service) -> RetryPolicy:
    """The policy a client of `service` uses when it is given none."""
    return _active[service]


def shorten(factor: float = 0.01) -> None:
    """Every service's waits `factor` times as long, for the rest of the process (a test run
    of the entrypoint; see `shortened` for one policy)."""
    for service, policy in _DEFAULTS.items():
        _active[service] = policy.shortened(factor)


@contextlib.contextmanager
def shortened(factor: float = 0.01) -> Iterator[None]:
    """Every service's waits `factor` times as long while the block runs (a unit test)."""
    with using(**{service: policy.shortened(factor) for service, policy in _DEFAULTS.items()}):
        yield


@contextlib.contextmanager
def using(**policies: RetryPolicy) -> Iterator[None]:
    """The given services' policies replaced while the block runs (`credentials=…`, a test's)."""
    unknown = set(policies) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"no such service: {', '.join(sorted(unknown))}")
    saved = dict(_active)
    _active.update(cast("dict[Service, RetryPolicy]", policies))
    try:
        yield
    finally:
        _active.clear()
        _active.update(saved)


def wait_for(policy: RetryPolicy) -> Wait:
    """The one wait function: the answer's `Retry-After` (capped), else the gateway's throttling
    pause, else back-off growing each attempt, randomised; or the policy's own `wait`."""
    if policy.wait is not None:
        return policy.wait

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, int | float):
            return float(min(retry_after, policy.max_retry_after))
        code = getattr(exc, "code", None)
        if policy.throttled is not None and isinstance(code, str) and is_throttled(code):
            return random.uniform(*policy.throttled)  # noqa: S311 - jitter, not cryptography
        step = min(policy.maximum, policy.initial * policy.growth ** (state.attempt_number - 1))
        if state.attempt_number == 1 and not policy.jitter_first:
            return step
        return step * random.uniform(*policy.jitter)  # noqa: S311 - jitter, not cryptography

    return wait


def retrying(
    policy: RetryPolicy,
    *,
    deadline: Deadline,
    cancel: CancelToken,
    retry_if: Callable[[BaseException], bool],
    before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    sleep: Sleep | None = None,
) -> tenacity.Retrying:
    """Attempts under `policy`: at most `policy.attempts`, never a wait that leaves less than
    `policy.min_attempt` of the budget, never after a cancel; the last error is re-raised.
    `sleep` replaces the cancellable wait when a caller has more reasons to stop waiting; a
    policy's own `sleep` (a test's) replaces both."""

    class out_of_time(tenacity.stop.stop_base):
        def __call__(self, state: tenacity.RetryCallState) -> bool:
            return deadline.remaining() - state.upcoming_sleep < policy.min_attempt

    def worth_retrying(exc: BaseException) -> bool:
        return not isinstance(exc, Cancelled) and retry_if(exc)

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.attempts) | out_of_time(),
        wait=wait_for(policy),
        retry=tenacity.retry_if_exception(worth_retrying),
        before_sleep=before_sleep,
        sleep=policy.sleep or sleep or cancel.sleep,
        reraise=True,
    )


# -- the exception map -----------------------------------------------------------------------------

Kind = Literal["connect timeout", "read timeout", "truncated", "broken"]


@dataclass(frozen=True)
class TransportFailure:
    """What broke a request, in words that never carry its URL (URLs may carry signatures)."""

    kind: Kind
    name: str
    """A short name of the cause: "connection refused", "host name not found", …"""

    @property
    def timed_out(self) -> bool:
        return self.kind in {"connect timeout", "read timeout"}


_CONNECT_TIMEOUTS: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectTimeout,
    urllib3.exceptions.ConnectTimeoutError,
)
_READ_TIMEOUTS: tuple[type[BaseException], ...] = (
    requests.exceptions.Timeout,
    urllib3.exceptions.TimeoutError,
    TimeoutError,
)


def transport_failure(exc: BaseException) -> TransportFailure:
    """The one map from a `requests`/`urllib3`/socket exception to what our errors report."""
    if isinstance(exc, _CONNECT_TIMEOUTS):
        kind: Kind = "connect timeout"
    elif isinstance(exc, _READ_TIMEOUTS):
        kind = "read timeout"
    elif any(needle in repr(exc) for needle in ("IncompleteRead", "InvalidChunkLength")):
        kind = "truncated"
    else:
        kind = "broken"
    return TransportFailure(kind, socket_error_name(exc))


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
