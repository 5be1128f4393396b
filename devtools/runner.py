"""Run the real entrypoint the way GitHub's runner runs a container action.

The one harness that tests, the demo and the benchmark share: hyphenated `INPUT_*` variables
(every input's action.yml default unless told otherwise, as the runner fills them in), file
commands in temporary files, the workspace as the working directory, and the outputs parsed back
from `GITHUB_OUTPUT`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from codearts_check_logs.environment import env_name
from codearts_check_logs.inputs.metadata import input_specs

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint"
_OUTPUT = re.compile(
    r"^(?P<name>[^<\n=]+)<<(?P<delim>\S+)\n(?P<value>.*?)\n(?P=delim)$", re.M | re.S
)


def parse_outputs(text: str) -> dict[str, str]:
    """A `GITHUB_OUTPUT` file's heredoc entries (`name<<delimiter` … `delimiter`) as a dict."""
    return {m["name"]: m["value"] for m in _OUTPUT.finditer(text)}


def input_defaults() -> dict[str, str]:
    """Every input's default as an `INPUT_*` variable, as the runner passes them."""
    return {env_name(spec.name): spec.default for spec in input_specs().values()}


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

    @property
    def log(self) -> str:
        return self.stdout + self.stderr

    def saved_files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.workspace).as_posix(): p.read_bytes()
            for p in sorted(self.workspace.rglob("*"))
            if p.is_file()
        }


class FakeRunner:
    """A folder laid out like a runner's for one step: workspace, file commands, home."""

    def __init__(self, base: Path, *, command: Sequence[str] = (str(ENTRYPOINT),)) -> None:
        self.base = base
        self.command = list(command)
        self.workspace = base / "workspace"
        self.file_commands = base / "file_commands"
        self.output_file = self.file_commands / "set_output"
        self.summary_file = self.file_commands / "step_summary"
        self.workspace.mkdir(parents=True, exist_ok=True)
        self.file_commands.mkdir(parents=True, exist_ok=True)
        self.output_file.touch()
        self.summary_file.touch()

    def environment(
        self,
        inputs: Mapping[str, str],
        env: Mapping[str, str] | None = None,
        *,
        defaults: bool = True,
    ) -> dict[str, str]:
        """The step's environment: the runner's variables, the inputs, then `env` on top."""
        environment = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(self.base),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(self.output_file),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "octo-org/octo-repo",
            "GITHUB_RUN_ID": "4242",
        }
        if defaults:
            environment.update(input_defaults())
        environment.update({env_name(name): value for name, value in inputs.items()})
        environment.update(env or {})
        return environment

    def start(
        self,
        inputs: Mapping[str, str],
        env: Mapping[str, str] | None = None,
        *,
        defaults: bool = True,
    ) -> Started:
        """The entrypoint in the background (for tests that signal it)."""
        proc = subprocess.Popen(
            self.command,
            env=self.environment(inputs, env, defaults=defaults),
            cwd=self.workspace,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Started(self, proc, time.monotonic())

    def run(
        self,
        inputs: Mapping[str, str],
        env: Mapping[str, str] | None = None,
        *,
        defaults: bool = True,
        timeout: float = 120,
    ) -> Run:
        """The entrypoint to its end."""
        return self.start(inputs, env, defaults=defaults).finish(timeout)

    def collect(self, returncode: int, stdout: str, stderr: str, seconds: float) -> Run:
        return Run(
            returncode=returncode,
            stdout=stdout,
            stderr=stderr,
            outputs=parse_outputs(self.output_file.read_text(encoding="utf-8")),
            summary=self.summary_file.read_text(encoding="utf-8"),
            workspace=self.workspace,
            file_commands=self.file_commands,
            seconds=seconds,
        )


@dataclass
class Started:
    """A running entrypoint."""

    runner: FakeRunner
    proc: subprocess.Popen[str]
    started: float

    def finish(self, timeout: float) -> Run:
        """Wait for the end (killing it after `timeout`) and collect what it left."""
        try:
            stdout, stderr = self.proc.communicate(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.communicate()
        seconds = time.monotonic() - self.started
        return self.runner.collect(self.proc.returncode, stdout, stderr, seconds)
