"""One sub-job through the pipeline: the order of the phases (no artifact call before a verified
ZIP is saved; triage after the rename and before the upload, never a failure). HTTP faked with
`responses`; the artifact service is a recording fake. The download itself is tested in
tests/unit/codearts/test_download.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from devtools.doubles.codearts import small_zip
from devtools.doubles.logs import PROBLEM_LINES

from codearts_check_logs import pipeline
from codearts_check_logs.artifact.upload import UploadedArtifact
from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts.client import LogClient
from codearts_check_logs.errors import ArtifactUploadFailed
from codearts_check_logs.inputs.metadata import input_specs
from codearts_check_logs.inputs.settings import Settings, parse_settings
from codearts_check_logs.net import retry
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.ziplog import triage as triage_module
from tests.conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"
ZIP = small_zip(ID1)
NAME = f"codearts-check-logs-{ID1}.zip"


@pytest.fixture(autouse=True)
def _fast_backoff() -> Iterator[None]:
    with retry.shortened(0.02):
        yield


def settings_for(workspace: Path, base: str = BASE, **extra: str) -> Settings:
    raw = {name: spec.default for name, spec in input_specs().items()}
    raw.update({"sub-job-id": ID1, "token": TOKEN, "endpoint": base})
    raw.update({k.replace("_", "-"): v for k, v in extra.items()})
    return parse_settings(raw, workspace)


def context(
    workspace: Path,
    base: str = BASE,
    *,
    artifacts: object = None,
    cancel: CancelToken | None = None,
    log: Callable[[str], None] | None = None,
    inputs: dict[str, str] | None = None,
) -> pipeline.Context:
    settings = settings_for(workspace, base, **(inputs or {}))
    return pipeline.Context(
        settings=settings,
        credentials=TokenCredentials(TOKEN, settings.base_url),
        cancel=cancel or CancelToken(),
        log=log or (lambda _line: None),
        artifacts=artifacts,  # type: ignore[arg-type]
    )


# -- the order of the steps ----------------------------------------------------------------------


@dataclass
class RecordingService:
    """Stands in for ArtifactService: records each upload and whether the ZIP was on disk."""

    fail: ArtifactUploadFailed | None = None
    calls: list[dict[str, object]] = field(default_factory=list)

    def upload(self, path: Path, name: str, **options: object) -> UploadedArtifact:
        self.calls.append({"name": name, "on_disk": path.read_bytes(), **options})
        if self.fail is not None:
            raise self.fail
        return UploadedArtifact("77", "https://github.com/o/r/actions/runs/1/artifacts/77")


@responses.activate
def test_the_upload_gets_the_verified_zip_under_its_final_name(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    service = RecordingService()
    result = pipeline.process(
        context(tmp_path, artifacts=service, inputs={"retention_days": "7", "overwrite": "true"}),
        ID1,
    )
    assert result.ok, result
    [call] = service.calls
    assert call["name"] == NAME
    assert call["on_disk"] == ZIP
    assert (call["size"], call["retention_days"], call["overwrite"]) == (len(ZIP), 7, True)
    assert isinstance(call["deadline"], Deadline)
    assert (result.artifact_id, result.artifact_name) == ("77", NAME)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 401, "json": {"error_code": "CC.00000003", "error_msg": "expired"}},
        {"status": 400, "json": {"error_code": "CC.xxxxxxxx.400", "error_msg": "bad"}},
        {"status": 200, "json": {"error_code": "CC.00050010", "error_msg": "no permission"}},
        {"status": 200, "body": b"<html>login</html>"},
        {"status": 200, "body": b""},
        {"status": 200, "body": ZIP.replace(b"PK\x01\x02", b"XX\x01\x02", 1)},
    ],
)
@responses.activate
def test_no_artifact_call_without_a_verified_zip(tmp_path: Path, answer: dict[str, object]) -> None:
    responses.get(URL, **answer)  # type: ignore[arg-type,unused-ignore]
    service = RecordingService()
    result = pipeline.process(context(tmp_path, artifacts=service), ID1)
    assert not result.ok
    assert service.calls == []


@responses.activate
def test_an_upload_failure_keeps_the_zip(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    service = RecordingService(fail=ArtifactUploadFailed("blob storage said no"))
    result = pipeline.process(context(tmp_path, artifacts=service), ID1)
    assert (result.status, result.error_code) == ("failure", "ARTIFACT_UPLOAD_FAILED")
    assert (tmp_path / result.file).read_bytes() == ZIP
    assert result.sha256
    assert result.artifact_name == NAME


@responses.activate
def test_an_unusable_artifact_environment_fails_each_upload_after_the_download(
    tmp_path: Path,
) -> None:
    responses.get(URL, body=ZIP)
    refusal = ArtifactUploadFailed("ACTIONS_RESULTS_URL is not a valid http(s) URL")
    result = pipeline.process(context(tmp_path, artifacts=refusal), ID1)
    assert result.error_code == "ARTIFACT_UPLOAD_FAILED"
    assert "ACTIONS_RESULTS_URL" in result.error_message
    assert (tmp_path / result.file).read_bytes() == ZIP


# -- triage: after the rename, before the upload; never a failure --------------------------------


@responses.activate
def test_triage_reads_the_zip_in_the_verifying_pass_before_the_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.get(URL, body=ZIP)
    service = RecordingService()
    seen: list[int] = []
    real = triage_module.Scan.open

    def spy(self: triage_module.Scan, entry: Any, unread: Any) -> Any:
        seen.append(len(service.calls))
        return real(self, entry, unread)

    monkeypatch.setattr(triage_module.Scan, "open", spy)
    lines: list[str] = []
    result = pipeline.process(context(tmp_path, artifacts=service, log=lines.append), ID1)

    assert seen == [0] * 5, "once per member, before any call to the artifact service"
    assert len(service.calls) == 1
    assert result.ok
    assert result.problems == PROBLEM_LINES
    assert result.triage is not None
    assert result.triage.main_log == f"{ID1}/codecheck.log"
    steps = [line.split(": ", 1)[1].split(" ", 1)[0] for line in lines]
    assert steps == ["downloading", "saved", "triage:", "uploaded"]
    assert lines[2] == (
        f"{ID1}: triage: 8 problem lines, the first in {ID1}/codecheck.log at line 127"
    )


@responses.activate
def test_triage_off_reads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(URL, body=ZIP)
    monkeypatch.setattr(triage_module, "Scan", None)  # would fail if called
    lines: list[str] = []
    result = pipeline.process(context(tmp_path, log=lines.append, inputs={"triage": "false"}), ID1)
    assert result.ok
    assert (result.triage, result.problems) == (None, None)
    assert not any("triage" in line for line in lines)


@responses.activate
def test_a_custom_pattern(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    ctx = context(tmp_path, inputs={"triage_pattern": r"licence|退出码"})
    result = pipeline.process(ctx, ID1)
    assert result.problems == 2


@responses.activate
def test_a_defect_in_triage_is_a_note_not_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.get(URL, body=ZIP)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(triage_module.Scan, "open", broken)
    service = RecordingService()
    lines: list[str] = []
    result = pipeline.process(context(tmp_path, artifacts=service, log=lines.append), ID1)

    assert result.ok, result
    assert len(service.calls) == 1, "the upload still happens"
    assert result.problems == 0
    assert result.triage is not None
    assert result.triage.truncated
    [note] = result.triage.notes
    assert note.startswith("triage stopped on an unexpected KeyError (a defect of the action)")
    assert "a bug" not in note
    assert f"{ID1}: triage: 0 problem lines (at least: triage stopped early); 1 note" in lines


@responses.activate
def test_an_upload_failure_keeps_the_triage(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    service = RecordingService(fail=ArtifactUploadFailed("blob storage said no"))
    result = pipeline.process(context(tmp_path, artifacts=service), ID1)
    assert result.error_code == "ARTIFACT_UPLOAD_FAILED"
    assert result.problems == PROBLEM_LINES


@responses.activate
def test_hostile_names_in_the_triage_log_line(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("::error::x\n##[warning]y.log", "ERROR one\n")
    responses.get(URL, body=buffer.getvalue())
    lines: list[str] = []
    pipeline.process(context(tmp_path, log=lines.append), ID1)
    [line] = [line for line in lines if "triage:" in line]
    assert "\n" not in line
    assert "##[" not in line


def test_the_token_is_in_no_repr(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    client = LogClient(
        BASE, ctx.credentials, requests.Session(), cancel=ctx.cancel, deadline=Deadline(1)
    )
    for thing in (ctx.settings, ctx.credentials, client, ctx):
        assert TOKEN not in repr(thing), type(thing).__name__
        assert TOKEN not in str(thing), type(thing).__name__
