"""One sub-job, top to bottom: download (to a temporary file, verified while triage reads it,
renamed) → upload → result.

The order is decided here and nowhere else; each phase's work lives in its own package
(`codearts.download`, `ziplog.triage`, `artifact.upload`). The artifact service hears of a
sub-job only once its ZIP is complete, verified and saved: `CreateArtifact` reserves the name for
the rest of the run, so a sub-job whose download fails must leave no trace there. Triage reads
the members in the verifying pass (each is inflated once, for its CRC and for triage), before the
upload, so the summary can show what the logs say even when the upload then fails; what it finds
is information, never a failure of the sub-job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

import requests

from .artifact.upload import ArtifactService
from .codearts import download as codearts_download
from .codearts.credential_gate import CredentialGate
from .codearts.download import Saved
from .errors import ActionError, ArtifactUploadFailed
from .inputs.settings import Settings
from .net.budget import Deadline
from .net.cancel import CancelToken
from .outcome import SUCCESS, SubJobResult, failure
from .textsafe import clean, for_log
from .ziplog import triage as ziptriage
from .ziplog.findings import Triage
from .ziplog.shield import Shielded

Log = Callable[[str], None]


class Progress(Protocol):
    """Hears how far each sub-job's download and upload are (the CLI draws bars from it)."""

    def update(self, sub_job_id: str, phase: str, done: int, total: int | None) -> None:
        """`done` of `total` bytes (None: unknown) for `phase`, "download" or "upload"."""

    def close(self, sub_job_id: str, phase: str) -> None:
        """The phase has ended, whatever its result."""


class Silent:
    """No progress shown: the action's log has its own lines."""

    def update(self, sub_job_id: str, phase: str, done: int, total: int | None) -> None:
        pass

    def close(self, sub_job_id: str, phase: str) -> None:
        pass


@dataclass(frozen=True)
class Context:
    """What every sub-job of a run shares."""

    settings: Settings
    credentials: requests.auth.AuthBase
    cancel: CancelToken
    log: Log
    artifacts: ArtifactService | ArtifactUploadFailed | None
    """Where ZIPs are published; the reason uploads cannot work; or None for no upload."""
    progress: Progress = field(default_factory=Silent)
    gate: CredentialGate = field(default_factory=CredentialGate)
    """Every CodeArts request of the run passes it: one refused credential at most."""


def process(ctx: Context, sub_job_id: str) -> SubJobResult:
    """Everything for one sub-job; every failure ends in its result, never in an exception."""
    ctx.log(f"{sub_job_id}: downloading")
    try:
        saved = download(ctx, sub_job_id)
    except ActionError as exc:
        ctx.log(f"{sub_job_id}: failed with {for_log(clean(exc.code, 200))}")
        return failure(sub_job_id, exc)
    result = SubJobResult(
        sub_job_id=sub_job_id,
        status=SUCCESS,
        file=ctx.settings.output.display_path(saved.path),
        size=saved.fetched.size,
        sha256=saved.fetched.sha256,
        http_status=saved.fetched.http_status,
        request_id=saved.fetched.request_id or "",
        listing=saved.listing,
        unverified=saved.unverified,
    )
    ctx.log(
        f"{sub_job_id}: saved {_quoted(result.file)} ({result.size} bytes, sha256 {result.sha256})"
    )
    result = triage(ctx, result, saved)
    if ctx.artifacts is None:
        return result
    return upload(ctx, ctx.artifacts, result, saved)


def download(ctx: Context, sub_job_id: str) -> Saved:
    """The verified ZIP under its final name, retried within `timeout-seconds`."""
    counter = _Counter(ctx.progress, sub_job_id, "download")
    try:
        return codearts_download.download(
            sub_job_id,
            ctx.settings.output.zip_path(sub_job_id),
            base_url=ctx.settings.base_url,
            credentials=ctx.credentials,
            budget=ctx.settings.timeout_seconds,
            cancel=ctx.cancel,
            gate=ctx.gate,
            log=ctx.log,
            announce=counter.start,
            received=counter.add,
            triage=_triager(ctx) if ctx.settings.triage else None,
        )
    finally:
        ctx.progress.close(sub_job_id, "download")


