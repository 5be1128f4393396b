"""The resolver: every way ends in credentials CodeArts accepts, obtained once per run, with the
project looked up only when not given, and temporary keys renewed once when they run out."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import AUTH_WAYS, AuthWay, HuaweiCloud
from devtools.doubles.codearts import Simulator
from devtools.doubles.iam import PROJECTS_PATH, TOKENS_PATH
from devtools.doubles.sts import ASSUME_PATH

from codearts_check_logs import masking
from codearts_check_logs.auth.credentials import (
    RENEW_MARGIN_SECONDS,
    SignedCredentials,
    TokenCredentials,
)
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.auth.resolver import Endpoints, Resolver
from codearts_check_logs.auth.ways import choose_way
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import AuthFailed
from codearts_check_logs.inputs.metadata import input_specs
from codearts_check_logs.net.cancel import CancelToken

ID = "a777ff00d3cf4d369d87066806ae0001"


@pytest.fixture
def gateway(cloud: HuaweiCloud) -> Iterator[Simulator]:
    with Simulator(account=cloud.account) as sim:
        yield sim


def resolver(
    cloud: HuaweiCloud,
    gateway: Simulator,
    clock: ManualClock,
    way: AuthWay,
    *,
    project_id: bool = False,
    **changes: str,
) -> Resolver:
    raw = {name: spec.default for name, spec in input_specs().items()}
    raw.update(cloud.inputs(way, project_id=project_id))
    raw.update({k.replace("_", "-"): v for k, v in changes.items()})
    auth = choose_way(raw, RunnerEnvironment.read(cloud.github.env()))
    endpoints = Endpoints(cloud.region, gateway.base_url, cloud.iam.url, cloud.sts.url)
    return Resolver(auth, endpoints, cancel=CancelToken(), budget=20, clock=clock)


def download(credentials: requests.auth.AuthBase, gateway: Simulator) -> int:
    url = f"{gateway.base_url}/v1/log-file"
    return requests.get(url, params={"sub_job_id": ID}, auth=credentials, timeout=10).status_code


def test_aksk_with_a_project_opens_no_session_and_registers_nothing(
    cloud: HuaweiCloud,
    gateway: Simulator,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing to exchange: no session and no watchdog thread (both come with an exchange);
    the keys were masked at the entry point, not again."""
    told: list[str] = []
    masking.on_register(told.append)

    def no_exchange(**_: object) -> None:
        raise AssertionError("an exchange was opened")

    monkeypatch.setattr(Exchange, "opened", no_exchange)
    credentials = resolver(cloud, gateway, clock, "aksk", project_id=True).credentials()
    assert isinstance(credentials, SignedCredentials)
    assert told == []
    assert download(credentials, gateway) == 200


@pytest.mark.parametrize("way", AUTH_WAYS)
def test_every_way_gives_credentials_codearts_accepts(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock, way: AuthWay
) -> None:
    credentials = resolver(cloud, gateway, clock, way).credentials()

    assert download(credentials, gateway) == 200
    [request] = gateway.requests
    if way in {"token", "password"}:
        assert isinstance(credentials, TokenCredentials)
        assert request.header("X-Auth-Token")
    else:
        assert isinstance(credentials, SignedCredentials)
        assert (request.header("Authorization") or "").startswith("SDK-HMAC-SHA256 ")
        assert request.header("X-Project-Id") == cloud.project_id
        assert (request.header("X-Security-Token") is None) == (way == "aksk")
    lookups = cloud.iam.calls(path=PROJECTS_PATH)
    assert len(lookups) == (0 if way in {"token", "password"} else 1)


def test_a_given_project_id_needs_no_lookup(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    credentials = resolver(cloud, gateway, clock, "aksk", project_id=True).credentials()
    assert download(credentials, gateway) == 200
    assert cloud.requests() == []


def test_one_password_token_however_many_ask(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    shared = resolver(cloud, gateway, clock, "password")
    found: list[object] = []
    threads = [
        threading.Thread(target=lambda: found.append(shared.credentials())) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(cloud.iam.calls(path=TOKENS_PATH)) == 1
    assert len({id(credentials) for credentials in found}) == 1


def test_a_password_token_is_scoped_by_the_project_id_when_given(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    resolver(cloud, gateway, clock, "password", project_id=True).credentials()
    [call] = cloud.iam.calls(path=TOKENS_PATH)
    assert call.json()["auth"]["scope"] == {"project": {"id": cloud.project_id}}


@pytest.mark.parametrize("way", ["oidc-iam5", "oidc-iam3"])
def test_temporary_keys_are_renewed_once_when_they_run_out(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock, way: AuthWay
) -> None:
    credentials = resolver(cloud, gateway, clock, way).credentials()
    assert download(credentials, gateway) == 200
    first_key = gateway.requests[-1].header("Authorization")
    exchanges = len(cloud.github.token_requests())

    clock.advance(3600 - RENEW_MARGIN_SECONDS + 1)  # an hour-long run: the keys expire soon
    statuses: list[int] = []
    threads = [
        threading.Thread(target=lambda: statuses.append(download(credentials, gateway)))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 6
    assert len(cloud.github.token_requests()) == exchanges + 1
    assert gateway.requests[-1].header("Authorization") != first_key
    assert len(cloud.account.temporary_keys()) == 3  # the cloud's own, the first, the renewal


def test_a_refused_renewal_fails_the_requests_that_need_it(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    credentials = resolver(cloud, gateway, clock, "oidc-iam5").credentials()
    clock.advance(3600)
    cloud.sts.fail_next(403, {"error_code": "STS5.3001", "error_msg": "denied"}, path=ASSUME_PATH)
    for _ in range(3):
        with pytest.raises(AuthFailed) as caught:
            download(credentials, gateway)
        assert (caught.value.code, caught.value.step) == ("STS5.3001", "AssumeAgencyWithOIDC")
    assert len(cloud.sts.calls(path=ASSUME_PATH)) == 2  # the first exchange and one renewal


def test_a_refusal_fails_the_resolution(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    shared = resolver(cloud, gateway, clock, "password", iam_password="Pw-not-the-password")
    with pytest.raises(AuthFailed) as caught:
        shared.credentials()
    assert (caught.value.service, caught.value.step) == ("IAM", "password token")
    assert gateway.requests == []


def test_the_log_says_which_way_without_secrets(
    cloud: HuaweiCloud, gateway: Simulator, clock: ManualClock
) -> None:
    lines: list[str] = []
    shared = resolver(cloud, gateway, clock, "aksk")
    shared._log = lines.append
    shared.credentials()
    assert lines == [
        f"Credentials: AK/SK, signed requests; project {cloud.project_id} ({cloud.region}) "
        "looked up at IAM"
    ]
    assert cloud.access_key.access not in repr(shared)
