"""One sub-job, top to bottom: download to a temporary file → verify (and triage) → rename →
upload → result.

The order is decided here and nowhere else. The artifact service hears of a sub-job only once its
ZIP is complete, verified and saved: `CreateArtifact` reserves the name for the rest of the run,
so a sub-job whose download fails must leave no trace there. Triage reads the members in the
verifying pass (each member is inflated once, for its CRC and for triage), so the summary can
show what the logs say even when the upload then fails; what it finds is information, never a
failure of the sub-job.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import requests
import tenacity

from .artifact.upload import ArtifactService
from .codearts.client import MAX_ATTEMPTS, Fetched, LogClient, retry_wait
from .codearts.download import PartFile
from .errors import ActionError, ArtifactUploadFailed, DownloadTimeout, InvalidResponse
from .http import CancelToken, Deadline, new_session, retrying, watchdog
from .inputs import Settings
from .outcome import SUCCESS, SubJobResult, failure
from .render.textsafe import clean, for_log
from .ziplog import reader
from .ziplog import triage as ziptriage
from .ziplog import verify as zipverify
from .ziplog.verify import DamagedZip, StreamCheck, Streamed, Unverified, Verified

Log = Callable[[str], None]


@dataclass(frozen=True)
class Saved:
    """A verified ZIP under its final name."""

    path: Path
    fetched: Fetched
    listing: reader.Listing
    unverified: tuple[Unverified, ...] = ()
    """Members whose data was not checked (a ZIP bomb by its claimed size, encrypted, ...)."""
    triage: ziptriage.Triage | None = None
    """What triage found during verification's pass; None when triage is off."""


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
        file=ctx.settings.display_path(saved.path),
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
    deadline = Deadline(ctx.settings.timeout_seconds)
    session, tracker = new_session(ctx.cancel)
    with session, watchdog(deadline, tracker):
        client = LogClient(
            ctx.settings.base_url,
            ctx.credentials,
            session,
            cancel=ctx.cancel,
            deadline=deadline,
        )
        attempts = retrying(
            deadline=deadline,
            cancel=ctx.cancel,
            attempts=MAX_ATTEMPTS,
            wait=retry_wait,
            retry_if=lambda exc: isinstance(exc, ActionError) and exc.retryable,
            before_sleep=_retry_logger(ctx.log, sub_job_id),
        )
        try:
            return attempts(_attempt, ctx, client, sub_job_id, deadline)
        finally:
            ctx.progress.close(sub_job_id, "download")


def _attempt(ctx: Context, client: LogClient, sub_job_id: str, deadline: Deadline) -> Saved:
    dest = ctx.settings.zip_path(sub_job_id)
    counter = _Counter(ctx.progress, sub_job_id, "download")
    stream = StreamCheck()
    with PartFile(dest) as part:

        def write(chunk: bytes) -> None:
            part.write(chunk)
            stream.feed(chunk)
            counter.add(len(chunk))

        fetched = client.fetch(sub_job_id, write, counter.start)
        part.close()
        scan = _triage_scan(ctx, deadline)
        verified = verify(part.path, fetched, stream.result(), scan, _pass_check(ctx, deadline))
        part.commit()
    return Saved(
        path=dest,
        fetched=fetched,
        listing=verified.listing,
        unverified=verified.unverified,
        triage=None if scan is None else scan.result(),
    )


TRIAGE_SHARE = 0.5
"""Triage's part of the time left when verification starts (and at most `Limits.max_seconds`):
the other part stays for the CRC of the members after triage stopped, so a pattern that
backtracks without end never costs the sub-job its ZIP."""


def _triage_scan(ctx: Context, deadline: Deadline) -> ziptriage.Shielded | None:
    if not ctx.settings.triage:
        return None
    scan = ziptriage.Scan(
        ctx.settings.triage_pattern,
        seconds=TRIAGE_SHARE * deadline.remaining(),
        cancelled=lambda: ctx.cancel.cancelled,
    )
    return ziptriage.Shielded(scan)


def _pass_check(ctx: Context, deadline: Deadline) -> Callable[[], None]:
    def check() -> None:
        ctx.cancel.check()
        if deadline.expired:
            raise DownloadTimeout(
                f"the ZIP arrived but its check did not end within {deadline.budget:g} s "
                "(timeout-seconds)"
            )

    return check


def verify(
    path: Path,
    fetched: Fetched,
    streamed: Streamed,
    text: ziptriage.Shielded | None,
    check: Callable[[], None],
) -> Verified:
    """The ZIP checked as `unzip -t` checks it: the central directory, then every member's CRC
    (stored ones were checked as they arrived). A ZIP that looks cut short is worth another
    attempt only when the server did not confirm its length; one that arrived at its announced
    length, or whose directory is whole, is complete but damaged, and another attempt would
    fetch the same bytes."""
    try:
        return zipverify.verify(path, streamed, text=text, check=check)
    except DamagedZip as exc:
        raise InvalidResponse(
            f"the ZIP is complete but damaged: {exc} (its data does not match the central "
            "directory); not retried, since the service would send the same bytes again",
            http_status=fetched.http_status,
            request_id=fetched.request_id,
            retryable=False,
        ) from None
    except reader.BadZip as exc:
        if fetched.length_confirmed:
            message = (
                f"the ZIP is complete but damaged: all {fetched.size} bytes the service "
                f"announced arrived, but {exc}; not retried, since the service would send the "
                "same bytes again"
            )
        elif exc.truncated:
            message = f"the ZIP looks truncated (the service did not announce its length): {exc}"
        else:
            message = f"the ZIP is damaged: {exc}"
        raise InvalidResponse(
            message,
            http_status=fetched.http_status,
            request_id=fetched.request_id,
            retryable=exc.truncated and not fetched.length_confirmed,
        ) from None


def triage(ctx: Context, result: SubJobResult, saved: Saved) -> SubJobResult:
    """What triage found during verification's pass, when triage is on. Never fails the
    sub-job: triage turns whatever the ZIP holds into notes, and a defect in it becomes a note."""
    if not ctx.settings.triage or saved.triage is None:
        return result
    found = saved.triage
    ctx.log(f"{result.sub_job_id}: triage: {_triage_line(found)}")
    return replace(result, triage=found)


def _triage_line(found: ziptriage.Triage) -> str:
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


def _retry_logger(log: Log, sub_job_id: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        code = for_log(clean(exc.code, 200)) if isinstance(exc, ActionError) else "an error"
        log(
            f"{sub_job_id}: attempt {state.attempt_number} failed with {code}; "
            f"retrying in {state.upcoming_sleep:.1f} s"
        )

    return before_sleep


def _quoted(text: str) -> str:
    """An input-derived name (path, artifact name) made safe for a log line."""
    return for_log(clean(text))