def _triager(ctx: Context) -> codearts_download.Triager:
    """Triage for the verifying pass, behind a wall: a defect in it becomes a note."""

    def start(seconds: float) -> Shielded:
        cancelled = ctx.cancel.event.is_set
        scan = ziptriage.Scan(ctx.settings.triage_pattern, seconds=seconds, cancelled=cancelled)
        return Shielded(scan)

    return start


def triage(ctx: Context, result: SubJobResult, saved: Saved) -> SubJobResult:
    """What triage found in the verifying pass, when triage is on. Never fails the sub-job:
    triage turns whatever the ZIP holds into notes, and a defect in it becomes a note too."""
    if not ctx.settings.triage or saved.triage is None:
        return result
    found = saved.triage
    ctx.log(f"{result.sub_job_id}: triage: {_triage_line(found)}")
    return replace(result, triage=found)


def _triage_line(found: Triage) -> str:
    """How many problem lines, and where the first is: numbers and a cleaned member name."""
    count = found.total_problems
    text = f"{count} problem line{'' if count == 1 else 's'}"
    if found.problems:
        first = found.problems[0]
        text += f", the first in {_quoted(first.member)} at line {first.line}"
    if found.truncated:
        text += " (at least: triage stopped early)"
    if found.notes:
        text += f"; {len(found.notes)} note{'' if len(found.notes) == 1 else 's'}"
    return text


def upload(
    ctx: Context,
    artifacts: ArtifactService | ArtifactUploadFailed,
    result: SubJobResult,
    saved: Saved,
) -> SubJobResult:
    """Publish the saved ZIP; a failure keeps the ZIP and fails the sub-job."""
    name = ctx.settings.artifact_name_for(result.sub_job_id)
    result = replace(result, artifact_name=name)
    if isinstance(artifacts, ArtifactUploadFailed):
        return _upload_failed(ctx, result, artifacts)
    try:
        artifact = artifacts.upload(
            saved.path,
            name,
            size=saved.fetched.size,
            sha256=saved.fetched.sha256,
            retention_days=ctx.settings.retention_days,
            overwrite=ctx.settings.overwrite,
            deadline=Deadline(ctx.settings.timeout_seconds),
            sent=_Counter(ctx.progress, result.sub_job_id, "upload", saved.fetched.size).add,
        )
    except ActionError as exc:
        return _upload_failed(ctx, result, exc)
    finally:
        ctx.progress.close(result.sub_job_id, "upload")
    ctx.log(f"{result.sub_job_id}: uploaded artifact {_quoted(name)} (id {artifact.artifact_id})")
    return replace(result, artifact_id=artifact.artifact_id, artifact_url=artifact.url)


class _Counter:
    """Bytes done in one phase, told to the progress (from several threads for an upload)."""

    def __init__(
        self, progress: Progress, sub_job_id: str, phase: str, total: int | None = None
    ) -> None:
        self._progress = progress
        self._sub_job_id = sub_job_id
        self._phase = phase
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def start(self, total: int | None) -> None:
        with self._lock:
            self._total, self._done = total, 0
        self._progress.update(self._sub_job_id, self._phase, 0, total)

    def add(self, count: int) -> None:
        with self._lock:
            self._done += count
            done, total = self._done, self._total
        self._progress.update(self._sub_job_id, self._phase, done, total)


def _upload_failed(ctx: Context, result: SubJobResult, error: ActionError) -> SubJobResult:
    ctx.log(f"{result.sub_job_id}: artifact upload failed; the ZIP stays at {_quoted(result.file)}")
    return result.failed_with(error)


def _quoted(text: str) -> str:
    """An input-derived name (path, artifact name) made safe for a log line."""
    return for_log(clean(text))
