"""The runner's artifact environment: read once, checked, explained when unusable."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import pytest
from devtools.doubles.results import make_runtime_token

from codearts_check_logs import masking
from codearts_check_logs.artifact.environment import (
    ArtifactEnvironment,
    BackendIds,
    backend_ids_from_token,
    from_env,
    results_origin,
)
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import ArtifactUploadFailed

RUN_ID, JOB_ID = "run-backend-id", "job-backend-id"
ORIGIN = "https://results-receiver.actions.githubusercontent.com"


def from_variables(variables: Mapping[str, str]) -> ArtifactEnvironment | None:
    return from_env(RunnerEnvironment.read(variables))


def token(scp: object = f"Actions.GenericRead:1 Actions.Results:{RUN_ID}:{JOB_ID}") -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'scp': scp} if scp is not None else {})}.sig"


def env(**overrides: str) -> dict[str, str]:
    base = {
        "ACTIONS_RUNTIME_TOKEN": token(),
        "ACTIONS_RESULTS_URL": f"{ORIGIN}/",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "42",
    }
    return {**base, **overrides}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_runtime_token_means_no_upload(value: str | None) -> None:
    environment = env()
    del environment["ACTIONS_RUNTIME_TOKEN"]
    if value is not None:
        environment["ACTIONS_RUNTIME_TOKEN"] = value
    assert from_variables(environment) is None


@pytest.mark.parametrize(
    "bad_token",
    [
        "not-a-jwt",
        "a.!!!.c",
        token(scp=None),
        token(scp=["Actions.Results:1:2"]),
        token(scp="Actions.GenericRead:1"),
        token(scp="Actions.Results:only-run"),
        token(scp="Actions.Results:run:job:extra"),
        token(scp="Actions.Results::job"),
    ],
)
def test_unusable_token_is_explained(bad_token: str) -> None:
    with pytest.raises(ArtifactUploadFailed, match=r"Actions\.Results scope"):
        from_variables(env(ACTIONS_RUNTIME_TOKEN=bad_token))


def test_backend_ids_come_from_the_results_scope() -> None:
    assert backend_ids_from_token(token()) == BackendIds(RUN_ID, JOB_ID)
    assert backend_ids_from_token(make_runtime_token("r", "j")) == BackendIds("r", "j")


def test_missing_results_url_is_explained() -> None:
    environment = env()
    del environment["ACTIONS_RESULTS_URL"]
    with pytest.raises(ArtifactUploadFailed, match="ACTIONS_RESULTS_URL is not set"):
        from_variables(environment)


@pytest.mark.parametrize(
    "url", ["http://[bad", "ftp://results.example", "no scheme", "https://x:99999/"]
)
def test_malformed_results_url_is_explained(url: str) -> None:
    with pytest.raises(ArtifactUploadFailed, match="ACTIONS_RESULTS_URL is not a valid"):
        from_variables(env(ACTIONS_RESULTS_URL=url))


@pytest.mark.parametrize(
    ("server", "refused"),
    [
        ("https://github.com", False),
        ("https://octo.ghe.com", False),
        ("http://github.localhost", False),
        ("https://github.example.com", True),
        ("http://[bad", True),
    ],
)
def test_github_enterprise_server_is_refused(server: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ArtifactUploadFailed, match="Enterprise Server"):
            from_variables(env(GITHUB_SERVER_URL=server))
    else:
        assert from_variables(env(GITHUB_SERVER_URL=server)) is not None


def test_only_the_origin_of_the_results_url_is_used() -> None:
    assert results_origin(f"{ORIGIN}/some/base/path/?x=1") == ORIGIN
    found = from_variables(env())
    assert found is not None
    assert found.results_origin == ORIGIN


def test_artifact_url_is_built_like_the_official_action() -> None:
    found = from_variables(env())
    assert found is not None
    assert (
        found.artifact_url("77")
        == "https://github.com/octo-org/octo-repo/actions/runs/42/artifacts/77"
    )
    bare = from_variables({k: v for k, v in env().items() if k != "GITHUB_RUN_ID"})
    assert bare is not None
    assert bare.artifact_url("77") == ""


def test_the_token_is_a_secret_and_stays_out_of_the_repr() -> None:
    found = from_variables(env())
    assert found is not None
    assert token() not in repr(found)
    assert masking.redact(token()) == masking.REPLACEMENT


def test_retention_maximum_comes_from_the_repository() -> None:
    found = from_variables(env(GITHUB_RETENTION_DAYS="30"))
    assert found is not None
    assert found.max_retention_days == 30
    assert from_variables(env(GITHUB_RETENTION_DAYS="x")).max_retention_days is None  # type: ignore[union-attr]
