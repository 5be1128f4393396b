"""The Settings record: every input validated at once, the environment's fallbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs.auth.ways import TokenAuth
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.inputs.settings import InvalidSettings, parse_settings, raw_inputs
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN
from tests.conftest import ID1, TOKEN
from tests.samples import raw_inputs as raw


def test_absent_and_blank_inputs_take_defaults() -> None:
    values = raw_inputs(
        RunnerEnvironment.read({"INPUT_SUB-JOB-ID": f" {ID1} ", "INPUT_REGION": "   "})
    )
    assert values["sub-job-id"] == ID1
    assert values["region"] == ""
    assert values["path"] == "codearts-check-logs"
    assert values["token"] == ""


def test_defaults_make_valid_settings(tmp_path: Path) -> None:
    settings = parse_settings(raw(), tmp_path)
    assert settings.sub_job_ids == (ID1,)
    assert settings.region == "cn-north-4"
    assert settings.base_url == "https://codearts-check.cn-north-4.myhuaweicloud.com"
    assert settings.iam_url == "https://iam.cn-north-4.myhuaweicloud.com"
    assert settings.sts_url == "https://sts.cn-north-4.myhuaweicloud.com"
    assert settings.auth == TokenAuth(TOKEN)
    assert settings.output.directory == tmp_path.resolve() / "codearts-check-logs"
    assert settings.upload_artifact is True
    assert settings.retention_days is None
    assert settings.overwrite is False
    assert settings.fail_on_error is True
    assert settings.timeout_seconds == 300
    assert TOKEN not in repr(settings)


def test_artifact_name_template(tmp_path: Path) -> None:
    settings = parse_settings(raw(artifact_name="ci-{sub_job_id}"), tmp_path)
    assert settings.artifact_name_for(ID1) == f"ci-{ID1}.zip"
    default = parse_settings(raw(), tmp_path)
    assert default.artifact_name_for(ID1) == f"codearts-check-logs-{ID1}.zip"


def test_an_empty_region_comes_from_the_environment_else_cn_north_4(tmp_path: Path) -> None:
    env = {"HUAWEI_CLOUD_REGION": "ap-southeast-3"}
    settings = parse_settings(raw(), tmp_path, RunnerEnvironment.read(env))
    assert settings.region == "ap-southeast-3"
    assert settings.iam_url == "https://iam.ap-southeast-3.myhuaweicloud.com"
    assert settings.sts_url == "https://sts.ap-southeast-3.myhuaweicloud.com"
    assert (
        parse_settings(raw(region="cn-south-1"), tmp_path, RunnerEnvironment.read(env)).region
        == "cn-south-1"
    )
    assert parse_settings(raw(), tmp_path, RunnerEnvironment.read({})).region == "cn-north-4"
    with pytest.raises(InvalidInput, match="HUAWEI_CLOUD_REGION must look like cn-north-4"):
        parse_settings(
            raw(), tmp_path, RunnerEnvironment.read({"HUAWEI_CLOUD_REGION": "Beijing 4"})
        )


@pytest.mark.parametrize("token", ["has space", "line\nbreak", "tab\there", "é" * 10, "short"])
def test_tokens_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(InvalidInput, match="token"):
        parse_settings(raw(token=token), tmp_path)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_settings(raw(token="", retention_days="91", region="x"), tmp_path)
    message = caught.value.message
    assert "no credentials" in message
    assert "retention-days" in message
    assert "region must look like" in message


def test_triage_is_on_by_default_with_the_builtin_pattern(tmp_path: Path) -> None:
    settings = parse_settings(raw(), tmp_path)
    assert settings.triage is True
    assert settings.triage_pattern is BUILTIN_PATTERN


@pytest.mark.parametrize(("word", "on"), [("false", False), ("FALSE", False), ("True", True)])
def test_triage_is_a_boolean(tmp_path: Path, word: str, on: bool) -> None:
    assert parse_settings(raw(triage=word), tmp_path).triage is on


def test_triage_refuses_other_words(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="triage must be true or false"):
        parse_settings(raw(triage="no"), tmp_path)


def test_triage_pattern_is_compiled_at_input_time(tmp_path: Path) -> None:
    settings = parse_settings(raw(triage_pattern=r"(?i)\bwarn(ing)?\b"), tmp_path)
    assert settings.triage_pattern.search("a WARNING here")
    assert not settings.triage_pattern.search("forewarned")


def test_a_bad_pattern_is_refused_even_with_triage_off(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="triage-pattern"):
        parse_settings(raw(triage="false", triage_pattern="("), tmp_path)


@pytest.mark.parametrize(("word", "fail_on_error"), [("false", False), ("true", True), ("x", True)])
def test_invalid_settings_carry_fail_on_error_read_once(
    tmp_path: Path, word: str, fail_on_error: bool
) -> None:
    with pytest.raises(InvalidSettings) as caught:
        parse_settings(raw(sub_job_id="short", fail_on_error=word), tmp_path)
    assert caught.value.fail_on_error is fail_on_error
    assert ("fail-on-error" in caught.value.message) is (word == "x")
