"""End to end with artifacts: the real entrypoint, the simulator, the results-service double and
Azurite. Each ZIP becomes one raw artifact whose blob is the ZIP byte for byte; the artifact
service hears of a sub-job only once its ZIP is verified, since CreateArtifact reserves the name
for the rest of the run; and every answer of the service is checked before it is used."""

from __future__ import annotations

import hashlib
import json
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from devtools.doubles.azurite import Azurite, BlobProxy
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.results import CONTAINER, EXAMPLE_JOB_ID, EXAMPLE_RUN_ID, ResultsDouble
from devtools.runner import FakeRunner

from tests.conftest import ID1, ID2, TOKEN, ActionRunner, Run, inputs_for

pytestmark = [pytest.mark.e2e, pytest.mark.azurite]
RUN_URL = "https://github.com/octo-org/octo-repo/actions/runs/4242/artifacts"
MIB = 1024 * 1024
NAME = f"codearts-check-logs-{ID1}.zip"
RESERVED = "is now reserved for this workflow run"


def with_upload(sim: Simulator, *ids: str, **extra: str) -> dict[str, str]:
    return {**inputs_for(sim, *ids, **extra), "upload-artifact": "true"}


def annotation_lines(run: Run) -> list[str]:
    return [line for line in run.stdout.splitlines() if line.startswith(("::error", "::warning"))]


