"""The IAM password token against the IAM double: one request, scoped to the region's project
(by name, or by ID), the password only to IAM, the token a secret from the moment it arrives."""

from __future__ import annotations

import pytest
from devtools.doubles.cloud import HuaweiCloud

from codearts_check_logs import masking
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.iam_password import STEP, TOKENS_PATH, password_token
from codearts_check_logs.errors import AuthFailed


def obtain(exchange: Exchange, cloud: HuaweiCloud, **changes: str) -> str:
    values = {
        "user": cloud.user.name,
        "password": cloud.password,
        "domain": cloud.account.domain_name,
        "project_name": cloud.region,
        **changes,
    }
    return password_token(exchange, cloud.iam.url, **values).value


def test_a_token_scoped_to_the_regions_project(exchange: Exchange, cloud: HuaweiCloud) -> None:
    token = obtain(exchange, cloud)

    issued = cloud.account.token(token)
    assert issued is not None
    assert issued.project_id == cloud.project_id
    [call] = cloud.iam.calls()
    assert (call.method, call.path, call.query) == ("POST", TOKENS_PATH, "nocatalog=true")
    assert call.header("Content-Type") == "application/json;charset=UTF-8"
    assert cloud.where_sent(cloud.password) == {"iam"}
    assert masking.redact(f"token {token}") == "token ***"


def test_a_token_scoped_by_project_id(exchange: Exchange, cloud: HuaweiCloud) -> None:
    other = cloud.account.add_project("ap-southeast-3")
    token = obtain(exchange, cloud, project_id=other)
    issued = cloud.account.token(token)
    assert issued is not None
    assert issued.project_id == other
    assert cloud.iam.calls()[0].json()["auth"]["scope"] == {"project": {"id": other}}


def test_the_token_carries_its_expiry(exchange: Exchange, cloud: HuaweiCloud) -> None:
    issued = password_token(
        exchange,
        cloud.iam.url,
        user=cloud.user.name,
        password=cloud.password,
        domain=cloud.account.domain_name,
        project_name=cloud.region,
    )
    assert issued.expires_at == pytest.approx(cloud.account.clock() + 24 * 3600, abs=1)
    assert issued.value not in repr(issued)


@pytest.mark.parametrize(
    "change",
    [
        {"password": "Pw-wrong-password"},
        {"domain": "another-domain"},
        {"user": "nobody"},
    ],
)
def test_a_refused_password(exchange: Exchange, cloud: HuaweiCloud, change: dict[str, str]) -> None:
    with pytest.raises(AuthFailed) as caught:
        obtain(exchange, cloud, **change)
    error = caught.value
    assert (error.code, error.service, error.step, error.http_status) == (
        "AUTH_FAILED",
        "IAM",
        STEP,
        401,
    )
    assert error.message == "The username or password is wrong."
    assert len(cloud.iam.calls()) == 1


def test_an_mfa_user_gets_no_token(exchange: Exchange, cloud: HuaweiCloud) -> None:
    with pytest.raises(AuthFailed, match="MFA") as caught:
        obtain(exchange, cloud, user=cloud.mfa_user.name, password=cloud.mfa_user.password)
    assert caught.value.code == "AUTH_FAILED"


def test_an_unknown_project_keeps_iams_code(exchange: Exchange, cloud: HuaweiCloud) -> None:
    with pytest.raises(AuthFailed) as caught:
        obtain(exchange, cloud, project_name="eu-west-101")
    assert (caught.value.code, caught.value.http_status) == ("IAM.0004", 404)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "without a usable X-Subject-Token"),
        ({"X-Subject-Token": "e"}, "without a usable X-Subject-Token"),
        ({"X-Subject-Token": "MIIE token with spaces"}, "cannot be sent"),
    ],
)
def test_a_success_without_a_usable_token(
    exchange: Exchange, cloud: HuaweiCloud, headers: dict[str, str], expected: str
) -> None:
    cloud.iam.fail_next(201, {"token": {}}, headers=headers)
    with pytest.raises(AuthFailed, match=expected) as caught:
        obtain(exchange, cloud)
    assert caught.value.code == "AUTH_FAILED"
    assert masking.redact("failure") == "failure", "a token too short is refused, never masked"
