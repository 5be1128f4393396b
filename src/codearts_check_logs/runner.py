"""Orchestration: fetch every sub-job (a few at once), upload each ZIP, collect the outcomes.

One failing sub-job never stops the others. Nothing here prints service text or decides how
results are shown; that is `report` and `summary`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from .auth import TokenAuth
from .codearts import CancelToken, Download, LogClient
from .config import Settings
from .errors import ActionError, ArtifactUploadFailed, InternalError, WriteFailed
from .outcome import SUCCESS, SubJobResult, failure
from .textsafe import clean

MAX_PARALLEL = 4
NO_RUNTIME_TOKEN = (
    "Artifact upload skipped: ACTIONS_RUNTIME_TOKEN is not set, so this is not a GitHub Actions "
    "run. The ZIP stays in the workspace."
)
Log = Callable[[str], None]


class UploadedArtifact(Protocol):
    @property
    def artifact_id(self) -> str: ...

    @property
    def url(self) -> str: ...


class Upload(Protocol):
    """One artifact being written while its bytes arrive (see `artifact.ArtifactUpload`)."""

    def write(self, chunk: bytes) -> None: ...

    def reset(self) -> None: ...

    def finish(self, size: int, sha256: str) -> UploadedArtifact: ...

    def abort(self) -> None: ...


class Uploader(Protocol):
    """What the run needs from the artifact service."""

    def start(self, name: str, *, retention_days: int | None, overwrite: bool) -> Upload: ...

    def upload_file(
        self,
        path: Path,
        name: str,
        *,
        size: int,
        sha256: str,
        retention_days: int | None,
        overwrite: bool,
    ) -> UploadedArtifact: ...


def select_uploader(
    settings: Settings, env: Mapping[str, str]
) -> tuple[Uploader | None, list[str]]:
    """The artifact uploader, or None with the reason to show when uploads cannot happen."""
    if not settings.upload_artifact:
        return None, []
    if not env.get("ACTIONS_RUNTIME_TOKEN", "").strip():
        # Decided here, so a run outside Actions never imports the upload stack.
        return None, [NO_RUNTIME_TOKEN]
    from .artifact import ArtifactUploader

    try:
        uploader = ArtifactUploader.from_env(env)
    except ArtifactUploadFailed as exc:
        return _Refusing(exc), []
    if uploader is None:
        return None, [NO_RUNTIME_TOKEN]
    return uploader, []


class _Refusing:
    """Stands in for an uploader that could not be set up: each upload fails the same way."""

    def __init__(self, error: ArtifactUploadFailed) -> None:
        self._error = error

    def start(self, *args: object, **kwargs: object) -> Upload:
        raise self._error

    def upload_file(self, *args: object, **kwargs: object) -> UploadedArtifact:
        raise self._error


class _Tee:
    """The download's sink: hands each chunk to the artifact upload as it arrives.

    An upload failure must not fail the download (the ZIP is still wanted), so it is kept in
    `error`, the upload is dropped, and the rest of the download goes to disk only.
    """

    def __init__(self, upload: Upload) -> None:
        self.upload: Upload | None = upload
        self.error: ArtifactUploadFailed | None = None

    def write(self, chunk: bytes) -> None:
        if self.upload is not None:
            self._guard(self.upload.write, chunk)

    def reset(self) -> None:
        if self.upload is not None:
            self._guard(self.upload.reset)

    def abort(self) -> None:
        upload, self.upload = self.upload, None
        if upload is not None:
            upload.abort()

    def _guard(self, action: Callable[..., None], *args: bytes) -> None:
        try:
            action(*args)
        except ArtifactUploadFailed as exc:
            self.error = exc
            self.abort()


def run(
    settings: Settings,
    *,
    log: Log,
    uploader: Uploader | None,
    cancel: CancelToken,
) -> list[SubJobResult]:
    """Fetch (and upload) every sub-job; the results keep the input order."""
    client = LogClient(
        settings.base_url,
        TokenAuth(settings.token, settings.base_url),
        cancel=cancel,
        on_retry=_retry_logger(log),
    )

    def one(sub_job_id: str) -> SubJobResult:
        try:
            if uploader is None:
                return _fetch_only(settings, client, sub_job_id, log)
            if settings.overwrite:
                return _fetch_then_upload(settings, client, uploader, sub_job_id, log)
            return _fetch_and_upload(settings, client, uploader, sub_job_id, log)
        except Exception as exc:  # a bug must still end in a report, not a bare traceback
            log(f"{sub_job_id}: unexpected {type(exc).__name__}")
            return failure(sub_job_id, InternalError(type(exc).__name__))

    ids: Sequence[str] = settings.sub_job_ids
    unwritable = _prepare_directory(settings.directory)
    if unwritable is not None:
        return [failure(sub_job_id, unwritable) for sub_job_id in ids]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(ids))) as pool:
        return list(pool.map(one, ids))


def _prepare_directory(directory: Path) -> WriteFailed | None:
    """Create the output folder before any request, so an unwritable one costs no download."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return WriteFailed(f"cannot create the path folder: {exc.strerror or exc}")
    if not os.access(directory, os.W_OK | os.X_OK):
        return WriteFailed("cannot write to the path folder: Permission denied")
    return None


