"""The exchanges' HTTP rules against the IAM double: 429/5xx/network errors retried within the
budget, never a 401 or 403, no redirect followed, and every refusal an AuthFailed with the
service's textual code or AUTH_FAILED."""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

import pytest
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.iam import TOKENS_PATH, password_body
from devtools.doubles.slow import SlowServer, answer

from codearts_check_logs import masking
from codearts_check_logs.auth import exchange as exchange_module
from codearts_check_logs.auth.exchange import (
    GITHUB,
    IAM,
    Exchange,
    keys_from,
    parse_expiry,
)
from codearts_check_logs.errors import AuthFailed, Cancelled
from codearts_check_logs.net import capped, retry
from codearts_check_logs.net.cancel import CancelToken

STEP = "password token"


def body(cloud: HuaweiCloud, password: str | None = None) -> dict[str, object]:
    return password_body(
        cloud.user.name,
        password or cloud.password,
        cloud.account.domain_name,
        project={"name": cloud.region},
    )


def post(exchange: Exchange, cloud: HuaweiCloud, password: str | None = None) -> int:
    answer = exchange.send(
        IAM, STEP, "POST", f"{cloud.iam.url}{TOKENS_PATH}", body=body(cloud, password)
    )
    return answer.status


def failure(exchange: Exchange, cloud: HuaweiCloud, password: str | None = None) -> AuthFailed:
    with pytest.raises(AuthFailed) as caught:
        post(exchange, cloud, password)
    assert caught.value.service == IAM
    assert caught.value.step == STEP
    return caught.value


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retried(
    exchange: Exchange, cloud: HuaweiCloud, status: int
) -> None:
    lines: list[str] = []
    exchange._log = lines.append
    cloud.iam.fail_next(status, times=2)

    assert post(exchange, cloud) == 201
    assert len(cloud.iam.calls()) == 3
    assert lines[0].startswith(f"IAM {STEP}: attempt 1 failed with ")


def test_a_dropped_connection_is_retried(exchange: Exchange, cloud: HuaweiCloud) -> None:
    cloud.iam.drop_next()
    assert post(exchange, cloud) == 201
    assert len(cloud.iam.calls()) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_are_never_retried(exchange: Exchange, cloud: HuaweiCloud, status: int) -> None:
    cloud.iam.fail_next(status, {"error_code": "IAM.0001", "error_msg": "no"}, times=5)
    error = failure(exchange, cloud)
    assert (error.code, error.message, error.http_status) == ("IAM.0001", "no", status)
    assert len(cloud.iam.calls()) == 1


def test_a_keystone_numeric_code_is_a_status_not_a_code(
    exchange: Exchange, cloud: HuaweiCloud
) -> None:
    error = failure(exchange, cloud, password="not-the-password")
    assert error.code == "AUTH_FAILED"
    assert error.http_status == 401
    assert error.message == "The username or password is wrong."
    assert error.request_id  # the double's X-Request-Id
    assert not error.retryable


def test_the_last_retryable_failure_is_reported(exchange: Exchange, cloud: HuaweiCloud) -> None:
    cloud.iam.fail_next(503, b"<html>busy</html>", times=10)
    error = failure(exchange, cloud)
    assert error.code == "AUTH_FAILED"
    assert error.http_status == 503
    assert "HTTP 503" in error.message
    assert len(cloud.iam.calls()) == 5


def test_a_gateway_code_is_kept(exchange: Exchange, cloud: HuaweiCloud) -> None:
    cloud.iam.fail_next(429, times=10)
    error = failure(exchange, cloud)
    assert error.code == "APIGW.0308"
    assert error.request_id


def test_retry_after_is_honoured(cloud: HuaweiCloud) -> None:
    """The wait asked for is the one taken: recorded, not waited for."""
    waits: list[float] = []
    policy = replace(retry.CREDENTIALS, initial=0.01, maximum=0.02, sleep=waits.append)
    cloud.iam.fail_next(429, headers={"Retry-After": "1"})
    with (
        retry.using(credentials=policy),
        Exchange.opened(cancel=CancelToken(), budget=20) as exchange,
    ):
        assert post(exchange, cloud) == 201
    assert waits == [1.0]
    assert len(cloud.iam.calls()) == 2


def test_redirects_are_not_followed(exchange: Exchange, cloud: HuaweiCloud) -> None:
    cloud.iam.fail_next(307, {}, headers={"Location": f"{cloud.sts.url}{TOKENS_PATH}"})
    error = failure(exchange, cloud)
    assert error.code == "AUTH_FAILED"
    assert "redirect (HTTP 307), which is not followed" in error.message
    assert cloud.sts.calls() == []
    assert cloud.where_sent(cloud.password) == {"iam"}


