"""The one reader of the environment: everything the product takes from it, read once."""

from __future__ import annotations

import dataclasses

import pytest

from codearts_check_logs.environment import SECRET_ENV, RunnerEnvironment, env_name

RUNNER = {
    "INPUT_SUB-JOB-ID": " abc ",
    "INPUT_TOKEN": "a-token-value",
    "GITHUB_OUTPUT": "/runner/output",
    "GITHUB_STEP_SUMMARY": "/runner/summary",
    "GITHUB_WORKSPACE": "/work",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo/repo",
    "GITHUB_RUN_ID": "42",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_RETENTION_DAYS": "30",
    "ACTIONS_RUNTIME_TOKEN": "runtime",
    "ACTIONS_RESULTS_URL": "https://results.example",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "bearer-value",
    "HUAWEI_CLOUD_REGION": "cn-south-1",
    "HUAWEICLOUD_SDK_AK": "sdk-access-key",
    "HUAWEICLOUD_SDK_SK": "sdk-secret-key",
    "UNRELATED": "ignored",
}


def test_everything_is_read_once_into_one_record() -> None:
    env = RunnerEnvironment.read(RUNNER)
    assert env.input("sub-job-id") == " abc ", "kept as the runner set it; inputs judge it"
    assert env.input("region") == ""
    assert (env.output_file, env.summary_file, env.workspace) == (
        "/runner/output",
        "/runner/summary",
        "/work",
    )
    assert (env.repository, env.run_id, env.run_attempt, env.retention_days) == (
        "octo/repo",
        "42",
        "2",
        "30",
    )
    assert (env.runtime_token, env.results_url) == ("runtime", "https://results.example")
    assert (env.id_token_url, env.id_token_bearer) == ("https://token.example", "bearer-value")
    assert env.region == "cn-south-1"
    assert dict(env.keys) == {
        "HUAWEICLOUD_SDK_AK": "sdk-access-key",
        "HUAWEICLOUD_SDK_SK": "sdk-secret-key",
    }
    assert env.key("HUAWEI_CLOUD_ACCESS_KEY_ID") == ""
    assert env.key("") == ""


def test_the_record_is_frozen_and_keeps_no_reference_to_the_environment() -> None:
    source = dict(RUNNER)
    env = RunnerEnvironment.read(source)
    source["INPUT_TOKEN"] = "changed"
    assert env.input("token") == "a-token-value"
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.region = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        env.inputs["INPUT_TOKEN"] = "x"  # type: ignore[index]


def test_named_variables_are_read_only_when_a_command_line_names_them() -> None:
    env = RunnerEnvironment.read({"MY_TOKEN": "t0k3n-value", "OTHER": "x"}, named=["MY_TOKEN"])
    assert dict(env.named) == {"MY_TOKEN": "t0k3n-value"}


def test_secret_values_are_the_set_secret_variables() -> None:
    env = RunnerEnvironment.read(RUNNER)
    assert sorted(env.secret_values()) == ["bearer-value", "sdk-access-key", "sdk-secret-key"]
    assert "ACTIONS_ID_TOKEN_REQUEST_TOKEN" in SECRET_ENV


def test_the_repr_names_what_is_set_never_a_value() -> None:
    text = repr(RunnerEnvironment.read(RUNNER))
    for value in ("a-token-value", "sdk-secret-key", "bearer-value", "runtime"):
        assert value not in text
    assert "TOKEN" in text


def test_env_names_keep_hyphens() -> None:
    assert env_name("sub-job-id") == "INPUT_SUB-JOB-ID"
    assert env_name("fail on error") == "INPUT_FAIL_ON_ERROR"
