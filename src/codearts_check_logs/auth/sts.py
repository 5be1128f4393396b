"""Keyless, IAM 5: `AssumeAgencyWithOIDC` at STS trades the job's GitHub ID token for temporary
AK/SK and a security token (`POST /v5/agencies/assume-with-oidc`, unsigned, 200).

STS checks the token against the OIDC provider's JWKS, its audience against the provider's
client IDs, and the agency's trust policy against its claims (`sub`, `repository`).
"""

from __future__ import annotations

import time

from .credentials import AccessKeys, Clock
from .exchange import STS, Exchange, keys_from, unusable

STEP = "AssumeAgencyWithOIDC"
ASSUME_PATH = "/v5/agencies/assume-with-oidc"
DURATION_SECONDS = 3600


def assume_agency_with_oidc(
    exchange: Exchange,
    sts_url: str,
    *,
    provider_urn: str,
    agency_urn: str,
    session_name: str,
    id_token: str,
    duration: int = DURATION_SECONDS,
    clock: Clock = time.time,
) -> AccessKeys:
    """Temporary keys for `duration` seconds; AuthFailed when STS refuses the token."""
    started = clock()
    answer = exchange.send(
        STS,
        STEP,
        "POST",
        f"{sts_url}{ASSUME_PATH}",
        body={
            "provider_urn": provider_urn,
            "agency_urn": agency_urn,
            "agency_session_name": session_name,
            "id_token": id_token,
            "duration_seconds": duration,
        },
    )
    found = answer.document(STS, STEP).get("credentials")
    if not isinstance(found, dict):
        raise unusable(STS, STEP, "an answer without `credentials`")
    return keys_from(found, service=STS, step=STEP, started=started, duration=duration)
