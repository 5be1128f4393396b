"""STS (IAM 5) double: `AssumeAgencyWithOIDC`, the keyless way that trades a GitHub ID token for
temporary AK/SK and a security token.

As Huawei documents it (STS API definition for `/v5/agencies/assume-with-oidc`): the call is
unsigned; success is **200** with `credentials` (`access_key_id` of 20 characters,
`secret_access_key` of 40, `security_token`, `expiration`), `assumed_agency`, `audience`,
`provider` and `subject_from_id_token`; `duration_seconds` defaults to 3600 and must lie in
900…the agency's maximum session (at most 43200), and at most 3600 when the request carries an
`X-Security-Token` (an agency chain). The ID token is checked against the provider's JWKS, which
STS fetches from the provider itself (here: the GitHub double's JWKS URL, over HTTP).

Errors are `{"error_code": "STS5.XXXX", "error_msg": …}` (the documented shape; 403 adds
`encoded_authorization_message`). Huawei lists no individual STS5 codes, so the numbers are the
double's own: `STS5.1001` invalid request (400), `STS5.1002` ID token refused (400: malformed,
signature, issuer, audience not a client ID of the provider, expired), `STS5.1003`
`duration_seconds` out of bounds (400), `STS5.2001` unknown provider and `STS5.2002` unknown
agency (404), `STS5.3001` the agency's trust refuses the token (403: another provider, or the
`sub`/`repository` condition fails), `STS5.5001` the provider's JWKS cannot be fetched (500).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any

import requests

from devtools.doubles.account import Account, iso_time
from devtools.doubles.base import DoubleServer, RecordedRequest, Reply, gateway_body
from devtools.doubles.idtoken import InvalidIdToken, verify

ASSUME_PATH = "/v5/agencies/assume-with-oidc"
MIN_DURATION = 900
DEFAULT_DURATION = 3600
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,128}")


def sts_error(status: int, code: str, message: str) -> Reply:
    body: dict[str, str] = {"error_code": code, "error_msg": message}
    if status == 403:
        # Opaque to the caller; Huawei's decode-authorization-message API would explain it.
        body["encoded_authorization_message"] = base64.b64encode(secrets.token_bytes(48)).decode()
    return Reply(status, body)


class StsDouble(DoubleServer):
    """STS on loopback, issuing temporary credentials into `account`."""

    service = "sts"
    server_version = "STS-double/1.0"

    def __init__(self, account: Account, *, jwks_timeout: float = 5.0) -> None:
        super().__init__()
        self.account = account
        self.jwks_timeout = jwks_timeout

    def fault_body(self, status: int) -> Any:
        if status in {429, 502, 504}:
            return super().fault_body(status)
        return {"error_code": "STS5.5000", "error_msg": "Internal server error."}

    def handle(self, request: RecordedRequest) -> Reply:
        if (request.method, request.path) != ("POST", ASSUME_PATH):
            return Reply(
                404,
                gateway_body(
                    "APIGW.0101",
                    "The API does not exist or has not been published in the environment",
                ),
            )
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return sts_error(400, "STS5.1001", "The request body is not a JSON object.")
        return self._assume(request, body)

    def _assume(self, request: RecordedRequest, body: dict[str, Any]) -> Reply:
        for name in ("provider_urn", "agency_urn", "agency_session_name", "id_token"):
            if not isinstance(body.get(name), str) or not body[name]:
                return sts_error(400, "STS5.1001", f"{name} is required.")
        session = body["agency_session_name"]
        if not _SESSION_NAME.fullmatch(session):
            return sts_error(400, "STS5.1001", "agency_session_name is invalid.")
        if not 4 <= len(body["id_token"]) <= 20000:
            return sts_error(400, "STS5.1001", "id_token length must be 4 to 20000.")
        duration = body.get("duration_seconds", DEFAULT_DURATION)
        if not isinstance(duration, int) or isinstance(duration, bool):
            return sts_error(400, "STS5.1001", "duration_seconds must be an integer.")
        provider = self.account.oidc_provider(body["provider_urn"])
        if provider is None:
            return sts_error(404, "STS5.2001", "The OIDC provider does not exist.")
        agency = self.account.agency(body["agency_urn"])
        if agency is None:
            return sts_error(404, "STS5.2002", "The agency does not exist.")
        ceiling = min(agency.max_session_seconds, MAX_DURATION)
        if request.header("X-Security-Token") is not None:
            ceiling = min(ceiling, CHAINED_MAX_DURATION)
        if not MIN_DURATION <= duration <= ceiling:
            return sts_error(
                400,
                "STS5.1003",
                f"duration_seconds must be between {MIN_DURATION} and {ceiling}.",
            )
        try:
            fetched = requests.get(provider.jwks_url, timeout=self.jwks_timeout)
            fetched.raise_for_status()
            key_set = fetched.json()
        except (requests.RequestException, ValueError):
            return sts_error(500, "STS5.5001", "Failed to fetch the JWKS of the OIDC provider.")
        try:
            claims = verify(
                body["id_token"],
                key_set if isinstance(key_set, dict) else {},
                issuer=provider.url,
                audiences=provider.client_ids,
                now=self.account.clock(),
            )
        except InvalidIdToken as exc:
            return sts_error(400, "STS5.1002", f"The id_token is invalid: {exc.detail}.")
        if agency.provider_urn != provider.urn or not agency.condition.matches(claims):
            return sts_error(
                403,
                "STS5.3001",
                "Access denied: the agency's trust policy does not allow this identity.",
            )
        user = f"assumed-agency:{agency.name}/{session}"
        key = self.account.issue_temporary(user, duration=duration, origin="sts")
        presented = {claims["aud"]} if isinstance(claims["aud"], str) else set(claims["aud"])
        audience = next(c for c in provider.client_ids if c in presented)
        return Reply(
            200,
            {
                "credentials": {
                    "access_key_id": key.access,
                    "secret_access_key": key.secret,
                    "security_token": key.security_token,
                    "expiration": iso_time(key.expires_at or 0.0, digits=3),
                },
                "assumed_agency": {
                    "id": f"{agency.agency_id}:{session}",
                    "urn": f"sts::{self.account.domain_id}:assumed-agency:{agency.name}/{session}",
                },
                "audience": audience,
                "provider": provider.urn,
                "subject_from_id_token": claims.get("sub", ""),
            },
        )


def assume_body(
    provider_urn: str,
    agency_urn: str,
    id_token: str,
    *,
    session: str = "github-actions",
    duration: int | None = DEFAULT_DURATION,
) -> dict[str, Any]:
    """An `AssumeAgencyWithOIDC` request body."""
    body: dict[str, Any] = {
        "provider_urn": provider_urn,
        "agency_urn": agency_urn,
        "agency_session_name": session,
        "id_token": id_token,
    }
    if duration is not None:
        body["duration_seconds"] = duration
    return body
