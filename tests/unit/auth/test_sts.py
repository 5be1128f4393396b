"""AssumeAgencyWithOIDC against the STS double: temporary keys the gateway accepts, the ID token
to STS only, and STS's own code when it refuses."""

from __future__ import annotations

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.sts import ASSUME_PATH

from codearts_check_logs import masking
from codearts_check_logs.auth.credentials import AccessKeys
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.sts import STEP, assume_agency_with_oidc
from codearts_check_logs.errors import AuthFailed


def assume(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock, id_token: str, **changes: str
) -> AccessKeys:
    return assume_agency_with_oidc(
        exchange,
        cloud.sts.url,
        provider_urn=changes.get("provider_urn", cloud.provider.urn),
        agency_urn=changes.get("agency_urn", cloud.agency.urn),
        session_name="codearts-check-logs-42",
        id_token=id_token,
        clock=clock,
    )


def test_temporary_keys_for_an_hour(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    id_token = cloud.github.mint()
    keys = assume(exchange, cloud, clock, id_token)

    issued = cloud.account.access_key(keys.access_key)
    assert issued is not None
    assert issued.origin == "sts"
    assert keys.expires_at == clock() + 3600
    [call] = cloud.sts.calls(path=ASSUME_PATH)
    assert call.json()["duration_seconds"] == 3600
    assert call.json()["agency_session_name"] == "codearts-check-logs-42"
    assert call.header("Authorization") is None  # unsigned
    assert cloud.where_sent(id_token) == {"sts"}
    assert masking.redact(keys.security_token) == "***"


def test_an_audience_the_provider_does_not_list(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    with pytest.raises(AuthFailed) as caught:
        assume(exchange, cloud, clock, cloud.github.mint("someone-else"))
    error = caught.value
    assert (error.code, error.service, error.step, error.http_status) == (
        "STS5.1002",
        "STS",
        STEP,
        400,
    )
    assert len(cloud.sts.calls(path=ASSUME_PATH)) == 1


def test_a_repository_the_agency_does_not_trust(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    id_token = cloud.github.mint(repository="someone/else", sub="repo:someone/else:ref:x")
    with pytest.raises(AuthFailed) as caught:
        assume(exchange, cloud, clock, id_token)
    assert (caught.value.code, caught.value.http_status) == ("STS5.3001", 403)
    assert len(cloud.sts.calls(path=ASSUME_PATH)) == 1


def test_an_unknown_agency(exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock) -> None:
    with pytest.raises(AuthFailed) as caught:
        assume(exchange, cloud, clock, cloud.github.mint(), agency_urn="iam::0:agency:nope")
    assert caught.value.code == "STS5.2002"


def test_an_answer_without_credentials(
    exchange: Exchange, cloud: HuaweiCloud, clock: ManualClock
) -> None:
    cloud.sts.fail_next(200, {"assumed_agency": {}})
    with pytest.raises(AuthFailed, match="without `credentials`"):
        assume(exchange, cloud, clock, cloud.github.mint())
