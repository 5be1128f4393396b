"""The job's GitHub ID token: the audience appended to the runner's URL, the bearer token to
GitHub only, the ID token a secret from the moment it arrives."""

from __future__ import annotations

import pytest
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.idtoken import b64url_decode

from codearts_check_logs import masking
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.github_oidc import STEP, fetch_id_token, token_url
from codearts_check_logs.auth.ways import IdTokenRequest
from codearts_check_logs.errors import AuthFailed


def request_of(cloud: HuaweiCloud, bearer: str | None = None) -> IdTokenRequest:
    return IdTokenRequest(cloud.github.token_url, bearer or cloud.github.request_token)


def audience_of(token: str) -> str:
    import json

    claims = json.loads(b64url_decode(token.split(".")[1]))
    return str(claims["aud"])


def test_the_url_gets_the_audience() -> None:
    url = "https://runner.example/idtoken?api-version=2.0"
    assert token_url(url, "") == url
    assert token_url(url, "api://a b&c") == f"{url}&audience=api%3A%2F%2Fa%20b%26c"
    assert token_url("https://runner.example/idtoken", "x") == (
        "https://runner.example/idtoken?audience=x"
    )


def test_githubs_default_audience(exchange: Exchange, cloud: HuaweiCloud) -> None:
    token = fetch_id_token(exchange, request_of(cloud))
    assert audience_of(token) == cloud.github.default_audience
    assert masking.redact(token) == "***"
    assert cloud.where_sent(cloud.github.request_token) == {"github-oidc"}


def test_a_custom_audience(exchange: Exchange, cloud: HuaweiCloud) -> None:
    token = fetch_id_token(exchange, request_of(cloud), "codearts-check-logs")
    assert audience_of(token) == "codearts-check-logs"
    [call] = cloud.github.token_requests()
    assert call.params["audience"] == ["codearts-check-logs"]
    assert call.params["api-version"] == ["2.0"]


def test_a_refused_request(exchange: Exchange, cloud: HuaweiCloud) -> None:
    with pytest.raises(AuthFailed) as caught:
        fetch_id_token(exchange, request_of(cloud, "expired-request-token"))
    error = caught.value
    assert (error.code, error.service, error.step, error.http_status) == (
        "AUTH_FAILED",
        "GitHub",
        STEP,
        401,
    )
    assert "TF400813" in error.message
    assert len(cloud.github.token_requests()) == 1


@pytest.mark.parametrize("answer", [{}, {"value": ""}, {"value": "not a jwt"}, {"value": 7}])
def test_an_answer_without_a_token(
    exchange: Exchange, cloud: HuaweiCloud, answer: dict[str, object]
) -> None:
    cloud.github.fail_next(200, answer)
    with pytest.raises(AuthFailed, match="no ID token"):
        fetch_id_token(exchange, request_of(cloud))
