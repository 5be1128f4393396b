"""One sub-job through the pipeline: the download (retries, verification, the final name) and the
order of the steps (no artifact call before a verified ZIP is saved). HTTP faked with `responses`
for the retry rules, the simulator for streaming; the artifact service is a recording fake."""

from __future__ import annotations

import errno
import gzip
import io
import logging
import os
import socket
import threading
import time
import traceback
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses
from devtools.doubles.codearts import Simulator, Step, small_zip
from devtools.doubles.logs import PROBLEM_LINES
from devtools.doubles.slow import Kind, SlowServer, answer
from responses.registries import OrderedRegistry

from codearts_check_logs import pipeline
from codearts_check_logs.artifact.upload import UploadedArtifact
from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts import client as client_module
from codearts_check_logs.errors import ActionError, ArtifactUploadFailed
from codearts_check_logs.inputs.metadata import input_specs
from codearts_check_logs.inputs.settings import Settings, parse_settings
from codearts_check_logs.net import retry
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import CODEARTS
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


def download(tmp_path: Path, base: str = BASE, **extra: str) -> pipeline.Saved:
    return pipeline.download(context(tmp_path, base, inputs=extra), ID1)


def error_of(tmp_path: Path, base: str = BASE, **extra: str) -> ActionError:
    with pytest.raises(ActionError) as caught:
        download(tmp_path, base, **extra)
    return caught.value


# -- the download --------------------------------------------------------------------------------


