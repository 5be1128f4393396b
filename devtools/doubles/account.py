"""One in-memory Huawei Cloud account, shared by the IAM, STS and CodeArts Check doubles.

It holds who exists (domain, IAM users, permanent access keys, projects per region), what was
issued (IAM tokens, temporary AK/SK with security tokens), the keyless set-ups (an IAM 5 OIDC
provider and agency; an IAM v3 identity provider with its pasted JWKS and mapping condition), and
`authenticate`, which checks a request's credentials the way the API gateway in front of every
Huawei Cloud service does.

Gateway answers (`error_code`/`error_msg`/`request_id`, HTTP 401), chosen from Huawei's error-code
page and the gateway FAQ bodies quoted in the reference notes:

- no credential at all: `APIGW.0301` "…: x-auth-token not found";
- a token IAM never issued: `APIGW.0301` "…: decrypt token fail"; an expired one: `APIGW.0307`
  "The token must be updated.";
- an unknown AK: `APIGW.0301` "…: ak <AK> not exist"; a bad signature, an unsigned or wrong
  `X-Security-Token`: `APIGW.0301` "…: verify aksk signature fail" (plus the reason);
- `X-Sdk-Date` more than 15 minutes off: `APIGW.0303`;
- the 5th failure of one AK within 5 minutes locks it for 5 minutes, and while locked every
  request with it gets `APIGW.0301` "…: AK access failed to reach the limit,forbidden."
  (the FAQ's wording); a success clears the count, since Huawei counts consecutive failures;
- an expired temporary AK: `APIGW.0307`; an `X-Project-Id` that is not one of the account's
  projects: `APIGW.0301` (the double's choice: the reference documents no code for it).
"""

from __future__ import annotations

import hmac
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, Literal

from devtools.doubles import signing
from devtools.doubles.base import Reply, gateway_body, request_id
from devtools.doubles.idtoken import GITHUB_ISSUER

DATE_SKEW_SECONDS = 15 * 60
LOCK_AFTER_FAILURES = 5
FAILURE_WINDOW_SECONDS = 5 * 60
LOCK_SECONDS = 5 * 60
TOKEN_LIFETIME_SECONDS = 24 * 3600
INCORRECT = "Incorrect IAM authentication information"
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits

Clock = Callable[[], float]


class ManualClock:
    """A clock tests move by hand, so 15-minute skews and 5-minute locks take no time."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def iso_time(moment: float, *, digits: int = 6) -> str:
    """`2020-01-04T09:05:22.701000Z` (IAM, `digits=6`) or `…22.701Z` (STS, `digits=3`)."""
    text = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return f"{text[: len(text) - 6 + digits]}Z"


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_access_key() -> str:
    """20 upper-case letters and digits, the length STS documents for `access_key_id`."""
    return _random(_UPPER_DIGITS, 20)


def new_secret_key() -> str:
    """40 letters and digits, the length STS documents for `secret_access_key`."""
    return _random(_ALNUM, 40)


def new_token() -> str:
    """Shaped like an IAM token (a long base64 PKI blob starting `MII`)."""
    return "MIIE" + secrets.token_urlsafe(240)


def new_security_token() -> str:
    """Shaped like a security token (long, base64url, starting `gQpjbi1`)."""
    return "gQpjbi1" + secrets.token_urlsafe(360)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True)
class User:
    name: str
    user_id: str
    password: str
    mfa: bool = False
    """Login protection is on: IAM gives this user no token for a password alone."""


@dataclass(frozen=True)
class AccessKey:
    access: str
    secret: str
    user: str
    temporary: bool = False
    security_token: str | None = None
    expires_at: float | None = None
    origin: str = "permanent"
    """Where it came from: `permanent`, `securitytokens` (IAM v3) or `sts` (IAM 5)."""


@dataclass(frozen=True)
class IssuedToken:
    value: str
    user: str
    user_id: str
    project_id: str | None
    """None for an unscoped token."""
    issued_at: float
    expires_at: float
    methods: tuple[str, ...] = ("password",)
    idp_id: str | None = None
    """The IAM v3 identity provider of a federated token."""


@dataclass(frozen=True)
class ClaimCondition:
    """A condition on one ID-token claim: any of `values`, compared exactly or, with `like`,
    as patterns where `*` matches anything (IAM 5's StringLike, IAM v3's regex-free rules);
    with `negate`, none of them (IAM v3's `not_any_of`, IAM 5's StringNotEquals)."""

    claim: str
    values: tuple[str, ...]
    like: bool = False
    negate: bool = False

    def matches(self, claims: Mapping[str, Any]) -> bool:
        value = claims.get(self.claim)
        if not isinstance(value, str):
            return self.negate
        if self.like:
            found = any(fnmatchcase(value, pattern) for pattern in self.values)
        else:
            found = value in self.values
        return found != self.negate


@dataclass(frozen=True)
class AllOf:
    """Conditions that must all hold: the keys of one IAM 5 trust-policy `Condition` block, or
    the `remote` entries of one IAM v3 mapping rule, are joined with AND."""

    conditions: tuple[ClaimCondition, ...]

    def matches(self, claims: Mapping[str, Any]) -> bool:
        return all(condition.matches(claims) for condition in self.conditions)


Condition = ClaimCondition | AllOf
"""What an agency's trust policy or an identity provider's mapping rule asks of a token."""


@dataclass(frozen=True)
class OidcProvider:
    """IAM 5 OIDC identity provider: its URL is the issuer; Huawei fetches its JWKS itself."""

    urn: str
    name: str
    url: str
    client_ids: tuple[str, ...]
    jwks_url: str


@dataclass(frozen=True)
class Agency:
    """IAM 5 trust agency that the provider's tokens may assume, under `condition`."""

    urn: str
    agency_id: str
    name: str
    provider_urn: str
    condition: Condition
    max_session_seconds: int = 3600


