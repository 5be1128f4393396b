"""End to end with artifacts: the real entrypoint, the simulator, the results-service double and
Azurite. Each ZIP must become one raw artifact whose blob is the ZIP byte for byte."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from devtools.azurite import BlobProxy
from devtools.results_double import CONTAINER, ResultsDouble

from codearts_check_logs.simulator import Simulator

from .conftest import ID1, ID2, ActionRunner, inputs_for

pytest_plugins = ["tests.fixtures_artifact"]
pytestmark = [pytest.mark.e2e, pytest.mark.azurite]
RUN_URL = "https://github.com/octo-org/octo-repo/actions/runs/4242/artifacts"


def with_upload(sim: Simulator, *ids: str, **extra: str) -> dict[str, str]:
    return {**inputs_for(sim, *ids, **extra), "upload-artifact": "true"}


def runner_vars(env: dict[str, str]) -> dict[str, str]:
    """The runtime variables the runner gives a container action (from the fixture)."""
    return {k: env[k] for k in ("ACTIONS_RUNTIME_TOKEN", "ACTIONS_RESULTS_URL")}


def test_each_zip_becomes_a_raw_artifact(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    run = run_action(with_upload(sim, ID1, ID2, retention_days="7"), env=runner_vars(runner_env))

    assert run.returncode == 0, run.stdout + run.stderr
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
    assert "sig=" not in run.stdout + run.stderr + run.summary
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert len(masks) >= 1 + 2, "the token, then each upload URL's signature, are masked"


def test_name_taken_in_this_run(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    from devtools.results_double import EXAMPLE_JOB_ID, EXAMPLE_RUN_ID

    name = f"codearts-check-logs-{ID1}.zip"
    results_double.seed(name, b"older", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action(with_upload(sim, ID1), env=runner_vars(runner_env))

    assert run.returncode == 1
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    message = run.outputs["error-message"]
    assert name in message
    assert "overwrite: true" in message
    assert "artifact-name" in message
    # The download itself succeeded: the ZIP stays in the workspace and is described.
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    assert run.outputs["sha256"] == hashlib.sha256(sim.zip_bytes(ID1)).hexdigest()


def test_overwrite_replaces_the_artifact(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    from devtools.results_double import EXAMPLE_JOB_ID, EXAMPLE_RUN_ID

    name = f"codearts-check-logs-{ID1}.zip"
    old = results_double.seed(name, b"older", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action(with_upload(sim, ID1, overwrite="true"), env=runner_vars(runner_env))

    assert run.returncode == 0, run.stdout
    [current] = [a for a in results_double.finalized(name)]
    assert current.id != old.id
    assert run.outputs["artifact-id"] == str(current.id)
    assert [c.twirp_method for c in results_double.calls()][:2] == [
        "ListArtifacts",
        "DeleteArtifact",
    ]


def test_blob_failure_finalizes_nothing_and_keeps_the_zip(
    sim: Simulator,
    run_action: ActionRunner,
    runner_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    blob_proxy.fail(500, times=1000)
    run = run_action(with_upload(sim, ID1), env=runner_vars(runner_env), timeout=120)

    assert run.returncode == 1
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert results_double.finalized() == []
    assert results_double.calls("FinalizeArtifact") == []
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    assert "sig=" not in run.stdout + run.stderr + run.summary + run.outputs["error-message"]


def test_without_runtime_token_the_upload_is_skipped(
    sim: Simulator, run_action: ActionRunner, results_double: ResultsDouble
) -> None:
    run = run_action(with_upload(sim, ID1))

    assert run.returncode == 0
    assert run.outputs["status"] == "success"
    assert run.outputs["artifact-id"] == ""
    assert "::warning title=CodeArts Check logs::Artifact upload skipped" in run.stdout
    assert results_double.calls() == []
