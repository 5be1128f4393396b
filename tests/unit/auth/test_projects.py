"""The project lookup: one signed `GET /v3/projects?name=<region>` at IAM, with the run's keys."""

from __future__ import annotations

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud

from codearts_check_logs.auth.credentials import AccessKeys, SignedCredentials, StaticKeys
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.projects import PROJECTS_PATH, STEP, lookup_project_id
from codearts_check_logs.errors import AuthFailed


def on_iam(cloud: HuaweiCloud, clock: ManualClock, secret: str | None = None) -> SignedCredentials:
    keys = AccessKeys(cloud.access_key.access, secret or cloud.access_key.secret)
    return SignedCredentials(cloud.iam.url, StaticKeys(keys), clock=clock)


def test_the_regions_project(exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock) -> None:
    found = lookup_project_id(exchange, cloud.iam.url, on_iam(cloud, clock), cloud.region)

    assert found == cloud.project_id
    [call] = cloud.iam.calls()
    assert (call.path, call.params) == (PROJECTS_PATH, {"name": [cloud.region]})
    assert call.header(
        "Authorization",
    ).startswith("SDK-HMAC-SHA256 Access=")  # type: ignore[union-attr]
    assert call.header("X-Project-Id") is None
    assert cloud.where_sent(cloud.access_key.secret) == set()


def test_temporary_keys_look_up_too(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    key = cloud.temporary
    keys = StaticKeys(AccessKeys(key.access, key.secret, key.security_token or ""))
    credentials = SignedCredentials(cloud.iam.url, keys, clock=clock)
    assert lookup_project_id(exchange, cloud.iam.url, credentials, cloud.region) == cloud.project_id


def test_a_wrong_secret_key_is_one_refused_request(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    credentials = on_iam(cloud, clock, secret="x" * 40)
    with pytest.raises(AuthFailed) as caught:
        lookup_project_id(exchange, cloud.iam.url, credentials, cloud.region)
    error = caught.value
    assert (error.code, error.http_status, error.service, error.step) == (
        "APIGW.0301",
        401,
        "IAM",
        STEP,
    )
    assert len(cloud.iam.calls()) == 1
    assert cloud.account.failures(cloud.access_key.access) == 1


def test_a_region_without_a_project(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    with pytest.raises(AuthFailed, match="no project named eu-west-101") as caught:
        lookup_project_id(exchange, cloud.iam.url, on_iam(cloud, clock), "eu-west-101")
    assert caught.value.code == "AUTH_FAILED"


@pytest.mark.parametrize(
    "answer",
    [{}, {"projects": "x"}, {"projects": [{"name": "cn-north-4", "id": "a/b"}]}],
)
def test_an_unusable_list(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock, answer: dict[str, object]
) -> None:
    cloud.iam.fail_next(200, answer)
    with pytest.raises(AuthFailed) as caught:
        lookup_project_id(exchange, cloud.iam.url, on_iam(cloud, clock), "cn-north-4")
    assert caught.value.code == "AUTH_FAILED"
