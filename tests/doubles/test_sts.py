"""The STS double over HTTP: AssumeAgencyWithOIDC with a GitHub ID token, its bounds and
refusals, and the JWKS fetched live from the GitHub double."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from devtools.doubles.account import ClaimCondition, ManualClock, Principal, iso_time
from devtools.doubles.cloud import HuaweiCloud
from devtools.doubles.github_oidc import JWKS_PATH
from devtools.doubles.idtoken import b64url
from devtools.doubles.sts import ASSUME_PATH, assume_body

from tests.doubles.helpers import START, date_at, other_key, sdk_sign


def assume(cloud: HuaweiCloud, id_token: str | None = None, **changes: Any) -> requests.Response:
    body = assume_body(cloud.provider.urn, cloud.agency.urn, id_token or cloud.github.mint())
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    return requests.post(f"{cloud.sts.url}{ASSUME_PATH}", json=body, timeout=5)


def refused(answer: requests.Response, status: int, code: str, fragment: str = "") -> None:
    assert answer.status_code == status
    body = answer.json()
    assert body["error_code"] == code
    assert fragment in body["error_msg"]
    assert ("encoded_authorization_message" in body) == (status == 403)


def test_an_id_token_of_the_trusted_repository_gives_temporary_keys(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    answer = assume(cloud)
    assert answer.status_code == 200
    body = answer.json()
    credentials = body["credentials"]
    assert len(credentials["access_key_id"]) == 20
    assert len(credentials["secret_access_key"]) == 40
    assert credentials["expiration"] == iso_time(START + 3600, digits=3)
    assert body["audience"] == "https://github.com/example-org"
    assert body["provider"] == cloud.provider.urn
    assert body["subject_from_id_token"] == "repo:example-org/example-repo:ref:refs/heads/main"
    assert body["assumed_agency"]["urn"].endswith(
        ":assumed-agency:codearts-check-logs-reader/github-actions"
    )
    key = cloud.account.access_key(credentials["access_key_id"])
    assert key is not None
    assert (key.origin, key.security_token) == ("sts", credentials["security_token"])
    url, headers = sdk_sign(
        credentials["access_key_id"],
        credentials["secret_access_key"],
        "GET",
        "https://codearts-check.cn-north-4.myhuaweicloud.com/v1/log-file?sub_job_id=x",
        date=date_at(clock),
        headers={
            "X-Security-Token": credentials["security_token"],
            "X-Project-Id": cloud.project_id,
        },
    )
    path, _, query = url.split("myhuaweicloud.com", 1)[1].partition("?")
    principal = cloud.account.authenticate("GET", path, query, headers, b"")
    assert isinstance(principal, Principal)
    assert principal.method == "temporary-aksk"


def test_the_call_is_unsigned_and_the_jwks_is_fetched_from_github(cloud: HuaweiCloud) -> None:
    assume(cloud)
    (call,) = cloud.sts.calls(ASSUME_PATH)
    assert call.header("Authorization") is None
    assert call.header("X-Auth-Token") is None
    assert len(cloud.github.calls(JWKS_PATH)) == 1
    assert cloud.github.token_requests() == []


def test_duration_defaults_to_an_hour_and_is_bounded_by_the_agency(
    cloud: HuaweiCloud,
) -> None:
    default = assume(cloud, duration_seconds=None)
    assert default.json()["credentials"]["expiration"] == iso_time(START + 3600, digits=3)
    refused(assume(cloud, duration_seconds=899), 400, "STS5.1003", "between 900 and 3600")
    refused(assume(cloud, duration_seconds=3601), 400, "STS5.1003")
    refused(assume(cloud, duration_seconds="3600"), 400, "STS5.1001")


def test_a_longer_agency_session_allows_longer_keys_except_in_a_chain(
    cloud: HuaweiCloud,
) -> None:
    agency = cloud.account.add_agency(
        "long",
        provider_urn=cloud.provider.urn,
        condition=ClaimCondition("repository", ("example-org/example-repo",)),
        max_session_seconds=12 * 3600,
    )
    answer = assume(cloud, agency_urn=agency.urn, duration_seconds=12 * 3600)
    assert answer.json()["credentials"]["expiration"] == iso_time(START + 12 * 3600, digits=3)
    refused(assume(cloud, agency_urn=agency.urn, duration_seconds=12 * 3600 + 1), 400, "STS5.1003")
    chained = requests.post(
        f"{cloud.sts.url}{ASSUME_PATH}",
        json=assume_body(cloud.provider.urn, agency.urn, cloud.github.mint(), duration=7200),
        headers={"X-Security-Token": cloud.temporary.security_token or ""},
        timeout=5,
    )
    refused(chained, 400, "STS5.1003", "between 900 and 3600")


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"provider_urn": None}, "provider_urn is required"),
        ({"agency_session_name": "x"}, "agency_session_name is invalid"),
        ({"agency_session_name": "has space"}, "agency_session_name is invalid"),
        ({"id_token": "abc"}, "id_token length"),
    ],
)
def test_an_invalid_request_is_sts5_1001(
    cloud: HuaweiCloud, changes: dict[str, Any], fragment: str
) -> None:
    refused(assume(cloud, **changes), 400, "STS5.1001", fragment)


def test_a_body_that_is_not_json_is_refused(cloud: HuaweiCloud) -> None:
    answer = requests.post(f"{cloud.sts.url}{ASSUME_PATH}", data=b"provider_urn=x", timeout=5)
    refused(answer, 400, "STS5.1001", "not a JSON object")


def test_unknown_providers_and_agencies_are_404(cloud: HuaweiCloud) -> None:
    other = f"iam::{cloud.account.domain_id}:oidcProvider:nobody"
    refused(assume(cloud, provider_urn=other), 404, "STS5.2001")
    refused(
        assume(cloud, agency_urn=f"iam::{cloud.account.domain_id}:agency:nobody"), 404, "STS5.2002"
    )


@pytest.mark.parametrize(
    ("audience", "overrides", "fragment"),
    [
        ("codearts-check-logs", {}, "not an accepted client ID"),
        (None, {"exp": int(START)}, "expired"),
        (None, {"iss": "https://token.actions.githubusercontent.com/other"}, "iss"),
    ],
    ids=["audience not a client ID", "expired", "other issuer"],
)
def test_an_unacceptable_id_token_is_sts5_1002(
    cloud: HuaweiCloud, audience: str | None, overrides: dict[str, Any], fragment: str
) -> None:
    refused(assume(cloud, cloud.github.mint(audience, **overrides)), 400, "STS5.1002", fragment)


def test_forged_tokens_are_refused(cloud: HuaweiCloud) -> None:
    claims = cloud.github.claims()
    none_header = b64url(b'{"alg":"none"}')
    unsigned = f"{none_header}.{cloud.github.mint().split('.')[1]}."
    refused(assume(cloud, unsigned), 400, "STS5.1002", "alg")
    impostor = other_key().sign(claims, header={"kid": cloud.github.key.kid})
    refused(assume(cloud, impostor), 400, "STS5.1002", "signature")


def test_the_agency_trust_refuses_other_repositories(cloud: HuaweiCloud) -> None:
    token = cloud.github.mint(repository="someone/else")
    refused(assume(cloud, token), 403, "STS5.3001")


def test_an_agency_trusting_another_provider_refuses(cloud: HuaweiCloud) -> None:
    second = cloud.account.add_oidc_provider(
        "second", client_ids=[cloud.github.default_audience], jwks_url=cloud.github.jwks_url
    )
    refused(assume(cloud, provider_urn=second.urn), 403, "STS5.3001")


def test_a_rotated_github_key_is_picked_up_from_the_live_jwks(cloud: HuaweiCloud) -> None:
    cloud.github.rotate_key()
    assert assume(cloud).status_code == 200


def test_an_unreachable_jwks_is_a_500(cloud: HuaweiCloud) -> None:
    cloud.github.fail_next(503)  # aimed at the runner's token requests: the JWKS is untouched
    assert assume(cloud).status_code == 200
    cloud.github.fail_next(503, path=JWKS_PATH)
    refused(assume(cloud, cloud.github.mint()), 500, "STS5.5001")


def test_scripted_faults_use_the_sts_error_shape(cloud: HuaweiCloud) -> None:
    cloud.sts.fail_next(503)
    refused(assume(cloud), 503, "STS5.5000")
    cloud.sts.fail_next(429)
    assert assume(cloud).json()["error_code"] == "APIGW.0308"
    assert assume(cloud).status_code == 200


def test_other_paths_are_apigw_0101(cloud: HuaweiCloud) -> None:
    answer = requests.get(f"{cloud.sts.url}{ASSUME_PATH}", timeout=5)
    assert (answer.status_code, answer.json()["error_code"]) == (404, "APIGW.0101")


def test_the_id_token_reaches_sts_only(cloud: HuaweiCloud) -> None:
    token = cloud.github.mint()
    assume(cloud, token)
    assert cloud.where_sent(token) == {"sts"}
