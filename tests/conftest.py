"""Shared fixtures: the simulator on loopback and a harness that runs the real entrypoint the
way the runner runs a container action (hyphenated INPUT_* variables, file commands in temp
files, the workspace as working directory)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from codearts_check_logs import secrets
from codearts_check_logs.simulator import Simulator

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint"
TOKEN = "MIIEtestTOKEN-5f2b9c1e_d0a7+4b3c/9e8f=="
ID1 = "a777ff00d3cf4d369d87066806ae0001"
ID2 = "b888ff00d3cf4d369d87066806ae0002"
_OUTPUT = re.compile(
    r"^(?P<name>[^<\n]+)<<(?P<delim>\S+)\n(?P<value>.*?)\n(?P=delim)$", re.M | re.S
)


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    secrets.clear()
    yield
    secrets.clear()


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(token=TOKEN) as simulator:
        yield simulator


@dataclass
class Run:
    """What one entrypoint run left behind."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    workspace: Path
    file_commands: Path
    seconds: float = 0.0
    extra: dict[str, str] = field(default_factory=dict)

    def saved_files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.workspace).as_posix(): p.read_bytes()
            for p in sorted(self.workspace.rglob("*"))
            if p.is_file()
        }


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT heredoc entries as a dict."""
    return {m["name"]: m["value"] for m in _OUTPUT.finditer(text)}


class ActionRunner:
    """Runs `entrypoint` as a subprocess with a runner-like environment."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.count = 0

    def __call__(
        self,
        inputs: dict[str, str],
        *,
        env: dict[str, str] | None = None,
        timeout: float = 60,
        omit_defaults: bool = False,
    ) -> Run:
        import time

        self.count += 1
        base = self.tmp_path / f"run{self.count}"
        workspace = base / "workspace"
        commands = base / "file_commands"
        workspace.mkdir(parents=True)
        commands.mkdir()
        output_file = commands / "set_output"
        summary_file = commands / "step_summary"
        output_file.touch()
        summary_file.touch()
        environment = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(base),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "octo-org/octo-repo",
            "GITHUB_RUN_ID": "4242",
        }
        if not omit_defaults:
            environment.update(_defaults())
        environment.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        environment.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(
            [str(ENTRYPOINT)],
            env=environment,
            cwd=workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
            outputs=parse_outputs(output_file.read_text()),
            summary=summary_file.read_text(),
            workspace=workspace,
            file_commands=commands,
            seconds=time.monotonic() - started,
        )


def _defaults() -> dict[str, str]:
    """Every input's default, as the runner passes them (it fills in action.yml defaults)."""
    from codearts_check_logs.config import env_name, input_specs

    return {env_name(spec.name): spec.default for spec in input_specs().values()}


@pytest.fixture
def run_action(tmp_path: Path) -> ActionRunner:
    return ActionRunner(tmp_path)


def inputs_for(sim: Simulator, *ids: str, **extra: str) -> dict[str, str]:
    """The inputs of a typical step pointed at the simulator, artifacts off."""
    values = {
        "sub-job-id": "\n".join(ids or (ID1,)),
        "token": TOKEN,
        "endpoint": sim.base_url,
        "upload-artifact": "false",
    }
    values.update({k.replace("_", "-"): v for k, v in extra.items()})
    return values
