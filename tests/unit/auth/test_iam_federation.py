"""IAM v3 federation against the IAM double: ID token → unscoped token → temporary keys, each
step's refusal with IAM's own code."""

from __future__ import annotations

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import IAM3_AUDIENCE, HuaweiCloud
from devtools.doubles.iam import ID_TOKEN_PATH, SECURITY_TOKENS_PATH

from codearts_check_logs import masking
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.iam_federation import (
    CREDENTIALS_STEP,
    TOKEN_STEP,
    temporary_credentials,
    token_with_id_token,
)
from codearts_check_logs.errors import AuthFailed


def federated(exchange: Exchange, cloud: HuaweiCloud, id_token: str, idp: str = "") -> str:
    return token_with_id_token(
        exchange, cloud.iam.url, idp_id=idp or cloud.idp.idp_id, id_token=id_token
    )


def test_id_token_to_temporary_keys(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    id_token = cloud.github.mint(IAM3_AUDIENCE)
    token = federated(exchange, cloud, id_token)
    keys = temporary_credentials(exchange, cloud.iam.url, token, clock=clock)

    issued = cloud.account.access_key(keys.access_key)
    assert issued is not None
    assert issued.origin == "securitytokens"
    assert keys.expires_at == clock() + 3600
    first, second = cloud.iam.calls()
    assert (first.path, first.header("X-Idp-Id")) == (ID_TOKEN_PATH, cloud.idp.idp_id)
    assert second.path == SECURITY_TOKENS_PATH
    assert second.header("X-Auth-Token") == token
    assert second.json()["auth"]["identity"]["token"] == {"id": token, "duration_seconds": 3600}
    assert cloud.where_sent(id_token) == {"iam"}
    assert cloud.where_sent(token) == {"iam"}
    assert masking.redact(f"{token} {keys.secret_key}") == "*** ***"


def test_the_wrong_audience(exchange: Exchange, cloud: HuaweiCloud) -> None:
    with pytest.raises(AuthFailed) as caught:
        federated(exchange, cloud, cloud.github.mint())
    error = caught.value
    assert (error.code, error.service, error.step, error.http_status) == (
        "IAM.0001",
        "IAM",
        TOKEN_STEP,
        401,
    )


def test_no_mapping_rule_for_this_repository(exchange: Exchange, cloud: HuaweiCloud) -> None:
    id_token = cloud.github.mint(IAM3_AUDIENCE, sub="repo:someone/else:ref:refs/heads/main")
    with pytest.raises(AuthFailed) as caught:
        federated(exchange, cloud, id_token)
    assert (caught.value.code, caught.value.http_status) == ("IAM.0002", 403)
    assert len(cloud.iam.calls()) == 1


def test_an_unknown_identity_provider(exchange: Exchange, cloud: HuaweiCloud) -> None:
    with pytest.raises(AuthFailed) as caught:
        federated(exchange, cloud, cloud.github.mint(IAM3_AUDIENCE), idp="nope")
    assert caught.value.code == "IAM.0004"


def test_a_token_iam_does_not_know(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    with pytest.raises(AuthFailed) as caught:
        temporary_credentials(exchange, cloud.iam.url, "MIIEnot-a-token-0123", clock=clock)
    assert (caught.value.code, caught.value.step) == ("IAM.0001", CREDENTIALS_STEP)