@responses.activate(assert_all_requests_are_fired=True)
def test_a_verified_zip_gets_its_final_name(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    saved = download(tmp_path)
    assert saved.path == tmp_path / "codearts-check-logs" / f"{ID1}.zip"
    assert saved.path.read_bytes() == ZIP
    assert saved.listing.total == 5
    assert [p.name for p in saved.path.parent.iterdir()] == [f"{ID1}.zip"]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_5xx_then_success(tmp_path: Path) -> None:
    responses.get(URL, status=503, body="busy")
    responses.get(URL, status=500, json={"error_code": "CC.00050006", "error_msg": "inner"})
    responses.get(URL, body=ZIP)
    assert download(tmp_path).path.read_bytes() == ZIP
    assert len(responses.calls) == 3


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_429_retry_after_is_used_and_logged(tmp_path: Path) -> None:
    responses.get(URL, status=429, json={"error_code": "APIGW.0308"}, headers={"Retry-After": "0"})
    responses.get(URL, body=ZIP)
    lines: list[str] = []
    pipeline.download(context(tmp_path, log=lines.append), ID1)
    assert lines == [f"{ID1}: attempt 1 failed with APIGW.0308; retrying in 0.0 s"]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate(assert_all_requests_are_fired=True)
def test_client_errors_are_never_retried(tmp_path: Path, status: int) -> None:
    responses.get(URL, status=status, json={"error_code": f"E{status}", "error_msg": "no"})
    assert error_of(tmp_path).code == f"E{status}"
    assert len(responses.calls) == 1


@responses.activate
def test_5xx_gives_up_after_bounded_attempts(tmp_path: Path) -> None:
    responses.get(URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    assert error_of(tmp_path).code == "HTTP_502"
    assert len(responses.calls) == CODEARTS.attempts


@responses.activate
def test_network_errors_are_retried(tmp_path: Path) -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    assert error_of(tmp_path).code == "NETWORK_ERROR"
    assert len(responses.calls) == CODEARTS.attempts


@pytest.mark.parametrize(
    "damaged",
    [
        ZIP[: len(ZIP) - 22] + b"PK\x05\x06" + b"\x00" * 18,  # directory emptied
        ZIP.replace(b"PK\x01\x02", b"XX\x01\x02", 1),  # directory entry overwritten
        ZIP[:-30],  # end record cut off, though the length was announced as complete
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_damaged_zip_of_confirmed_length_is_neither_kept_nor_retried(
    tmp_path: Path, damaged: bytes
) -> None:
    responses.get(URL, body=damaged, auto_calculate_content_length=True)
    error = error_of(tmp_path)
    assert (error.code, error.http_status) == ("INVALID_RESPONSE", 200)
    assert len(responses.calls) == 1
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


def test_a_body_cut_short_is_retried(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.truncate(0.5))
    saved = download(tmp_path, sim.base_url)
    assert saved.path.read_bytes() == sim.zip_bytes(ID1)
    assert len(sim.requests_for()) == 2


def test_a_close_delimited_body_cut_short_is_retried(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.close_delimited_cut(0.5))
    assert download(tmp_path, sim.base_url).path.read_bytes() == sim.zip_bytes(ID1)
    assert len(sim.requests_for()) == 2


def test_large_zip_streams_and_matches(sim: Simulator, tmp_path: Path) -> None:
    sim.set_zip_size(ID1, 24 << 20)
    saved = download(tmp_path, sim.base_url, timeout_seconds="60")
    assert saved.fetched.size == 24 << 20
    assert sim.served[ID1] == [(saved.fetched.size, saved.fetched.sha256)]
    assert saved.listing.total == 1


def test_zip_signature_split_over_several_reads(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.split_head())
    assert download(tmp_path, sim.base_url).path.read_bytes() == sim.zip_bytes(ID1)


def test_cancel_stops_a_stalled_download(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(30, after_headers=True))
    cancel = CancelToken()
    ctx = context(tmp_path, sim.base_url, cancel=cancel, inputs={"timeout_seconds": "60"})
    threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(ActionError) as caught:
        pipeline.download(ctx, ID1)
    assert caught.value.code == "CANCELLED"
    assert time.monotonic() - started < 5
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


def test_a_stall_before_the_headers_ends_with_the_budget(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(30))
    started = time.monotonic()
    error = error_of(tmp_path, sim.base_url, timeout_seconds="1.5")
    assert error.code == "TIMEOUT"
    assert time.monotonic() - started < 4


SLACK = 1.0
"""Seconds a budget may be overrun in process: timer threads on a loaded two-core machine."""


@pytest.mark.parametrize("kind", ["status", "headers", "chunk-size", "tls"])
def test_a_server_that_never_finishes_a_line_ends_with_the_budget(
    tmp_path: Path, kind: Kind
) -> None:
    """Each read gets its byte in time; only the one deadline per sub-job ends the exchange. A
    status line or header that never ended is no status (it used to be taken for a 200)."""
    with SlowServer(answer(kind)) as server:
        base = server.tls_url if kind == "tls" else server.url
        started = time.monotonic()
        error = error_of(tmp_path, base, timeout_seconds="1")
        elapsed = time.monotonic() - started
    assert error.code == "TIMEOUT", error.message
    assert elapsed < 1 + SLACK
    assert error.http_status == (200 if kind == "chunk-size" else None)
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


def test_a_complete_but_damaged_zip_says_so_and_is_not_retried(
    sim: Simulator, tmp_path: Path
) -> None:
    whole = sim.zip_bytes(ID1)
    sim.script(ID1, *[Step.raw(200, whole[:-22], "application/zip")] * 3)
    error = error_of(tmp_path, sim.base_url)
    assert (error.code, error.http_status, error.retryable) == ("INVALID_RESPONSE", 200, False)
    assert "complete but damaged" in error.message
    assert "truncated" not in error.message
    assert len(sim.requests_for()) == 1


def test_a_zip_cut_short_without_a_length_is_called_truncated(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.script(ID1, *[Step.close_delimited_cut(0.5)] * 10)
    error = error_of(tmp_path, sim.base_url, timeout_seconds="2")
    assert error.code == "INVALID_RESPONSE"
    assert "truncated" in error.message
    assert "complete" not in error.message


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_content_encoded_body_names_its_encoding(
    sim: Simulator, tmp_path: Path, encoding: str
) -> None:
    packed = gzip.compress(sim.zip_bytes(ID1))
    headers = {"Content-Encoding": encoding}
    sim.script(ID1, Step.raw(200, packed, "application/zip", headers))
    error = error_of(tmp_path, sim.base_url)
    assert (error.code, error.http_status) == ("INVALID_RESPONSE", 200)
    assert f"the service sent a {encoding}-encoded body, not the ZIP itself" in error.message
    assert len(sim.requests_for()) == 1


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


# -- local failures, in process: a disk that fills up while the ZIP streams ------------------------


DISK_FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingFile(io.RawIOBase):
    """Wraps the real temporary file; fails like a full disk at `where`."""

    def __init__(self, real: Any, where: str, room: int = 1024) -> None:
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


@pytest.mark.parametrize("where", ["write", "close", "replace"])
def test_a_full_disk_leaves_no_partial_file_and_the_old_zip(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    old = tmp_path / "codearts-check-logs" / f"{ID1}.zip"
    old.parent.mkdir()
    old.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an earlier run's ZIP under the final name
    if where == "replace":

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise DISK_FULL

        monkeypatch.setattr(os, "replace", refuse)
    else:
        real_open = Path.open

        def filling(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(path, mode, *args, **kwargs)
            return FillingFile(handle, where) if path.suffix == ".part" else handle

        monkeypatch.setattr(Path, "open", filling)
    error = error_of(tmp_path, sim.base_url, timeout_seconds="10")

    assert error.code == "WRITE_FAILED"
    assert "No space left on device" in error.message
    assert [p.name for p in old.parent.iterdir()] == [old.name], "no temporary file left"
    assert old.read_bytes() == b"PK\x05\x06" + b"\x00" * 18, "the old ZIP is untouched"
    assert len(sim.requests_for()) == 1, "a local write failure is not retried"


def test_no_retry_starts_too_late_to_finish(sim: Simulator, tmp_path: Path) -> None:
    """A retry that would start with 2 ms left could only time out, and report TIMEOUT instead
    of what went wrong (here a body cut short, a retryable fault)."""
    sim.script(ID1, *[Step.close_delimited_cut(0.5)] * 5)
    budget = 1.5
    started = time.monotonic()

    def wait_until_the_last_moment(state: object) -> float:
        return max(0.0, budget - 0.002 - (time.monotonic() - started))

    with retry.using(codearts=replace(CODEARTS, wait=wait_until_the_last_moment)):
        error = error_of(tmp_path, sim.base_url, timeout_seconds=str(budget))
    assert error.code == "INVALID_RESPONSE", error.message
    assert len(sim.requests_for()) == 1


# -- the token stays out of reprs, exceptions and debug logs --------------------------------------


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


def test_the_token_is_in_no_repr(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    client = client_module.LogClient(
        BASE, ctx.credentials, requests.Session(), cancel=ctx.cancel, deadline=Deadline(1)
    )
    for thing in (ctx.settings, ctx.credentials, client, ctx):
        assert TOKEN not in repr(thing), type(thing).__name__
        assert TOKEN not in str(thing), type(thing).__name__


@pytest.mark.parametrize("failure", ["refused", "echoed", "echoed-on-200", "stall"])
def test_the_token_is_in_no_exception_and_no_debug_log(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    """Every logger at DEBUG (urllib3's request lines included) while requests fail inside
    `requests` or the service echoes the token back, plain and URL-encoded."""
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
    error = error_of(tmp_path, base, timeout_seconds="1.5")

    texts = exception_texts(error)
    assert TOKEN not in texts
    assert quote(TOKEN, safe="") not in texts
    assert TOKEN not in caplog.text
    assert quote(TOKEN, safe="") not in caplog.text


# -- triage: after the rename, before the upload; never a failure --------------------------------


@responses.activate
def test_triage_reads_the_saved_zip_before_the_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses.get(URL, body=ZIP)
    service = RecordingService()
    seen: list[tuple[Path, int]] = []
    real = triage_module.triage

    def spy(path: Path, pattern: Any, **options: Any) -> Any:
        seen.append((path, len(service.calls)))
        return real(path, pattern, **options)

    monkeypatch.setattr(triage_module, "triage", spy)
    lines: list[str] = []
    result = pipeline.process(context(tmp_path, artifacts=service, log=lines.append), ID1)

    assert seen == [(tmp_path / "codearts-check-logs" / f"{ID1}.zip", 0)], "final name, no upload"
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
    monkeypatch.setattr(triage_module, "triage", None)  # would fail if called
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

    monkeypatch.setattr(triage_module, "triage", broken)
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
