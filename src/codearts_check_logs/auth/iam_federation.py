"""Keyless, IAM v3 federation: the job's GitHub ID token exchanged at IAM for an unscoped token
(`CreateTokenWithIdToken`: `POST /v3.0/OS-AUTH/id-token/tokens`, `X-Idp-Id`, 201,
`X-Subject-Token`), then that token for temporary AK/SK (`POST /v3.0/OS-CREDENTIAL/securitytokens`,
201), as the official SDK does.

IAM checks the ID token against the identity provider's pasted JWKS (`signing_key`), its audience
against the provider's `client_id`, and maps its claims to a user group by the provider's rules.
"""

from __future__ import annotations

import time

from .credentials import TOKEN_HEADER, AccessKeys, Clock
from .exchange import IAM, Exchange, keys_from, unusable
from .iam_password import subject_token

TOKEN_STEP = "id-token federation"
CREDENTIALS_STEP = "temporary credentials"
ID_TOKEN_PATH = "/v3.0/OS-AUTH/id-token/tokens"
SECURITY_TOKENS_PATH = "/v3.0/OS-CREDENTIAL/securitytokens"
IDP_HEADER = "X-Idp-Id"
DURATION_SECONDS = 3600


def token_with_id_token(exchange: Exchange, iam_url: str, *, idp_id: str, id_token: str) -> str:
    """An unscoped federated token; AuthFailed when IAM refuses the ID token."""
    answer = exchange.send(
        IAM,
        TOKEN_STEP,
        "POST",
        f"{iam_url}{ID_TOKEN_PATH}",
        headers={IDP_HEADER: idp_id},
        body={"auth": {"id_token": {"id": id_token}}},
    )
    return subject_token(answer.headers, TOKEN_STEP)


def temporary_credentials(
    exchange: Exchange,
    iam_url: str,
    token: str,
    *,
    duration: int = DURATION_SECONDS,
    clock: Clock = time.time,
) -> AccessKeys:
    """Temporary keys for `token`, valid `duration` seconds. The token goes both in the body (as
    the SDK sends it) and in `X-Auth-Token` (as IAM's API page lists it)."""
    started = clock()
    answer = exchange.send(
        IAM,
        CREDENTIALS_STEP,
        "POST",
        f"{iam_url}{SECURITY_TOKENS_PATH}",
        headers={TOKEN_HEADER: token},
        body={
            "auth": {
                "identity": {
                    "methods": ["token"],
                    "token": {"id": token, "duration_seconds": duration},
                }
            }
        },
    )
    found = answer.document(IAM, CREDENTIALS_STEP).get("credential")
    if not isinstance(found, dict):
        raise unusable(IAM, CREDENTIALS_STEP, "an answer without `credential`")
    return keys_from(found, service=IAM, step=CREDENTIALS_STEP, started=started, duration=duration)
