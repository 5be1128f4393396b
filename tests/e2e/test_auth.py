"""The five authentication ways through the real entrypoint, against the IAM, STS and GitHub
ID-token doubles and a CodeArts simulator that authenticates like the API gateway: each way end
to end, one exchange per run, and each refusal failing the run with nothing sent where nothing
may be sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from devtools.doubles.account import iso_time
from devtools.doubles.cloud import IAM3_AUDIENCE, AuthWay, HuaweiCloud, huawei_cloud
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.iam import (
    ID_TOKEN_PATH,
    PROJECTS_PATH,
    SECURITY_TOKENS_PATH,
    TOKENS_PATH,
)
from devtools.doubles.results import ResultsDouble
from devtools.doubles.sts import ASSUME_PATH

from tests.conftest import ID1, ID2, ActionRunner, Run

pytestmark = pytest.mark.e2e
ID3 = "c999ff00d3cf4d369d87066806ae0003"


@pytest.fixture
def cloud() -> Iterator[HuaweiCloud]:
    with huawei_cloud() as running:
        yield running


@pytest.fixture
def gateway(cloud: HuaweiCloud) -> Iterator[Simulator]:
    """CodeArts Check behind the API gateway, authenticating through the cloud's account."""
    with Simulator(account=cloud.account) as sim:
        yield sim


def step(gateway: Simulator, *ids: str, **extra: str) -> dict[str, str]:
    values = {
        "sub-job-id": "\n".join(ids or (ID1,)),
        "endpoint": gateway.base_url,
        "upload-artifact": "false",
    }
    values.update(extra)
    return values


def succeeded(run: Run, *ids: str) -> None:
    assert run.returncode == 0, run.log + run.summary
    assert run.outputs["status"] == "success"
    for sub_job_id in ids or (ID1,):
        assert (run.workspace / "codearts-check-logs" / f"{sub_job_id}.zip").is_file()


def failed_before_sending(run: Run, code: str) -> str:
    assert run.returncode == 1
    assert run.outputs["error-code"] == code
    assert run.outputs["results"] == "[]"
    return run.outputs["error-message"]


def signed_with(request: Any, project_id: str, *, security_token: bool) -> None:
    header = request.header
    assert (header("Authorization") or "").startswith("SDK-HMAC-SHA256 Access=")
    assert header("X-Auth-Token") is None
    assert header("X-Project-Id") == project_id
    assert (header("X-Security-Token") is not None) == security_token


# -- each way end to end --------------------------------------------------------------------------


def test_aksk_looks_the_project_up_once(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway, ID1, ID2, **cloud.inputs("aksk")))

    succeeded(run, ID1, ID2)
    assert [(r.service, r.path) for r in cloud.requests()] == [("iam", PROJECTS_PATH)]
    assert len(gateway.requests) == 2
    for request in gateway.requests:
        signed_with(request, cloud.project_id, security_token=False)
    assert f"Credentials: AK/SK, signed requests; project {cloud.project_id}" in run.stdout


def test_aksk_with_a_project_id_asks_iam_nothing(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway, **cloud.inputs("aksk", project_id=True)))

    succeeded(run)
    assert cloud.requests() == []
    signed_with(gateway.requests[0], cloud.project_id, security_token=False)


def test_temporary_aksk_with_a_security_token(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway, **cloud.inputs("temporary-aksk")))

    succeeded(run)
    [lookup] = cloud.iam.calls()
    assert lookup.header("X-Security-Token") == cloud.temporary.security_token
    signed_with(gateway.requests[0], cloud.project_id, security_token=True)
    assert gateway.requests[0].header("X-Security-Token") == cloud.temporary.security_token


