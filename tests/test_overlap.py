"""Download and artifact upload at once: blocks are staged while the ZIP streams in, and only a
complete, verified ZIP is finalized. First the orchestration on a recording fake upload, then the
real entrypoint against the simulator, Azurite and the results double."""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from devtools.azurite import Azurite, BlobProxy
from devtools.results_double import (
    CONTAINER,
    EXAMPLE_JOB_ID,
    EXAMPLE_RUN_ID,
    ResultsDouble,
    make_runtime_token,
)

from codearts_check_logs import config, runner
from codearts_check_logs.codearts import CancelToken
from codearts_check_logs.errors import ArtifactUploadFailed
from codearts_check_logs.outcome import SubJobResult
from codearts_check_logs.simulator import Simulator, Step

from .conftest import ID1, TOKEN, ActionRunner, inputs_for

pytest_plugins = ["tests.fixtures_artifact"]

MIB = 1024 * 1024
NAME = f"codearts-check-logs-{ID1}.zip"


# --- orchestration, on a recording fake ------------------------------------------------------


@dataclass(frozen=True)
class Uploaded:
    artifact_id: str
    url: str


@dataclass
class FakeUpload:
    """Records what the run does with an upload; can fail a given write."""

    dest: Path
    events: list[str] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    fail_on_write: int = 0
    zip_on_disk_at_finish: bool = False

    def write(self, chunk: bytes) -> None:
        self.events.append("write")
        if self.fail_on_write and self.events.count("write") == self.fail_on_write:
            raise ArtifactUploadFailed("blob storage said no")
        self.data += chunk

    def reset(self) -> None:
        self.events.append("reset")
        self.data.clear()

    def finish(self, size: int, sha256: str) -> Uploaded:
        self.events.append("finish")
        self.zip_on_disk_at_finish = self.dest.is_file()
        assert (size, sha256) == (len(self.data), hashlib.sha256(self.data).hexdigest())
        return Uploaded("77", "https://example.invalid/artifacts/77")

    def abort(self) -> None:
        self.events.append("abort")


@dataclass
class FakeUploader:
    dest: Path
    refuse_start: ArtifactUploadFailed | None = None
    fail_on_write: int = 0
    calls: list[str] = field(default_factory=list)
    uploads: list[FakeUpload] = field(default_factory=list)

    def start(self, name: str, *, retention_days: int | None, overwrite: bool) -> FakeUpload:
        self.calls.append(f"start {name} overwrite={overwrite}")
        if self.refuse_start is not None:
            raise self.refuse_start
        upload = FakeUpload(self.dest, fail_on_write=self.fail_on_write)
        self.uploads.append(upload)
        return upload

    def upload_file(self, path: Path, name: str, **options: Any) -> Uploaded:
        self.calls.append(f"upload_file {name} overwrite={options['overwrite']}")
        return Uploaded("78", "")


def settings_for(sim: Simulator, workspace: Path, **extra: str) -> config.Settings:
    raw = {name: spec.default for name, spec in config.input_specs().items()}
    raw.update({"sub-job-id": ID1, "token": TOKEN, "endpoint": sim.base_url})
    raw.update({k.replace("_", "-"): v for k, v in extra.items()})
    return config.parse_settings(raw, workspace)


def run_with(sim: Simulator, tmp_path: Path, uploader: FakeUploader, **extra: str) -> SubJobResult:
    settings = settings_for(sim, tmp_path, **extra)
    [result] = runner.run(settings, log=lambda _: None, uploader=uploader, cancel=CancelToken())
    return result


@pytest.fixture
def fake(tmp_path: Path) -> FakeUploader:
    return FakeUploader(tmp_path / "codearts-check-logs" / f"{ID1}.zip")


