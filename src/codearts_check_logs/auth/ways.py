"""Which of the five authentication ways a run uses, read from the inputs and the environment.

Pure: no HTTP here. `choose_way` turns the auth inputs (and, when none is given, the AK/SK that
`huaweicloud/auth-action` or the official SDK put in the environment) into one description of the
way and its parameters, or an `InvalidInput` naming what is wrong, before any request is sent:
inputs of two ways at once, an incomplete way, no way at all, OIDC without the runner's ID-token
variables, a secret too short to be masked. Every description keeps its secrets out of `repr`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import ClassVar

from ..environment import (
    ID_TOKEN_TOKEN_ENV,
    ID_TOKEN_URL_ENV,
    KEY_FAMILIES,
    RunnerEnvironment,
)
from ..errors import InvalidInput
from ..net.transport import check_transport
from .values import (
    parse_access_key,
    parse_header_secret,
    parse_name,
    parse_password,
    parse_project_id,
    parse_secret_key,
)

# The inputs that pick a way; `project-id` and `oidc-audience` only refine one.
WAY_INPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "token": (("token",), ()),
    "AK/SK": (("access-key-id", "secret-access-key"), ("security-token",)),
    "IAM password": (("iam-user", "iam-password", "iam-domain"), ()),
    "OIDC, IAM 5": (("oidc-agency-urn", "oidc-provider-urn"), ()),
    "OIDC, IAM v3": (("oidc-idp-id",), ()),
}
AUTH_INPUTS = tuple(
    name for required, optional in WAY_INPUTS.values() for name in (*required, *optional)
)

SECRET_INPUTS = ("token", "access-key-id", "secret-access-key", "security-token", "iam-password")
"""Inputs whose values are secrets: masked before anything is printed, never CLI options."""

_SESSION_UNSAFE = re.compile(r"[^\w+=,.@-]")


class _Hidden:
    """A `repr` that names the way and its non-secret fields only."""

    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}=<hidden>"
            if f.name in self.secret_fields
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)  # type: ignore[arg-type]
        )
        return f"{type(self).__name__}({shown})"


@dataclass(frozen=True, repr=False)
class IdTokenRequest(_Hidden):
    """Where this job asks GitHub for its OIDC ID token, and the bearer token for that."""

    secret_fields = frozenset({"bearer"})
    url: str
    bearer: str


@dataclass(frozen=True, repr=False)
class TokenAuth(_Hidden):
    """An IAM token, sent as `X-Auth-Token`."""

    secret_fields = frozenset({"token"})
    token: str
    way: ClassVar[str] = "token"


@dataclass(frozen=True, repr=False)
class AkSkAuth(_Hidden):
    """A permanent or temporary access key: every request is signed."""

    secret_fields = frozenset({"access_key", "secret_key", "security_token"})
    access_key: str
    secret_key: str
    security_token: str = ""
    project_id: str = ""
    source: str = "inputs"
    """`inputs`, or the environment variables the keys came from."""
    way: ClassVar[str] = "AK/SK"


@dataclass(frozen=True, repr=False)
class PasswordAuth(_Hidden):
    """An IAM user's password, exchanged once per run for a project-scoped token."""

    secret_fields = frozenset({"password"})
    user: str
    password: str
    domain: str
    project_id: str = ""
    way: ClassVar[str] = "IAM password"


@dataclass(frozen=True, repr=False)
class OidcIam5Auth(_Hidden):
    """Keyless: the job's ID token exchanged at STS for temporary AK/SK."""

    agency_urn: str
    provider_urn: str
    id_token: IdTokenRequest
    audience: str = ""
    project_id: str = ""
    session_name: str = "codearts-check-logs"
    way: ClassVar[str] = "OIDC, IAM 5"


@dataclass(frozen=True, repr=False)
class OidcIam3Auth(_Hidden):
    """Keyless: the job's ID token exchanged at IAM for a token, then temporary AK/SK."""

    idp_id: str
    id_token: IdTokenRequest
    audience: str = ""
    project_id: str = ""
    way: ClassVar[str] = "OIDC, IAM v3"


AuthInputs = TokenAuth | AkSkAuth | PasswordAuth | OidcIam5Auth | OidcIam3Auth


def choose_way(raw: Mapping[str, str], env: RunnerEnvironment) -> AuthInputs:
    """The one way the inputs (else the environment) describe; `InvalidInput` otherwise."""
    given = {name for name in (*AUTH_INPUTS, "project-id", "oidc-audience") if raw.get(name)}
    ways = [way for way, (req, opt) in WAY_INPUTS.items() if given & {*req, *opt}]
    if len(ways) > 1:
        named = " and ".join(f"{way} ({', '.join(_given_of(way, given))})" for way in ways)
        raise InvalidInput(
            f"inputs of more than one authentication way are given: {named}; give exactly one"
        )
    if not ways:
        if "oidc-audience" in given:
            raise InvalidInput(
                "oidc-audience is given without an OIDC way: add oidc-idp-id, or "
                "oidc-agency-urn and oidc-provider-urn"
            )
        found = _from_environment(env, raw.get("project-id", ""))
        if found is None:
            raise InvalidInput(NO_CREDENTIALS)
        return found
    way = ways[0]
    required, _ = WAY_INPUTS[way]
    missing = [name for name in required if name not in given]
    if missing:
        present = ", ".join(_given_of(way, given))
        raise InvalidInput(f"{present} needs {' and '.join(missing)} ({way} way)")
    if "oidc-audience" in given and not way.startswith("OIDC"):
        raise InvalidInput("oidc-audience applies only to the OIDC ways")
    if way == "token" and "project-id" in given:
        raise InvalidInput(
            "project-id is not used with token (the token's own project applies); remove it"
        )
    return _parse_way(way, raw, env)


