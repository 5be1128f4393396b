"""GitHub's OIDC ID token for this job, where both keyless ways start.

`GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<audience>` with the runner's bearer token, answer
`{"value": "<JWT>"}`. The runner's URL already carries a query string (`api-version`), so the
audience is appended with `&`. The bearer token goes to GitHub only; the ID token, registered as
a secret the moment it arrives, goes on to STS or IAM only. A fresh ID token is requested for
each exchange: GitHub's last five minutes.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .. import masking
from .exchange import GITHUB, Exchange, unusable
from .values import maskable
from .ways import IdTokenRequest

STEP = "ID token"
_JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def token_url(request_url: str, audience: str) -> str:
    """The request URL with `audience` appended (none: GitHub's default audience)."""
    if not audience:
        return request_url
    joiner = "&" if "?" in request_url else "?"
    return f"{request_url}{joiner}audience={quote(audience, safe='')}"


def fetch_id_token(exchange: Exchange, request: IdTokenRequest, audience: str = "") -> str:
    """This job's ID token for `audience`; AuthFailed when GitHub refuses or answers unusably."""
    masking.register(request.bearer)
    answer = exchange.send(
        GITHUB,
        STEP,
        "GET",
        token_url(request.url, audience),
        headers={"Authorization": f"Bearer {request.bearer}"},
    )
    value = answer.document(GITHUB, STEP).get("value")
    if isinstance(value, str) and maskable(value):  # a shorter one is refused, never masked
        masking.register(value)
    if not isinstance(value, str) or not _JWT.fullmatch(value):
        raise unusable(GITHUB, STEP, "no ID token (a JWT in `value`)")
    return value
