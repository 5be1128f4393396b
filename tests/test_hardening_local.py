"""Issue 5's local faults and secrets: a workspace that cannot be written, a full disk, a
cancelled job (SIGTERM), and the token kept out of every repr, exception and debug log.

End to end through the entrypoint where the fault can be produced from outside; in process
(`LogClient.download`) where it cannot, such as a disk that fills up while the ZIP streams.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from codearts_check_logs import codearts, config, logzip
from codearts_check_logs.auth import TokenAuth
from codearts_check_logs.codearts import LogClient
from codearts_check_logs.errors import ActionError
from codearts_check_logs.simulator import Simulator, Step, small_zip

from .conftest import ENTRYPOINT, ID1, TOKEN, ActionRunner, Run, inputs_for, parse_outputs
from .test_secrets import assert_token_only_masked

if TYPE_CHECKING:
    from devtools.results_double import ResultsDouble

pytest_plugins = ["tests.fixtures_artifact"]

SLACK = 5.0
DISK_FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codearts, "BACKOFF_INITIAL", 0.01)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def assert_write_failed(run: Run) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "WRITE_FAILED", run.outputs.get("error-message")
    assert run.outputs["status"] == "failure"
    assert "free disk space and folder permissions" in run.summary
    assert any(line.startswith("::error ") for line in run.stdout.splitlines())
    assert "Traceback" not in run.stderr


# -- the workspace cannot be written ----------------------------------------------------------


def test_path_below_a_file_cannot_be_created(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path
) -> None:
    """Not writable, in a way that holds even for root (tests run as root in the container):
    chmod does not stop root, but no one can create a folder below a regular file (ENOTDIR)."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "taken").write_text("a file")
    run = run_action(
        inputs_for(sim, ID1, path="taken/logs"), env={"GITHUB_WORKSPACE": str(workspace)}
    )

    assert_write_failed(run)
    assert "Not a directory" in run.outputs["error-message"]
    assert leftovers(workspace) == ["taken"]
    assert sim.requests == [], "an unwritable folder is found before any request"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through any permission bits")
