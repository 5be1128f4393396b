"""The account's API-gateway check: tokens, AK/SK signatures (checked against Huawei's own SDK
signer), temporary credentials, the date window, X-Project-Id and the lock after 5 failures."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

import pytest
import requests
from devtools.doubles import signing
from devtools.doubles.account import (
    Account,
    AllOf,
    ClaimCondition,
    GatewayError,
    ManualClock,
    Principal,
)
from devtools.doubles.cloud import HuaweiCloud

from tests.doubles.helpers import date_at, sdk_sign

PATH = "/v1/log-file"
QUERY = "sub_job_id=a777ff00d3cf4d369d87066806ae0001"
URL = f"https://codearts-check.cn-north-4.myhuaweicloud.com{PATH}?{QUERY}"


def check(
    account: Account,
    headers: dict[str, str],
    *,
    method: str = "GET",
    url: str = URL,
    body: bytes = b"",
) -> Principal | GatewayError:
    parts = urlsplit(url)
    return account.authenticate(method, parts.path, parts.query, headers, body)


def refused(result: Principal | GatewayError, code: str, fragment: str = "") -> GatewayError:
    assert isinstance(result, GatewayError), result
    assert (result.status, result.code) == (401, code)
    assert fragment in result.message
    body = result.body()
    assert set(body) == {"error_code", "error_msg", "request_id"}
    assert len(body["request_id"]) == 32
    return result


def signed(
    cloud: HuaweiCloud,
    clock: ManualClock,
    *,
    sk: str | None = None,
    offset: float = 0.0,
    url: str = URL,
    headers: dict[str, str] | None = None,
    security_token: str | None = None,
    project_id: str | None = None,
) -> dict[str, str]:
    key = cloud.access_key
    return signing.sign(
        key.access,
        sk or key.secret,
        "GET",
        url,
        headers=headers,
        date=date_at(clock, offset),
        security_token=security_token,
        project_id=project_id,
    )


# --- tokens -----------------------------------------------------------------------------------


def test_a_live_token_authenticates_as_its_user_and_project(cloud: HuaweiCloud) -> None:
    result = check(cloud.account, {"X-Auth-Token": cloud.token.value})
    assert result == Principal("token", "ci-bot", "example-domain", cloud.project_id)


def test_no_credential_at_all_is_apigw_0301(cloud: HuaweiCloud) -> None:
    refused(check(cloud.account, {}), "APIGW.0301", "x-auth-token not found")


def test_a_token_iam_never_issued_cannot_be_decrypted(cloud: HuaweiCloud) -> None:
    refused(
        check(cloud.account, {"X-Auth-Token": "MIIEnot-a-token"}),
        "APIGW.0301",
        "decrypt token fail",
    )


def test_an_expired_token_must_be_updated(cloud: HuaweiCloud, clock: ManualClock) -> None:
    clock.advance(24 * 3600)
    result = refused(check(cloud.account, {"X-Auth-Token": cloud.token.value}), "APIGW.0307")
    assert result.message == "The token must be updated."


def test_an_unsupported_authorization_scheme_is_refused(cloud: HuaweiCloud) -> None:
    refused(check(cloud.account, {"Authorization": "Bearer abc"}), "APIGW.0301", "unsupported")


# --- AK/SK ------------------------------------------------------------------------------------


def test_a_signed_request_authenticates_with_the_project_it_names(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    headers = signed(cloud, clock, project_id=cloud.project_id)
    result = check(cloud.account, headers)
    assert result == Principal(
        "aksk", "ci-bot", "example-domain", cloud.project_id, cloud.access_key.access
    )


@pytest.mark.parametrize("verifier", ["sdk", "builtin"])
def test_a_signature_made_by_the_official_sdk_is_accepted(
    cloud: HuaweiCloud, clock: ManualClock, verifier: signing.Verifier
) -> None:
    cloud.account.verifier = verifier
    url, headers = sdk_sign(
        cloud.access_key.access,
        cloud.access_key.secret,
        "GET",
        URL,
        date=date_at(clock),
        headers={"X-Project-Id": cloud.project_id},
    )
    assert isinstance(check(cloud.account, headers, url=url), Principal)


def test_a_signature_made_with_the_wrong_sk_is_apigw_0301(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    headers = signed(cloud, clock, sk="W" * 40)
    refused(check(cloud.account, headers), "APIGW.0301", "verify aksk signature fail")
    assert cloud.account.failures(cloud.access_key.access) == 1


def test_a_request_changed_after_signing_no_longer_verifies(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    headers = signed(cloud, clock)
    other = URL.replace("0001", "0002")
    refused(check(cloud.account, headers, url=other), "APIGW.0301", "signature fail")
    refused(check(cloud.account, headers, body=b"{}"), "APIGW.0301", "signature fail")


@pytest.mark.parametrize("offset", [-16 * 60, 16 * 60])
def test_an_x_sdk_date_more_than_15_minutes_off_is_apigw_0303(
    cloud: HuaweiCloud, clock: ManualClock, offset: float
) -> None:
    refused(check(cloud.account, signed(cloud, clock, offset=offset)), "APIGW.0303", "15 minutes")


def test_an_x_sdk_date_14_minutes_off_is_still_accepted(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    assert isinstance(check(cloud.account, signed(cloud, clock, offset=-14 * 60)), Principal)


def test_an_unsigned_or_unreadable_date_is_refused(cloud: HuaweiCloud, clock: ManualClock) -> None:
    headers = signed(cloud, clock)
    refused(check(cloud.account, {**headers, "X-Sdk-Date": "yesterday"}), "APIGW.0301", "invalid")
    unsigned = headers["Authorization"].replace("x-sdk-date", "x-other")
    refused(
        check(cloud.account, {**headers, "Authorization": unsigned}), "APIGW.0301", "not signed"
    )


def test_an_unknown_ak_does_not_exist(cloud: HuaweiCloud, clock: ManualClock) -> None:
    headers = signing.sign("UNKNOWNAK00000000000", "s" * 40, "GET", URL, date=date_at(clock))
    refused(check(cloud.account, headers), "APIGW.0301", "ak UNKNOWNAK00000000000 not exist")


def test_a_malformed_authorization_header_is_refused(cloud: HuaweiCloud) -> None:
    headers = {"Authorization": "SDK-HMAC-SHA256 Access=AK", "X-Sdk-Date": "20270115T000000Z"}
    refused(check(cloud.account, headers), "APIGW.0301", "malformed")


def test_a_signed_header_that_did_not_arrive_fails_the_signature(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    headers = signed(cloud, clock, headers={"X-Extra": "1"})
    del headers["X-Extra"]
    refused(check(cloud.account, headers), "APIGW.0301", "signed header is missing")


# --- the lock -----------------------------------------------------------------------------------


def test_five_failures_lock_the_ak_for_five_minutes(cloud: HuaweiCloud, clock: ManualClock) -> None:
    ak = cloud.access_key.access
    for attempt in range(1, 6):
        refused(
            check(cloud.account, signed(cloud, clock, sk="W" * 40)), "APIGW.0301", "signature fail"
        )
        clock.advance(10)
        assert cloud.account.locked(ak) == (attempt == 5)
    locked = refused(check(cloud.account, signed(cloud, clock)), "APIGW.0301")
    assert locked.message.endswith("AK access failed to reach the limit,forbidden.")
    clock.advance(5 * 60)
    assert isinstance(check(cloud.account, signed(cloud, clock)), Principal)
    assert cloud.account.failures(ak) == 0


def test_failures_older_than_five_minutes_do_not_count(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    for _ in range(4):
        check(cloud.account, signed(cloud, clock, sk="W" * 40))
    clock.advance(5 * 60)
    check(cloud.account, signed(cloud, clock, sk="W" * 40))
    assert not cloud.account.locked(cloud.access_key.access)
    assert cloud.account.failures(cloud.access_key.access) == 1


def test_a_success_resets_the_count_of_consecutive_failures(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    for _ in range(4):
        check(cloud.account, signed(cloud, clock, sk="W" * 40))
    assert isinstance(check(cloud.account, signed(cloud, clock)), Principal)
    check(cloud.account, signed(cloud, clock, sk="W" * 40))
    assert not cloud.account.locked(cloud.access_key.access)


def test_the_lock_is_answered_over_http_too(cloud: HuaweiCloud, clock: ManualClock) -> None:
    url = f"{cloud.iam.url}/v3/projects?name=cn-north-4"
    for _ in range(5):
        bad = signing.sign(cloud.access_key.access, "W" * 40, "GET", url, date=date_at(clock))
        assert requests.get(url, headers=bad, timeout=5).status_code == 401
    answer = requests.get(url, headers=cloud.sign("GET", url), timeout=5)
    assert answer.status_code == 401
    body = answer.json()
    assert body["error_code"] == "APIGW.0301"
    assert "limit,forbidden" in body["error_msg"]
    assert answer.headers["X-Request-Id"] == body["request_id"]


# --- temporary credentials ------------------------------------------------------------------------


def temporary_headers(
    cloud: HuaweiCloud, clock: ManualClock, security_token: str | None = None
) -> dict[str, str]:
    key = cloud.temporary
    return signing.sign(
        key.access,
        key.secret,
        "GET",
        URL,
        date=date_at(clock),
        security_token=security_token or key.security_token,
    )


def test_temporary_credentials_need_their_signed_security_token(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    result = check(cloud.account, temporary_headers(cloud, clock))
    assert isinstance(result, Principal)
    assert result.method == "temporary-aksk"


def test_a_temporary_ak_without_its_security_token_is_refused(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    key = cloud.temporary
    headers = signing.sign(key.access, key.secret, "GET", URL, date=date_at(clock))
    refused(check(cloud.account, headers), "APIGW.0301", "security token missing")


def test_a_security_token_that_is_not_signed_is_refused(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    key = cloud.temporary
    headers = signing.sign(key.access, key.secret, "GET", URL, date=date_at(clock))
    headers["X-Security-Token"] = key.security_token or ""
    refused(check(cloud.account, headers), "APIGW.0301", "x-security-token is not signed")


def test_another_security_token_is_refused(cloud: HuaweiCloud, clock: ManualClock) -> None:
    headers = temporary_headers(cloud, clock, security_token="gQpjbi1-someone-elses")
    refused(check(cloud.account, headers), "APIGW.0301", "does not match")


def test_a_security_token_with_a_permanent_ak_is_refused(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    headers = signed(cloud, clock, security_token=cloud.temporary.security_token or "")
    refused(check(cloud.account, headers), "APIGW.0301", "permanent access key")


def test_expired_temporary_credentials_must_be_updated(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    clock.advance(3600)
    refused(check(cloud.account, temporary_headers(cloud, clock)), "APIGW.0307")


def test_temporary_credentials_signed_by_the_sdk_are_accepted(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    key = cloud.temporary
    url, headers = sdk_sign(
        key.access,
        key.secret,
        "GET",
        URL,
        date=date_at(clock),
        headers={"X-Security-Token": key.security_token or "", "X-Project-Id": cloud.project_id},
    )
    result = check(cloud.account, headers, url=url)
    assert isinstance(result, Principal)
    assert result.project_id == cloud.project_id


# --- X-Project-Id -----------------------------------------------------------------------------


def test_a_project_id_of_another_account_is_refused(cloud: HuaweiCloud, clock: ManualClock) -> None:
    headers = signed(cloud, clock, project_id="f" * 32)
    refused(check(cloud.account, headers), "APIGW.0301", "project id")
    token = {"X-Auth-Token": cloud.token.value, "X-Project-Id": "f" * 32}
    refused(check(cloud.account, token), "APIGW.0301", "project id")


# --- the two verifiers agree ---------------------------------------------------------------------

TRICKY = [
    ("GET", "/v1/log-file", "sub_job_id=a777ff00d3cf4d369d87066806ae0001", b"", {}),
    ("GET", "/v3/projects", "name=cn-north-4&name=cn-south-1&a=", b"", {}),
    ("GET", "/a b/%E4%B8%AD/~x", "q=%2F%20%2B*&z=%E6%96%87&b=1&b=0", b"", {}),
    ("POST", "/v5/x", "", b'{"a": 1}', {"Content-Type": "application/json"}),
    ("PUT", "/upload", "", b"\x00\x01", {"Content-Type": "application/octet-stream"}),
    ("GET", "/t", "", b"", {"X-Note": "  padded  ", "X-Utf8": "中文"}),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "headers"), TRICKY)
def test_the_builtin_verifier_agrees_with_the_sdk(
    method: str, path: str, query: str, body: bytes, headers: dict[str, str]
) -> None:
    url = f"https://host.example{path}" + (f"?{query}" if query else "")
    sent_url, sent = sdk_sign(
        "AK", "S" * 40, method, url, date="20270115T080000Z", body=body, headers=headers
    )
    parts = urlsplit(sent_url)
    _, names, presented = signing.parse_authorization(sent["Authorization"]) or ("", [], "")
    lower = {k.lower(): v for k, v in sent.items()}
    signed_headers = [(name, signing.sent_text(lower[name])) for name in names]
    pairs = signing.parse_query(parts.query)
    args = ("S" * 40, method, parts.path, pairs, signed_headers, body, "20270115T080000Z")
    assert signing.builtin_signature(*args) == presented
    assert signing.sdk_signature(*args) == presented


def test_the_builtin_signer_is_accepted_by_the_sdk_verifier(
    cloud: HuaweiCloud, clock: ManualClock
) -> None:
    pytest.importorskip("huaweicloudsdkcore.signer.signer")
    cloud.account.verifier = "sdk"
    url = URL + "&name=a%20b&name=%2F"
    assert isinstance(check(cloud.account, signed(cloud, clock, url=url), url=url), Principal)


def test_the_sdk_verifier_reports_when_the_sdk_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "huaweicloudsdkcore.signer.signer", None)
    assert not signing.sdk_available()
    with pytest.raises(signing.SdkUnavailable):
        signing.sdk_signature("S", "GET", "/", [], [], b"", "20270115T080000Z")
    # `auto` falls back to the builtin verifier.
    expected = signing.builtin_signature("S", "GET", "/", [], [], b"", "20270115T080000Z")
    assert signing.signature("auto", "S", "GET", "/", [], [], b"", "20270115T080000Z") == expected


# --- conditions, secrets --------------------------------------------------------------------------


def test_claim_conditions_match_exactly_or_by_pattern() -> None:
    exact = ClaimCondition("repository", ("org/repo",))
    like = ClaimCondition("sub", ("repo:org/repo:ref:refs/heads/*",), like=True)
    assert exact.matches({"repository": "org/repo"})
    assert not exact.matches({"repository": "org/repo2"})
    assert not exact.matches({"repository": ["org/repo"]})
    assert like.matches({"sub": "repo:org/repo:ref:refs/heads/main"})
    assert not like.matches({"sub": "repo:org/repo:pull_request"})


def test_negated_and_joined_conditions() -> None:
    not_target = ClaimCondition("event_name", ("pull_request_target",), negate=True)
    assert not_target.matches({"event_name": "pull_request"})
    assert not not_target.matches({"event_name": "pull_request_target"})
    both = AllOf((ClaimCondition("repository", ("org/repo",)), not_target))
    assert both.matches({"repository": "org/repo", "event_name": "push"})
    assert not both.matches({"repository": "org/repo", "event_name": "pull_request_target"})
    assert not both.matches({"repository": "fork/repo", "event_name": "push"})


def test_secrets_lists_every_configured_and_issued_credential(cloud: HuaweiCloud) -> None:
    found = set(cloud.secrets().values())
    expected = {
        cloud.password,
        cloud.mfa_user.password,
        cloud.access_key.access,
        cloud.access_key.secret,
        cloud.token.value,
        cloud.temporary.access,
        cloud.temporary.secret,
        cloud.temporary.security_token,
        cloud.github.request_token,
    }
    assert expected <= found
    issued = cloud.account.issue_token("ci-bot")
    assert issued.value in cloud.secrets().values()