def _download(
    settings: Settings,
    client: LogClient,
    sub_job_id: str,
    log: Log,
    sink: _Tee | None = None,
) -> SubJobResult | Download:
    """The verified ZIP, or the failed result when there is none."""
    log(f"{sub_job_id}: downloading")
    try:
        return client.download(
            sub_job_id, settings.zip_path(sub_job_id), budget=settings.timeout_seconds, sink=sink
        )
    except ActionError as exc:
        log(f"{sub_job_id}: failed with {clean(exc.code, 200)}")
        return failure(sub_job_id, exc)


def _fetch_only(settings: Settings, client: LogClient, sub_job_id: str, log: Log) -> SubJobResult:
    download = _download(settings, client, sub_job_id, log)
    if isinstance(download, SubJobResult):
        return download
    return _saved(settings, sub_job_id, download, log)


def _fetch_and_upload(
    settings: Settings,
    client: LogClient,
    uploader: Uploader,
    sub_job_id: str,
    log: Log,
) -> SubJobResult:
    """Download and upload at once: blocks are staged while the ZIP streams in.

    The artifact is created first and the download tees into it; only once the ZIP is complete
    and verified are the blocks committed and the artifact finalized, so a bad or partial ZIP
    never becomes visible. A download that fails aborts the upload (nothing is finalized); a
    retried download resets it (staged blocks are forgotten). An upload that fails (including a
    refused CreateArtifact, such as a 409 for an existing name) never stops the download: the ZIP
    is kept and the sub-job fails with ARTIFACT_UPLOAD_FAILED.

    Only used without `overwrite`; see `_fetch_then_upload` for why.
    """
    name = settings.artifact_name_for(sub_job_id)
    tee: _Tee | None = None
    start_error: ArtifactUploadFailed | None = None
    try:
        tee = _Tee(uploader.start(name, retention_days=settings.retention_days, overwrite=False))
    except ArtifactUploadFailed as exc:
        start_error = exc
    try:
        download = _download(settings, client, sub_job_id, log, tee)
    except BaseException:
        if tee is not None:
            tee.abort()
        raise
    if isinstance(download, SubJobResult):
        if tee is not None:
            tee.abort()
        return download
    result = replace(_saved(settings, sub_job_id, download, log), artifact_name=name)
    if tee is None or tee.upload is None:
        error = start_error or (tee.error if tee is not None else None)
        return _upload_failed(result, error or ArtifactUploadFailed("the upload stopped"), log)
    try:
        artifact = tee.upload.finish(download.size, download.sha256)
    except ArtifactUploadFailed as exc:
        return _upload_failed(result, exc, log)
    return _uploaded(result, artifact, log)


def _fetch_then_upload(
    settings: Settings,
    client: LogClient,
    uploader: Uploader,
    sub_job_id: str,
    log: Log,
) -> SubJobResult:
    """Download, verify, and only then upload (no overlap): the path for `overwrite: true`.

    `overwrite` deletes the old artifact before creating the new one (the service refuses a
    second artifact of the same name, so there is no way to create first). Starting the upload
    before the download would delete the old artifact even when the download then fails,
    leaving the run with no artifact at all; so the old one is only deleted once a verified ZIP
    is on disk, at the cost of uploading after the download instead of during it.
    """
    download = _download(settings, client, sub_job_id, log)
    if isinstance(download, SubJobResult):
        return download
    name = settings.artifact_name_for(sub_job_id)
    result = replace(_saved(settings, sub_job_id, download, log), artifact_name=name)
    try:
        artifact = uploader.upload_file(
            download.path,
            name,
            size=download.size,
            sha256=download.sha256,
            retention_days=settings.retention_days,
            overwrite=True,
        )
    except ArtifactUploadFailed as exc:
        return _upload_failed(result, exc, log)
    return _uploaded(result, artifact, log)


def _saved(settings: Settings, sub_job_id: str, download: Download, log: Log) -> SubJobResult:
    result = SubJobResult(
        sub_job_id=sub_job_id,
        status=SUCCESS,
        file=settings.display_path(download.path),
        size=download.size,
        sha256=download.sha256,
        http_status=download.http_status,
        request_id=download.request_id or "",
        listing=download.listing,
    )
    log(f"{sub_job_id}: saved {result.file} ({download.size} bytes, sha256 {download.sha256})")
    return result


def _upload_failed(result: SubJobResult, error: ArtifactUploadFailed, log: Log) -> SubJobResult:
    log(f"{result.sub_job_id}: artifact upload failed; the ZIP stays at {result.file}")
    return result.failed_with(error)


def _uploaded(result: SubJobResult, artifact: UploadedArtifact, log: Log) -> SubJobResult:
    name, artifact_id = result.artifact_name, artifact.artifact_id
    log(f"{result.sub_job_id}: uploaded artifact {name} (id {artifact_id})")
    return replace(result, artifact_id=artifact.artifact_id, artifact_url=artifact.url)


def _retry_logger(log: Log) -> Callable[[str, ActionError, float, int], None]:
    def on_retry(sub_job_id: str, error: ActionError, wait: float, attempt: int) -> None:
        log(
            f"{sub_job_id}: attempt {attempt} failed with {clean(error.code, 200)}; "
            f"retrying in {wait:.1f} s"
        )

    return on_retry
