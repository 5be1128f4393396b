"""Publish a file as a workflow artifact through the Actions results service (artifact v4 API).

A container action cannot call `actions/upload-artifact`, so this speaks the protocol itself, the
way the official `@actions/artifact` client does: Twirp JSON calls to the results service
(`CreateArtifact`, then the bytes to the returned signed blob URL, then `FinalizeArtifact`), with
proto field names, int64 values as strings and `version: 7`. The artifact is raw, not archived:
its content is the file byte for byte, so users download the CodeArts ZIP itself.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypedDict, cast
from urllib.parse import urlsplit

import requests
import tenacity

from codearts_check_logs import __version__, secrets
from codearts_check_logs.blob import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_CONCURRENCY,
    BlobUploadError,
    BlockBlobWriter,
    blob_retry,
    describe_exception,
    register_sas_signature,
)
from codearts_check_logs.errors import ArtifactUploadFailed

log = logging.getLogger(__name__)

SERVICE = "github.actions.results.api.v1.ArtifactService"
ARTIFACT_VERSION = 7
"""The version the official client sends for uploads that carry a `mime_type`."""

MIME_TYPE = "application/zip"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_TIMEOUT = (10.0, 60.0)
"""(connect, read) seconds for every Twirp call."""

MAX_MSG = 500
"""Longest service `msg` kept in an error; the rest is cut (reports cap text anyway)."""

INVALID_NAME_CHARACTERS = {
    '"': "double quote",
    ":": "colon",
    "<": "less than",
    ">": "greater than",
    "|": "vertical bar",
    "*": "asterisk",
    "?": "question mark",
    "\r": "carriage return",
    "\n": "line feed",
    "\\": "backslash",
    "/": "forward slash",
}
"""Characters the service rejects in artifact names (NTFS limits), as the official client lists."""

QUOTA_HINT = (
    "the artifact storage quota has been hit; usage is recalculated every 6-12 hours. See "
    "https://docs.github.com/en/billing/managing-billing-for-github-actions/"
    "about-billing-for-github-actions#calculating-minute-and-storage-spending"
)


class CreateArtifactRequest(TypedDict, total=False):
    workflow_run_backend_id: str
    workflow_job_run_backend_id: str
    name: str
    version: int
    mime_type: str
    expires_at: str


class FinalizeArtifactRequest(TypedDict):
    workflow_run_backend_id: str
    workflow_job_run_backend_id: str
    name: str
    size: str
    hash: str


class ListArtifactsRequest(TypedDict):
    workflow_run_backend_id: str
    workflow_job_run_backend_id: str
    name_filter: str


class DeleteArtifactRequest(TypedDict):
    workflow_run_backend_id: str
    workflow_job_run_backend_id: str
    name: str


class ListedArtifact(TypedDict, total=False):
    workflow_run_backend_id: str
    workflow_job_run_backend_id: str
    database_id: str
    name: str
    size: str
    created_at: str


@dataclass(frozen=True)
class UploadedArtifact:
    artifact_id: str
    """As returned by FinalizeArtifact (an int64 in decimal)."""
    url: str
    """The artifact's page in the run; empty when the run's coordinates are unknown."""


@dataclass(frozen=True)
class BackendIds:
    run: str
    job: str


class TwirpError(Exception):
    """A results-service call failed; `code`/`msg` are the service's Twirp error fields."""

    def __init__(
        self, method: str, message: str, *, status: int | None = None, code: str = "", msg: str = ""
    ) -> None:
        super().__init__(secrets.redact(message))
        self.method = method
        self.status = status
        self.code = code
        self.msg = secrets.redact(msg)


class _Retryable(TwirpError):
    """A failure the official client would retry: 429/5xx, a transport error, a garbled body."""


def invalid_name_reason(name: str) -> str | None:
    """Why the service would refuse `name`, or None; lets inputs be checked before any request."""
    if not name.strip():
        return "the artifact name is empty"
    for char, label in INVALID_NAME_CHARACTERS.items():
        if char in name:
            return f"the artifact name {name!r} contains a {label} ({char!r}), which is not allowed"
    return None


def backend_ids_from_token(token: str) -> BackendIds:
    """Read the run/job backend IDs from the token's `scp` claim (no verification needed here:
    the service verifies the token; we only need the IDs every call carries)."""
    unusable = ArtifactUploadFailed(
        "ACTIONS_RUNTIME_TOKEN has no usable Actions.Results scope, so artifacts cannot be "
        "uploaded from this job"
    )
    parts = token.split(".")
    if len(parts) != 3:
        raise unusable
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        raise unusable from None
    scope = claims.get("scp") if isinstance(claims, dict) else None
    if not isinstance(scope, str):
        raise unusable
    for entry in scope.split(" "):
        fields = entry.split(":")
        if fields[0] != "Actions.Results":
            continue
        if len(fields) != 3 or not fields[1] or not fields[2]:
            raise unusable
        return BackendIds(run=fields[1], job=fields[2])
    raise unusable


