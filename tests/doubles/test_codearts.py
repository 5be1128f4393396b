"""The CodeArts simulator's two ways of checking credentials: a fixed token (token mode), or the
API gateway's rules through a shared account (account mode)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.codearts import Simulator

ID = "a777ff00d3cf4d369d87066806ae0001"


@pytest.fixture
def gateway(cloud: HuaweiCloud) -> Iterator[Simulator]:
    with Simulator(account=cloud.account) as sim:
        yield sim


def url_of(sim: Simulator) -> str:
    return f"{sim.base_url}/v1/log-file?sub_job_id={ID}"


def test_token_mode_is_unchanged() -> None:
    with Simulator(token="the-token-0123") as sim:
        assert requests.get(url_of(sim), headers={"X-Auth-Token": "the-token-0123"}, timeout=5).ok
        refused = requests.get(url_of(sim), headers={"X-Auth-Token": "other"}, timeout=5)
        assert (refused.status_code, refused.json()["error_code"]) == (401, "CC.00000003")


def test_account_mode_checks_like_the_gateway(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    url = url_of(gateway)
    signed = cloud.sign("GET", url)
    assert requests.get(url, headers=signed, timeout=5).status_code == 200
    token = requests.get(url, headers={"X-Auth-Token": cloud.token.value}, timeout=5)
    assert token.status_code == 200

    bare = requests.get(url, timeout=5)
    assert (bare.status_code, bare.json()["error_code"]) == (401, "APIGW.0301")
    clock.advance(16 * 60)
    stale = requests.get(url, headers=signed, timeout=5)
    assert (stale.status_code, stale.json()["error_code"]) == (401, "APIGW.0303")
    assert gateway.received(cloud.access_key.access)
    assert not gateway.received(cloud.access_key.secret)
