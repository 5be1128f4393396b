"""The Actions boundary in-process: publishing on every usable channel, and the exit status."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import replace
from pathlib import Path

import pytest
from devtools.runner import parse_outputs

from codearts_check_logs import masking
from codearts_check_logs.entry import action
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.outcome import Outcome
from tests.samples import failed_result, ok_result, outcome_of


def publish(
    outcome: Outcome, env: dict[str, str], fail_on_error: bool = True
) -> tuple[Outcome, str]:
    stream = io.StringIO()
    with redirect_stdout(stream):
        published = action.publish(
            outcome, RunnerEnvironment.read(env), fail_on_error=fail_on_error
        )
    return published, stream.getvalue()


def runner_files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "output").touch()
    (tmp_path / "summary").touch()
    return {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }


def test_every_channel_gets_the_outcome(tmp_path: Path) -> None:
    env = runner_files(tmp_path)
    published, stdout = publish(outcome_of(ok_result(), failed_result("expired")), env)
    assert published.channel_errors == ()
    assert parse_outputs((tmp_path / "output").read_text())["error-code"] == "CC.00000003"
    assert "| error_msg | expired |" in (tmp_path / "summary").read_text()
    assert "::error title=CodeArts Check logs::sub-job" in stdout
    assert stdout.rstrip().endswith("CodeArts Check logs: 1 of 2 sub-jobs failed")
    assert action.exit_status(published, fail_on_error=True) == 1
    assert action.exit_status(published, fail_on_error=False) == 0


def test_an_output_file_that_cannot_be_written_is_reported_elsewhere(tmp_path: Path) -> None:
    env = {**runner_files(tmp_path), "GITHUB_OUTPUT": str(tmp_path)}
    published, stdout = publish(outcome_of(ok_result()), env, fail_on_error=False)
    assert published.channel_errors == ("GITHUB_OUTPUT could not be written: Is a directory",)
    assert "GITHUB&#95;OUTPUT could not be written" in (tmp_path / "summary").read_text()
    assert "::error title=CodeArts Check logs::GITHUB_OUTPUT could not be written" in stdout
    assert action.exit_status(published, fail_on_error=False) == 1


def test_a_summary_that_cannot_be_written_is_reported_elsewhere(tmp_path: Path) -> None:
    env = {**runner_files(tmp_path), "GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "summary")}
    published, stdout = publish(outcome_of(ok_result()), env)
    assert parse_outputs((tmp_path / "output").read_text())["status"] == "success"
    assert "GITHUB_STEP_SUMMARY could not be written" in stdout
    assert action.exit_status(published, fail_on_error=True) == 1


def test_without_runner_files_only_the_log_is_written() -> None:
    published, stdout = publish(Outcome.failed(InvalidInput("token is required")), {})
    assert "::error title=CodeArts Check logs::INVALID_INPUT: token is required" in stdout
    assert action.exit_status(published, fail_on_error=True) == 1


@pytest.mark.parametrize("fail_on_error", [True, False])
def test_a_cancelled_run_never_exits_zero(fail_on_error: bool) -> None:
    outcome = replace(outcome_of(ok_result()), cancelled=True)
    assert action.exit_status(outcome, fail_on_error=fail_on_error) == 1


def test_the_token_is_masked_before_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        action.mask_secrets(RunnerEnvironment.read({"INPUT_TOKEN": "  the-token-value-123  "}))
    assert stream.getvalue().splitlines() == [
        f"::add-mask::{form}" for form in masking.spellings("the-token-value-123")
    ]
    assert masking.redact("x the-token-value-123") == "x ***"
    assert masking.redact("x the&#45;token&#x2D;value-123") == "x ***"


@pytest.mark.parametrize("value", ["e", "1234567", "failure", "  short  "])
def test_a_value_too_short_to_be_a_secret_is_never_masked(value: str) -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        action.mask_secrets(
            RunnerEnvironment.read({"INPUT_TOKEN": value, "INPUT_IAM-PASSWORD": value})
        )
    assert stream.getvalue() == ""
    assert masking.redact("failure") == "failure"


def test_every_secret_input_and_the_environments_keys_are_masked() -> None:
    env = {
        "INPUT_TOKEN": "token-value-0123",
        "INPUT_ACCESS-KEY-ID": "AKEXAMPLE0123",
        "INPUT_SECRET-ACCESS-KEY": "SKexample0123456",
        "INPUT_SECURITY-TOKEN": "security-token-0123",
        "INPUT_IAM-PASSWORD": "Pw-example-0123",
        "INPUT_IAM-USER": "ci-bot",
        "HUAWEI_CLOUD_ACCESS_KEY_ID": "AKENVEXAMPLE01",
        "HUAWEI_CLOUD_SECRET_ACCESS_KEY": "SKenvexample0123",
        "HUAWEI_CLOUD_PROJECT_ID": "0123456789abcdef0123456789abcdef",
        "HUAWEICLOUD_SDK_AK": "AKSDKEXAMPLE01",
        "HUAWEICLOUD_SDK_SK": "SKsdkexample0123",
        "HUAWEICLOUD_SDK_SECURITY_TOKEN": "sdk-security-token-0123",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "runner-bearer-token-0123",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://runner.example/idtoken?api-version=2.0",
    }
    stream = io.StringIO()
    with redirect_stdout(stream):
        action.mask_secrets(RunnerEnvironment.read(env))
    masked = {line.removeprefix("::add-mask::") for line in stream.getvalue().splitlines()}
    public = {"INPUT_IAM-USER", "HUAWEI_CLOUD_PROJECT_ID", "ACTIONS_ID_TOKEN_REQUEST_URL"}
    secret_names = set(env) - public
    assert masked == {form for name in secret_names for form in masking.spellings(env[name])}