def test_blocks_are_handed_over_while_the_zip_streams(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    sim.set_zip_size(ID1, 5 * MIB)
    result = run_with(sim, tmp_path, fake)

    assert result.ok, result
    assert fake.calls == [f"start {NAME} overwrite=False"]
    [upload] = fake.uploads
    assert upload.events.count("write") >= 5, "the ZIP arrives in chunks, each passed on"
    assert upload.events[-1] == "finish"
    assert upload.zip_on_disk_at_finish, "finalized only once the ZIP is saved and verified"
    assert bytes(upload.data) == sim.zip_bytes(ID1)
    assert (result.artifact_id, result.artifact_name) == ("77", NAME)


def test_a_retried_download_resets_the_staged_blocks(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    sim.set_zip_size(ID1, 3 * MIB)
    sim.script(ID1, Step.truncate(0.7))
    result = run_with(sim, tmp_path, fake)

    assert result.ok, result
    [upload] = fake.uploads
    reset = upload.events.index("reset")
    assert "write" in upload.events[:reset]
    assert upload.events[-1] == "finish"
    assert bytes(upload.data) == sim.zip_bytes(ID1)


def test_a_failed_download_aborts_and_never_finalizes(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    sim.set_zip_size(ID1, 3 * MIB)
    sim.script(ID1, *[Step.truncate(0.5)] * 10)
    result = run_with(sim, tmp_path, fake, timeout_seconds="2")

    assert result.error_code == "INVALID_RESPONSE"
    [upload] = fake.uploads
    assert "write" in upload.events
    assert upload.events[-1] == "abort"
    assert "finish" not in upload.events
    assert result.artifact_id == ""


def test_an_upload_failure_mid_stream_keeps_the_zip(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    sim.set_zip_size(ID1, 5 * MIB)
    fake.fail_on_write = 2
    result = run_with(sim, tmp_path, fake)

    assert result.error_code == "ARTIFACT_UPLOAD_FAILED"
    assert result.error_message == "blob storage said no"
    assert result.file == f"codearts-check-logs/{ID1}.zip"
    assert (tmp_path / result.file).read_bytes() == sim.zip_bytes(ID1)
    [upload] = fake.uploads
    assert upload.events == ["write", "write", "abort"], "nothing more after the failure"


def test_a_refused_create_still_saves_the_zip(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    fake.refuse_start = ArtifactUploadFailed(f"an artifact named {NAME!r} already exists")
    result = run_with(sim, tmp_path, fake)

    assert result.error_code == "ARTIFACT_UPLOAD_FAILED"
    assert "already exists" in result.error_message
    assert (tmp_path / result.file).read_bytes() == sim.zip_bytes(ID1)
    assert result.artifact_name == NAME


def test_overwrite_uploads_only_after_a_verified_zip(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    result = run_with(sim, tmp_path, fake, overwrite="true")

    assert result.ok, result
    assert fake.calls == [f"upload_file {NAME} overwrite=True"]
    assert result.artifact_id == "78"


def test_overwrite_keeps_the_old_artifact_when_the_download_fails(
    sim: Simulator, tmp_path: Path, fake: FakeUploader
) -> None:
    sim.script(ID1, Step.json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"}))
    result = run_with(sim, tmp_path, fake, overwrite="true")

    assert result.error_code == "APIGW.0101"
    assert fake.calls == [], "nothing was deleted or created"


def test_without_a_runtime_token_nothing_is_set_up(sim: Simulator, tmp_path: Path) -> None:
    settings = settings_for(sim, tmp_path)
    uploader, warnings = runner.select_uploader(settings, {"ACTIONS_RUNTIME_TOKEN": "  "})

    assert uploader is None
    assert warnings == [runner.NO_RUNTIME_TOKEN]


# --- the real entrypoint, Azurite and the results double ------------------------------------


@pytest.fixture
def actions_env(results_double: ResultsDouble) -> dict[str, str]:
    return {
        "ACTIONS_RUNTIME_TOKEN": make_runtime_token(EXAMPLE_RUN_ID, EXAMPLE_JOB_ID),
        "ACTIONS_RESULTS_URL": results_double.url,
    }


def block_sizes(proxy: BlobProxy) -> list[int]:
    return [r.body_size for r in proxy.requests if r.query.get("comp") == "block"]


@pytest.mark.e2e
@pytest.mark.azurite
def test_multi_block_zip_is_staged_during_the_download(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
) -> None:
    sim.set_zip_size(ID1, 20 * MIB)
    # About 1.5 s for the whole ZIP, so blocks can be seen arriving before it ends.
    sim.script(ID1, Step.pace(0.07))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(run_action, {**inputs_for(sim, ID1), "upload-artifact": "true"},
                              env=actions_env)  # fmt: skip
        while not block_sizes(blob_proxy) and not pending.done():
            time.sleep(0.01)
        served_when_first_block_arrived = dict(sim.served)
        run = pending.result()

    assert run.returncode == 0, run.stdout + run.stderr
    assert served_when_first_block_arrived == {}, "the first block came before the ZIP ended"
    expected = sim.zip_bytes(ID1)
    (stored,) = results_double.finalized(NAME)
    assert run.outputs["artifact-id"] == str(stored.id)
    assert run.outputs["artifact-url"].endswith(f"/artifacts/{stored.id}")
    assert stored.digest == f"sha256:{hashlib.sha256(expected).hexdigest()}"
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == expected
    assert state.committed_blocks == [8 * MIB, 8 * MIB, len(expected) - 16 * MIB]
    assert [c.twirp_method for c in results_double.calls()] == [
        "CreateArtifact",
        "FinalizeArtifact",
    ]
    assert (run.workspace / f"codearts-check-logs/{ID1}.zip").read_bytes() == expected


@pytest.mark.e2e
@pytest.mark.azurite
def test_download_failing_mid_stream_finalizes_nothing(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    sim.set_zip_size(ID1, 20 * MIB)
    sim.script(ID1, *[Step.truncate(0.9)] * 10)
    run = run_action(
        {**inputs_for(sim, ID1, timeout_seconds="4"), "upload-artifact": "true"}, env=actions_env
    )

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "INVALID_RESPONSE"
    assert run.outputs["artifact-id"] == ""
    assert block_sizes(blob_proxy), "blocks were staged while the ZIP streamed"
    assert all(r.query.get("comp") != "blocklist" for r in blob_proxy.requests)
    assert results_double.calls("FinalizeArtifact") == []
    assert results_double.finalized() == []
    assert run.saved_files() == {}


@pytest.mark.e2e
@pytest.mark.azurite
def test_retried_download_commits_only_the_complete_zip(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
    azurite: Azurite,
) -> None:
    sim.set_zip_size(ID1, 20 * MIB)
    sim.script(ID1, Step.truncate(0.8))
    run = run_action({**inputs_for(sim, ID1), "upload-artifact": "true"}, env=actions_env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert len(sim.requests_for()) == 2
    (stored,) = results_double.finalized(NAME)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == sim.zip_bytes(ID1)
    assert len(state.committed_blocks) == 3


@pytest.mark.e2e
@pytest.mark.azurite
def test_blob_refusal_keeps_the_zip_and_fails_the_upload(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
) -> None:
    sim.set_zip_size(ID1, 20 * MIB)
    blob_proxy.fail(403, times=100)
    run = run_action({**inputs_for(sim, ID1), "upload-artifact": "true"}, env=actions_env)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert "HTTP 403" in run.outputs["error-message"]
    assert run.outputs["file"] == f"codearts-check-logs/{ID1}.zip"
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    assert results_double.finalized() == []


@pytest.mark.e2e
@pytest.mark.azurite
def test_existing_artifact_is_a_clear_failure_and_the_zip_is_kept(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    results_double.seed(NAME, b"first attempt", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action({**inputs_for(sim, ID1), "upload-artifact": "true"}, env=actions_env)

    assert run.returncode == 1, run.stdout + run.stderr
    assert run.outputs["error-code"] == "ARTIFACT_UPLOAD_FAILED"
    assert "overwrite: true" in run.outputs["error-message"]
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": sim.zip_bytes(ID1)}
    results = json.loads(run.outputs["results"])
    assert results[0]["sha256"] == hashlib.sha256(sim.zip_bytes(ID1)).hexdigest()


@pytest.mark.e2e
@pytest.mark.azurite
def test_overwrite_replaces_after_the_download(
    sim: Simulator,
    run_action: ActionRunner,
    actions_env: dict[str, str],
    results_double: ResultsDouble,
) -> None:
    old = results_double.seed(NAME, b"old", run_id=EXAMPLE_RUN_ID, job_id=EXAMPLE_JOB_ID)
    run = run_action(
        {**inputs_for(sim, ID1), "upload-artifact": "true", "overwrite": "true"}, env=actions_env
    )

    assert run.returncode == 0, run.stdout + run.stderr
    (stored,) = results_double.finalized(NAME)
    assert stored.id != old.id
    assert run.outputs["artifact-id"] == str(stored.id)


# --- spooled blocks: the upload keeps its bytes on disk, not in memory ------------------------


@pytest.mark.azurite
@pytest.mark.parametrize(
    ("size", "blocks"), [(MIB, []), (2 * MIB, [MIB, MIB]), (2 * MIB + 5, [MIB, MIB, 5])]
)
def test_spooled_upload_has_the_block_layout_of_the_official_client(
    make_uploader: Any,
    results_double: ResultsDouble,
    blob_proxy: BlobProxy,
    azurite: Azurite,
    size: int,
    blocks: list[int],
) -> None:
    data = hashlib.sha256(b"seed").digest() * (size // 32 + 1)
    data = data[:size]
    upload = make_uploader(block_size=MIB).start(NAME, retention_days=None, overwrite=False)
    upload.write(b"stale bytes from a first attempt" * 40000)
    upload.reset()
    for offset in range(0, size, 300_000):
        upload.write(data[offset : offset + 300_000])
    upload.finish(size, hashlib.sha256(data).hexdigest())

    (stored,) = results_double.finalized(NAME)
    state = azurite.read_blob(CONTAINER, stored.blob)
    assert state is not None
    assert state.content == data
    assert state.committed_blocks == blocks
    if not blocks:
        assert [r.query.get("comp") for r in blob_proxy.requests][-1] is None  # one Put Blob
