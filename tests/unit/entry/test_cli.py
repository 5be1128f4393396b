"""The command line for other CI systems, run as users run it (the installed console script):
the inputs as options and flags, secrets from the environment, the text and JSON outcome,
messages in the command line's terms, progress on a terminal, and every exit status."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devtools.doubles.cloud import huawei_cloud
from devtools.doubles.codearts import Simulator, Step

from codearts_check_logs import __version__
from codearts_check_logs.auth.ways import NO_CREDENTIALS
from codearts_check_logs.entry import cli
from codearts_check_logs.render.channel import CLI
from tests.conftest import ID1, ID2, QUICK_RETRIES, TOKEN

SCRIPT = str(Path(sys.executable).with_name("codearts-check-logs"))
"""The console script pip installed beside the interpreter: what `codearts-check-logs` runs."""


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
        [SCRIPT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


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
    [entry] = json.loads(proc.stdout)["results"]
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
    assert proc.stderr.startswith("codearts-check-logs: error: ")
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
    assert proc.stderr.startswith("codearts-check-logs: error: no credentials")
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

    [entry] = json.loads(proc.stdout)["results"]
    assert entry["problems"] == 8
    triage = entry["triage"]
    assert set(triage) == {"main_log", "truncated", "members", "problems", "tail", "notes"}
    assert [m["problems"] for m in triage["members"]] == [4, 0, 1, 1, 2]
    assert triage["problems"][0]["line"] == 127
    assert len(triage["tail"]) == 20


@pytest.mark.parametrize("off", [["--no-triage"], ["--triage", "false"]])
def test_triage_can_be_turned_off(sim: Simulator, tmp_path: Path, off: list[str]) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--json", *off], tmp_path)

    [entry] = json.loads(proc.stdout)["results"]
    assert (entry["problems"], entry["triage"]) == (None, None)
    assert "triage" not in proc.stderr


def test_a_bad_triage_pattern_is_bad_input(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--triage-pattern", "(unclosed"], tmp_path)

    assert proc.returncode == 2
    assert "triage-pattern is not a valid regular expression" in proc.stderr
    assert sim.requests == []


# -- flags, the output folder, help and version -------------------------------------------------


def test_output_dir_upload_and_json(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "-o", "logs/here", "--endpoint", sim.base_url, "--json"], tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "logs" / "here" / f"{ID1}.zip").read_bytes() == sim.zip_bytes(ID1)
    report = json.loads(proc.stdout)
    assert set(report) == {
        "schema",
        "status",
        "cancelled",
        "problems",
        "error",
        "warnings",
        "results",
    }
    assert (report["schema"], report["status"], report["cancelled"]) == (1, "success", False)
    assert report["error"] is None
    assert report["warnings"] == [], "no upload asked for, so no warning about it"
    [entry] = report["results"]
    assert entry["file"] == f"logs/here/{ID1}.zip"
    assert entry["artifact_id"] == ""


def test_bad_input_with_json_is_one_json_object_naming_the_variable(
    sim: Simulator, tmp_path: Path
) -> None:
    proc = run_cli(
        [ID1, "--endpoint", sim.base_url, "--json", "--iam-user", "bob"], tmp_path, token=None
    )

    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert (report["status"], report["error"]["code"]) == ("failure", "INVALID_INPUT")
    assert "CODEARTS_CHECK_IAM_PASSWORD" in report["error"]["message"]
    assert "--iam-domain" in report["error"]["message"]
    assert "CODEARTS_CHECK_IAM_PASSWORD" in proc.stderr


def test_json_carries_a_refused_credential_exchange(tmp_path: Path) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        proc = run_cli(
            [ID1, "--endpoint", gateway.base_url, "--iam-endpoint", cloud.iam.url, "--json",
             "--iam-user", cloud.user.name, "--iam-domain", cloud.account.domain_name],
            tmp_path,
            token=None,
            extra={"CODEARTS_CHECK_IAM_PASSWORD": "not-the-password"},
        )  # fmt: skip
        assert gateway.requests == [], "nothing reached CodeArts Check"

    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert (report["status"], report["results"]) == ("failure", [])
    assert report["error"]["service"] == "IAM"
    assert report["error"]["step"] == "password token"
    assert "not-the-password" not in proc.stdout + proc.stderr


def test_upload_outside_github_actions_is_skipped_with_a_warning(
    sim: Simulator, tmp_path: Path
) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--upload", "--json"], tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["warnings"][0].startswith("Artifact upload skipped")


def test_version(tmp_path: Path) -> None:
    proc = run_cli(["--version"], tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"codearts-check-logs {__version__}"


# -- the command line as a new user meets it, through the installed script ---------------------

SECRET = "S3cretValue!42"


@pytest.mark.parametrize(
    "args",
    [["--token", SECRET], [f"--token={SECRET}"], ["--secret-access-key", SECRET],
     ["--iam-password", SECRET], ["--security-token", SECRET], ["--token"]],
)  # fmt: skip
@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_secret_as_an_option_is_refused_unechoed_with_the_variable_to_use(
    sim: Simulator, tmp_path: Path, args: list[str], json_flag: list[str]
) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, *json_flag, *args], tmp_path)

    assert proc.returncode == 2
    assert SECRET not in proc.stdout + proc.stderr
    name = args[0].split("=")[0]
    assert f"{name} is not an option" in proc.stderr
    variable = {"--token": "CODEARTS_CHECK_TOKEN", "--secret-access-key": "HUAWEICLOUD_SDK_SK",
                "--iam-password": "CODEARTS_CHECK_IAM_PASSWORD",
                "--security-token": "HUAWEICLOUD_SDK_SECURITY_TOKEN"}[name]  # fmt: skip
    assert variable in proc.stderr
    assert "usage:" not in proc.stderr, "a mistake gets one line, not the whole usage block"
    if json_flag:
        assert json.loads(proc.stdout)["error"]["code"] == "INVALID_INPUT"
    assert sim.requests == []


def test_token_is_no_abbreviation_of_token_env(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--tok", SECRET], tmp_path)

    assert proc.returncode == 2
    assert "unknown option --tok; did you mean --token-env?" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    assert sim.requests == []


def test_an_unknown_option_names_itself_not_its_value(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--secret-key", SECRET, "--endpoint", sim.base_url], tmp_path)

    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "codearts-check-logs: error: unknown option --secret-key",
        "Try 'codearts-check-logs --help' for the options.",
    ]  # one line and a pointer, not the whole usage block
    assert SECRET not in proc.stdout + proc.stderr


def test_help_is_grouped_and_ends_with_examples_and_exit_statuses(tmp_path: Path) -> None:
    proc = run_cli(["--help"], tmp_path)

    assert proc.returncode == 0
    headings = [line for line in proc.stdout.splitlines() if line and not line[0].isspace()]
    titles = ["what to fetch:", "authentication", "output:", "behaviour:"]
    titles += ["examples:", "exit status:"]
    found = [next(i for i, h in enumerate(headings) if h.startswith(t)) for t in titles]
    assert found == sorted(found)  # in this order, the examples and the statuses last
    examples = proc.stdout.split("examples:")[1].split("exit status:")[0]
    assert examples.count("\n  codearts-check-logs ") == 3
    assert "| jq" in examples
    assert len(proc.stdout.splitlines()) < 133  # shorter than the ungrouped help it replaced


def test_no_credentials_names_the_command_lines_ways(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url], tmp_path, token=None)

    assert proc.returncode == 2
    for way in ("CODEARTS_CHECK_TOKEN", "--token-env", "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK",
                "--iam-user", "--iam-domain", "CODEARTS_CHECK_IAM_PASSWORD",
                "--oidc-agency-urn", "--oidc-provider-urn", "--oidc-idp-id"):  # fmt: skip
        assert way in proc.stderr, way
    words = proc.stderr.replace(",", " ").replace(";", " ").split()
    for input_name in ("access-key-id", "secret-access-key", "iam-password", "iam-user"):
        assert input_name not in words, "an input name of the action"


def test_the_no_credentials_message_is_already_in_the_command_lines_spelling() -> None:
    # spoken_input_error swaps it in before speaking the whole message, so speaking must keep it.
    assert CLI.speak(cli.CLI_NO_CREDENTIALS) == cli.CLI_NO_CREDENTIALS
    spoken = cli.spoken_input_error(f"timeout-seconds must be a number; {NO_CREDENTIALS}")
    assert spoken == f"--timeout-seconds must be a number; {cli.CLI_NO_CREDENTIALS}"


@pytest.mark.parametrize("where", ["absolute", "parent"])
def test_output_dir_may_be_any_writable_folder(sim: Simulator, tmp_path: Path, where: str) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    target = tmp_path / "elsewhere" / "logs"
    arg = str(target) if where == "absolute" else "../elsewhere/logs"
    proc = run_cli([ID1, "--endpoint", sim.base_url, "-o", arg, "--json"], cwd)

    assert proc.returncode == 0, proc.stderr
    assert (target / f"{ID1}.zip").read_bytes() == sim.zip_bytes(ID1)
    [entry] = json.loads(proc.stdout)["results"]
    assert entry["file"] == str(target / f"{ID1}.zip")


def test_json_on_a_usage_error_is_the_same_object(tmp_path: Path) -> None:
    proc = run_cli(["--json", "--no-such-option"], tmp_path)

    assert proc.returncode == 2
    report = json.loads(proc.stdout)
    assert set(report) == {"schema", "status", "cancelled", "problems", "error", "warnings",
                           "results"}  # fmt: skip
    assert report["error"]["code"] == "INVALID_INPUT"
    assert report["error"]["message"] == "unknown option --no-such-option"
    assert report["error"]["hint"].startswith("Fix the options or environment variables")
    assert report["results"] == []


def test_a_failed_json_entry_carries_what_the_text_shows(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no permission"}))
    text = run_cli([ID1, "--endpoint", sim.base_url], tmp_path)
    sim.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no permission"}))
    proc = run_cli([ID1, "--endpoint", sim.base_url, "--json"], tmp_path)

    [entry] = json.loads(proc.stdout)["results"]
    assert (entry["http_status"], entry["error_code"]) == (403, "CC.00050010")
    assert entry["request_id"]
    assert f"request ID: {entry['request_id']}" in text.stdout
    assert "codeartscheck:task:get" in entry["hint"]
    assert f"hint: {entry['hint']}" in text.stdout


ACTION_WORDS = ("runner", "the step", "job summary", "let the action", "with: inputs",
                "at the job level", "step log")  # fmt: skip


@pytest.mark.parametrize("failure", ["network", "timeout", "input", "write"])
def test_messages_and_hints_speak_of_the_command(
    sim: Simulator, tmp_path: Path, failure: str
) -> None:
    args = [ID1, "--endpoint", sim.base_url]
    if failure == "network":
        args = [ID1, "--endpoint", "http://127.0.0.1:9", "--timeout-seconds", "2"]
    elif failure == "timeout":
        sim.script(ID1, Step.stall(30))
        args += ["--timeout-seconds", "1"]
    elif failure == "input":
        args += ["--timeout-seconds", "0"]
    else:
        (tmp_path / "codearts-check-logs").write_text("a file where the folder should be")
    proc = run_cli(args, tmp_path)

    assert proc.returncode in (1, 2), proc.stderr
    shown = (proc.stdout + proc.stderr).lower()
    for word in ACTION_WORDS:
        assert word not in shown, word
    expected = {"network": "this machine could not reach", "timeout": "--timeout-seconds",
                "input": "--timeout-seconds must be", "write": "--output-dir"}[failure]  # fmt: skip
    assert expected in shown


def test_quiet_prints_only_the_outcome(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url, "-q"], tmp_path)

    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[0] == "CodeArts Check logs: 1 sub-job fetched"
    assert f"  OK    {ID1}  codearts-check-logs/{ID1}.zip" in proc.stdout
    assert "triage" not in proc.stdout
    assert "problem:" not in proc.stdout


def test_quiet_still_shows_errors(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no permission"}))
    proc = run_cli([ID1, "--endpoint", sim.base_url, "-q"], tmp_path)

    assert proc.returncode == 1
    assert proc.stderr == ""
    assert f"FAIL  {ID1}  HTTP 403  CC.00050010: no permission" in proc.stdout
    assert "hint: " in proc.stdout


def test_verbose_logs_each_request_and_retry_never_a_secret(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.json(503, {"error_code": "CC.00000001", "error_msg": "busy"}))
    proc = run_cli([ID1, "--endpoint", sim.base_url, "-v"], tmp_path, extra=QUICK_RETRIES)

    assert proc.returncode == 0, proc.stderr
    answers = [line for line in proc.stderr.splitlines() if "/v1/log-file" in line]
    assert [line.split(" -> ")[1].split(" in ")[0] for line in answers] == [
        "HTTP 503", "HTTP 200"]  # fmt: skip
    assert f"GET {sim.base_url}/v1/log-file?sub_job_id={ID1} -> HTTP 503" in answers[0]
    assert f"{ID1}: attempt 1 failed with CC.00000001; retrying in" in proc.stderr
    assert TOKEN not in proc.stdout + proc.stderr


def test_python_dash_m_runs_the_command_line(sim: Simulator, tmp_path: Path) -> None:
    env = {**os.environ, "CODEARTS_CHECK_TOKEN": TOKEN}
    proc = subprocess.run(
        [sys.executable, "-m", "codearts_check_logs", ID1, "--endpoint", sim.base_url, "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("CodeArts Check logs: 1 sub-job fetched")


def test_a_short_secret_is_refused_before_it_is_masked(sim: Simulator, tmp_path: Path) -> None:
    proc = run_cli([ID1, "--endpoint", sim.base_url], tmp_path, token="e")

    assert proc.returncode == 2
    assert "CODEARTS_CHECK_TOKEN is shorter than 8 characters" in proc.stderr
    assert "***" not in proc.stderr
    assert sim.requests == []


# -- exit statuses ---------------------------------------------------------------------------


def test_no_fail_on_error_exits_0_on_failure(sim: Simulator, tmp_path: Path) -> None:
    for args in (["--no-fail-on-error"], ["--fail-on-error", "false"]):
        sim.script(ID1, Step.json(403, {"error_code": "CC.00050010", "error_msg": "no"}))
        proc = run_cli([ID1, "--endpoint", sim.base_url, *args], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert f"FAIL  {ID1}" in proc.stdout


def test_unknown_option_is_bad_input(tmp_path: Path) -> None:
    proc = run_cli([ID1, "--no-such-option"], tmp_path)
    assert proc.returncode == 2


def test_the_iam_password_comes_from_the_environment(tmp_path: Path) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        user = cloud.user
        proc = run_cli(
            [ID1, "--endpoint", gateway.base_url, "--iam-endpoint", cloud.iam.url,
             "--iam-user", user.name, "--iam-domain", cloud.account.domain_name],
            tmp_path,
            token=None,
            extra={"CODEARTS_CHECK_IAM_PASSWORD": user.password},
        )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    assert user.password not in proc.stdout + proc.stderr


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_at_once_removes_partial_files_and_says_so(
    sim: Simulator, tmp_path: Path, signum: int, status: int
) -> None:
    sim.set_zip_size(ID1, 4 << 20)
    sim.script(ID1, Step.stall(60, after_headers=True))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACTIONS_", "GITHUB_"))
    }
    env["CODEARTS_CHECK_TOKEN"] = TOKEN
    with subprocess.Popen(
        [SCRIPT, ID1, "--endpoint", sim.base_url],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:  # fmt: skip
        deadline = time.monotonic() + 20
        while not list(tmp_path.rglob("*.part")):
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.02)
        signalled = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)

    assert time.monotonic() - signalled < 5
    assert process.returncode == status
    assert "Traceback" not in stderr
    assert "KeyboardInterrupt" not in stderr
    assert f"FAIL  {ID1}" in stdout
    assert "CANCELLED" in stdout
    assert list(tmp_path.rglob("*.part")) == []
    assert not (tmp_path / "codearts-check-logs" / f"{ID1}.zip").exists()


# -- progress ----------------------------------------------------------------------------------


def test_a_pipe_gets_no_progress_and_verbose_gets_plain_quarter_lines(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.set_zip_size(ID1, 8 << 20)
    plain = run_cli([ID1, "--endpoint", sim.base_url, "--no-triage"], tmp_path)
    verbose = run_cli([ID1, "--endpoint", sim.base_url, "--no-triage", "-v"], tmp_path)
    silent = run_cli([ID1, "--endpoint", sim.base_url, "--no-triage", "-v", "--no-progress"],
                     tmp_path)  # fmt: skip

    assert (plain.returncode, verbose.returncode, silent.returncode) == (0, 0, 0), plain.stderr
    assert ": download " not in plain.stderr
    assert f"{ID1}: downloading" in plain.stderr, "log lines stay"
    lines = [line for line in verbose.stderr.splitlines() if ": download " in line]
    assert [line.split("download ")[1].split("%")[0] for line in lines] == ["25", "50", "75", "100"]
    assert "\r" not in verbose.stderr
    assert ": download " not in silent.stderr


def on_a_terminal(sim: Simulator, tmp_path: Path, *args: str, term: str = "xterm") -> str:
    """What stderr shows when it is a terminal (a pseudo-terminal)."""
    sim.set_zip_size(ID1, 8 << 20)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACTIONS_", "GITHUB_"))
    }
    env.update({"CODEARTS_CHECK_TOKEN": TOKEN, "COLUMNS": "100", "TERM": term})
    primary, secondary = pty.openpty()
    screen = b""
    try:
        with subprocess.Popen(
            [SCRIPT, ID1, "--endpoint", sim.base_url, "--no-triage", *args],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=secondary,
        ) as process:  # fmt: skip
            os.close(secondary)
            while True:
                try:
                    chunk = os.read(primary, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                screen += chunk
            process.wait(timeout=60)
    finally:
        os.close(primary)
    text = screen.decode("utf-8", "replace")
    assert process.returncode == 0, text
    return text


def test_a_terminal_gets_progress_bars(sim: Simulator, tmp_path: Path) -> None:
    text = on_a_terminal(sim, tmp_path)

    assert "\r" in text, "a bar redraws itself"
    assert f"{ID1[:8]}… download" in text
    assert "100%" in text
    assert "8.00M" in text or "8.0M" in text
    assert ": download 25%" not in text, "no plain lines on a terminal"


@pytest.mark.parametrize(("args", "term"), [(["--no-progress"], "xterm"), ([], "dumb")])
def test_no_bars_with_no_progress_or_a_dumb_terminal(
    sim: Simulator, tmp_path: Path, args: list[str], term: str
) -> None:
    text = on_a_terminal(sim, tmp_path, *args, term=term)

    assert f"{ID1}: downloading" in text
    assert "\r" not in text.replace("\r\n", "\n"), "nothing redraws"
    assert "download 25%" not in text
    assert "100%" not in text


def test_a_closed_stdout_ends_quietly(sim: Simulator, tmp_path: Path) -> None:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "ACTIONS_", "GITHUB_"))
    }
    env["CODEARTS_CHECK_TOKEN"] = TOKEN
    with subprocess.Popen(
        [SCRIPT, ID1, "--endpoint", sim.base_url],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        process.stdout.close()  # like `| head` that has read enough
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert b"Traceback" not in stderr


def test_a_defect_while_reporting_is_a_message_not_a_traceback(
    sim: Simulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise KeyError("a bug")

    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    monkeypatch.setattr(cli, "render_text", broken)
    monkeypatch.setattr(cli, "leave", lambda code: code)  # the simulator's threads are alive
    monkeypatch.setenv("CODEARTS_CHECK_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    try:
        code = cli.main([ID1, "--endpoint", sim.base_url])
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert code == 1
    assert "unexpected KeyError (a bug)" in capsys.readouterr().err


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_a_password_iam_quotes_back_is_scrubbed_in_every_spelling(
    tmp_path: Path, json_flag: list[str]
) -> None:
    """IAM quotes the request body (the password JSON-escaped) back; neither the text nor the
    JSON outcome shows any spelling of it, and the fixed values stay whole."""
    password = 'Pässwörd "中文" \\ +&<>'
    with huawei_cloud() as cloud:
        cloud.iam.echo_next(400, "IAM.0011")
        proc = run_cli(
            [ID1, "--iam-endpoint", cloud.iam.url, "--iam-user", cloud.user.name,
             "--iam-domain", cloud.account.domain_name, *json_flag],
            tmp_path,
            token=None,
            extra={"CODEARTS_CHECK_IAM_PASSWORD": password},
        )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    forms = {password, json.dumps(password)[1:-1], json.dumps(password, ensure_ascii=False)[1:-1]}
    for form in forms:
        assert form not in proc.stdout + proc.stderr
    assert "IAM.0011" in proc.stdout
    if json_flag:
        report = json.loads(proc.stdout)
        assert (report["status"], report["error"]["code"]) == ("failure", "IAM.0011")
