"""The GitHub ID-token double: the runner's variables, the request the action must make, the
JWT it returns and the JWKS that checks it; plus the verifier's own refusals."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from urllib.parse import quote

import pytest
import requests
from devtools.doubles.account import ManualClock
from devtools.doubles.github_oidc import (
    CONFIGURATION_PATH,
    JWKS_PATH,
    GithubOidcDouble,
    Trigger,
)
from devtools.doubles.idtoken import (
    GITHUB_ISSUER,
    InvalidIdToken,
    SigningKey,
    b64url,
    decode_unverified,
    jwks,
    verify,
)

from tests.doubles.helpers import START


@pytest.fixture
def github(clock: ManualClock) -> Iterator[GithubOidcDouble]:
    with GithubOidcDouble(owner="octo-org", repo="octo-repo", clock=clock) as double:
        yield double


def fetch(
    github: GithubOidcDouble,
    audience: str | None = None,
    *,
    token: str | None = None,
    url: str | None = None,
) -> requests.Response:
    target = url or github.env()["ACTIONS_ID_TOKEN_REQUEST_URL"]
    if audience is not None:
        target += f"&audience={quote(audience, safe='')}"
    bearer = token or github.env()["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    return requests.get(target, headers={"Authorization": f"Bearer {bearer}"}, timeout=5)


def test_env_gives_a_url_that_already_has_a_query_and_the_request_token(
    github: GithubOidcDouble,
) -> None:
    env = github.env()
    assert set(env) == {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    assert env["ACTIONS_ID_TOKEN_REQUEST_URL"].startswith(f"{github.url}/")
    assert env["ACTIONS_ID_TOKEN_REQUEST_URL"].endswith("/idtoken?api-version=2.0")
    assert env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == github.request_token


def test_an_id_token_carries_the_requested_audience_and_githubs_claims(
    github: GithubOidcDouble,
) -> None:
    answer = fetch(github, "codearts-check-logs")
    assert answer.status_code == 200
    assert set(answer.json()) == {"value"}
    token = answer.json()["value"]
    header, claims = decode_unverified(token)
    assert (header["alg"], header["kid"]) == ("RS256", github.key.kid)
    assert claims["iss"] == GITHUB_ISSUER
    assert claims["aud"] == "codearts-check-logs"
    assert claims["sub"] == "repo:octo-org/octo-repo:ref:refs/heads/main"
    assert (claims["repository"], claims["ref"]) == ("octo-org/octo-repo", "refs/heads/main")
    assert (claims["iat"], claims["exp"]) == (int(START), int(START) + 300)
    assert (
        verify(
            token, github.jwks(), issuer=GITHUB_ISSUER, audiences=["codearts-check-logs"], now=START
        )
        == claims
    )
    assert github.issued == [token]


def test_without_an_audience_the_owner_url_is_the_audience(github: GithubOidcDouble) -> None:
    token = fetch(github).json()["value"]
    assert decode_unverified(token)[1]["aud"] == "https://github.com/octo-org"


def test_a_missing_or_wrong_bearer_token_is_401(github: GithubOidcDouble) -> None:
    wrong = fetch(github, token="not-the-request-token")
    assert wrong.status_code == 401
    assert wrong.json()["typeKey"] == "UnauthorizedRequestException"
    bare = requests.get(github.env()["ACTIONS_ID_TOKEN_REQUEST_URL"], timeout=5)
    assert bare.status_code == 401
    assert github.issued == []


def test_appending_a_second_question_mark_breaks_the_api_version(github: GithubOidcDouble) -> None:
    url = github.env()["ACTIONS_ID_TOKEN_REQUEST_URL"] + "?audience=codearts-check-logs"
    answer = fetch(github, url=url)
    assert answer.status_code == 400
    assert "api-version" in answer.json()["message"]


def test_other_paths_and_methods_are_refused(github: GithubOidcDouble) -> None:
    assert requests.get(f"{github.url}/idtoken", timeout=5).status_code == 404
    post = requests.post(
        github.env()["ACTIONS_ID_TOKEN_REQUEST_URL"],
        headers={"Authorization": f"Bearer {github.request_token}"},
        timeout=5,
    )
    assert post.status_code == 405


def test_the_jwks_and_discovery_document_are_served(github: GithubOidcDouble) -> None:
    key_set = requests.get(f"{github.url}{JWKS_PATH}", timeout=5).json()
    assert key_set == github.jwks()
    assert key_set["keys"][0]["kid"] == github.key.kid
    discovery = requests.get(f"{github.url}{CONFIGURATION_PATH}", timeout=5).json()
    assert discovery["issuer"] == GITHUB_ISSUER
    assert discovery["jwks_uri"] == github.jwks_url


def test_rotating_the_key_changes_the_served_jwks(github: GithubOidcDouble) -> None:
    old_jwks, old_token = github.jwks(), github.mint()
    github.rotate_key()
    new_token = github.mint()
    assert github.jwks() != old_jwks
    served = requests.get(github.jwks_url, timeout=5).json()
    audience = [github.default_audience]
    verify(new_token, served, issuer=GITHUB_ISSUER, audiences=audience, now=START)
    with pytest.raises(InvalidIdToken) as stale:
        verify(new_token, old_jwks, issuer=GITHUB_ISSUER, audiences=audience, now=START)
    assert stale.value.reason == "unknown-key"
    with pytest.raises(InvalidIdToken):
        verify(old_token, served, issuer=GITHUB_ISSUER, audiences=audience, now=START)


def test_secrets_list_the_request_token_and_every_id_token(github: GithubOidcDouble) -> None:
    token = fetch(github).json()["value"]
    assert set(github.secrets().values()) == {github.request_token, token}
    assert github.received(github.request_token) == github.token_requests()


def test_faults_hit_token_requests_but_never_the_jwks(github: GithubOidcDouble) -> None:
    github.fail_next(500)
    assert requests.get(github.jwks_url, timeout=5).status_code == 200
    assert fetch(github).status_code == 500
    assert fetch(github).status_code == 200
    github.drop_next()
    with pytest.raises(requests.ConnectionError):
        fetch(github)


def test_the_real_clock_is_the_default() -> None:
    with GithubOidcDouble() as double:
        claims = decode_unverified(double.mint())[1]
    assert abs(claims["iat"] - time.time()) < 60


# --- the verifier's refusals ------------------------------------------------------------------

KEY = SigningKey.shared()
CLAIMS = {"iss": GITHUB_ISSUER, "aud": ["a", "b"], "exp": START + 60, "iat": START}


def refusal(token: str, key_set: Mapping[str, object] | None = None) -> str:
    with pytest.raises(InvalidIdToken) as refused:
        verify(token, key_set or jwks(KEY), issuer=GITHUB_ISSUER, audiences=["b"], now=START)
    return refused.value.reason


def test_a_list_audience_is_accepted_when_one_entry_matches() -> None:
    assert verify(KEY.sign(CLAIMS), jwks(KEY), issuer=GITHUB_ISSUER, audiences=["b"], now=START)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a.b", "malformed"),
        ("!!!.e30.", "malformed"),
        (f"{b64url(b'[1]')}.{b64url(b'{}')}.", "malformed"),
        (KEY.sign(CLAIMS, header={"alg": "HS256"}), "algorithm"),
        (KEY.sign(CLAIMS, header={"kid": "other"}), "unknown-key"),
        (KEY.sign({**CLAIMS, "aud": "c"}), "audience"),
        (KEY.sign({**CLAIMS, "exp": "soon"}), "expired"),
    ],
)
def test_the_verifier_refuses(token: str, reason: str) -> None:
    assert refusal(token) == reason


def test_a_jwks_without_keys_is_refused() -> None:
    assert refusal(KEY.sign(CLAIMS), {"keys": "none"}) == "unknown-key"
    broken = {"keys": [{**KEY.jwk(), "n": 5}]}
    assert refusal(KEY.sign(CLAIMS), broken) == "unknown-key"


@pytest.mark.parametrize(
    ("trigger", "sub", "ref", "event"),
    [
        (Trigger.push("main"), "repo:o/r:ref:refs/heads/main", "refs/heads/main", "push"),
        (Trigger.tag("v2.0.1"), "repo:o/r:ref:refs/tags/v2.0.1", "refs/tags/v2.0.1", "push"),
        (Trigger.pull_request(12), "repo:o/r:pull_request", "refs/pull/12/merge", "pull_request"),
        (
            Trigger.workflow_dispatch("dev"),
            "repo:o/r:ref:refs/heads/dev",
            "refs/heads/dev",
            "workflow_dispatch",
        ),
        (
            Trigger.tag("v1").in_environment("release"),
            "repo:o/r:environment:release",
            "refs/tags/v1",
            "push",
        ),
    ],
)
def test_claims_follow_the_trigger(trigger: Trigger, sub: str, ref: str, event: str) -> None:
    claims = GithubOidcDouble(owner="o", repo="r", trigger=trigger).claims()
    assert (claims["sub"], claims["ref"], claims["event_name"]) == (sub, ref, event)
    assert claims["ref_type"] == ("tag" if "/tags/" in ref else "branch")
    assert claims.get("environment") == trigger.environment


def test_a_pull_request_from_a_fork_gets_no_id_token_request() -> None:
    assert GithubOidcDouble(trigger=Trigger.pull_request(fork=True)).env() == {}
    with GithubOidcDouble(trigger=Trigger.pull_request()) as same_repository:
        assert set(same_repository.env()) == {
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        }
