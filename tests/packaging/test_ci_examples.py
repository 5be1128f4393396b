"""The examples for CI systems other than GitHub Actions hold together.

actionlint and zizmor check the GitHub workflows in docs/examples/*.yml; nothing comparable
runs offline for GitLab CI or Jenkins. So these tests parse the GitLab files as YAML and
check what a user copying them relies on: the published image with its entrypoint cleared,
credentials only from the CI system's secret store under the SDK's variable names, ZIPs
kept as artifacts whatever the exit status, and a CLI call that uses only the documented
options and saves where the artifacts are collected. test_docs.py checks that the README links
each file.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from codearts_check_logs.entry import cli_options

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
GITLAB = EXAMPLES / "gitlab" / ".gitlab-ci.yml"
PIPX = EXAMPLES / "pipx" / ".gitlab-ci.yml"
JENKINS = EXAMPLES / "jenkins" / "Jenkinsfile"
# What the release workflow pushes: X.Y.Z, X.Y and X (see .github/workflows/release.yml).
PUBLISHED_IMAGE = re.compile(
    r"^ghcr\.io/codearts-check-logs/codearts-check-logs(?::\d+(?:\.\d+){0,2}|@sha256:[0-9a-f]{64})$"
)
SDK_CREDENTIALS = ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK")
SECRET_NAMES = re.compile(r"HUAWEI|_AK\b|_SK\b|SECRET|TOKEN|PASSWORD", re.I)


def gitlab_job(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    jobs = {
        name: spec
        for name, spec in data.items()
        if isinstance(spec, dict) and "script" in spec and not name.startswith(".")
    }
    assert list(jobs) == ["codearts-check-logs"], list(jobs)
    job = jobs["codearts-check-logs"]
    for name in (*data.get("variables", {}), *job.get("variables", {})):
        assert not SECRET_NAMES.search(name), f"{name} belongs in the CI/CD settings"
    return job


def cli_calls(commands: list[str]) -> list[list[str]]:
    """The argument lists after each `codearts-check-logs` program name in shell commands."""
    calls = []
    for command in commands:
        words = shlex.split(command)
        positions = [i for i, word in enumerate(words) if word == "codearts-check-logs"]
        assert positions, f"no codearts-check-logs call in {command!r}"
        calls.append(words[positions[-1] + 1 :])
    return calls


def output_dir(arguments: list[str]) -> str:
    """The output folder a call saves to, as the CLI's own parser reads the call."""
    parsed = cli_options.parse(arguments)
    assert parsed.ids or parsed.__dict__["sub-job-id"], "the sub-job IDs are missing"
    assert not parsed.__dict__["upload-artifact"], "--upload works only inside GitHub Actions"
    return str(parsed.path)


def mentions_every_sdk_credential(text: str) -> None:
    comments = "\n".join(
        line for line in text.splitlines() if line.lstrip().startswith(("#", "//"))
    )
    for name in SDK_CREDENTIALS:
        assert name in comments, f"the header should say where {name} comes from"


@pytest.mark.parametrize("path", [GITLAB, PIPX], ids=["image", "pipx"])
def test_gitlab_jobs_keep_the_zips_whatever_the_outcome(path: Path) -> None:
    job = gitlab_job(path)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts.get("expire_in")
    (call,) = cli_calls(job["script"])
    folder = output_dir(call)
    assert f"{folder}/" in artifacts["paths"]
    assert "$CODEARTS_SUB_JOB_IDS" in call
    assert job["rules"] == [{"if": "$CODEARTS_SUB_JOB_IDS"}]
    text = path.read_text(encoding="utf-8")
    mentions_every_sdk_credential(text)
    assert "Masked" in text
    assert "rotected" in text


def test_gitlab_job_runs_the_published_image_with_its_entrypoint_cleared() -> None:
    job = gitlab_job(GITLAB)
    assert PUBLISHED_IMAGE.match(job["image"]["name"]), job["image"]
    assert job["image"]["entrypoint"] == [""]
    assert not job.get("before_script"), "the image already holds the CLI"


def test_pipx_job_runs_the_pypi_release_of_this_major_version() -> None:
    job = gitlab_job(PIPX)
    assert re.fullmatch(r"python:3\.1[1-9]-slim", job["image"])
    (command,) = job["script"]
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "pipx", "run"]
    assert words[4:6] == ["--spec", "codearts-check-logs>=1,<2"]


def test_jenkins_stage_binds_the_sdk_names_and_archives_the_zips() -> None:
    text = JENKINS.read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in text.splitlines())
    assert code.count("{") == code.count("}")
    assert code.count("(") == code.count(")")
    mentions_every_sdk_credential(text)

    image = re.search(r"docker\s*\{\s*image\s+'([^']+)'\s+args\s+'([^']*)'", code)
    assert image is not None, "a docker { image … args … } agent"
    assert PUBLISHED_IMAGE.match(image.group(1)), image.group(1)
    assert image.group(2) == "--entrypoint="

    binding = re.search(r"withCredentials\(\[usernamePassword\(([^)]*)\)\]\)", code)
    assert binding is not None
    assert "usernameVariable: 'HUAWEICLOUD_SDK_AK'" in binding.group(1)
    assert "passwordVariable: 'HUAWEICLOUD_SDK_SK'" in binding.group(1)

    # Groovy interpolates "…" strings: secrets must only ever be expanded by the shell.
    steps = re.findall(r"\bsh\s+(['\"])(.*?)\1", code)
    assert [quote for quote, _ in steps] == ["'"]
    (call,) = cli_calls([command for _, command in steps])
    folder = output_dir(call)
    assert "$CODEARTS_SUB_JOB_IDS" in call

    archived = re.search(r"post\s*\{\s*always\s*\{\s*archiveArtifacts artifacts: '([^']+)'", code)
    assert archived is not None, "archiveArtifacts under post { always { … } }"
    assert archived.group(1) == f"{folder}/*.zip"