@pytest.mark.realtime
def test_the_budget_bounds_every_attempt(cloud: HuaweiCloud) -> None:
    cloud.iam.stall_next(10, times=5)
    with (
        Exchange.opened(cancel=CancelToken(), budget=1.0) as short,
        pytest.raises(AuthFailed) as caught,
    ):
        post(short, cloud)
    assert caught.value.code == "TIMEOUT"
    assert "timeout-seconds (1 s)" in caught.value.message


def test_an_unreachable_service_is_a_network_error(exchange: Exchange) -> None:
    with pytest.raises(AuthFailed) as caught:
        exchange.send(IAM, STEP, "GET", "http://127.0.0.1:9/v3/projects")
    assert caught.value.code == "NETWORK_ERROR"
    assert "connection refused" in caught.value.message


def test_a_cancel_stops_the_exchange(cloud: HuaweiCloud) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with Exchange.opened(cancel=cancel, budget=5) as cancelled, pytest.raises(Cancelled):
        post(cancelled, cloud)
    assert cloud.iam.calls() == []


def test_an_answer_that_is_not_json_is_unusable(exchange: Exchange, cloud: HuaweiCloud) -> None:
    cloud.iam.fail_next(200, b"<html>portal</html>")
    answer = exchange.send(IAM, STEP, "GET", f"{cloud.iam.url}/v3/projects")
    with pytest.raises(AuthFailed, match="without a JSON object body") as caught:
        answer.document(IAM, STEP)
    assert caught.value.code == "AUTH_FAILED"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2027-01-15T08:00:00.000000Z", 1_800_000_000.0),
        ("2027-01-15T08:00:00.000Z", 1_800_000_000.0),
        ("2027-01-15T16:00:00+08:00", 1_800_000_000.0),
        ("2027-01-15T08:00:00", None),
        ("soon", None),
        (None, None),
    ],
)
def test_expiry_times(text: object, seconds: float | None) -> None:
    assert parse_expiry(text) == seconds


def test_temporary_keys_in_either_naming_expire_no_later_than_asked() -> None:
    sts = {
        "access_key_id": "A" * 20,
        "secret_access_key": "S" * 40,
        "security_token": "T" * 100,
        "expiration": "2027-01-15T09:00:00.000Z",
    }
    iam = {"access": "A" * 20, "secret": "S" * 40, "securitytoken": "T" * 100}
    early = keys_from(sts, service="STS", step="s", started=1_800_000_000.0, duration=3600)
    assert early.expires_at == 1_800_003_600.0
    late = keys_from(sts, service="STS", step="s", started=1_799_990_000.0, duration=3600)
    assert late.expires_at == 1_799_993_600.0  # the runner's clock runs behind: trust the duration
    assert keys_from(iam, service=IAM, step="s", started=5.0, duration=900).expires_at == 905.0
    with pytest.raises(AuthFailed, match="without an access key"):
        keys_from({"access": "A" * 20}, service=IAM, step="s", started=0, duration=1)


def test_temporary_keys_too_short_to_be_secrets_are_refused_not_masked() -> None:
    """A service that hands out a one-character key: masking it would edit every output."""
    found = {"access": "A" * 20, "secret": "e", "securitytoken": "T" * 100}
    with pytest.raises(AuthFailed, match="without an access key"):
        keys_from(found, service=IAM, step="s", started=0, duration=1)
    assert masking.redact("failure AAAAAAAAAAAAAAAAAAAA") == "failure ***"


def test_a_redirect_whose_location_is_not_utf8_is_a_refusal(
    exchange: Exchange, cloud: HuaweiCloud
) -> None:
    """Not UnicodeDecodeError from inside `requests`: AUTH_FAILED, saying it was not followed."""
    cloud.iam.fail_next(307, {}, headers={"Location": "https://elsewhere.example/\xff"})
    error = failure(exchange, cloud)
    assert (error.code, error.http_status) == ("AUTH_FAILED", 307)
    assert "redirect (HTTP 307), which is not followed" in error.message


def test_an_endless_answer_one_byte_per_chunk_costs_the_cap(
    exchange: Exchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub's ID-token endpoint sending an endless body a byte per chunk: the memory is the
    cap's (here 100 kB instead of 1 MiB, so that the test is quick), not some fifty times it."""
    cap = 100_000
    monkeypatch.setattr(exchange_module, "read_capped", lambda r: capped.read_capped(r, cap))
    with SlowServer(answer("body", interval=0, piece=1)) as server:
        tracemalloc.start()
        try:
            received = exchange.send(GITHUB, "ID token", "GET", server.url)
            _size, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert len(received.body) == 100_000
    assert peak < 500_000, f"{peak:,} bytes at the peak"