def _given_of(way: str, given: set[str]) -> list[str]:
    required, optional = WAY_INPUTS[way]
    return [name for name in (*required, *optional) if name in given]


NO_CREDENTIALS = (
    "no credentials: give one authentication way: token; access-key-id and secret-access-key; "
    "iam-user, iam-password and iam-domain; oidc-agency-urn and oidc-provider-urn (keyless, "
    "IAM 5); or oidc-idp-id (keyless, IAM v3). Or set HUAWEI_CLOUD_ACCESS_KEY_ID and "
    "HUAWEI_CLOUD_SECRET_ACCESS_KEY (huaweicloud/auth-action), or HUAWEICLOUD_SDK_AK and "
    "HUAWEICLOUD_SDK_SK, in the environment"
)
"""What the action says when no way is given; the command line says it in its own terms."""


def _parse_way(way: str, raw: Mapping[str, str], env: RunnerEnvironment) -> AuthInputs:
    project_id = parse_project_id("project-id", raw.get("project-id", ""))
    if way == "token":
        return TokenAuth(token=parse_header_secret("token", raw["token"]))
    if way == "AK/SK":
        return AkSkAuth(
            access_key=parse_access_key("access-key-id", raw["access-key-id"]),
            secret_key=parse_secret_key("secret-access-key", raw["secret-access-key"]),
            security_token=_optional(parse_header_secret, "security-token", raw),
            project_id=project_id,
        )
    if way == "IAM password":
        return PasswordAuth(
            user=parse_name("iam-user", raw["iam-user"]),
            password=parse_password("iam-password", raw["iam-password"]),
            domain=parse_name("iam-domain", raw["iam-domain"]),
            project_id=project_id,
        )
    audience = parse_name("oidc-audience", raw["oidc-audience"]) if raw.get("oidc-audience") else ""
    id_token = id_token_request(env)
    if way == "OIDC, IAM 5":
        return OidcIam5Auth(
            agency_urn=parse_name("oidc-agency-urn", raw["oidc-agency-urn"], spaces=False),
            provider_urn=parse_name("oidc-provider-urn", raw["oidc-provider-urn"], spaces=False),
            id_token=id_token,
            audience=audience,
            project_id=project_id,
            session_name=session_name(env),
        )
    idp_id = parse_name("oidc-idp-id", raw["oidc-idp-id"], spaces=False)
    if len(idp_id) > 64:
        raise InvalidInput("oidc-idp-id must be at most 64 characters (IAM's X-Idp-Id limit)")
    return OidcIam3Auth(idp_id=idp_id, id_token=id_token, audience=audience, project_id=project_id)


def _optional(parse: Callable[[str, str], str], name: str, raw: Mapping[str, str]) -> str:
    value = raw.get(name, "")
    return parse(name, value) if value else ""


def _from_environment(env: RunnerEnvironment, project_input: str) -> AkSkAuth | None:
    """AK/SK from `huaweicloud/auth-action`'s variables, else from the SDK's; None if neither."""
    for ak_name, sk_name, token_name, project_name in KEY_FAMILIES:
        ak = env.key(ak_name).strip()
        sk = env.key(sk_name).strip()
        token = env.key(token_name).strip()
        if not (ak or sk or token):
            continue
        if not (ak and sk):
            set_names = [n for n, v in ((ak_name, ak), (sk_name, sk), (token_name, token)) if v]
            missing = [n for n, v in ((ak_name, ak), (sk_name, sk)) if not v]
            raise InvalidInput(
                f"{', '.join(set_names)} is set in the environment without {' and '.join(missing)}"
            )
        project = project_input or env.key(project_name).strip()
        return AkSkAuth(
            access_key=parse_access_key(ak_name, ak),
            secret_key=parse_secret_key(sk_name, sk),
            security_token=parse_header_secret(token_name, token) if token else "",
            project_id=parse_project_id("project-id" if project_input else project_name, project),
            source=f"{ak_name}, {sk_name}",
        )
    return None


def id_token_request(env: RunnerEnvironment) -> IdTokenRequest:
    """The runner's ID-token endpoint; without it the job lacks `id-token: write`."""
    url = env.id_token_url.strip()
    bearer = env.id_token_bearer.strip()
    if not (url and bearer):
        raise InvalidInput(
            f"OIDC needs {ID_TOKEN_URL_ENV} and {ID_TOKEN_TOKEN_ENV}, which the runner sets "
            "only when the job has `permissions: id-token: write`: add it to the job"
        )
    try:
        check_transport(url)
    except ValueError as exc:
        raise InvalidInput(f"{ID_TOKEN_URL_ENV}: {exc}") from None
    return IdTokenRequest(url=url, bearer=bearer)


def session_name(env: RunnerEnvironment) -> str:
    """`agency_session_name` for STS: names the run in Huawei's audit trail (2-128 of
    letters, digits and `+=,.@-_`)."""
    parts = ["codearts-check-logs", env.run_id, env.run_attempt]
    name = "-".join(_SESSION_UNSAFE.sub("", part) for part in parts if part)
    return name[:128]
