"""Inputs: action.yml as the source of names and defaults, and validation of every value."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs import inputs as config
from codearts_check_logs.auth.ways import TokenAuth
from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN
from tests.conftest import ID1, ID2, TOKEN


def raw(**overrides: str) -> dict[str, str]:
    values = {name: spec.default for name, spec in config.input_specs().items()}
    values.update({"sub-job-id": ID1, "token": TOKEN})
    values.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return values


def test_action_yml_declares_the_interface() -> None:
    specs = config.input_specs()
    assert list(specs) == [
        "sub-job-id", "region", "endpoint", "iam-endpoint", "sts-endpoint", "token",
        "access-key-id", "secret-access-key", "security-token", "project-id", "iam-user",
        "iam-password", "iam-domain", "oidc-agency-urn", "oidc-provider-urn", "oidc-idp-id",
        "oidc-audience", "path", "upload-artifact", "artifact-name", "retention-days",
        "overwrite", "triage", "triage-pattern", "fail-on-error", "timeout-seconds",
    ]  # fmt: skip
    assert specs["sub-job-id"].required
    assert specs["region"].default == ""
    assert specs["timeout-seconds"].default == "300"
    assert specs["artifact-name"].default == "codearts-check-logs-{sub_job_id}.zip"
    assert config.output_names() == (
        "status", "file", "size", "sha256", "artifact-digest", "artifact-id", "artifact-url",
        "error-code", "error-message", "problems", "results",
    )  # fmt: skip


def test_env_names_keep_hyphens() -> None:
    assert config.env_name("sub-job-id") == "INPUT_SUB-JOB-ID"
    assert config.env_name("fail on error") == "INPUT_FAIL_ON_ERROR"


def test_absent_and_blank_inputs_take_defaults() -> None:
    values = config.raw_inputs({"INPUT_SUB-JOB-ID": f" {ID1} ", "INPUT_REGION": "   "})
    assert values["sub-job-id"] == ID1
    assert values["region"] == ""
    assert values["path"] == "codearts-check-logs"
    assert values["token"] == ""


def test_defaults_make_valid_settings(tmp_path: Path) -> None:
    settings = config.parse_settings(raw(), tmp_path)
    assert settings.sub_job_ids == (ID1,)
    assert settings.region == "cn-north-4"
    assert settings.base_url == "https://codearts-check.cn-north-4.myhuaweicloud.com"
    assert settings.iam_url == "https://iam.cn-north-4.myhuaweicloud.com"
    assert settings.sts_url == "https://sts.cn-north-4.myhuaweicloud.com"
    assert settings.auth == TokenAuth(TOKEN)
    assert settings.directory == tmp_path.resolve() / "codearts-check-logs"
    assert settings.upload_artifact is True
    assert settings.retention_days is None
    assert settings.overwrite is False
    assert settings.fail_on_error is True
    assert settings.timeout_seconds == 300
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        (f"{ID1},{ID2}", (ID1, ID2)),
        (f"{ID1} {ID2}", (ID1, ID2)),
        (f"{ID1}\n{ID2}\n", (ID1, ID2)),
        (f"{ID1}, {ID1},\n{ID2} {ID1}", (ID1, ID2)),
    ],
)
def test_sub_job_ids_split_and_deduplicated(text: str, ids: tuple[str, ...]) -> None:
    assert config.parse_sub_job_ids(text) == ids


@pytest.mark.parametrize(
    "bad", ["abc", "a" * 33, "../" + "a" * 29, "a" * 30 + "%2F", "a" * 31 + "#", "a" * 31 + "/"]
)
def test_sub_job_id_rejects_anything_but_32_alphanumerics(bad: str) -> None:
    with pytest.raises(InvalidInput, match="32 characters"):
        config.parse_sub_job_ids(bad)


@pytest.mark.parametrize("word", ["true", "True", "TRUE"])
def test_true_spellings(word: str) -> None:
    assert config.parse_bool("overwrite", word) is True


@pytest.mark.parametrize("word", ["false", "False", "FALSE"])
def test_false_spellings(word: str) -> None:
    assert config.parse_bool("overwrite", word) is False


@pytest.mark.parametrize("word", ["yes", "no", "on", "1", "0", "tRuE", "", "true "])
def test_booleans_refuse_everything_else(word: str) -> None:
    with pytest.raises(InvalidInput, match="must be true or false"):
        config.parse_bool("overwrite", word)


@pytest.mark.parametrize(
    ("text", "days"), [("", None), ("0", None), ("00", None), ("1", 1), ("90", 90), ("30", 30)]
)
def test_retention_days(text: str, days: int | None) -> None:
    """`0` is the repository's default, as `actions/upload-artifact` reads it."""
    assert config.parse_retention_days(text) == days


