"""Publish a verified ZIP as a workflow artifact, the way the official `@actions/artifact` does.

(Delete the old one, with `overwrite`) → `CreateArtifact` → the file's bytes to the signed blob URL
→ `FinalizeArtifact` with its size and SHA-256. The artifact is raw, not archived: its content is
the CodeArts ZIP byte for byte. `CreateArtifact` reserves the name for the rest of the workflow
run, finalized or not, so it is only called with a verified file in hand, and every failure after
it tells the user that the name is taken and how to choose another.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from ..errors import ArtifactUploadFailed
from ..net.budget import Deadline, watchdog
from ..net.cancel import CancelToken
from ..net.retry import RetryPolicy
from ..net.session import new_session
from ..net.transport import check_transport
from .blob import DEFAULT_BLOCK_SIZE, DEFAULT_CONCURRENCY, BlobUpload, BlobUploadError
from .environment import ArtifactEnvironment
from .twirp import (
    CreateArtifactRequest,
    DeleteArtifactRequest,
    FinalizeArtifactRequest,
    ListArtifactsRequest,
    ListedArtifact,
    ResultsClient,
    TwirpError,
)

log = logging.getLogger(__name__)

ARTIFACT_VERSION = 7
"""The version the official client sends for uploads that carry a `mime_type`."""
MIME_TYPE = "application/zip"
_DECIMAL = re.compile(r"[0-9]{1,19}")

QUOTA_HINT = (
    "the artifact storage quota has been hit; usage is recalculated every 6-12 hours. See "
    "https://docs.github.com/en/billing/managing-billing-for-github-actions/"
    "about-billing-for-github-actions#calculating-minute-and-storage-spending"
)


@dataclass(frozen=True)
class UploadedArtifact:
    artifact_id: str
    """As returned by FinalizeArtifact: an int64 in decimal."""
    url: str
    """The artifact's page in the run; empty when the run's coordinates are unknown."""


def reserved_note(name: str) -> str:
    """What a user must know after a failure that followed CreateArtifact."""
    return (
        f" The name {name!r} is now reserved for this workflow run, even though nothing was "
        "published, and `overwrite` cannot free it: to re-run this step, choose another "
        "`artifact-name`, for example one that includes ${{ github.run_attempt }}."
    )


class ArtifactService:
    """Uploads files as artifacts of this job's run."""

    def __init__(
        self,
        environment: ArtifactEnvironment,
        *,
        cancel: CancelToken,
        results_policy: RetryPolicy | None = None,
        blob_policy: RetryPolicy | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.environment = environment
        self._cancel = cancel
        self._results_policy = results_policy
        self._blob_policy = blob_policy
        self._block_size = block_size
        self._concurrency = concurrency
        self._clock = clock

    def upload(
        self,
        path: Path,
        name: str,
        *,
        size: int,
        sha256: str,
        retention_days: int | None,
        overwrite: bool,
        deadline: Deadline,
        sent: Callable[[int], None] | None = None,
    ) -> UploadedArtifact:
        """Publish `path` (`size` bytes, hex `sha256`) as artifact `name`, within `deadline`;
        `sent` hears of the bytes blob storage has taken, as they are taken."""
        session, tracker = new_session(self._cancel, pool_size=self._concurrency + 1)
        lifecycle = _Lifecycle(self, name, deadline)
        with session, watchdog(deadline, tracker):
            results = ResultsClient(
                self.environment.results_origin,
                self.environment.token,
                session,
                cancel=self._cancel,
                policy=self._results_policy,
            )
            try:
                if overwrite:
                    lifecycle.delete_existing(results)
                url = lifecycle.create(results, retention_days)
                BlobUpload(
                    url,
                    session,
                    tracker,
                    cancel=self._cancel,
                    deadline=deadline,
                    content_type=MIME_TYPE,
                    block_size=self._block_size,
                    concurrency=self._concurrency,
                    policy=self._blob_policy,
                ).send(path, size, sent)
                return lifecycle.finalize(results, size, sha256)
            except BlobUploadError as exc:
                self._cancel.check()
                raise lifecycle.failed(
                    f"uploading artifact {name!r} to blob storage failed: {exc}", exc.status
                ) from None
            except OSError as exc:
                raise lifecycle.failed(
                    f"cannot read {path.name} for artifact {name!r}: {exc.strerror or exc}"
                ) from None


class _Lifecycle:
    """One artifact's calls, and whether its name is reserved yet (for the messages)."""

    def __init__(self, service: ArtifactService, name: str, deadline: Deadline) -> None:
        self.service = service
        self.environment = service.environment
        self.name = name
        self.deadline = deadline
        self.reserved = False

    def delete_existing(self, results: ResultsClient) -> None:
        """`overwrite`: delete a finalized artifact of the same name, if the run has one."""
        ids = self.environment.ids
        listing: ListArtifactsRequest = {
            "workflow_run_backend_id": ids.run,
            "workflow_job_run_backend_id": ids.job,
            "name_filter": self.name,
        }
        found = self.call(results, "ListArtifacts", listing).get("artifacts") or []
        candidates = [
            cast("ListedArtifact", item)
            for item in found
            if isinstance(item, dict) and item.get("name") == self.name
        ]
        if not candidates:
            log.debug("overwrite: no artifact named %r to delete", self.name)
            return
        # Names are unique per run; if the service lists several, the newest is the live one.
        newest = max(candidates, key=lambda item: _int(item.get("database_id")))
        request: DeleteArtifactRequest = {
            "workflow_run_backend_id": newest.get("workflow_run_backend_id")
            or self.environment.ids.run,
            "workflow_job_run_backend_id": newest.get("workflow_job_run_backend_id")
            or self.environment.ids.job,
            "name": self.name,
        }
        try:
            results.call("DeleteArtifact", request, self.deadline)
        except TwirpError as exc:
            if exc.code != "not_found":
                raise self.refused(exc) from None
            log.debug("overwrite: %r was already gone", self.name)

    def create(self, results: ResultsClient, retention_days: int | None) -> str:
        """CreateArtifact (version 7, application/zip, expires_at when asked): the upload URL."""
        request: CreateArtifactRequest = {
            "workflow_run_backend_id": self.environment.ids.run,
            "workflow_job_run_backend_id": self.environment.ids.job,
            "name": self.name,
            "version": ARTIFACT_VERSION,
            "mime_type": MIME_TYPE,
        }
        if retention_days:
            request["expires_at"] = expiration(
                retention_days, self.environment.max_retention_days, self.service._clock()
            )
        response = self.call(results, "CreateArtifact", request)
        self.reserved = True
        url = response.get("signed_upload_url")
        if response.get("ok") is not True or not isinstance(url, str) or not url:
            raise self.failed("CreateArtifact answered without ok and a signed upload URL")
        try:
            check_transport(url)
        except ValueError:
            raise self.failed(
                "CreateArtifact answered with a signed upload URL that is not https; "
                "nothing was sent to it"
            ) from None
        return url

    def finalize(self, results: ResultsClient, size: int, sha256: str) -> UploadedArtifact:
        request: FinalizeArtifactRequest = {
            "workflow_run_backend_id": self.environment.ids.run,
            "workflow_job_run_backend_id": self.environment.ids.job,
            "name": self.name,
            "size": str(size),
            "hash": f"sha256:{sha256.lower()}",
        }
        response = self.call(results, "FinalizeArtifact", request)
        artifact_id = response.get("artifact_id")
        if isinstance(artifact_id, int) and not isinstance(artifact_id, bool):
            artifact_id = str(artifact_id)
        if (
            response.get("ok") is not True
            or not isinstance(artifact_id, str)
            or not _DECIMAL.fullmatch(artifact_id)
        ):
            raise self.failed("FinalizeArtifact answered without ok and a numeric artifact ID")
        return UploadedArtifact(
            artifact_id=artifact_id, url=self.environment.artifact_url(artifact_id)
        )

    def call(
        self, results: ResultsClient, method: str, body: Mapping[str, object]
    ) -> dict[str, Any]:
        try:
            return results.call(method, body, self.deadline)
        except TwirpError as exc:
            raise self.refused(exc) from None

    def refused(self, exc: TwirpError) -> ArtifactUploadFailed:
        """A service error as the message a user can act on; always names the artifact."""
        if exc.status == 409 or exc.code == "already_exists":
            return self.failed(
                f"an artifact named {self.name!r} already exists in this workflow run (names are "  # noqa: S608 - a message, not SQL
                "unique per run). Set `overwrite: true` to replace a published one, or give each "
                "upload a unique `artifact-name`, for example with ${{ github.run_attempt }} or "
                "the matrix values in it",
                exc.status,
            )
        if "insufficient usage" in exc.msg:
            return self.failed(f"cannot upload artifact {self.name!r}: {QUOTA_HINT}", exc.status)
        return self.failed(f"{exc.method} for artifact {self.name!r} failed: {exc}", exc.status)

    def failed(self, message: str, status: int | None = None) -> ArtifactUploadFailed:
        """The failure, saying when time ran out and when the name is now reserved."""
        if self.deadline.expired:
            message = (
                f"the upload of artifact {self.name!r} did not finish within timeout-seconds "
                f"({self.deadline.budget:g} s): {message}"
            )
        if self.reserved:
            message = message.rstrip(".") + "." + reserved_note(self.name)
        return ArtifactUploadFailed(message, http_status=status)


def expiration(retention_days: int | None, max_retention_days: int | None, now: datetime) -> str:
    """`expires_at` as protobuf JSON writes a Timestamp: RFC 3339 UTC, milliseconds if any."""
    days = retention_days or 0
    if max_retention_days and days > max_retention_days:
        log.warning(
            "retention-days %d is above the repository's maximum; using %d",
            days,
            max_retention_days,
        )
        days = max_retention_days
    moment = (now + timedelta(days=days)).astimezone(UTC)
    millis = moment.microsecond // 1000
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}Z" if millis else f"{stamp}Z"


def _int(value: object) -> int:
    return int(value) if isinstance(value, str) and value.isdigit() else 0