@dataclass(frozen=True)
class IdentityProvider:
    """IAM v3 identity provider, protocol OIDC, programmatic access; `signing_key` is the JWKS
    pasted at set-up time (so it goes stale when the issuer rotates its keys)."""

    idp_id: str
    url: str
    client_id: str
    signing_key: Mapping[str, Any]
    condition: Condition
    group: str = "codearts-check-readers"
    user_name: str = "FederationUser"
    lifetime_seconds: int = TOKEN_LIFETIME_SECONDS


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as."""

    method: Literal["token", "aksk", "temporary-aksk"]
    user: str
    domain: str
    project_id: str | None
    """The token's project, or `X-Project-Id` on a signed request (None when neither)."""
    access_key: str | None = None


@dataclass(frozen=True)
class GatewayError:
    """The API gateway's refusal."""

    status: int
    code: str
    message: str
    request_id: str = field(default_factory=request_id)

    def body(self) -> dict[str, str]:
        return gateway_body(self.code, self.message, self.request_id)

    def reply(self) -> Reply:
        return Reply(self.status, self.body())


class Account:
    """A Huawei Cloud account: thread-safe, since every double's handler threads share it."""

    def __init__(
        self,
        *,
        domain_name: str = "example-domain",
        clock: Clock = time.time,
        verifier: signing.Verifier = "auto",
    ) -> None:
        self.domain_name = domain_name
        self.domain_id = uuid.uuid4().hex
        self.clock = clock
        self.verifier: signing.Verifier = verifier
        self._lock = threading.RLock()
        self._users: dict[str, User] = {}
        self._projects: dict[str, str] = {}
        self._keys: dict[str, AccessKey] = {}
        self._tokens: dict[str, IssuedToken] = {}
        self._providers: dict[str, OidcProvider] = {}
        self._agencies: dict[str, Agency] = {}
        self._idps: dict[str, IdentityProvider] = {}
        self._failures: dict[str, list[float]] = {}
        self._locked_until: dict[str, float] = {}

    # --- set-up --------------------------------------------------------------------------------

    def add_user(self, name: str, password: str, *, mfa: bool = False) -> User:
        user = User(name=name, user_id=uuid.uuid4().hex, password=password, mfa=mfa)
        with self._lock:
            self._users[name] = user
        return user

    def add_access_key(self, user: str) -> AccessKey:
        key = AccessKey(access=new_access_key(), secret=new_secret_key(), user=user)
        with self._lock:
            self._keys[key.access] = key
        return key

    def add_project(self, region: str) -> str:
        """The project ID of `region` (a project is named after its region), created if new."""
        with self._lock:
            return self._projects.setdefault(region, uuid.uuid4().hex)

    def add_oidc_provider(
        self,
        name: str,
        *,
        client_ids: Sequence[str],
        jwks_url: str,
        url: str = GITHUB_ISSUER,
    ) -> OidcProvider:
        provider = OidcProvider(
            urn=f"iam::{self.domain_id}:oidcProvider:{name}",
            name=name,
            url=url,
            client_ids=tuple(client_ids),
            jwks_url=jwks_url,
        )
        with self._lock:
            self._providers[provider.urn] = provider
        return provider

    def add_agency(
        self,
        name: str,
        *,
        provider_urn: str,
        condition: Condition,
        max_session_seconds: int = 3600,
    ) -> Agency:
        agency = Agency(
            urn=f"iam::{self.domain_id}:agency:{name}",
            agency_id=uuid.uuid4().hex,
            name=name,
            provider_urn=provider_urn,
            condition=condition,
            max_session_seconds=max_session_seconds,
        )
        with self._lock:
            self._agencies[agency.urn] = agency
        return agency

    def add_identity_provider(
        self,
        idp_id: str,
        *,
        client_id: str,
        signing_key: Mapping[str, Any],
        condition: Condition,
        url: str = GITHUB_ISSUER,
    ) -> IdentityProvider:
        idp = IdentityProvider(
            idp_id=idp_id,
            url=url,
            client_id=client_id,
            signing_key=signing_key,
            condition=condition,
        )
        with self._lock:
            self._idps[idp_id] = idp
        return idp

    # --- look-ups ------------------------------------------------------------------------------

    def user(self, name: str) -> User | None:
        with self._lock:
            return self._users.get(name)

    def check_password(self, domain: str, name: str, password: str) -> User | None:
        """The user when domain, name and password all match; None otherwise (like IAM, the
        caller cannot tell which of the three was wrong)."""
        user = self.user(name)
        if domain != self.domain_name or user is None or not _same(user.password, password):
            return None
        return user

    def project_id(self, region: str) -> str | None:
        with self._lock:
            return self._projects.get(region)

    def projects(self) -> dict[str, str]:
        """Region name → project ID."""
        with self._lock:
            return dict(self._projects)

    def project_name(self, project_id: str) -> str | None:
        with self._lock:
            return next((n for n, p in self._projects.items() if p == project_id), None)

    def oidc_provider(self, urn: str) -> OidcProvider | None:
        with self._lock:
            return self._providers.get(urn)

    def agency(self, urn: str) -> Agency | None:
        with self._lock:
            return self._agencies.get(urn)

    def identity_provider(self, idp_id: str) -> IdentityProvider | None:
        with self._lock:
            return self._idps.get(idp_id)

    def access_key(self, access: str) -> AccessKey | None:
        with self._lock:
            return self._keys.get(access)

    def token(self, value: str) -> IssuedToken | None:
        with self._lock:
            return self._tokens.get(value)

    def tokens(self) -> list[IssuedToken]:
        with self._lock:
            return list(self._tokens.values())

    def temporary_keys(self) -> list[AccessKey]:
        with self._lock:
            return [key for key in self._keys.values() if key.temporary]

    # --- issuing -------------------------------------------------------------------------------

    def issue_token(
        self,
        user: str,
        *,
        project_id: str | None = None,
        methods: Sequence[str] = ("password",),
        lifetime: float = TOKEN_LIFETIME_SECONDS,
        idp_id: str | None = None,
        user_id: str | None = None,
    ) -> IssuedToken:
        """A token IAM would have issued (tests use it directly for the token way)."""
        now = self.clock()
        known = self.user(user)
        token = IssuedToken(
            value=new_token(),
            user=user,
            user_id=user_id or (known.user_id if known else uuid.uuid4().hex),
            project_id=project_id,
            issued_at=now,
            expires_at=now + lifetime,
            methods=tuple(methods),
            idp_id=idp_id,
        )
        with self._lock:
            self._tokens[token.value] = token
        return token

    def revoke_token(self, value: str) -> None:
        with self._lock:
            self._tokens.pop(value, None)

    def issue_temporary(self, user: str, *, duration: float, origin: str) -> AccessKey:
        """Temporary AK/SK and security token, as `securitytokens` or STS hand them out."""
        key = AccessKey(
            access=new_access_key(),
            secret=new_secret_key(),
            user=user,
            temporary=True,
            security_token=new_security_token(),
            expires_at=self.clock() + duration,
            origin=origin,
        )
        with self._lock:
            self._keys[key.access] = key
        return key

    def secrets(self) -> dict[str, str]:
        """Every secret the account knows, labelled: passwords, AK/SK pairs, security tokens,
        tokens. A leak scan looks for each value in logs, outputs and files."""
        with self._lock:
            found = {f"password:{u.name}": u.password for u in self._users.values()}
            for key in self._keys.values():
                kind = f"{key.origin}:{key.user}:{key.access[:4]}"
                found[f"access-key:{kind}"] = key.access
                found[f"secret-key:{kind}"] = key.secret
                if key.security_token:
                    found[f"security-token:{kind}"] = key.security_token
            for token in self._tokens.values():
                found[f"token:{token.user}:{token.value[4:10]}"] = token.value
        return found

    # --- the API gateway -----------------------------------------------------------------------

    def failures(self, access: str) -> int:
        """Failed AK/SK attempts counted towards the lock."""
        with self._lock:
            return len(self._failures.get(access, []))

    def locked(self, access: str) -> bool:
        with self._lock:
            return self._locked_until.get(access, 0.0) > self.clock()

    def authenticate(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Principal | GatewayError:
        """Check a request's credentials as the API gateway does (see the module docstring)."""
        lower = {name.lower(): value for name, value in headers.items()}
        authorization = lower.get("authorization", "")
        if authorization.startswith("SDK-"):
            result = self._check_signature(method, path, query, lower, body)
        elif "x-auth-token" in lower:
            result = self._check_token(lower["x-auth-token"])
        elif authorization:
            result = GatewayError(401, "APIGW.0301", f"{INCORRECT}: unsupported authorization")
        else:
            result = GatewayError(401, "APIGW.0301", f"{INCORRECT}: x-auth-token not found")
        project = lower.get("x-project-id")
        if (
            isinstance(result, Principal)
            and project is not None
            and project not in self.projects().values()
        ):
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: project id is invalid")
        return result

    def _check_token(self, value: str) -> Principal | GatewayError:
        token = self.token(value.strip())
        if token is None:
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: decrypt token fail")
        if token.expires_at <= self.clock():
            return GatewayError(401, "APIGW.0307", "The token must be updated.")
        return Principal("token", token.user, self.domain_name, token.project_id)

    def _check_signature(
        self, method: str, path: str, query: str, lower: Mapping[str, str], body: bytes
    ) -> Principal | GatewayError:
        parsed = signing.parse_authorization(lower["authorization"])
        if parsed is None:
            return GatewayError(
                401, "APIGW.0301", f"{INCORRECT}: the Authorization header is malformed"
            )
        access, signed_names, presented = parsed
        key = self.access_key(access)
        if key is None:
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: ak {access} not exist")
        now = self.clock()
        with self._lock:
            if self._locked_until.get(access, 0.0) > now:
                return GatewayError(
                    401,
                    "APIGW.0301",
                    f"{INCORRECT}: AK access failed to reach the limit,forbidden.",
                )
        if key.expires_at is not None and key.expires_at <= now:
            return GatewayError(
                401, "APIGW.0307", "The token must be updated: the temporary access key expired."
            )
        error = self._verify(key, method, path, query, lower, body, signed_names, presented, now)
        with self._lock:
            if error is None:
                self._failures.pop(access, None)
            else:
                self._count_failure(access, now)
        if error is not None:
            return error
        return Principal(
            "temporary-aksk" if key.temporary else "aksk",
            key.user,
            self.domain_name,
            lower.get("x-project-id"),
            access,
        )

    def _count_failure(self, access: str, now: float) -> None:
        recent = [t for t in self._failures.get(access, []) if now - t < FAILURE_WINDOW_SECONDS]
        recent.append(now)
        if len(recent) >= LOCK_AFTER_FAILURES:
            self._locked_until[access] = now + LOCK_SECONDS
            recent = []
        self._failures[access] = recent

    def _verify(
        self,
        key: AccessKey,
        method: str,
        path: str,
        query: str,
        lower: Mapping[str, str],
        body: bytes,
        signed_names: list[str],
        presented: str,
        now: float,
    ) -> GatewayError | None:
        date = lower.get("x-sdk-date", "")
        if "x-sdk-date" not in signed_names:
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: x-sdk-date is not signed")
        try:
            moment = datetime.strptime(date, signing.DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: x-sdk-date is invalid")
        if abs(now - moment.timestamp()) > DATE_SKEW_SECONDS:
            return GatewayError(
                401,
                "APIGW.0303",
                "Incorrect app authentication information: the request time (X-Sdk-Date) "
                "differs from the server time by more than 15 minutes",
            )
        if any(name not in lower for name in signed_names):
            return GatewayError(
                401,
                "APIGW.0301",
                f"{INCORRECT}: verify aksk signature fail, a signed header is missing",
            )
        signed = [(name, signing.sent_text(lower[name])) for name in signed_names]
        expected = signing.signature(
            self.verifier,
            key.secret,
            method,
            path,
            signing.parse_query(query),
            signed,
            body,
            date,
        )
        if not hmac.compare_digest(expected, presented):
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: verify aksk signature fail")
        token = lower.get("x-security-token")
        if key.temporary != (token is not None):
            why = "missing" if key.temporary else "given with a permanent access key"
            return GatewayError(401, "APIGW.0301", f"{INCORRECT}: security token {why}")
        if token is not None:
            if "x-security-token" not in signed_names:
                return GatewayError(
                    401, "APIGW.0301", f"{INCORRECT}: x-security-token is not signed"
                )
            if not _same(token.strip(), key.security_token or ""):
                return GatewayError(
                    401, "APIGW.0301", f"{INCORRECT}: security token does not match the ak"
                )
        return None