@pytest.mark.parametrize("text", ["91", "abc", "-1", "1.5", "5abc", " 5"])
def test_retention_days_out_of_range(text: str) -> None:
    with pytest.raises(InvalidInput, match="retention-days"):
        config.parse_retention_days(text)


@pytest.mark.parametrize(("text", "seconds"), [("300", 300.0), ("0.5", 0.5), ("21600", 21600.0)])
def test_timeout(text: str, seconds: float) -> None:
    assert config.parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5", "abc", "1e9", "21601", "99999999999", "nan", "inf"])
def test_timeout_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="timeout-seconds"):
        config.parse_timeout(text)


@pytest.mark.parametrize("char", ['"', ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/"])
def test_artifact_name_forbidden_characters(char: str) -> None:
    with pytest.raises(InvalidInput, match="artifact-name"):
        config.parse_artifact_name(f"logs{char}{{sub_job_id}}")


def test_artifact_name_template(tmp_path: Path) -> None:
    settings = config.parse_settings(raw(artifact_name="ci-{sub_job_id}"), tmp_path)
    assert settings.artifact_name_for(ID1) == f"ci-{ID1}.zip"
    default = config.parse_settings(raw(), tmp_path)
    assert default.artifact_name_for(ID1) == f"codearts-check-logs-{ID1}.zip"


def test_path_stays_in_the_workspace(tmp_path: Path) -> None:
    assert config.parse_directory("out/logs", tmp_path) == tmp_path.resolve() / "out/logs"
    assert config.parse_directory(".", tmp_path) == tmp_path.resolve()
    for outside in ("..", "../x", "/tmp", "a/../../b"):
        with pytest.raises(InvalidInput, match="inside the workspace"):
            config.parse_directory(outside, tmp_path)


def test_path_through_a_symlink_out_of_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidInput, match="inside the workspace"):
        config.parse_directory("link/elsewhere", workspace)


def test_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        config.parse_directory("taken", tmp_path)


def test_at_most_500_sub_jobs() -> None:
    ids = [f"{index:032x}" for index in range(config.MAX_SUB_JOBS + 1)]
    assert len(config.parse_sub_job_ids(",".join(ids[:-1]))) == 500
    assert len(config.parse_sub_job_ids(" ".join(ids[:-1] + ids[:10]))) == 500, "duplicates"
    with pytest.raises(InvalidInput, match="501 sub-jobs; at most 500"):
        config.parse_sub_job_ids("\n".join(ids))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a" * 256, "a folder name of 256 bytes"),
        ("logs/" + "é" * 128, "a folder name of 256 bytes"),
        ("/".join(["d" * 250] * 17), "too long"),
        ("logs\n::error::injected", "control characters (U+000A)"),
        ("logs\r##[warning]x", "control characters (U+000D)"),
        ("a\x00b", "control characters (U+0000)"),
        ("\x1b[31mred", "control characters (U+001B)"),
        ("line\u2028separator", "control characters (U+2028)"),
        ("taken", "exists and is not a folder"),
        ("loop/logs", "loop of symbolic links"),
    ],
)
def test_paths_that_cannot_be_created(tmp_path: Path, value: str, reason: str) -> None:
    """Refused while reading inputs, not found out when the first ZIP is written (or as a
    traceback: a symlink loop raised RuntimeError, a long name OSError)."""
    (tmp_path / "taken").write_text("x")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(InvalidInput) as caught:
        config.parse_directory(value, tmp_path)
    assert reason in caught.value.message
    assert "\n" not in caught.value.message
    assert "\r" not in caught.value.message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loop", "taken"], "nothing made"


def test_a_path_with_odd_but_harmless_characters_is_kept(tmp_path: Path) -> None:
    value = "logs::error::x/##[group]y/ü 日志"
    assert config.parse_directory(value, tmp_path) == tmp_path.resolve() / value


@pytest.mark.parametrize(
    ("region", "endpoint", "url"),
    [
        ("ap-southeast-3", "", "https://codearts-check.ap-southeast-3.myhuaweicloud.com"),
        ("cn-north-4", "https://check.example.com/", "https://check.example.com"),
        (
            "cn-north-4",
            "https://check.example.com:8443/base",
            "https://check.example.com:8443/base",
        ),
        ("cn-north-4", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("cn-north-4", "http://127.5.6.7:8080", "http://127.5.6.7:8080"),
        ("cn-north-4", "http://localhost:9000", "http://localhost:9000"),
        ("cn-north-4", "http://[::1]:9000", "http://[::1]:9000"),
    ],
)
def test_endpoints(tmp_path: Path, region: str, endpoint: str, url: str) -> None:
    settings = config.parse_settings(raw(region=region, endpoint=endpoint), tmp_path)
    assert settings.base_url == url


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://check.example.com",
        "http://10.0.0.1",
        "http://localhost.example.com",
        "http://no-such-host.invalid",
        "http://127.0.0.1:8080/\n::error::x",
        "https://check.example.com/a b",
        "https://check.exa\tmple.com",
        "check.example.com",
        "https://user:pw@check.example.com",
        "https://check.example.com/?x=1",
        "https://check.example.com:99999",
        "file:///etc/passwd",
    ],
)
def test_endpoints_refused(tmp_path: Path, endpoint: str) -> None:
    with pytest.raises(InvalidInput):
        config.parse_settings(raw(endpoint=endpoint), tmp_path)


