"""`huawei_cloud()`: the inputs it hands out for each way really work against its doubles."""

from __future__ import annotations

import requests
from devtools.doubles import signing
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import AUTH_WAYS, HuaweiCloud
from devtools.doubles.iam import (
    ID_TOKEN_PATH,
    PROJECTS_PATH,
    SECURITY_TOKENS_PATH,
    TOKENS_PATH,
    password_body,
)
from devtools.doubles.sts import ASSUME_PATH, assume_body

EXPECTED = {
    "token": {"token"},
    "aksk": {"access-key-id", "secret-access-key"},
    "temporary-aksk": {"access-key-id", "secret-access-key", "security-token"},
    "password": {"iam-user", "iam-password", "iam-domain"},
    "oidc-iam5": {"oidc-provider-urn", "oidc-agency-urn"},
    "oidc-iam3": {"oidc-idp-id", "oidc-audience"},
}


def test_inputs_name_one_way_each_plus_the_endpoints(cloud: HuaweiCloud) -> None:
    assert set(AUTH_WAYS) == set(EXPECTED)
    for way in AUTH_WAYS:
        inputs = cloud.inputs(way)
        assert set(inputs) == {"region", "iam-endpoint", "sts-endpoint"} | EXPECTED[way]
        assert all(inputs.values())
    assert cloud.inputs("aksk", project_id=True)["project-id"] == cloud.project_id


def test_action_env_uses_the_runners_names(cloud: HuaweiCloud) -> None:
    env = cloud.action_env("oidc-iam3")
    assert env["INPUT_OIDC-IDP-ID"] == "github-actions"
    assert env["INPUT_IAM-ENDPOINT"] == cloud.iam.url
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == cloud.github.request_token
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" not in cloud.action_env("password")


def projects(cloud: HuaweiCloud, clock: ManualClock, way: str, inputs: dict[str, str]) -> int:
    """Obtain credentials the way the action will, then list projects with them."""
    iam, sts = inputs["iam-endpoint"], inputs["sts-endpoint"]
    url = f"{iam}{PROJECTS_PATH}?name={inputs['region']}"
    token = inputs.get("token")
    ak, sk, security = (
        inputs.get("access-key-id"),
        inputs.get("secret-access-key"),
        inputs.get("security-token"),
    )
    if way == "password":
        body = password_body(
            inputs["iam-user"],
            inputs["iam-password"],
            inputs["iam-domain"],
            project={"name": inputs["region"]},
        )
        token = requests.post(f"{iam}{TOKENS_PATH}", json=body, timeout=5).headers[
            "X-Subject-Token"
        ]
    elif way == "oidc-iam5":
        id_token = cloud.github.mint()
        body = assume_body(inputs["oidc-provider-urn"], inputs["oidc-agency-urn"], id_token)
        answer = requests.post(f"{sts}{ASSUME_PATH}", json=body, timeout=5).json()
        credentials = answer["credentials"]
        ak, sk = credentials["access_key_id"], credentials["secret_access_key"]
        security = credentials["security_token"]
    elif way == "oidc-iam3":
        id_token = cloud.github.mint(inputs["oidc-audience"])
        unscoped = requests.post(
            f"{iam}{ID_TOKEN_PATH}",
            json={"auth": {"id_token": {"id": id_token}}},
            headers={"X-Idp-Id": inputs["oidc-idp-id"]},
            timeout=5,
        ).headers["X-Subject-Token"]
        exchange = {"auth": {"identity": {"methods": ["token"], "token": {"id": unscoped}}}}
        credential = requests.post(f"{iam}{SECURITY_TOKENS_PATH}", json=exchange, timeout=5)
        issued = credential.json()["credential"]
        ak, sk, security = issued["access"], issued["secret"], issued["securitytoken"]
    if token is not None:
        headers = {"X-Auth-Token": token}
    else:
        assert ak
        assert sk
        date = signing.sdk_date(clock())
        headers = signing.sign(ak, sk, "GET", url, date=date, security_token=security)
    return requests.get(url, headers=headers, timeout=5).status_code


def test_every_way_gets_credentials_that_the_gateway_accepts(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    for way in AUTH_WAYS:
        assert projects(cloud, clock, way, cloud.inputs(way)) == 200, way
    assert cloud.where_sent(cloud.password) == {"iam"}
    assert cloud.where_sent(cloud.access_key.secret) == set()
    for token in cloud.github.issued:
        assert cloud.where_sent(token) <= {"iam", "sts"}
    assert [r.service for r in cloud.requests()][:2] == ["iam", "iam"]
