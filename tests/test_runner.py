"""Orchestration: every sub-job ends in a result, whatever goes wrong inside."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs import config, runner
from codearts_check_logs.codearts import CancelToken, LogClient
from codearts_check_logs.simulator import Simulator

from .conftest import ID1, ID2, TOKEN


def settings_for(sim: Simulator, workspace: Path, **extra: str) -> config.Settings:
    raw = {name: spec.default for name, spec in config.input_specs().items()}
    raw.update({"sub-job-id": f"{ID1} {ID2}", "token": TOKEN, "endpoint": sim.base_url})
    raw.update(extra)
    return config.parse_settings(raw, workspace)


def test_a_bug_in_one_sub_job_is_reported_and_the_other_goes_on(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = LogClient.download

    def flaky(self: LogClient, sub_job_id: str, *args: object, **kwargs: object) -> object:
        if sub_job_id == ID2:
            raise ValueError("something we did not foresee")
        return real(self, sub_job_id, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LogClient, "download", flaky)
    lines: list[str] = []
    results = runner.run(
        settings_for(sim, tmp_path), log=lines.append, uploader=None, cancel=CancelToken()
    )

    assert [r.status for r in results] == ["success", "failure"]
    assert results[1].error_code == "INTERNAL_ERROR"
    assert "unexpected ValueError" in results[1].error_message
    assert "something we did not foresee" not in results[1].error_message
    assert f"{ID2}: unexpected ValueError" in lines


def test_an_unwritable_folder_fails_every_sub_job_before_any_request(
    sim: Simulator, tmp_path: Path
) -> None:
    (tmp_path / "file").write_text("x")
    settings = settings_for(sim, tmp_path, path="file/logs")
    results = runner.run(settings, log=lambda _: None, uploader=None, cancel=CancelToken())

    assert {r.error_code for r in results} == {"WRITE_FAILED"}
    assert sim.requests == []
