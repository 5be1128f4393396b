"""Local faults through the entrypoint: a workspace that cannot be written, a full disk, a
cancelled job (SIGTERM), and the token in no channel even with debug logging on. (Faults that
cannot be produced from outside, such as a disk that fills up mid-stream, are tested in process
in tests/unit/test_pipeline.py.)"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest
from devtools.doubles.codearts import Simulator, Step
from devtools.runner import FakeRunner, Started

from tests.conftest import ID1, TOKEN, ActionRunner, Run, inputs_for
from tests.e2e.test_secrets import assert_token_only_masked

if TYPE_CHECKING:
    from devtools.doubles.results import ResultsDouble


SLACK = 5.0
DISK_FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


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


# -- a cancelled job --------------------------------------------------------------------------


def start_action(tmp_path: Path, inputs: dict[str, str], env: dict[str, str]) -> Started:
    """The entrypoint in the background, with the environment `run_action` gives it."""
    return FakeRunner(tmp_path).start(inputs, env)


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
        signalled = time.monotonic()
        action.proc.send_signal(signal.SIGTERM)
        run = action.finish(timeout=30)
    finally:
        if action.proc.poll() is None:
            action.proc.kill()
    return run, time.monotonic() - signalled


def test_sigterm_during_a_download(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(60, after_headers=True))
    action = start_action(tmp_path, inputs_for(sim, ID1, timeout_seconds="120"), {})
    # The ZIP has started to arrive.
    run, seconds = terminate_when(action, lambda: bool(parts_in(action.runner.workspace)))
    assert_cancelled(run, seconds)


@pytest.mark.realtime
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
    run, seconds = terminate_when(action, lambda: bool(parts_in(action.runner.workspace)))
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