def test_read_only_workspace(sim: Simulator, run_action: ActionRunner, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    workspace.chmod(0o555)
    try:
        run = run_action(inputs_for(sim, ID1), env={"GITHUB_WORKSPACE": str(workspace)})
    finally:
        workspace.chmod(0o755)

    assert_write_failed(run)
    assert leftovers(workspace) == []


def test_final_name_taken_by_a_folder(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path
) -> None:
    """The rename is the last step that can fail: `<id>.zip` exists as a folder."""
    workspace = tmp_path / "ws"
    (workspace / "codearts-check-logs" / f"{ID1}.zip").mkdir(parents=True)
    run = run_action(inputs_for(sim, ID1), env={"GITHUB_WORKSPACE": str(workspace)})

    assert_write_failed(run)
    assert leftovers(workspace / "codearts-check-logs") == [f"{ID1}.zip"], "no temp file left"


def _mount_tmpfs(target: Path, size: str) -> bool:
    target.mkdir(parents=True)
    if os.geteuid() != 0 or not Path("/bin/mount").exists():
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.parametrize("zip_size", [200 * 1024, 5 * 1024 * 1024], ids=["buffered", "streamed"])
def test_disk_full_on_a_real_filesystem(
    sim: Simulator, run_action: ActionRunner, tmp_path: Path, zip_size: int
) -> None:
    """A 128 KiB tmpfs as the output folder: ENOSPC from the kernel, not from a mock. With the
    small ZIP the last bytes sit in the file buffer and the error comes from close()."""
    workspace = tmp_path / "ws"
    folder = workspace / "codearts-check-logs"
    if not _mount_tmpfs(folder, "128k"):
        pytest.skip("needs root and permission to mount a tmpfs")
    try:
        sim.set_zip_size(ID1, zip_size)
        run = run_action(inputs_for(sim, ID1), env={"GITHUB_WORKSPACE": str(workspace)})
        assert_write_failed(run)
        assert "No space left on device" in run.outputs["error-message"]
        assert leftovers(folder) == [], "no partial file under any name"
    finally:
        subprocess.run(["umount", str(folder)], check=False)


# -- a full disk, in process --------------------------------------------------------------------


class FillingFile(io.RawIOBase):
    """Wraps the real temporary file; fails like a full disk at `where`."""

    def __init__(self, real: Any, where: str, room: int = 4096) -> None:
        self.real = real
        self.where = where
        self.room = room
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.where == "write" and self.written + len(data) > self.room:
            raise DISK_FULL
        self.written += len(data)
        return int(self.real.write(data))

    def close(self) -> None:
        self.real.close()
        super().close()
        if self.where == "close":
            raise DISK_FULL


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def arm(where: str) -> None:
        if where == "replace":

            def refuse(*args: Any, **kwargs: Any) -> None:
                raise DISK_FULL

            monkeypatch.setattr(os, "replace", refuse)
            return
        real = codearts._writable
        monkeypatch.setattr(codearts, "_writable", lambda tmp: FillingFile(real(tmp), where))

    return arm


@pytest.mark.parametrize("where", ["write", "close", "replace"])
def test_disk_full_leaves_no_partial_file(
    sim: Simulator, tmp_path: Path, full_disk: Callable[[str], None], where: str
) -> None:
    old = tmp_path / f"{ID1}.zip"
    old.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an earlier run's ZIP under the final name
    full_disk(where)
    client = LogClient(sim.base_url, TokenAuth(TOKEN, sim.base_url))
    with pytest.raises(ActionError) as caught:
        client.download(ID1, old, budget=10)

    assert caught.value.code == "WRITE_FAILED"
    assert "No space left on device" in caught.value.message
    assert leftovers(tmp_path) == [old.name], "no temporary file left"
    assert old.read_bytes() == b"PK\x05\x06" + b"\x00" * 18, "the old ZIP is untouched"
    assert len(sim.requests_for()) == 1, "a local write failure is not retried"


def test_no_retry_starts_too_late_to_finish(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry that would start with 2 ms left could only time out, and report TIMEOUT instead
    of what went wrong (here a ZIP without its end record, a retryable fault)."""
    damaged = small_zip(ID1)[:-22]
    sim.script(ID1, *[Step.raw(200, damaged, "application/zip")] * 5)
    budget = 1.5
    started = time.monotonic()

    def wait_until_the_last_moment(state: object) -> float:
        return max(0.0, budget - 0.002 - (time.monotonic() - started))

    monkeypatch.setattr(codearts, "_wait", wait_until_the_last_moment)
    client = LogClient(sim.base_url, TokenAuth(TOKEN, sim.base_url))
    with pytest.raises(ActionError) as caught:
        client.download(ID1, tmp_path / f"{ID1}.zip", budget=budget)
    assert caught.value.code == "INVALID_RESPONSE", caught.value.message
    assert leftovers(tmp_path) == []


def test_zip64_record_offset_beyond_any_file(tmp_path: Path) -> None:
    """A hostile ZIP64 locator (offset 2**64 - 1) is a damaged ZIP, not a crash in seek()."""
    body = small_zip(ID1)
    body = body[: body.index(b"PK\x01\x02")]
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 2**64 - 1, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    path = tmp_path / "x.zip"
    path.write_bytes(body + locator + end)
    with pytest.raises(logzip.BadZip, match="damaged"):
        logzip.inspect(path)


# -- a cancelled job --------------------------------------------------------------------------


@dataclass
class Started:
    proc: subprocess.Popen[str]
    workspace: Path
    output_file: Path
    summary_file: Path

    def finish(self, timeout: float) -> tuple[Run, float]:
        started = time.monotonic()
        stdout, stderr = self.proc.communicate(timeout=timeout)
        run = Run(
            returncode=self.proc.returncode,
            stdout=stdout,
            stderr=stderr,
            outputs=parse_outputs(self.output_file.read_text()),
            summary=self.summary_file.read_text(),
            workspace=self.workspace,
            file_commands=self.output_file.parent,
        )
        return run, time.monotonic() - started


def start_action(tmp_path: Path, inputs: dict[str, str], env: dict[str, str]) -> Started:
    """The entrypoint in the background, with the environment `run_action` gives it."""
    workspace = tmp_path / "ws"
    commands = tmp_path / "file_commands"
    workspace.mkdir(parents=True)
    commands.mkdir()
    output_file, summary_file = commands / "set_output", commands / "step_summary"
    output_file.touch()
    summary_file.touch()
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output_file),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_RUN_ID": "4242",
        **{config.env_name(s.name): s.default for s in config.input_specs().values()},
        **{config.env_name(k): v for k, v in inputs.items()},
        **env,
    }
    proc = subprocess.Popen(
        [str(ENTRYPOINT)],
        env=environment,
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Started(proc, workspace, output_file, summary_file)


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.02)


def parts_in(workspace: Path) -> list[Path]:
    return list(workspace.rglob("*.part"))


def assert_cancelled(run: Run, seconds: float) -> None:
    assert run.returncode != 0, run.stdout + run.stderr
    assert seconds < SLACK, f"took {seconds:.1f} s to stop after SIGTERM"
    assert parts_in(run.workspace) == [], "temporary files were left behind"
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == "CANCELLED"
    assert json.loads(run.outputs["results"])[0]["error_code"] == "CANCELLED"
    assert "CANCELLED" in run.summary
    assert "Traceback" not in run.stderr
    assert run.saved_files() == {}


def terminate_when(
    action: Started, ready: Callable[[], bool], *, settle: float = 0.0
) -> tuple[Run, float]:
    """Send SIGTERM once `ready()` holds (plus `settle` seconds); the run and its duration."""
    try:
        wait_for(ready)
        time.sleep(settle)
        action.proc.send_signal(signal.SIGTERM)
        result = action.finish(timeout=30)
    finally:
        if action.proc.poll() is None:
            action.proc.kill()
    return result


def test_sigterm_during_a_download(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(60, after_headers=True))
    action = start_action(tmp_path, inputs_for(sim, ID1, timeout_seconds="120"), {})
    # The ZIP has started to arrive.
    run, seconds = terminate_when(action, lambda: bool(parts_in(action.workspace)))
    assert_cancelled(run, seconds)


def test_sigterm_during_a_retry_wait(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.raw(503, b"busy", "text/plain", {"Retry-After": "50"}))
    action = start_action(tmp_path, inputs_for(sim, ID1, timeout_seconds="120"), {})
    run, seconds = terminate_when(action, lambda: len(sim.requests_for()) == 1, settle=0.3)
    assert_cancelled(run, seconds)
    assert len(sim.requests_for()) == 1, "no new attempt after the cancel"


@pytest.mark.azurite
def test_sigterm_finalizes_no_artifact(
    sim: Simulator,
    tmp_path: Path,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    sim.set_zip_size(ID1, 3 * 1024 * 1024)
    sim.script(ID1, Step.stall(60, after_headers=True))
    artifact_env = {k: runner_env[k] for k in ("ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL")}
    inputs = inputs_for(sim, ID1, timeout_seconds="120", upload_artifact="true")
    action = start_action(tmp_path / "job", inputs, artifact_env)
    run, seconds = terminate_when(action, lambda: bool(parts_in(action.workspace)))
    assert_cancelled(run, seconds)
    assert results_double.finalized() == []
    assert results_double.calls("FinalizeArtifact") == []
    assert run.outputs["artifact-id"] == ""


# -- secrets --------------------------------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def exception_texts(exc: BaseException) -> str:
    """Everything an exception can show: str, repr, the formatted traceback, and the same for
    every exception chained to it (even when suppressed with `from None`)."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


def test_token_is_in_no_repr(tmp_path: Path) -> None:
    raw = config.raw_inputs({"INPUT_SUB-JOB-ID": ID1, "INPUT_TOKEN": TOKEN})
    settings = config.parse_settings(raw, tmp_path)
    auth = TokenAuth(TOKEN, settings.base_url)
    client = LogClient(settings.base_url, auth)
    for thing in (settings, auth, client):
        assert TOKEN not in repr(thing), type(thing).__name__
        assert TOKEN not in str(thing), type(thing).__name__


@pytest.mark.parametrize("failure", ["refused", "echoed", "echoed-on-200", "stall"])
def test_token_is_in_no_exception_and_no_debug_log(
    sim: Simulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    """Every logger at DEBUG (urllib3's request lines included) while requests fail inside
    `requests` or the service echoes the token back, plain and URL-encoded. Nothing registers
    the token beforehand: the client on its own must keep it out."""
    caplog.set_level(logging.DEBUG)
    base = sim.base_url
    echo = f"token {TOKEN} / {quote(TOKEN, safe='')}"
    if failure == "refused":
        base = closed_port_url()
    elif failure == "echoed":
        sim.script(ID1, Step.json(401, {"error_code": "APIGW.0301", "error_msg": echo}))
    elif failure == "echoed-on-200":
        sim.script(ID1, Step.json(200, {"code": "CC.1", "message": echo}, {"X-Echo": TOKEN}))
    else:
        sim.script(ID1, Step.stall(10))
    client = LogClient(base, TokenAuth(TOKEN, base))
    with pytest.raises(ActionError) as caught:
        client.download(ID1, tmp_path / f"{ID1}.zip", budget=1.5)

    texts = exception_texts(caught.value)
    assert TOKEN not in texts
    assert quote(TOKEN, safe="") not in texts
    assert TOKEN not in caplog.text
    assert quote(TOKEN, safe="") not in caplog.text


@pytest.mark.parametrize("failure", ["refused", "echoed-everywhere"])
def test_token_in_no_channel_with_debug_logging(
    sim: Simulator, run_action: ActionRunner, failure: str
) -> None:
    debug = {"RUNNER_DEBUG": "1", "ACTIONS_STEP_DEBUG": "true", "ACTIONS_RUNNER_DEBUG": "true"}
    inputs = inputs_for(sim, ID1, timeout_seconds="2")
    if failure == "refused":
        inputs["endpoint"] = closed_port_url()
    else:
        echo = f"{TOKEN} {quote(TOKEN, safe='')} ::add-mask::{TOKEN[:8]}"
        body = {"error_code": TOKEN, "error_msg": echo, "request_id": TOKEN}
        sim.script(ID1, Step.json(400, body, {"X-Request-Id": TOKEN}))
    run = run_action(inputs, env=debug)

    assert run.returncode == 1
    assert run.outputs["status"] == "failure"
    assert_token_only_masked(run)
    assert quote(TOKEN, safe="") not in run.stdout + run.stderr + run.summary