def test_the_auth_action_environment(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    """What `huaweicloud/auth-action` exports; its region picks the project to look up."""
    env = {
        "HUAWEI_CLOUD_ACCESS_KEY_ID": cloud.access_key.access,
        "HUAWEI_CLOUD_SECRET_ACCESS_KEY": cloud.access_key.secret,
        "HUAWEI_CLOUD_REGION": "cn-south-1",
    }
    run = run_action(step(gateway, **{"iam-endpoint": cloud.iam.url}), env=env)

    succeeded(run)
    [lookup] = cloud.iam.calls()
    assert lookup.params == {"name": ["cn-south-1"]}
    south = cloud.account.project_id("cn-south-1")
    assert south is not None
    signed_with(gateway.requests[0], south, security_token=False)
    assert "from HUAWEI_CLOUD_ACCESS_KEY_ID, HUAWEI_CLOUD_SECRET_ACCESS_KEY" in run.stdout


def test_the_sdk_environment_with_a_security_token_and_project(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    env = {
        "HUAWEICLOUD_SDK_AK": cloud.temporary.access,
        "HUAWEICLOUD_SDK_SK": cloud.temporary.secret,
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": cloud.temporary.security_token or "",
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    run = run_action(step(gateway), env=env)

    succeeded(run)
    assert cloud.requests() == []
    signed_with(gateway.requests[0], cloud.project_id, security_token=True)


def test_a_token(cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner) -> None:
    run = run_action(step(gateway, **cloud.inputs("token")))

    succeeded(run)
    assert cloud.requests() == []
    assert gateway.requests[0].header("X-Auth-Token") == cloud.token.value
    assert gateway.requests[0].header("Authorization") is None


def test_an_iam_password_gives_three_sub_jobs_one_token(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway, ID1, ID2, ID3, **cloud.inputs("password")))

    succeeded(run, ID1, ID2, ID3)
    [exchange] = cloud.requests()
    assert (exchange.method, exchange.path) == ("POST", TOKENS_PATH)
    tokens = {r.header("X-Auth-Token") for r in gateway.requests}
    assert len(gateway.requests) == 3
    assert len(tokens) == 1
    issued = cloud.account.token(str(tokens.pop()))
    assert issued is not None
    assert (issued.user, issued.project_id) == (cloud.user.name, cloud.project_id)


def test_oidc_iam5(cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner) -> None:
    run = run_action(step(gateway, ID1, ID2, **cloud.inputs("oidc-iam5")), env=cloud.github.env())

    succeeded(run, ID1, ID2)
    [id_token_request] = cloud.github.token_requests()
    assert "audience" not in id_token_request.params  # GitHub's default audience
    assert [(r.service, r.path) for r in cloud.requests() if r.service != "github-oidc"] == [
        ("sts", ASSUME_PATH),
        ("iam", PROJECTS_PATH),
    ]
    assessed = cloud.sts.calls(path=ASSUME_PATH)[0].json()
    assert assessed["duration_seconds"] == 3600
    assert assessed["agency_session_name"] == "codearts-check-logs-4242"
    for request in gateway.requests:
        signed_with(request, cloud.project_id, security_token=True)
    assert "AssumeAgencyWithOIDC" in run.stdout


def test_oidc_iam3(cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner) -> None:
    run = run_action(step(gateway, **cloud.inputs("oidc-iam3")), env=cloud.github.env())

    succeeded(run)
    [id_token_request] = cloud.github.token_requests()
    assert id_token_request.params["audience"] == [IAM3_AUDIENCE]
    assert [r.path for r in cloud.iam.calls()] == [
        ID_TOKEN_PATH,
        SECURITY_TOKENS_PATH,
        PROJECTS_PATH,
    ]
    assert cloud.sts.calls() == []
    signed_with(gateway.requests[0], cloud.project_id, security_token=True)


# -- refusals: the run fails, and nothing is sent where nothing may be --------------------------


def test_a_wrong_secret_key_is_one_request_and_apigw_0301(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    inputs = {**cloud.inputs("aksk", project_id=True), "secret-access-key": "x" * 40}
    run = run_action(step(gateway, **inputs))

    assert run.returncode == 1
    assert run.outputs["error-code"] == "APIGW.0301"
    assert "| error_code | APIGW.0301 |" in run.summary
    assert len(gateway.requests) == 1
    assert cloud.requests() == []
    assert cloud.account.failures(cloud.access_key.access) == 1


def test_a_wrong_secret_key_fails_at_the_project_lookup_with_one_request(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    inputs = {**cloud.inputs("aksk"), "secret-access-key": "x" * 40}
    run = run_action(step(gateway, ID1, ID2, **inputs))

    failed_before_sending(run, "APIGW.0301")
    assert len(cloud.requests()) == 1
    assert gateway.requests == []
    assert "| Service | IAM |" in run.summary
    assert "| Step | project lookup |" in run.summary
    assert "five failures in a row lock the key" in run.summary


def test_a_wrong_secret_key_costs_one_failed_signature_whatever_the_workers(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    """Forty sub-jobs, four workers: the first request goes alone, is refused, and the other 39
    are not sent, yet every sub-job is reported with the refusal's code."""
    ids = [f"{n:032x}" for n in range(1, 41)]
    inputs = {**cloud.inputs("aksk", project_id=True), "secret-access-key": "x" * 40}
    run = run_action(step(gateway, *ids, **inputs))

    assert run.returncode == 1
    assert len(gateway.requests) == 1
    assert cloud.account.failures(cloud.access_key.access) == 1
    assert not cloud.account.locked(cloud.access_key.access)
    results = json.loads(run.outputs["results"])
    assert [r["sub_job_id"] for r in results] == ids
    assert {r["error_code"] for r in results} == {"APIGW.0301"}
    assert [r["http_status"] for r in results].count(401) == 1
    assert run.outputs["error-code"] == "APIGW.0301"
    assert "not sent&#58; CodeArts Check refused the credentials" in run.summary


def test_a_refused_token_costs_one_request_too(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    ids = [f"{n:032x}" for n in range(1, 13)]
    run = run_action(step(gateway, *ids, token="MIIE" + "x" * 60))

    assert len(gateway.requests) == 1
    results = json.loads(run.outputs["results"])
    assert len({r["error_code"] for r in results}) == 1
    assert len(results) == len(ids)


def test_a_forbidden_task_is_its_sub_jobs_own_failure(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    """A 403 says the credentials work but lack a permission: the other sub-jobs go ahead."""
    gateway.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no right"}))
    run = run_action(step(gateway, ID1, ID2, ID3, **cloud.inputs("aksk", project_id=True)))

    results = {r["sub_job_id"]: r for r in json.loads(run.outputs["results"])}
    assert results[ID1]["error_code"] == "CC.00050010"
    assert results[ID2]["status"] == results[ID3]["status"] == "success"


def test_short_lived_temporary_keys_are_used_while_valid_not_renewed_per_request(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    """STS hands out keys with 200 s to live, inside the 5-minute renewal margin: twenty
    sub-jobs still cost one ID token and one exchange."""
    key = cloud.account.issue_temporary("assumed-agency:reader/run", duration=200, origin="sts")
    credentials = {
        "access_key_id": key.access,
        "secret_access_key": key.secret,
        "security_token": key.security_token,
        "expiration": iso_time(key.expires_at or 0.0, digits=3),
    }
    cloud.sts.fail_next(200, {"credentials": credentials}, times=100, path=ASSUME_PATH)
    ids = [f"{n:032x}" for n in range(1, 21)]
    run = run_action(
        step(gateway, *ids, **cloud.inputs("oidc-iam5", project_id=True)),
        env=cloud.github.env(),
    )

    succeeded(run, *ids)
    assert len(cloud.sts.calls(ASSUME_PATH)) == 1
    assert len(cloud.github.token_requests()) == 1
    assert len(gateway.requests) == len(ids)


@pytest.mark.parametrize("way", ["password", "oidc-iam5"])
def test_a_credential_redirect_whose_location_is_not_text_is_not_followed(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner, way: AuthWay
) -> None:
    """IAM (the password token) or STS answers 307 with a `Location` holding a byte that is not
    UTF-8: AUTH_FAILED, saying the redirect was not followed, and nothing sent to it."""
    double, path = (cloud.iam, TOKENS_PATH) if way == "password" else (cloud.sts, ASSUME_PATH)
    double.fail_next(307, {}, path=path, headers={"Location": "https://elsewhere.example/\xff"})
    run = run_action(step(gateway, ID1, **cloud.inputs(way)), env=cloud.github.env())

    message = failed_before_sending(run, "AUTH_FAILED")
    assert "a redirect (HTTP 307), which is not followed" in message
    assert len(double.calls(path)) == 1
    assert gateway.requests == []


def test_iam_refusing_the_password(
    cloud: HuaweiCloud,
    gateway: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    inputs = {**cloud.inputs("password"), "iam-password": "Pw-not-the-password"}
    run = run_action(
        {**step(gateway, ID1, ID2, **inputs), "upload-artifact": "true"}, env=runner_env
    )

    message = failed_before_sending(run, "AUTH_FAILED")
    assert message == "The username or password is wrong."
    assert [r.path for r in cloud.requests()] == [TOKENS_PATH]
    assert gateway.requests == []
    assert results_double.calls() == []
    assert "| Service | IAM |" in run.summary
    assert "| Step | password token |" in run.summary
    assert "| HTTP status | 401 |" in run.summary
    assert "login protection (MFA)" in run.summary
    assert "::error title=CodeArts Check logs::AUTH_FAILED (IAM, password token)" in run.stdout


def test_sts_refusing_the_token(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    inputs = {**cloud.inputs("oidc-iam5"), "oidc-audience": "not-a-client-id"}
    run = run_action(step(gateway, **inputs), env=cloud.github.env())

    failed_before_sending(run, "STS5.1002")
    assert len(cloud.sts.calls(path=ASSUME_PATH)) == 1
    assert cloud.iam.calls() == []
    assert gateway.requests == []
    assert "| Service | STS |" in run.summary
    assert "| Step | AssumeAgencyWithOIDC |" in run.summary
    assert "client IDs must include the audience" in run.summary


def test_iam_refusing_the_id_token(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    inputs = {**cloud.inputs("oidc-iam3"), "oidc-audience": "https://github.com/example-org"}
    run = run_action(step(gateway, **inputs), env=cloud.github.env())

    failed_before_sending(run, "IAM.0001")
    assert [r.path for r in cloud.iam.calls()] == [ID_TOKEN_PATH]
    assert gateway.requests == []
    assert "| Step | id-token federation |" in run.summary


def nothing_sent(cloud: HuaweiCloud, gateway: Simulator) -> None:
    assert cloud.requests() == []
    assert gateway.requests == []


@pytest.mark.parametrize("way", ["oidc-iam5", "oidc-iam3"])
@pytest.mark.parametrize("present", ["none", "ACTIONS_ID_TOKEN_REQUEST_URL"])
def test_oidc_without_the_id_token_permission(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner, way: AuthWay, present: str
) -> None:
    env = {k: v for k, v in cloud.github.env().items() if k == present}
    run = run_action(step(gateway, **cloud.inputs(way)), env=env)

    message = failed_before_sending(run, "INVALID_INPUT")
    assert "permissions: id-token: write" in message
    nothing_sent(cloud, gateway)


def test_two_ways_at_once(cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner) -> None:
    run = run_action(step(gateway, **cloud.inputs("aksk"), token=cloud.token.value))

    message = failed_before_sending(run, "INVALID_INPUT")
    assert "more than one authentication way" in message
    nothing_sent(cloud, gateway)


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("iam-domain", "needs iam-domain"),
        ("iam-password", "needs iam-password"),
    ],
)
def test_an_incomplete_way(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner, drop: str, expected: str
) -> None:
    inputs = {k: v for k, v in cloud.inputs("password").items() if k != drop}
    run = run_action(step(gateway, **inputs))

    assert expected in failed_before_sending(run, "INVALID_INPUT")
    nothing_sent(cloud, gateway)


def test_a_security_token_alone(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway, **{"security-token": cloud.temporary.security_token or ""}))

    assert "security-token needs" in failed_before_sending(run, "INVALID_INPUT")
    nothing_sent(cloud, gateway)


def test_no_credentials_anywhere_names_the_ways(
    gateway: Simulator, cloud: HuaweiCloud, run_action: ActionRunner
) -> None:
    run = run_action(step(gateway))

    message = failed_before_sending(run, "INVALID_INPUT")
    assert message.startswith("no credentials: give one authentication way")
    nothing_sent(cloud, gateway)


@pytest.mark.parametrize(
    "inputs",
    [
        {"token": "MIIE123"},
        {"access-key-id": "AK12345", "secret-access-key": "x" * 40},
        {"access-key-id": "A" * 20, "secret-access-key": "sk"},
        {"access-key-id": "A" * 20, "secret-access-key": "x" * 40, "security-token": "st"},
    ],
)
def test_secrets_shorter_than_8_characters(
    cloud: HuaweiCloud, gateway: Simulator, run_action: ActionRunner, inputs: dict[str, str]
) -> None:
    run = run_action(step(gateway, **inputs))

    assert "shorter than 8 characters" in failed_before_sending(run, "INVALID_INPUT")
    nothing_sent(cloud, gateway)
