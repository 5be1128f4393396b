"""The command line for other CI systems: same options as the inputs, exit codes 0/1/2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from devtools.doubles.cloud import huawei_cloud
from devtools.doubles.codearts import Simulator, Step

from codearts_check_logs import inputs as config
from codearts_check_logs.entry import cli
from tests.conftest import ID1, ID2, TOKEN


def run_cli(
    args: list[str], cwd: Path, token: str | None = TOKEN, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INPUT_", "ACTIONS_", "GITHUB_", "HUAWEI"))
    }
    env.update(extra or {})
    if token is not None:
        env["CODEARTS_CHECK_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "codearts_check_logs.entry.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_options_mirror_the_inputs() -> None:
    parser = cli.build_parser()
    options = {a.dest for a in parser._actions}
    assert set(config.input_specs()) - set(cli.SECRET_INPUTS) <= options
    for secret in cli.SECRET_INPUTS:  # secrets on a command line end up in process listings
        assert f"--{secret}" not in parser.format_help().split()


def test_success(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, ID2, "--endpoint", sim.base_url, "--path", "out"], tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / f"{ID1}.zip").read_bytes() == sim.zip_bytes(ID1)
    assert proc.stdout.startswith("CodeArts Check logs: 2 of 2 sub-jobs fetched\n")
    assert f"{ID1}: downloading" in proc.stderr  # progress on stderr
    assert "Artifact upload skipped" not in proc.stdout + proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr


def test_failure_exit_1(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no permission"}))
    proc = run_cli(["--sub-job-id", ID1, "--endpoint", sim.base_url], tmp_path)

    assert proc.returncode == 1
    assert f"FAIL  {ID1}  HTTP 403  CC.00050010: no permission" in proc.stdout
    assert "codeartscheck:task:get" in proc.stdout


def test_json_output(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--json"], tmp_path)

    assert proc.returncode == 0, proc.stderr
    [entry] = json.loads(proc.stdout)
    assert entry["sub_job_id"] == ID1
    assert entry["status"] == "success"


@pytest.mark.parametrize(
    ("args", "token"),
    [
        (["not-an-id"], TOKEN),
        ([ID1], None),
        ([ID1, "--timeout-seconds", "-1"], TOKEN),
        ([ID1, "--endpoint", "http://example.com"], TOKEN),
    ],
)
def test_bad_input_exit_2(
    sim: Simulator, tmp_path: Path, args: list[str], token: str | None
) -> None:
    proc = run_cli(args, tmp_path, token=token)

    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ")
    assert sim.requests == []


@pytest.mark.parametrize(
    "names",
    [
        ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK"),
        ("HUAWEI_CLOUD_ACCESS_KEY_ID", "HUAWEI_CLOUD_SECRET_ACCESS_KEY"),
    ],
)
def test_aksk_from_the_sdk_or_auth_action_variables(tmp_path: Path, names: tuple[str, str]) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        keys = dict(zip(names, (cloud.access_key.access, cloud.access_key.secret), strict=True))
        proc = run_cli(
            [ID1, "--endpoint", gateway.base_url, "--iam-endpoint", cloud.iam.url],
            tmp_path,
            token=None,
            extra=keys,
        )
        sent = gateway.requests

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "codearts-check-logs" / f"{ID1}.zip").is_file()
    assert [r.path for r in cloud.requests()] == ["/v3/projects"]
    assert (sent[0].header("Authorization") or "").startswith("SDK-HMAC-SHA256 ")
    assert sent[0].header("X-Project-Id") == cloud.project_id
    assert cloud.access_key.secret not in proc.stdout + proc.stderr


def test_temporary_keys_and_a_project_from_the_sdk_variables(tmp_path: Path) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        extra = {
            "HUAWEICLOUD_SDK_AK": cloud.temporary.access,
            "HUAWEICLOUD_SDK_SK": cloud.temporary.secret,
            "HUAWEICLOUD_SDK_SECURITY_TOKEN": cloud.temporary.security_token or "",
            "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
        }
        proc = run_cli([ID1, "--endpoint", gateway.base_url], tmp_path, token=None, extra=extra)

    assert proc.returncode == 0, proc.stderr
    assert cloud.requests() == []


def test_no_credentials_at_all_exit_2(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url], tmp_path, token=None)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no credentials")
    assert "HUAWEICLOUD_SDK_AK" in proc.stderr


def test_text_output_shows_the_triage(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url], tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert "        triage: 8 problem lines in 4 of 5 files read.\n" in proc.stdout
    assert f"        problem: {ID1}/codecheck.log:127: " in proc.stdout
    assert f"        last 20 lines of {ID1}/codecheck.log:\n" in proc.stdout
    assert f"{ID1}: triage: 8 problem lines" in proc.stderr


def test_json_output_has_the_problems_and_the_triage(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--json"], tmp_path)

    [entry] = json.loads(proc.stdout)
    assert entry["problems"] == 8
    triage = entry["triage"]
    assert set(triage) == {"main_log", "truncated", "members", "problems", "tail", "notes"}
    assert [m["problems"] for m in triage["members"]] == [4, 0, 1, 1, 2]
    assert triage["problems"][0]["line"] == 127
    assert len(triage["tail"]) == 20


@pytest.mark.parametrize("off", [["--no-triage"], ["--triage", "false"]])
def test_triage_can_be_turned_off(sim: Simulator, tmp_path: Path, off: list[str]) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--json", *off], tmp_path)

    [entry] = json.loads(proc.stdout)
    assert (entry["problems"], entry["triage"]) == (None, None)
    assert "triage" not in proc.stderr


def test_a_bad_triage_pattern_is_bad_input(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--triage-pattern", "(unclosed"], tmp_path)

    assert proc.returncode == 2
    assert "triage-pattern is not a valid regular expression" in proc.stderr
    assert sim.requests == []
