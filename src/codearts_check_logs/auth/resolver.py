"""The run's credentials for CodeArts Check, from the way the inputs chose, obtained once.

`Resolver.credentials()` performs the way's exchanges (IAM password token; project lookup;
GitHub ID token then STS or IAM federation) within one budget, before any download, and returns
the request hook every sub-job shares. Temporary keys renew themselves later, each renewal with a
fresh budget. A refusal raises `AuthFailed`, which fails the whole run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..net.cancel import CancelToken
from . import github_oidc, iam_federation, iam_password, projects, sts
from .credentials import (
    AccessKeys,
    Clock,
    Credentials,
    KeySource,
    SignedCredentials,
    StaticKeys,
    TemporaryKeys,
    TokenCredentials,
)
from .exchange import Exchange, Log
from .ways import (
    AkSkAuth,
    AuthInputs,
    OidcIam3Auth,
    OidcIam5Auth,
    PasswordAuth,
    TokenAuth,
)


@dataclass(frozen=True)
class Endpoints:
    """The services a run may talk to, and the region they are in."""

    region: str
    codearts: str
    iam: str
    sts: str


class Resolver:
    """Turns `auth` into the credentials for `endpoints.codearts`, once per run."""

    def __init__(
        self,
        auth: AuthInputs,
        endpoints: Endpoints,
        *,
        cancel: CancelToken,
        budget: float,
        log: Log | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.auth = auth
        self.endpoints = endpoints
        self.cancel = cancel
        self.budget = budget
        self.clock = clock
        self._log = log or (lambda _: None)
        self._lock = threading.Lock()
        self._resolved: Credentials | None = None

    def __repr__(self) -> str:
        return f"Resolver({self.auth!r})"

    def credentials(self) -> Credentials:
        """The credentials every sub-job uses; the first call obtains them."""
        with self._lock:
            if self._resolved is None:
                self._resolved = self._resolve()
            return self._resolved

    def _resolve(self) -> Credentials:
        auth, endpoints = self.auth, self.endpoints
        if isinstance(auth, TokenAuth):
            self._log("Credentials: an IAM token (X-Auth-Token)")
            return TokenCredentials(auth.token, endpoints.codearts)
        if isinstance(auth, AkSkAuth) and auth.project_id:
            # Nothing to exchange: no session, no watchdog, no budget spent.
            static, given = _static_keys(auth)
            return self._signed(static, auth.project_id, given)
        with Exchange.opened(cancel=self.cancel, budget=self.budget, log=self._log) as exchange:
            if isinstance(auth, PasswordAuth):
                token = iam_password.password_token(
                    exchange,
                    endpoints.iam,
                    user=auth.user,
                    password=auth.password,
                    domain=auth.domain,
                    project_id=auth.project_id,
                    project_name=endpoints.region,
                )
                self._log(f"Credentials: an IAM token for user {auth.user} (IAM password)")
                return TokenCredentials(token.value, endpoints.codearts)
            keys, how = self._keys(auth, exchange)
            project_id = auth.project_id
            if not project_id:
                on_iam = SignedCredentials(endpoints.iam, keys, clock=self.clock)
                project_id = projects.lookup_project_id(
                    exchange, endpoints.iam, on_iam, endpoints.region
                )
                how += f"; project {project_id} ({endpoints.region}) looked up at IAM"
            return self._signed(keys, project_id, how)

    def _signed(self, keys: KeySource, project_id: str, how: str) -> SignedCredentials:
        self._log(f"Credentials: {how}")
        return SignedCredentials(
            self.endpoints.codearts, keys, project_id=project_id, clock=self.clock
        )

    def _keys(
        self, auth: AkSkAuth | OidcIam5Auth | OidcIam3Auth, exchange: Exchange
    ) -> tuple[KeySource, str]:
        if isinstance(auth, AkSkAuth):
            return _static_keys(auth)
        if isinstance(auth, OidcIam5Auth):
            obtain = self._iam5(auth)
            how = "temporary AK/SK from STS (OIDC, IAM 5: AssumeAgencyWithOIDC)"
        else:
            obtain = self._iam3(auth)
            how = "temporary AK/SK from IAM (OIDC, IAM v3 federation)"
        return self._temporary(obtain, exchange), how

    def _temporary(
        self, obtain: Callable[[Exchange], AccessKeys], first: Exchange
    ) -> TemporaryKeys:
        """Keys obtained now within the credential phase's budget; renewed later each with a
        budget of its own."""
        pending = [first]

        def obtain_keys() -> AccessKeys:
            if pending:
                return obtain(pending.pop())
            self._log("Credentials: renewing the temporary access key")
            with Exchange.opened(cancel=self.cancel, budget=self.budget, log=self._log) as exchange:
                return obtain(exchange)

        keys = TemporaryKeys(obtain_keys, clock=self.clock)
        keys.current()
        return keys

    def _iam5(self, auth: OidcIam5Auth) -> Callable[[Exchange], AccessKeys]:
        def obtain(exchange: Exchange) -> AccessKeys:
            id_token = github_oidc.fetch_id_token(exchange, auth.id_token, auth.audience)
            return sts.assume_agency_with_oidc(
                exchange,
                self.endpoints.sts,
                provider_urn=auth.provider_urn,
                agency_urn=auth.agency_urn,
                session_name=auth.session_name,
                id_token=id_token,
                clock=self.clock,
            )

        return obtain

    def _iam3(self, auth: OidcIam3Auth) -> Callable[[Exchange], AccessKeys]:
        def obtain(exchange: Exchange) -> AccessKeys:
            id_token = github_oidc.fetch_id_token(exchange, auth.id_token, auth.audience)
            token = iam_federation.token_with_id_token(
                exchange, self.endpoints.iam, idp_id=auth.idp_id, id_token=id_token
            )
            return iam_federation.temporary_credentials(
                exchange, self.endpoints.iam, token, clock=self.clock
            )

        return obtain


def _static_keys(auth: AkSkAuth) -> tuple[StaticKeys, str]:
    """The keys the inputs (or the environment) gave, and how the log names them."""
    keys = AccessKeys(auth.access_key, auth.secret_key, auth.security_token)
    kind = "temporary AK/SK" if auth.security_token else "AK/SK"
    given = "" if auth.source == "inputs" else f" from {auth.source}"
    return StaticKeys(keys), f"{kind}{given}, signed requests"