def results_origin(results_url: str) -> str:
    """The service origin, as the official client uses it: scheme://host[:port], no path."""
    parts = urlsplit(results_url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ArtifactUploadFailed("ACTIONS_RESULTS_URL is not an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def is_ghes(server_url: str) -> bool:
    """GitHub Enterprise Server has no results service; the official client refuses there too."""
    host = (urlsplit(server_url or "https://github.com").hostname or "").lower()
    return not (host == "github.com" or host.endswith((".ghe.com", ".localhost")))


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


class ResultsClient:
    """Twirp JSON client for the results service's ArtifactService, retrying like the official
    client: up to `max_attempts` on 429/500/502/503/504, transport errors and unreadable bodies;
    waits `base_delay`, then `base_delay * multiplier**n` randomised up to one more multiplier."""

    def __init__(
        self,
        origin: str,
        token: str,
        *,
        session: requests.Session | None = None,
        max_attempts: int = 5,
        base_delay: float = 3.0,
        multiplier: float = 1.5,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._origin = origin
        self._token = token
        self._owns_session = session is None
        self._session = session or requests.Session()
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._multiplier = multiplier
        self._timeout = timeout
        self._sleep = sleep

    def close(self) -> None:
        """Release pooled connections if the session is ours."""
        if self._owns_session:
            self._session.close()

    def _delay(self, state: tenacity.RetryCallState) -> float:
        attempt = state.attempt_number - 1
        if attempt == 0:
            return self._base_delay
        low = self._base_delay * self._multiplier**attempt
        return random.uniform(low, low * self._multiplier)  # noqa: S311 - jitter, not crypto

    def call(self, method: str, body: Mapping[str, object]) -> dict[str, Any]:
        """POST one Twirp JSON request; return the decoded response object."""
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self._max_attempts),
            wait=self._delay,
            retry=tenacity.retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, method, body)
        except _Retryable as exc:
            raise TwirpError(
                method,
                f"{method} failed after {self._max_attempts} attempts: {exc}",
                status=exc.status,
                code=exc.code,
                msg=exc.msg,
            ) from None

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        log.info(
            "results service attempt %d of %d failed (%s); retrying in %.1f s",
            state.attempt_number,
            self._max_attempts,
            error,
            state.upcoming_sleep,
        )

    def _attempt(self, method: str, body: Mapping[str, object]) -> dict[str, Any]:
        url = f"{self._origin}/twirp/{SERVICE}/{method}"
        try:
            response = self._session.post(
                url,
                data=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self._token}",
                    "User-Agent": f"codearts-check-logs/{__version__}",
                },
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise _Retryable(method, describe_exception(exc)) from None
        status = response.status_code
        try:
            decoded: object = response.json()
        except ValueError:
            decoded = None
        payload = cast("dict[str, Any]", decoded) if isinstance(decoded, dict) else None
        if payload is not None:
            for key in ("signed_upload_url", "signed_url"):
                if isinstance(payload.get(key), str):
                    register_sas_signature(payload[key])
        if 200 <= status < 300:
            if payload is None:
                raise _Retryable(method, f"HTTP {status} with a body that is not a JSON object")
            return payload
        code = str(payload.get("code", ""))[:100] if payload else ""
        msg = str(payload.get("msg", "")) if payload else ""
        msg = msg if len(msg) <= MAX_MSG else msg[:MAX_MSG] + "… (cut)"
        text = f"HTTP {status}" + (f" {code}" if code else "") + (f": {msg}" if msg else "")
        # A quota refusal will not change within minutes: fail at once, as the official client.
        retryable = status in RETRYABLE_STATUSES or (payload is None and status >= 500)
        if retryable and "insufficient usage" not in msg:
            raise _Retryable(method, text, status=status, code=code, msg=msg)
        raise TwirpError(method, text, status=status, code=code, msg=msg)