def test_each_zip_becomes_a_raw_artifact(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    run = run_action(with_upload(sim, ID1, ID2, retention_days="7"), env=runner_env)

    assert run.returncode == 0, run.log
    finalized = {a.name: a for a in results_double.finalized()}
    assert set(finalized) == {f"codearts-check-logs-{i}.zip" for i in (ID1, ID2)}
    results = {r["sub_job_id"]: r for r in json.loads(run.outputs["results"])}
    for sub_job_id in (ID1, ID2):
        data = sim.zip_bytes(sub_job_id)
        artifact = finalized[f"codearts-check-logs-{sub_job_id}.zip"]
        state = results_double.azurite.read_blob(CONTAINER, artifact.blob)
        assert state is not None
        assert state.content == data, "the artifact must be the ZIP itself, not re-zipped"
        assert artifact.size == len(data)
        assert artifact.digest == "sha256:" + hashlib.sha256(data).hexdigest()
        assert artifact.mime_type == "application/zip"
        assert artifact.expires_at is not None
        expires = datetime.fromisoformat(artifact.expires_at.replace("Z", "+00:00"))
        assert abs(expires - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=5)
        entry = results[sub_job_id]
        assert entry["artifact_id"] == str(artifact.id)
        assert entry["artifact_url"] == f"{RUN_URL}/{artifact.id}"
        assert f"]({RUN_URL}/{artifact.id})" in run.summary
    assert run.outputs["artifact-id"] == results[ID1]["artifact_id"]
    assert run.outputs["artifact-url"] == results[ID1]["artifact_url"]
    assert run.outputs["artifact-digest"] == run.outputs["sha256"] == results[ID1]["sha256"]
    assert "sig=" not in run.log + run.summary
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert len(masks) >= 1 + 2, "the token, then each upload URL's signature, are masked"


def test_retention_days_zero_leaves_the_repository_default(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    """`0`, as `actions/upload-artifact` reads it: no `expires_at`, so the service applies the
    repository's retention."""
    run = run_action(with_upload(sim, ID1, retention_days="0"), env=runner_env)
    assert run.returncode == 0, run.log
    (artifact,) = results_double.finalized()
    assert artifact.expires_at is None


def test_a_multi_block_zip_has_the_block_layout_of_the_official_client(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    azurite: Azurite,
) -> None:
    sim.set_zip_size(ID1, 20 * MIB)
    run = run_action(with_upload(sim, ID1), env=runner_env)

    assert run.returncode == 0, run.log
    expected = sim.zip_bytes(ID1)
    (stored,) = results_double.finalized(NAME)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == expected
    assert state.committed_blocks == [8 * MIB, 8 * MIB, len(expected) - 16 * MIB]
    assert [c.twirp_method for c in results_double.calls()] == [
        "CreateArtifact",
        "FinalizeArtifact",
    ]


# -- no trace at the artifact service without a verified ZIP ----------------------------------

BEFORE_A_VERIFIED_ZIP = {
    "401": [Step.json(401, {"error_code": "CC.00000003", "error_msg": "expired"})],
    "400": [Step.json(400, {"error_code": "CC.xxxxxxxx.400", "error_msg": "bad id"})],
    "json-error-on-200": [Step.json(200, {"error_code": "CC.00050010", "error_msg": "no"})],
    "non-zip-200": [Step.raw(200, b"<html>login</html>", "text/html")],
    "empty-200": [Step.raw(200, b"", "application/zip")],
    "truncated-every-time": [Step.truncate(0.5)] * 10,
    "damaged": [Step.raw(200, b"PK\x03\x04" + b"\x00" * 200, "application/zip")],
}


@pytest.mark.parametrize("steps", BEFORE_A_VERIFIED_ZIP.values(), ids=list(BEFORE_A_VERIFIED_ZIP))
def test_a_failure_before_a_verified_zip_leaves_no_trace_at_the_artifact_service(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    steps: list[Step],
) -> None:
    sim.script(ID1, *steps)
    run = run_action(with_upload(sim, ID1, timeout_seconds="10"), env=runner_env)

    assert run.returncode == 1, run.log
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] != "ARTIFACT_UPLOAD_FAILED"
    assert results_double.calls() == [], "the results service received no request at all"
    assert blob_proxy.requests == []
    assert run.saved_files() == {}


def test_a_rerun_after_a_failed_download_can_use_the_same_name(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    """The most common failure, an expired token: fixing the secret and re-running the step in
    the same workflow run must not meet a 409 for a name the failed attempt reserved."""
    first = run_action(
        {**with_upload(sim, ID1), "token": "expired-token-0123456789"}, env=runner_env
    )
    assert first.outputs["error-code"] == "CC.00000003"
    second = run_action(with_upload(sim, ID1), env=runner_env)

    assert second.returncode == 0, second.log
    assert [a.name for a in results_double.finalized()] == [NAME]


# -- after CreateArtifact: the name is reserved, and the user is told --------------------------


def test_a_blob_failure_says_the_name_is_now_reserved(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    blob_proxy.fail(500, times=1000)
    run = run_action(with_upload(sim, ID1, timeout_seconds="8"), env=runner_env, timeout=120)

    assert run.returncode == 1
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert results_double.finalized() == []
    assert results_double.calls("FinalizeArtifact") == []
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    for channel in (run.outputs["error-message"], "\n".join(annotation_lines(run))):
        assert RESERVED in channel
        assert "${{ github.run_attempt }}" in channel
    assert RESERVED in run.summary
    assert "github.run&#95;attempt" in run.summary  # escaped, so it shows literally
    assert "sig=" not in run.log + run.summary + run.outputs["error-message"]


def test_a_name_taken_in_this_run_is_named_with_the_fix(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    results_double.seed(NAME, b"older", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action(with_upload(sim, ID1), env=runner_env)

    assert run.returncode == 1
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    message = run.outputs["error-message"]
    assert NAME in message
    assert "overwrite: true" in message
    assert "artifact-name" in message
    assert NAME in run.summary
    assert "overwrite: true" in "\n".join(annotation_lines(run))
    # The download itself succeeded: the ZIP stays in the workspace and is described.
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    assert run.outputs["sha256"] == hashlib.sha256(sim.zip_bytes(ID1)).hexdigest()


def test_overwrite_replaces_the_artifact_after_the_download(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    old = results_double.seed(NAME, b"older", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action(with_upload(sim, ID1, overwrite="true"), env=runner_env)

    assert run.returncode == 0, run.log
    [current] = results_double.finalized(NAME)
    assert current.id != old.id
    assert run.outputs["artifact-id"] == str(current.id)
    assert [c.twirp_method for c in results_double.calls()] == [
        "ListArtifacts",
        "DeleteArtifact",
        "CreateArtifact",
        "FinalizeArtifact",
    ]


def test_overwrite_keeps_the_old_artifact_when_the_download_fails(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    old = results_double.seed(NAME, b"older", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    sim.script(ID1, Step.json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"}))
    run = run_action(with_upload(sim, ID1, overwrite="true"), env=runner_env)

    assert run.outputs["error-code"] == "APIGW.0101"
    assert results_double.calls() == []
    assert [a.id for a in results_double.finalized(NAME)] == [old.id]


# -- what the results service answers is checked before use -----------------------------------


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        (
            "CreateArtifact",
            {"ok": True, "signed_upload_url": "http://blob.example.com/c/x?sig=abc"},
        ),
        ("CreateArtifact", {"ok": True}),
        ("FinalizeArtifact", {"ok": True, "artifact_id": "12; rm -rf /"}),
        ("FinalizeArtifact", {"ok": True, "artifact_id": "../../evil"}),
    ],
)
def test_an_unusable_answer_is_an_upload_failure(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    method: str,
    answer: dict[str, object],
) -> None:
    results_double.respond(method, answer)
    run = run_action(with_upload(sim, ID1), env=runner_env)

    assert run.returncode == 1
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert method in run.outputs["error-message"]
    assert run.outputs["artifact-id"] == run.outputs["artifact-url"] == ""
    assert "evil" not in run.summary
    assert "rm -rf" not in run.summary
    if method == "CreateArtifact":
        assert blob_proxy.requests == [], "nothing was sent to the upload URL"
        assert results_double.calls("FinalizeArtifact") == []


def test_a_malformed_results_url_fails_each_upload_and_keeps_the_zips(
    sim: Simulator, run_action: ActionRunner, runner_env: dict[str, str]
) -> None:
    env = {**runner_env, "ACTIONS_RESULTS_URL": "http://[bad"}
    run = run_action({**with_upload(sim, ID1), "fail-on-error": "false"}, env=env)

    assert run.returncode == 0, run.log
    assert "Traceback" not in run.log
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert "ACTIONS_RESULTS_URL" in run.outputs["error-message"]
    assert "ACTIONS&#95;RESULTS&#95;URL" in run.summary
    assert any(line.startswith("::warning") for line in annotation_lines(run))
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}


# -- the upload is bounded and cancellable -----------------------------------------------------


def test_timeout_seconds_bounds_the_upload(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    blob_proxy.fail(500, stall=60, times=100)
    run = run_action(with_upload(sim, ID1, timeout_seconds="3"), env=runner_env)

    assert run.seconds < 3 + 3 + 5, "download (instant) plus an upload bounded by 3 s"
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert "did not finish within timeout-seconds" in run.outputs["error-message"]
    assert RESERVED in run.outputs["error-message"]
    assert results_double.finalized() == []


def test_sigterm_during_an_upload_is_cancelled_with_outputs_and_summary(
    sim: Simulator,
    runner_env: dict[str, str],
    blob_proxy: BlobProxy,
    results_double: ResultsDouble,
    tmp_path: Path,
) -> None:
    blob_proxy.fail(500, stall=60, times=100)
    runner = FakeRunner(tmp_path / "job")
    started = runner.start(with_upload(sim, ID1, timeout_seconds="120"), runner_env)
    deadline = time.monotonic() + 20
    while not blob_proxy.requests:
        assert time.monotonic() < deadline, started.finish(1).log
        time.sleep(0.02)
    signalled = time.monotonic()
    started.proc.send_signal(signal.SIGTERM)
    run = started.finish(30)

    assert time.monotonic() - signalled < 5
    assert run.returncode != 0
    assert "Traceback" not in run.log
    assert run.outputs["status"] == "failure"
    assert run.outputs["error-code"] == "CANCELLED"
    assert "CANCELLED" in run.summary
    assert results_double.finalized() == []
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}


def test_without_runtime_token_the_upload_is_skipped(
    sim: Simulator, run_action: ActionRunner, results_double: ResultsDouble
) -> None:
    run = run_action(with_upload(sim, ID1))

    assert run.returncode == 0
    assert run.outputs["status"] == "success"
    assert run.outputs["artifact-id"] == ""
    assert "::warning title=CodeArts Check logs::Artifact upload skipped" in run.stdout
    assert results_double.calls() == []


def test_one_name_for_several_sub_jobs_is_refused_before_any_request(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    run = run_action(with_upload(sim, ID1, ID2, artifact_name="all-logs.zip"), env=runner_env)

    assert run.returncode == 1
    assert run.outputs["error-code"] == "INVALID_INPUT"
    assert "{sub_job_id}" in run.outputs["error-message"]
    assert sim.requests == []
    assert results_double.calls() == []
    assert run.log.count(TOKEN) == 1, "only in its ::add-mask:: line"