@pytest.mark.parametrize("region", ["CN-NORTH-4", "cn-north", "cn north 4", "../x", "cn-north-4/"])
def test_regions_refused(tmp_path: Path, region: str) -> None:
    with pytest.raises(InvalidInput, match="region"):
        config.parse_settings(raw(region=region), tmp_path)


def test_an_empty_region_comes_from_the_environment_else_cn_north_4(tmp_path: Path) -> None:
    env = {"HUAWEI_CLOUD_REGION": "ap-southeast-3"}
    settings = config.parse_settings(raw(), tmp_path, env)
    assert settings.region == "ap-southeast-3"
    assert settings.iam_url == "https://iam.ap-southeast-3.myhuaweicloud.com"
    assert settings.sts_url == "https://sts.ap-southeast-3.myhuaweicloud.com"
    assert config.parse_settings(raw(region="cn-south-1"), tmp_path, env).region == "cn-south-1"
    assert config.parse_settings(raw(), tmp_path, {}).region == "cn-north-4"
    with pytest.raises(InvalidInput, match="HUAWEI_CLOUD_REGION must look like cn-north-4"):
        config.parse_settings(raw(), tmp_path, {"HUAWEI_CLOUD_REGION": "Beijing 4"})


@pytest.mark.parametrize("name", ["iam-endpoint", "sts-endpoint"])
def test_credential_endpoints_override_the_region_and_must_be_https(
    tmp_path: Path, name: str
) -> None:
    settings = config.parse_settings(raw(**{name: "http://127.0.0.1:9/"}), tmp_path)
    assert getattr(settings, name.replace("-endpoint", "_url")) == "http://127.0.0.1:9"
    for bad in ("http://iam.example.com", "https://u:p@iam.example.com", "iam.example.com"):
        with pytest.raises(InvalidInput, match=name):
            config.parse_settings(raw(**{name: bad}), tmp_path)


@pytest.mark.parametrize("token", ["has space", "line\nbreak", "tab\there", "é" * 10, "short"])
def test_tokens_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(InvalidInput, match="token"):
        config.parse_settings(raw(token=token), tmp_path)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        config.parse_settings(raw(token="", retention_days="91", region="x"), tmp_path)
    message = caught.value.message
    assert "no credentials" in message
    assert "retention-days" in message
    assert "region must look like" in message


def test_triage_is_on_by_default_with_the_builtin_pattern(tmp_path: Path) -> None:
    settings = config.parse_settings(raw(), tmp_path)
    assert settings.triage is True
    assert settings.triage_pattern is BUILTIN_PATTERN


@pytest.mark.parametrize(("word", "on"), [("false", False), ("FALSE", False), ("True", True)])
def test_triage_is_a_boolean(tmp_path: Path, word: str, on: bool) -> None:
    assert config.parse_settings(raw(triage=word), tmp_path).triage is on


def test_triage_refuses_other_words(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="triage must be true or false"):
        config.parse_settings(raw(triage="no"), tmp_path)


def test_triage_pattern_is_compiled_at_input_time(tmp_path: Path) -> None:
    settings = config.parse_settings(raw(triage_pattern=r"(?i)\bwarn(ing)?\b"), tmp_path)
    assert settings.triage_pattern.search("a WARNING here")
    assert not settings.triage_pattern.search("forewarned")


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(", "not a valid regular expression"),
        ("[a-", "not a valid regular expression"),
        ("a{2,1}", "not a valid regular expression"),
        ("a*", "matches an empty line"),
        ("error|", "matches an empty line"),
        (".*", "matches an empty line"),
    ],
)
def test_bad_triage_patterns_are_invalid_input(tmp_path: Path, pattern: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        config.parse_settings(raw(triage_pattern=pattern), tmp_path)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.message.startswith("triage-pattern ")


def test_a_bad_pattern_is_refused_even_with_triage_off(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="triage-pattern"):
        config.parse_settings(raw(triage="false", triage_pattern="("), tmp_path)
