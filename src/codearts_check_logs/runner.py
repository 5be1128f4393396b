"""Orchestration: fetch every sub-job (a few at once), upload each ZIP, collect the outcomes.

One failing sub-job never stops the others. Nothing here prints service text or decides how
results are shown; that is `report` and `summary`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from .auth import TokenAuth
from .codearts import CancelToken, Download, LogClient
from .config import Settings
from .errors import ActionError, ArtifactUploadFailed
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


class Uploader(Protocol):
    """What the run needs from the artifact service."""

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

    def upload_file(
        self,
        path: Path,
        name: str,
        *,
        size: int,
        sha256: str,
        retention_days: int | None,
        overwrite: bool,
    ) -> UploadedArtifact:
        raise self._error


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
        return _fetch_one(settings, client, uploader, sub_job_id, log)

    ids: Sequence[str] = settings.sub_job_ids
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(ids))) as pool:
        return list(pool.map(one, ids))


def _fetch_one(
    settings: Settings,
    client: LogClient,
    uploader: Uploader | None,
    sub_job_id: str,
    log: Log,
) -> SubJobResult:
    log(f"{sub_job_id}: downloading")
    try:
        download = client.download(
            sub_job_id, settings.zip_path(sub_job_id), budget=settings.timeout_seconds
        )
    except ActionError as exc:
        log(f"{sub_job_id}: failed with {clean(exc.code, 200)}")
        return failure(sub_job_id, exc)
    result = _saved(settings, sub_job_id, download)
    log(f"{sub_job_id}: saved {result.file} ({download.size} bytes, sha256 {download.sha256})")
    if uploader is None:
        return result
    name = settings.artifact_name_for(sub_job_id)
    try:
        artifact = uploader.upload_file(
            download.path,
            name,
            size=download.size,
            sha256=download.sha256,
            retention_days=settings.retention_days,
            overwrite=settings.overwrite,
        )
    except ArtifactUploadFailed as exc:
        log(f"{sub_job_id}: artifact upload failed; the ZIP stays at {result.file}")
        return replace(result, artifact_name=name).failed_with(exc)
    log(f"{sub_job_id}: uploaded artifact {name} (id {artifact.artifact_id})")
    return replace(
        result, artifact_id=artifact.artifact_id, artifact_url=artifact.url, artifact_name=name
    )


def _saved(settings: Settings, sub_job_id: str, download: Download) -> SubJobResult:
    return SubJobResult(
        sub_job_id=sub_job_id,
        status=SUCCESS,
        file=settings.display_path(download.path),
        size=download.size,
        sha256=download.sha256,
        http_status=download.http_status,
        request_id=download.request_id or "",
        listing=download.listing,
    )


def _retry_logger(log: Log) -> Callable[[str, ActionError, float, int], None]:
    def on_retry(sub_job_id: str, error: ActionError, wait: float, attempt: int) -> None:
        log(
            f"{sub_job_id}: attempt {attempt} failed with {clean(error.code, 200)}; "
            f"retrying in {wait:.1f} s"
        )

    return on_retry
