"""The composition root: every sub-job ends in a result, whatever goes wrong inside; the artifact
service is chosen once; a cancel ends the run promptly."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.results import ResultsDouble

from codearts_check_logs import app, pipeline
from codearts_check_logs.artifact.environment import NO_RUNTIME_TOKEN
from codearts_check_logs.artifact.upload import ArtifactService
from codearts_check_logs.codearts.download import Saved
from codearts_check_logs.environment import RunnerEnvironment
from codearts_check_logs.errors import ArtifactUploadFailed
from codearts_check_logs.inputs.metadata import input_specs
from codearts_check_logs.inputs.settings import Settings, parse_settings
from codearts_check_logs.net.cancel import CancelToken
from tests.conftest import ID1, ID2, TOKEN


def settings_for(sim: Simulator, workspace: Path, **extra: str) -> Settings:
    raw = {name: spec.default for name, spec in input_specs().items()}
    raw.update({"sub-job-id": f"{ID1} {ID2}", "token": TOKEN, "endpoint": sim.base_url})
    raw.update({k.replace("_", "-"): v for k, v in extra.items()})
    return parse_settings(raw, workspace)


def test_a_bug_in_one_sub_job_is_reported_and_the_other_goes_on(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.download

    def flaky(ctx: pipeline.Context, sub_job_id: str) -> Saved:
        if sub_job_id == ID2:
            raise ValueError("something we did not foresee")
        return real(ctx, sub_job_id)

    monkeypatch.setattr(pipeline, "download", flaky)
    lines: list[str] = []
    outcome = app.run(
        settings_for(sim, tmp_path, upload_artifact="false"),
        RunnerEnvironment(),
        log=lines.append,
        cancel=CancelToken(),
    )

    assert [r.status for r in outcome.results] == ["success", "failure"]
    assert outcome.results[1].error_code == "INTERNAL_ERROR"
    assert "unexpected ValueError" in outcome.results[1].error_message
    assert "something we did not foresee" not in outcome.results[1].error_message
    assert f"{ID2}: unexpected ValueError" in lines


def test_an_unwritable_folder_fails_every_sub_job_before_any_request(
    sim: Simulator, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x")
    outcome = app.run(
        settings_for(sim, tmp_path, path="file/logs"),
        RunnerEnvironment(),
        log=lambda _: None,
        cancel=CancelToken(),
    )
    assert {r.error_code for r in outcome.results} == {"WRITE_FAILED"}
    assert sim.requests == []


def test_without_a_runtime_token_uploads_are_skipped_with_a_warning(
    sim: Simulator, tmp_path: Path
) -> None:
    settings = settings_for(sim, tmp_path)
    assert app.artifact_service(
        settings, RunnerEnvironment.read({"ACTIONS_RUNTIME_TOKEN": "  "}), CancelToken()
    ) == (
        None,
        [NO_RUNTIME_TOKEN],
    )
    off = settings_for(sim, tmp_path, upload_artifact="false")
    assert app.artifact_service(
        off, RunnerEnvironment.read({"ACTIONS_RUNTIME_TOKEN": "t"}), CancelToken()
    ) == (None, [])


def test_an_unusable_artifact_environment_becomes_each_uploads_failure(
    sim: Simulator, tmp_path: Path, runner_env: dict[str, str]
) -> None:
    settings = settings_for(sim, tmp_path)
    found, warnings = app.artifact_service(
        settings,
        RunnerEnvironment.read({**runner_env, "ACTIONS_RESULTS_URL": "http://[bad"}),
        CancelToken(),
    )
    assert isinstance(found, ArtifactUploadFailed)
    assert warnings == []
    service, _ = app.artifact_service(settings, RunnerEnvironment.read(runner_env), CancelToken())
    assert isinstance(service, ArtifactService)


def test_a_cancel_reports_every_unfinished_sub_job_as_cancelled(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.script(ID1, Step.stall(60, after_headers=True))
    sim.script(ID2, Step.stall(60))
    cancel = CancelToken()
    threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    outcome = app.run(
        settings_for(sim, tmp_path, upload_artifact="false", timeout_seconds="120"),
        RunnerEnvironment(),
        log=lambda _: None,
        cancel=cancel,
    )
    assert time.monotonic() - started < app.CANCEL_GRACE_SECONDS + 2
    assert outcome.cancelled
    assert [r.error_code for r in outcome.results] == ["CANCELLED", "CANCELLED"]
    assert list((tmp_path / "codearts-check-logs").glob("*.part")) == []
    assert list((tmp_path / "codearts-check-logs").glob(".*")) == []


class RecordingEvent(threading.Event):
    """An event that notes which thread waited on it, and with what time-out."""

    waits: ClassVar[list[tuple[int, float | None]]] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append((threading.get_ident(), timeout))
        return super().wait(timeout)


@pytest.mark.parametrize("ids", [ID1, f"{ID1} {ID2}"])
def test_a_run_ends_when_its_last_sub_job_does_not_at_a_polling_tick(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ids: str
) -> None:
    """The supervising thread blocks once, with no time-out, and the last sub-job's end releases
    it: no polling period is ever added to the run's wall time."""
    waits: list[tuple[int, float | None]] = []
    monkeypatch.setattr(RecordingEvent, "waits", waits)
    monkeypatch.setattr(app, "Event", RecordingEvent)
    cancel = CancelToken()
    cancel.event = RecordingEvent()
    outcome = app.run(
        settings_for(sim, tmp_path, sub_job_id=ids, upload_artifact="false"),
        RunnerEnvironment(),
        log=lambda _: None,
        cancel=cancel,
    )
    assert {r.status for r in outcome.results} == {"success"}
    assert [timeout for ident, timeout in waits if ident == threading.get_ident()] == [None]


