"""Credentials as `requests` auth hooks: each prepares requests for one origin and no other.

`requests` calls the hook on every prepared request, so the CodeArts client and the credential
exchanges attach credentials the same way, and a request bound for any other origin (a redirect
to a download host, say) goes out bare.

Two kinds: `TokenCredentials` (an IAM token in `X-Auth-Token`) and `SignedCredentials` (an
`SDK-HMAC-SHA256` signature by an access key, with `X-Security-Token` for temporary keys and
`X-Project-Id`, both added before signing so that they are signed). Temporary keys come from a
`TemporaryKeys`, which renews them, once for all threads and a handful of times per run at most,
when they would expire before a request is sent.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import requests

from .. import masking
from ..errors import AuthFailed
from ..net.transport import origin
from .signer import sign_prepared

TOKEN_HEADER = "X-Auth-Token"
SECURITY_TOKEN_HEADER = "X-Security-Token"
PROJECT_HEADER = "X-Project-Id"
RENEW_MARGIN_SECONDS = 300.0
"""Temporary keys are renewed when less than this is left: room for the request to reach the
gateway, and for a runner clock a few minutes behind Huawei's."""

MAX_OBTAINED = 5
"""Temporary keys are obtained at most this often per run, the first time included."""

Clock = Callable[[], float]


class Credentials(requests.auth.AuthBase):
    """Prepares requests for the service at `trusted_url`; leaves every other request alone.

    The origin is compared here, once per request, for every kind of credential."""

    def __init__(self, trusted_url: str) -> None:
        self._origin = origin(trusted_url)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if request.url is not None and origin(request.url) == self._origin:
            self.prepare(request)
        return request

    def prepare(self, request: requests.PreparedRequest) -> None:
        """Attach the credential (the request is known to be for the trusted origin)."""
        raise NotImplementedError


class TokenCredentials(Credentials):
    """An IAM token, sent as `X-Auth-Token`."""

    def __init__(self, token: str, trusted_url: str) -> None:
        super().__init__(trusted_url)
        masking.register(token)  # scrubbed from anything a service echoes, even in library use
        self._token = token

    def __repr__(self) -> str:
        return f"TokenCredentials(origin={self._origin!r}, token=<hidden>)"

    def prepare(self, request: requests.PreparedRequest) -> None:
        request.headers[TOKEN_HEADER] = self._token


@dataclass(frozen=True, repr=False)
class AccessKeys:
    """An access key pair, with the security token and expiry of temporary keys.

    Not registered as secrets here: each was registered where it entered the process (the entry
    point masks the inputs and the environment's keys first; `exchange.keys_from` registers
    derived keys the moment they arrive)."""

    access_key: str
    secret_key: str
    security_token: str = ""
    expires_at: float | None = None
    """Wall-clock seconds (`time.time()`) after which the keys no longer work; None: never."""

    def __repr__(self) -> str:
        kind = "temporary" if self.security_token else "permanent"
        return f"AccessKeys({kind}, expires_at={self.expires_at!r}, keys=<hidden>)"


class KeySource(Protocol):
    """Where signed requests get their keys, fresh enough to be sent now."""

    def current(self) -> AccessKeys: ...


class StaticKeys:
    """Keys that never change: a permanent AK/SK, or temporary ones given as inputs."""

    def __init__(self, keys: AccessKeys) -> None:
        self._keys = keys

    def __repr__(self) -> str:
        return f"StaticKeys({self._keys!r})"

    def current(self) -> AccessKeys:
        return self._keys


class TemporaryKeys:
    """Temporary keys obtained by `obtain` (a credential exchange), renewed when they would
    expire within `margin` seconds, at most `max_obtained` times per run in all.

    Keys that arrive with less lifetime than the margin (an agency whose sessions are short, a
    runner clock ahead of Huawei's) are renewed halfway through what they had left instead, so
    they are used while they are valid rather than renewed before every request. Once
    `max_obtained` is reached, the last keys are used as they are and the service judges them:
    a run costs a handful of exchanges, whatever the number of sub-jobs.

    Thread-safe, and once: while one thread renews, the others wait for its keys. A refused
    renewal is remembered and raised to every later caller, so a run with many sub-jobs asks the
    credential service once, not once per sub-job.
    """

    def __init__(
        self,
        obtain: Callable[[], AccessKeys],
        *,
        margin: float = RENEW_MARGIN_SECONDS,
        max_obtained: int = MAX_OBTAINED,
        clock: Clock = time.time,
    ) -> None:
        self._obtain = obtain
        self._margin = margin
        self._max_obtained = max_obtained
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: AccessKeys | None = None
        self._renew_at = math.inf
        self._failure: AuthFailed | None = None
        self.obtained = 0
        """How many times keys were obtained (the first time included)."""

    def __repr__(self) -> str:
        return f"TemporaryKeys({self._keys!r}, obtained={self.obtained})"

    def current(self) -> AccessKeys:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            keys = self._keys
            due = self._renew_at <= self._clock() and self.obtained < self._max_obtained
            if keys is None or due:
                try:
                    keys = self._obtain()
                except AuthFailed as exc:
                    self._failure = exc
                    raise
                self._keys = keys
                self._renew_at = self._renewal_time(keys)
                self.obtained += 1
            return keys

    def _renewal_time(self, keys: AccessKeys) -> float:
        """When `keys`, just obtained, are renewed: `margin` before they expire, or halfway
        through their lifetime when that is shorter than twice the margin."""
        if keys.expires_at is None:
            return math.inf
        lifetime = max(0.0, keys.expires_at - self._clock())
        return keys.expires_at - min(self._margin, lifetime / 2)


class SignedCredentials(Credentials):
    """Signs requests for the service at `trusted_url` with the keys `keys` gives.

    A refusal (401) is not remembered here: CodeArts requests pass the run's
    `codearts.credential_gate`, which lets at most one refused request through whatever the
    number of workers, and the credential exchanges never retry a 401."""

    def __init__(
        self,
        trusted_url: str,
        keys: KeySource,
        *,
        project_id: str = "",
        clock: Clock = time.time,
    ) -> None:
        super().__init__(trusted_url)
        self._keys = keys
        self._project_id = project_id
        self._clock = clock

    def __repr__(self) -> str:
        return f"SignedCredentials(origin={self._origin!r}, project_id={self._project_id!r})"

    @property
    def project_id(self) -> str:
        return self._project_id

    def prepare(self, request: requests.PreparedRequest) -> None:
        keys = self._keys.current()
        if keys.security_token:
            request.headers[SECURITY_TOKEN_HEADER] = keys.security_token
        if self._project_id:
            request.headers[PROJECT_HEADER] = self._project_id
        sign_prepared(
            request,
            access_key=keys.access_key,
            secret_key=keys.secret_key,
            now=datetime.fromtimestamp(self._clock(), UTC),
        )
