"""IAM password token: an IAM user's name, password and account (domain) name exchanged, once
per run, for a project-scoped token (`POST /v3/auth/tokens`, 201, `X-Subject-Token`).

The password goes to IAM only; the token is registered as a secret the moment it arrives. IAM
answers a wrong user, password or domain alike (Keystone-style 401, no textual code), and gives
no token for a password alone to a user with login protection (MFA) or to a HUAWEI ID.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import masking
from .exchange import IAM, Exchange, parse_expiry, unusable
from .values import maskable

STEP = "password token"
TOKENS_PATH = "/v3/auth/tokens"
SUBJECT_TOKEN_HEADER = "X-Subject-Token"


@dataclass(frozen=True, repr=False)
class IssuedToken:
    """An IAM token and when it expires (wall-clock seconds, if IAM said)."""

    value: str
    expires_at: float | None = None

    def __repr__(self) -> str:
        return f"IssuedToken(value=<hidden>, expires_at={self.expires_at!r})"


def request_body(
    user: str, password: str, domain: str, *, project_id: str = "", project_name: str = ""
) -> dict[str, Any]:
    """The token request: password identity, scoped to the project by ID, else by name."""
    project = {"id": project_id} if project_id else {"name": project_name}
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "password": password, "domain": {"name": domain}}
                },
            },
            "scope": {"project": project},
        }
    }


def password_token(
    exchange: Exchange,
    iam_url: str,
    *,
    user: str,
    password: str,
    domain: str,
    project_id: str = "",
    project_name: str = "",
) -> IssuedToken:
    """A project-scoped token for `user`; AuthFailed when IAM refuses or answers unusably."""
    masking.register(password)
    answer = exchange.send(
        IAM,
        STEP,
        "POST",
        f"{iam_url}{TOKENS_PATH}?nocatalog=true",
        body=request_body(user, password, domain, project_id=project_id, project_name=project_name),
    )
    token = subject_token(answer.headers, STEP)
    body = answer.document(IAM, STEP)
    details = body.get("token")
    expires = parse_expiry(details.get("expires_at")) if isinstance(details, dict) else None
    return IssuedToken(token, expires)


def subject_token(headers: Any, step: str) -> str:
    """The token in `X-Subject-Token`, registered as a secret before anything else."""
    token = str(headers.get(SUBJECT_TOKEN_HEADER) or "").strip()
    if not maskable(token):  # too short to be a token: refused, never masked
        raise unusable(IAM, step, f"a success without a usable {SUBJECT_TOKEN_HEADER} header")
    masking.register(token)
    if any(not ("!" <= ch <= "~") for ch in token):
        raise unusable(IAM, step, f"an {SUBJECT_TOKEN_HEADER} that cannot be sent in a header")
    return token