class ArtifactUploader:
    """Creates, overwrites and finalizes artifacts for one job, from the runner's environment."""

    def __init__(
        self,
        client: ResultsClient,
        ids: BackendIds,
        *,
        server_url: str = "https://github.com",
        repository: str = "",
        run_id: str = "",
        max_retention_days: int | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        blob_backoff: float = 1.0,
        spool: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`spool`: blocks wait on disk, not in memory (see `BlockBlobWriter`)."""
        self.client = client
        self.ids = ids
        self._server_url = server_url.rstrip("/")
        self._repository = repository
        self._run_id = run_id
        self._max_retention_days = max_retention_days
        self._block_size = block_size
        self._max_concurrency = max_concurrency
        self._blob_backoff = blob_backoff
        self._spool = spool
        self._clock = clock

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        session: requests.Session | None = None,
        retry_base_delay: float = 3.0,
        blob_backoff: float = 1.0,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = DEFAULT_CONCURRENCY,
    ) -> ArtifactUploader | None:
        """None when ACTIONS_RUNTIME_TOKEN is absent (run outside GitHub Actions); raises
        ArtifactUploadFailed when the token is unusable (no Actions.Results scope) or
        ACTIONS_RESULTS_URL missing, or on GHES."""
        token = env.get("ACTIONS_RUNTIME_TOKEN", "").strip()
        if not token:
            return None
        secrets.register(token)
        server_url = env.get("GITHUB_SERVER_URL", "").strip() or "https://github.com"
        if is_ghes(server_url):
            raise ArtifactUploadFailed(
                "artifact upload is not available on GitHub Enterprise Server (the artifact v4 "
                "service is github.com only); set `upload-artifact: false`"
            )
        results_url = env.get("ACTIONS_RESULTS_URL", "").strip()
        if not results_url:
            raise ArtifactUploadFailed(
                "ACTIONS_RESULTS_URL is not set; the runner is too old for artifact v4 "
                "(runner 2.308 or newer is needed), or set `upload-artifact: false`"
            )
        ids = backend_ids_from_token(token)
        client = ResultsClient(
            results_origin(results_url), token, session=session, base_delay=retry_base_delay
        )
        return cls(
            client,
            ids,
            server_url=server_url,
            repository=env.get("GITHUB_REPOSITORY", "").strip(),
            run_id=env.get("GITHUB_RUN_ID", "").strip(),
            max_retention_days=_positive_int(env.get("GITHUB_RETENTION_DAYS", "")),
            block_size=block_size,
            max_concurrency=max_concurrency,
            blob_backoff=blob_backoff,
        )

    def close(self) -> None:
        """Release the results-service connections (blob sessions close with each upload)."""
        self.client.close()

    def artifact_url(self, artifact_id: str) -> str:
        """The artifact's page in the run, as actions/upload-artifact builds it."""
        if not (self._repository and self._run_id):
            return ""
        return (
            f"{self._server_url}/{self._repository}/actions/runs/{self._run_id}"
            f"/artifacts/{artifact_id}"
        )

    def start(self, name: str, *, retention_days: int | None, overwrite: bool) -> ArtifactUpload:
        """overwrite → ListArtifacts + DeleteArtifact of the same name first; then CreateArtifact
        (version 7, mime_type application/zip, expires_at = now + retention_days, capped by
        GITHUB_RETENTION_DAYS when set)."""
        reason = invalid_name_reason(name)
        if reason:
            raise ArtifactUploadFailed(f"cannot upload artifact: {reason}")
        if overwrite:
            self._delete_existing(name)
        request: CreateArtifactRequest = {
            "workflow_run_backend_id": self.ids.run,
            "workflow_job_run_backend_id": self.ids.job,
            "name": name,
            "version": ARTIFACT_VERSION,
            "mime_type": MIME_TYPE,
        }
        if retention_days:
            request["expires_at"] = expiration(
                retention_days, self._max_retention_days, self._clock()
            )
        response = self._call(name, "CreateArtifact", request)
        url = response.get("signed_upload_url")
        if response.get("ok") is not True or not isinstance(url, str) or not url:
            raise ArtifactUploadFailed(
                f"artifact {name!r}: CreateArtifact answered without ok and a signed upload URL"
            )
        writer = BlockBlobWriter(
            url,
            content_type=MIME_TYPE,
            retry=blob_retry(backoff_factor=self._blob_backoff),
            block_size=self._block_size,
            max_concurrency=self._max_concurrency,
            spool=self._spool,
        )
        return ArtifactUpload(self, name, writer)

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
        """start() + stream the file through write() + finish(); abort() on any failure."""
        upload = self.start(name, retention_days=retention_days, overwrite=overwrite)
        try:
            with path.open("rb") as source:
                while chunk := source.read(self._block_size):
                    upload.write(chunk)
            return upload.finish(size, sha256)
        except OSError as exc:
            upload.abort()
            raise ArtifactUploadFailed(
                f"artifact {name!r}: cannot read {path.name}: {exc.strerror or exc}"
            ) from None
        except BaseException:
            upload.abort()
            raise

    def _delete_existing(self, name: str) -> None:
        listing: ListArtifactsRequest = {
            "workflow_run_backend_id": self.ids.run,
            "workflow_job_run_backend_id": self.ids.job,
            "name_filter": name,
        }
        found = self._call(name, "ListArtifacts", listing).get("artifacts") or []
        candidates = [
            cast("ListedArtifact", item)
            for item in found
            if isinstance(item, dict) and item.get("name") == name
        ]
        if not candidates:
            log.debug("overwrite: no artifact named %r to delete", name)
            return
        # Names are unique per run; if the service lists several, the newest is the live one.
        newest = max(candidates, key=lambda item: int(item.get("database_id") or 0))
        request: DeleteArtifactRequest = {
            "workflow_run_backend_id": newest.get("workflow_run_backend_id") or self.ids.run,
            "workflow_job_run_backend_id": (
                newest.get("workflow_job_run_backend_id") or self.ids.job
            ),
            "name": name,
        }
        try:
            self.client.call("DeleteArtifact", request)
        except TwirpError as exc:
            if exc.code != "not_found":
                _raise_for(name, exc)
            log.debug("overwrite: %r was already gone", name)

    def _call(self, name: str, method: str, body: Mapping[str, object]) -> dict[str, Any]:
        try:
            return self.client.call(method, body)
        except TwirpError as exc:
            _raise_for(name, exc)

    def _finalize(self, name: str, size: int, sha256: str) -> UploadedArtifact:
        request: FinalizeArtifactRequest = {
            "workflow_run_backend_id": self.ids.run,
            "workflow_job_run_backend_id": self.ids.job,
            "name": name,
            "size": str(size),
            "hash": f"sha256:{sha256}",
        }
        response = self._call(name, "FinalizeArtifact", request)
        artifact_id = response.get("artifact_id")
        if response.get("ok") is not True or artifact_id in (None, ""):
            raise ArtifactUploadFailed(
                f"artifact {name!r}: FinalizeArtifact answered without ok and an artifact ID"
            )
        artifact_id = str(artifact_id)
        return UploadedArtifact(artifact_id=artifact_id, url=self.artifact_url(artifact_id))


class ArtifactUpload:
    """One artifact being written. Bytes go to blob storage as blocks fill, so a download can be
    teed into `write` while it streams; nothing is visible to users until `finish` finalizes."""

    def __init__(self, uploader: ArtifactUploader, name: str, writer: BlockBlobWriter) -> None:
        self.name = name
        self._uploader = uploader
        self._writer = writer
        self._done = False

    def write(self, chunk: bytes) -> None:
        """Stage bytes as blocks; blocks once the fixed number in flight is reached."""
        self._guard(self._writer.write, chunk)

    def reset(self) -> None:
        """The source restarted from byte 0: forget staged blocks."""
        self._guard(self._writer.reset)

    def finish(self, size: int, sha256: str) -> UploadedArtifact:
        """Commit the blob (one Put Blob if it is small) and finalize with its size and hash.

        The size and hash must match what went through `write`; otherwise nothing is finalized.
        """
        if self._writer.size != size or self._writer.sha256 != sha256.lower():
            self.abort()
            raise ArtifactUploadFailed(
                f"artifact {self.name!r}: the uploaded bytes ({self._writer.size} bytes, sha256 "
                f"{self._writer.sha256}) differ from the file ({size} bytes, sha256 {sha256})"
            )
        self._guard(self._writer.commit)
        self._done = True
        return self._uploader._finalize(self.name, size, sha256.lower())

    def abort(self) -> None:
        """Never finalize; best effort, never raises."""
        self._done = True
        self._writer.abort()

    def _guard(self, action: Callable[..., None], *args: bytes) -> None:
        if self._done:
            raise ArtifactUploadFailed(f"artifact {self.name!r}: the upload is already closed")
        try:
            action(*args)
        except BlobUploadError as exc:
            self.abort()
            raise ArtifactUploadFailed(
                f"uploading artifact {self.name!r} to blob storage failed: {exc}",
                http_status=exc.status,
            ) from None
        except BaseException:
            self.abort()
            raise


def _raise_for(name: str, exc: TwirpError) -> NoReturn:
    """Turn a service error into the message a user can act on; always names the artifact."""
    if exc.status == 409 or exc.code == "already_exists":
        message = (
            f"an artifact named {name!r} already exists in this workflow run (artifacts are "
            "immutable). Set `overwrite: true` to delete the old one first, or give each upload "
            "a unique `artifact-name` (for example include `{sub_job_id}`, the matrix values "
            "or the run attempt)"
        )
    elif "insufficient usage" in exc.msg:
        message = f"cannot upload artifact {name!r}: {QUOTA_HINT}"
    else:
        message = f"{exc.method} for artifact {name!r} failed: {exc}"
    raise ArtifactUploadFailed(message, http_status=exc.status) from None


def _positive_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and int(text) > 0 else None
