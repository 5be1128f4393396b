"""The IAM double over HTTP: password tokens, project look-up, the v3 keyless exchange
(ID token → unscoped token → temporary AK/SK), refusals, recording and scripted faults."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from devtools.doubles import signing
from devtools.doubles.account import ManualClock, iso_time
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.iam import (
    ID_TOKEN_PATH,
    PROJECTS_PATH,
    SECURITY_TOKENS_PATH,
    TOKENS_PATH,
    password_body,
)

from tests.doubles.helpers import START, date_at, other_key, sdk_sign

KEYSTONE_WRONG_PASSWORD = {
    "error": {"code": 401, "message": "The username or password is wrong.", "title": "Unauthorized"}
}


def post(cloud: HuaweiCloud, path: str, body: Any, **headers: str) -> requests.Response:
    return requests.post(f"{cloud.iam.url}{path}", json=body, headers=headers, timeout=5)


def password_token(cloud: HuaweiCloud, **changes: Any) -> requests.Response:
    fields: dict[str, Any] = {
        "user": cloud.user.name,
        "password": cloud.password,
        "domain": cloud.account.domain_name,
        "project": {"name": cloud.region},
        **changes,
    }
    return post(cloud, TOKENS_PATH, password_body(**fields))


# --- POST /v3/auth/tokens ------------------------------------------------------------------------


def test_a_password_gives_a_project_scoped_token_in_x_subject_token(cloud: HuaweiCloud) -> None:
    answer = password_token(cloud)
    assert answer.status_code == 201
    value = answer.headers["X-Subject-Token"]
    token = answer.json()["token"]
    assert token["expires_at"] == iso_time(START + 24 * 3600)
    assert token["project"] == {
        "id": cloud.project_id,
        "name": "cn-north-4",
        "domain": {"id": cloud.account.domain_id, "name": "example-domain"},
    }
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "ci-bot"
    issued = cloud.account.token(value)
    assert issued is not None
    assert issued.project_id == cloud.project_id
    assert value not in answer.text


def test_the_project_may_be_named_by_id_or_left_out(cloud: HuaweiCloud) -> None:
    by_id = password_token(cloud, project={"id": cloud.project_id})
    assert by_id.json()["token"]["project"]["name"] == "cn-north-4"
    unscoped = password_token(cloud, project=None)
    assert unscoped.status_code == 201
    assert "project" not in unscoped.json()["token"]
    issued = cloud.account.token(unscoped.headers["X-Subject-Token"])
    assert issued is not None
    assert issued.project_id is None


def test_nocatalog_leaves_the_catalog_out(cloud: HuaweiCloud) -> None:
    with_catalog = password_token(cloud).json()["token"]
    answer = requests.post(
        f"{cloud.iam.url}{TOKENS_PATH}?nocatalog=true",
        json=password_body(cloud.user.name, cloud.password, "example-domain"),
        timeout=5,
    )
    assert "catalog" in with_catalog
    assert "catalog" not in answer.json()["token"]


@pytest.mark.parametrize(
    "changes",
    [{"password": "wrong"}, {"user": "nobody"}, {"domain": "another-domain"}],
    ids=["wrong password", "unknown user", "unknown domain"],
)
def test_a_refused_password_is_a_keystone_401_that_does_not_say_which_part(
    cloud: HuaweiCloud, changes: dict[str, str]
) -> None:
    answer = password_token(cloud, **changes)
    assert answer.status_code == 401
    assert answer.json() == KEYSTONE_WRONG_PASSWORD
    assert "X-Subject-Token" not in answer.headers


def test_a_user_with_login_protection_gets_no_token_for_a_password(cloud: HuaweiCloud) -> None:
    answer = password_token(cloud, user=cloud.mfa_user.name, password=cloud.mfa_user.password)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert (error["code"], error["title"]) == (401, "Unauthorized")
    assert "MFA" in error["message"]


def test_an_unknown_project_is_iam_0004(cloud: HuaweiCloud) -> None:
    answer = password_token(cloud, project={"name": "xx-nowhere-1"})
    assert answer.status_code == 404
    assert answer.json() == {
        "error_code": "IAM.0004",
        "error_msg": "Could not find project: xx-nowhere-1.",
    }


def test_a_body_that_is_not_a_password_request_is_refused(cloud: HuaweiCloud) -> None:
    garbage = requests.post(f"{cloud.iam.url}{TOKENS_PATH}", data=b"{", timeout=5)
    assert (garbage.status_code, garbage.json()["error_code"]) == (400, "IAM.0011")
    empty = post(cloud, TOKENS_PATH, {"auth": {}})
    assert empty.json() == {
        "error_code": "IAM.0072",
        "error_msg": "'identity' is a required property.",
    }
    no_password = post(cloud, TOKENS_PATH, {"auth": {"identity": {"methods": ["password"]}}})
    assert no_password.json()["error_code"] == "IAM.0072"


# --- GET /v3/projects ---------------------------------------------------------------------------


def test_projects_are_listed_by_name_for_a_signed_request(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    url, headers = sdk_sign(
        cloud.access_key.access,
        cloud.access_key.secret,
        "GET",
        f"{cloud.iam.url}{PROJECTS_PATH}?name=cn-north-4",
        date=date_at(clock),
    )
    answer = requests.get(url, headers=headers, timeout=5)
    assert answer.status_code == 200
    projects = answer.json()["projects"]
    assert [(p["name"], p["id"]) for p in projects] == [("cn-north-4", cloud.project_id)]


def test_projects_are_listed_for_a_token_and_for_temporary_keys(cloud: HuaweiCloud) -> None:
    everything = requests.get(
        f"{cloud.iam.url}{PROJECTS_PATH}", headers={"X-Auth-Token": cloud.token.value}, timeout=5
    )
    assert sorted(p["name"] for p in everything.json()["projects"]) == ["cn-north-4", "cn-south-1"]
    url = f"{cloud.iam.url}{PROJECTS_PATH}?name=cn-north-4"
    temporary = requests.get(url, headers=cloud.sign("GET", url, temporary=True), timeout=5)
    assert temporary.json()["projects"][0]["id"] == cloud.project_id
    none = requests.get(
        f"{cloud.iam.url}{PROJECTS_PATH}?name=xx-nowhere-1",
        headers={"X-Auth-Token": cloud.token.value},
        timeout=5,
    )
    assert none.json()["projects"] == []


def test_projects_with_bad_credentials_get_the_gateway_answer(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    url = f"{cloud.iam.url}{PROJECTS_PATH}?name=cn-north-4"
    bad = signing.sign(cloud.access_key.access, "W" * 40, "GET", url, date=date_at(clock))
    answer = requests.get(url, headers=bad, timeout=5)
    body = answer.json()
    assert answer.status_code == 401
    assert body["error_code"] == "APIGW.0301"
    assert answer.headers["X-Request-Id"] == body["request_id"]
    stale = cloud.sign("GET", url)
    clock.advance(16 * 60)
    assert requests.get(url, headers=stale, timeout=5).json()["error_code"] == "APIGW.0303"
    assert requests.get(url, timeout=5).json()["error_code"] == "APIGW.0301"


# --- POST /v3.0/OS-AUTH/id-token/tokens -----------------------------------------------------------


def id_token_request(cloud: HuaweiCloud, id_token: str, **extra: Any) -> requests.Response:
    body = {"auth": {"id_token": {"id": id_token}, **extra}}
    return post(cloud, ID_TOKEN_PATH, body, **{"X-Idp-Id": cloud.idp.idp_id})


def test_a_github_id_token_gives_an_unscoped_federated_token(cloud: HuaweiCloud) -> None:
    answer = id_token_request(cloud, cloud.github.mint("codearts-check-logs"))
    assert answer.status_code == 201
    token = answer.json()["token"]
    assert token["methods"] == ["mapped"]
    assert "project" not in token
    federation = token["user"]["OS-FEDERATION"]
    assert federation["identity_provider"] == {"id": "github-actions"}
    assert federation["protocol"] == {"id": "oidc"}
    issued = cloud.account.token(answer.headers["X-Subject-Token"])
    assert issued is not None
    assert (issued.project_id, issued.idp_id) == (None, "github-actions")


def test_a_scope_in_the_body_gives_a_scoped_token(cloud: HuaweiCloud) -> None:
    answer = id_token_request(
        cloud,
        cloud.github.mint("codearts-check-logs"),
        scope={"project": {"name": "cn-north-4"}},
    )
    assert answer.json()["token"]["project"]["id"] == cloud.project_id


@pytest.mark.parametrize(
    ("audience", "overrides", "fragment"),
    [
        (None, {}, "is not an accepted client ID"),
        ("codearts-check-logs", {"exp": int(START) - 1}, "expired"),
        ("codearts-check-logs", {"iss": "https://attacker.example"}, "iss"),
        ("codearts-check-logs", {"nbf": int(START) + 600}, "not valid yet"),
    ],
    ids=["default audience", "expired", "other issuer", "not yet valid"],
)
def test_an_unacceptable_id_token_is_iam_0001(
    cloud: HuaweiCloud, audience: str | None, overrides: dict[str, Any], fragment: str
) -> None:
    answer = id_token_request(cloud, cloud.github.mint(audience, **overrides))
    assert answer.status_code == 401
    body = answer.json()
    assert body["error_code"] == "IAM.0001"
    assert fragment in body["error_msg"]


def test_a_token_signed_by_another_key_is_refused(cloud: HuaweiCloud) -> None:
    forged = cloud.github.key.sign(cloud.github.claims("codearts-check-logs"))
    tampered = forged.rsplit(".", 1)[0] + "." + forged.rsplit(".", 1)[1][::-1]
    assert id_token_request(cloud, tampered).json()["error_code"] == "IAM.0001"
    other = other_key()
    impostor = other.sign(
        cloud.github.claims("codearts-check-logs"), header={"kid": cloud.github.key.kid}
    )
    assert "signature" in id_token_request(cloud, impostor).json()["error_msg"]


def test_a_rotated_github_key_is_unknown_to_the_pasted_jwks(cloud: HuaweiCloud) -> None:
    cloud.github.rotate_key()
    answer = id_token_request(cloud, cloud.github.mint("codearts-check-logs"))
    assert answer.status_code == 401
    assert "no key with kid" in answer.json()["error_msg"]


def test_a_token_that_no_mapping_rule_matches_is_iam_0002(cloud: HuaweiCloud) -> None:
    token = cloud.github.mint("codearts-check-logs", sub="repo:someone/else:ref:refs/heads/main")
    answer = id_token_request(cloud, token)
    assert answer.status_code == 403
    assert answer.json()["error_code"] == "IAM.0002"


def test_the_idp_header_and_the_body_are_checked(cloud: HuaweiCloud) -> None:
    token = cloud.github.mint("codearts-check-logs")
    body = {"auth": {"id_token": {"id": token}}}
    missing = post(cloud, ID_TOKEN_PATH, body)
    assert missing.json() == {
        "error_code": "IAM.0007",
        "error_msg": "Request parameter X-Idp-Id is invalid.",
    }
    unknown = post(cloud, ID_TOKEN_PATH, body, **{"X-Idp-Id": "nobody"})
    assert (unknown.status_code, unknown.json()["error_code"]) == (404, "IAM.0004")
    empty = post(cloud, ID_TOKEN_PATH, {"auth": {}}, **{"X-Idp-Id": "github-actions"})
    assert (empty.status_code, empty.json()["error_code"]) == (400, "IAM.0072")
    garbage = id_token_request(cloud, "not-a-jwt")
    assert "three dot-separated segments" in garbage.json()["error_msg"]


# --- POST /v3.0/OS-CREDENTIAL/securitytokens ------------------------------------------------------


def security_tokens(
    cloud: HuaweiCloud, token: str | None, *, duration: Any = 3600, header: str | None = None
) -> requests.Response:
    inner: dict[str, Any] = {}
    if token is not None:
        inner["id"] = token
    if duration is not None:
        inner["duration_seconds"] = duration
    body = {"auth": {"identity": {"methods": ["token"], "token": inner}}}
    headers = {"X-Auth-Token": header} if header else {}
    return post(cloud, SECURITY_TOKENS_PATH, body, **headers)


def federated_token(cloud: HuaweiCloud) -> str:
    answer = id_token_request(cloud, cloud.github.mint("codearts-check-logs"))
    return answer.headers["X-Subject-Token"]


def test_the_federated_token_buys_temporary_keys_that_sign_requests(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    answer = security_tokens(cloud, federated_token(cloud))
    assert answer.status_code == 201
    credential = answer.json()["credential"]
    assert set(credential) == {"access", "secret", "securitytoken", "expires_at"}
    assert credential["expires_at"] == iso_time(START + 3600)
    key = cloud.account.access_key(credential["access"])
    assert key is not None
    assert (key.temporary, key.origin, key.user) == (True, "securitytokens", "FederationUser")
    url, headers = sdk_sign(
        credential["access"],
        credential["secret"],
        "GET",
        f"{cloud.iam.url}{PROJECTS_PATH}?name=cn-north-4",
        date=date_at(clock),
        headers={"X-Security-Token": credential["securitytoken"]},
    )
    assert requests.get(url, headers=headers, timeout=5).status_code == 200


def test_the_token_may_come_in_the_header_instead(cloud: HuaweiCloud) -> None:
    answer = security_tokens(cloud, None, header=cloud.token.value)
    assert answer.status_code == 201


def test_without_a_duration_the_keys_last_15_minutes(cloud: HuaweiCloud) -> None:
    answer = security_tokens(cloud, cloud.token.value, duration=None)
    assert answer.json()["credential"]["expires_at"] == iso_time(START + 900)


@pytest.mark.parametrize("duration", [899, 86401, "3600", True])
def test_a_duration_out_of_bounds_is_iam_0007(cloud: HuaweiCloud, duration: Any) -> None:
    answer = security_tokens(cloud, cloud.token.value, duration=duration)
    assert answer.status_code == 400
    assert answer.json()["error_msg"] == "Request parameter duration_seconds is invalid."


def test_a_missing_unknown_or_expired_token_is_iam_0001(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    assert security_tokens(cloud, None).json()["error_code"] == "IAM.0001"
    assert security_tokens(cloud, "MIIEunknown").status_code == 401
    clock.advance(24 * 3600)
    assert security_tokens(cloud, cloud.token.value).json()["error_code"] == "IAM.0001"


def test_methods_other_than_token_are_refused(cloud: HuaweiCloud) -> None:
    body = {"auth": {"identity": {"methods": ["password"], "token": {"id": cloud.token.value}}}}
    answer = post(cloud, SECURITY_TOKENS_PATH, body)
    assert answer.json()["error_code"] == "IAM.0007"


# --- routing, recording, faults -------------------------------------------------------------------


def test_an_unknown_api_is_apigw_0101(cloud: HuaweiCloud) -> None:
    answer = requests.get(f"{cloud.iam.url}/v3/auth/tokens", timeout=5)
    assert (answer.status_code, answer.json()["error_code"]) == (404, "APIGW.0101")


def test_every_request_is_recorded_so_leaks_can_be_traced(cloud: HuaweiCloud) -> None:
    assert cloud.iam.calls() == []
    password_token(cloud)
    (recorded,) = cloud.iam.calls(TOKENS_PATH, "POST")
    assert recorded.status == 201
    assert recorded.json()["auth"]["identity"]["password"]["user"]["name"] == "ci-bot"
    assert recorded.header("content-type") == "application/json"
    assert cloud.iam.received(cloud.password) == [recorded]
    assert cloud.where_sent(cloud.password) == {"iam"}
    assert cloud.where_sent(cloud.access_key.secret) == set()


def test_scripted_answers_come_first_then_service_resumes(cloud: HuaweiCloud) -> None:
    cloud.iam.fail_next(429, times=2)
    cloud.iam.fail_next(500)
    throttled = [password_token(cloud) for _ in range(2)]
    assert [a.status_code for a in throttled] == [429, 429]
    assert throttled[0].json()["error_code"] == "APIGW.0308"
    broken = password_token(cloud)
    assert broken.status_code == 500
    assert broken.json()["error"]["title"] == "Internal Server Error"
    assert password_token(cloud).status_code == 201
    assert [r.fault for r in cloud.iam.calls()] == ["answer", "answer", "answer", ""]


def test_a_scripted_refusal_can_carry_any_body_and_aim_at_one_path(cloud: HuaweiCloud) -> None:
    body = {"error_code": "IAM.0101", "error_msg": "scripted"}
    cloud.iam.fail_next(401, body, path=SECURITY_TOKENS_PATH)
    assert password_token(cloud).status_code == 201
    answer = security_tokens(cloud, cloud.token.value)
    assert (answer.status_code, answer.json()) == (401, body)


def test_a_stall_delays_the_answer(cloud: HuaweiCloud) -> None:
    cloud.iam.stall_next(1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{cloud.iam.url}{TOKENS_PATH}",
            json=password_body(cloud.user.name, cloud.password, "example-domain"),
            timeout=(2, 0.2),
        )
    cloud.iam.stall_next(0.05)
    assert password_token(cloud).status_code == 201


def test_a_dropped_connection_gets_no_answer(cloud: HuaweiCloud) -> None:
    cloud.iam.drop_next()
    with pytest.raises(requests.ConnectionError):
        password_token(cloud)
    assert cloud.iam.calls()[0].status == 0
    assert password_token(cloud).status_code == 201