# -- credentials: once per run, before anything else is sent -------------------------------------


def cloud_settings(
    cloud: HuaweiCloud, gateway: Simulator, workspace: Path, **extra: str
) -> Settings:
    raw = {name: spec.default for name, spec in input_specs().items()}
    raw.update({"sub-job-id": f"{ID1} {ID2}", "endpoint": gateway.base_url})
    raw.update({k.replace("_", "-"): v for k, v in extra.items()})
    return parse_settings(raw, workspace, RunnerEnvironment.read(cloud.github.env()))


def test_a_refused_exchange_fails_the_run_before_any_download_or_upload(
    tmp_path: Path, runner_env: dict[str, str], results_double: ResultsDouble
) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        password = {**cloud.inputs("password"), "iam-password": "Pw-wrong-password"}
        settings = cloud_settings(cloud, gateway, tmp_path, **password)
        outcome = app.run(
            settings, RunnerEnvironment.read(runner_env), log=lambda _: None, cancel=CancelToken()
        )
        sent = gateway.requests

    assert outcome.results == ()
    assert outcome.error is not None
    assert (outcome.error.code, outcome.error.service, outcome.error.step) == (
        "AUTH_FAILED",
        "IAM",
        "password token",
    )
    assert sent == []
    assert results_double.calls() == []


def test_credentials_are_obtained_once_for_every_sub_job(tmp_path: Path) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        settings = cloud_settings(
            cloud, gateway, tmp_path, upload_artifact="false", **cloud.inputs("oidc-iam5")
        )
        outcome = app.run(settings, RunnerEnvironment(), log=lambda _: None, cancel=CancelToken())
        assert [r.status for r in outcome.results] == ["success", "success"]
        assert len(cloud.sts.calls()) == 1
        assert len(cloud.github.token_requests()) == 1
        assert len(gateway.requests) == 2


def test_a_cancel_during_the_exchange_ends_the_run_as_cancelled(tmp_path: Path) -> None:
    with huawei_cloud() as cloud, Simulator(account=cloud.account) as gateway:
        cloud.iam.stall_next(30)
        settings = cloud_settings(
            cloud, gateway, tmp_path, upload_artifact="false", **cloud.inputs("password")
        )
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel).start()
        started = time.monotonic()
        outcome = app.run(settings, RunnerEnvironment(), log=lambda _: None, cancel=cancel)
        assert time.monotonic() - started < 5
        assert outcome.cancelled
        assert outcome.error is not None
        assert outcome.error.code == "CANCELLED"
        assert gateway.requests == []
