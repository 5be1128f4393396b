"""Credentials as `requests` auth hooks: each prepares requests for one origin and no other.

`requests` calls the hook on every prepared request, so the CodeArts client and the credential
exchanges attach credentials the same way, and a request bound for any other origin (a redirect
to a download host, say) goes out bare.

Two kinds: `TokenCredentials` (an IAM token in `X-Auth-Token`) and `SignedCredentials` (an
`SDK-HMAC-SHA256` signature by an access key, with `X-Security-Token` for temporary keys and
`X-Project-Id`, both added before signing so that they are signed). Temporary keys come from a
`TemporaryKeys`, which renews them, once for all threads, when they would expire before a request
is sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

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
    expire within `margin` seconds.

    Thread-safe, and once: while one thread renews, the others wait for its keys. A refused
    renewal is remembered and raised to every later caller, so a run with many sub-jobs asks the
    credential service once, not once per sub-job.
    """

    def __init__(
        self,
        obtain: Callable[[], AccessKeys],
        *,
        margin: float = RENEW_MARGIN_SECONDS,
        clock: Clock = time.time,
    ) -> None:
        self._obtain = obtain
        self._margin = margin
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: AccessKeys | None = None
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
            if keys is None or self._expiring(keys):
                try:
                    keys = self._obtain()
                except AuthFailed as exc:
                    self._failure = exc
                    raise
                self._keys = keys
                self.obtained += 1
            return keys

    def _expiring(self, keys: AccessKeys) -> bool:
        return keys.expires_at is not None and keys.expires_at - self._margin <= self._clock()


class SignedCredentials(Credentials):
    """Signs requests for the service at `trusted_url` with the keys `keys` gives.

    After the service answers a signed request with 401, further requests are not sent but fail
    at once: Huawei locks an access key for five minutes after five failed attempts, and every
    sub-job would fail the same way.
    """

    def __init__(
        self,
        trusted_url: str,
        keys: KeySource,
        *,
        project_id: str = "",
        service: str = "CodeArts Check",
        clock: Clock = time.time,
    ) -> None:
        super().__init__(trusted_url)
        self._keys = keys
        self._project_id = project_id
        self._service = service
        self._clock = clock
        self._refused: int | None = None

    def __repr__(self) -> str:
        return f"SignedCredentials(origin={self._origin!r}, project_id={self._project_id!r})"

    @property
    def project_id(self) -> str:
        return self._project_id

    def prepare(self, request: requests.PreparedRequest) -> None:
        if self._refused is not None:
            raise AuthFailed(
                f"not sent: {self._service} refused these credentials for an earlier request "
                f"of this run (HTTP {self._refused}); another failed attempt would count "
                "toward locking the access key (five failures lock it for five minutes)",
                service=self._service,
                step="signed request",
            )
        request.register_hook("response", self._watch)  # type: ignore[no-untyped-call]
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

    def _watch(self, response: requests.Response, **_: Any) -> requests.Response:
        if response.status_code == 401:
            self._refused = 401
        return response
