"""Typed failures. Each carries the `error-code` the user sees; the entry points report them."""

from __future__ import annotations

import re

from .masking import redact

_HTTP_CODE = re.compile(r"HTTP_[1-5][0-9]{2}")


class ActionError(Exception):
    """Base of every failure the action reports.

    `code` is what lands in the `error-code` output; `message` is the one-line explanation
    (already free of secrets). `retryable` tells the download loop whether another attempt
    may help; `retry_after` is the wait the server asked for, in seconds, if any.
    """

    code: str = "ERROR"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        # Service text may echo the token back; exception text is a channel like any other.
        message = redact(message)
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code if is_local_code(code) else redact(code)
        if retryable is not None:
            self.retryable = retryable
        self.http_status = http_status
        self.request_id = None if request_id is None else redact(request_id)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidInput(ActionError):
    """An input failed validation; raised before any request is sent."""

    code = "INVALID_INPUT"


class ServiceError(ActionError):
    """The service answered with an error body (CodeArts `CC.*`, gateway `APIGW.*`, ...)."""


class HttpStatusError(ActionError):
    """A non-success status without a recognisable error body: code `HTTP_<status>`."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            code=f"HTTP_{status}",
            http_status=status,
            request_id=request_id,
            retryable=retryable,
            retry_after=retry_after,
        )


class InvalidResponse(ActionError):
    """A 200 that is neither a ZIP nor an error body, or a ZIP that arrived truncated."""

    code = "INVALID_RESPONSE"


class NetworkError(ActionError):
    """The request could not be sent or the connection broke."""

    code = "NETWORK_ERROR"
    retryable = True


class DownloadTimeout(ActionError):
    """The `timeout-seconds` budget ran out (connect, stall or slow trickle)."""

    code = "TIMEOUT"


class ArtifactUploadFailed(ActionError):
    """The workflow artifact could not be created, uploaded or finalized."""

    code = "ARTIFACT_UPLOAD_FAILED"


class Cancelled(ActionError):
    """The job was cancelled (SIGTERM/SIGINT) while work was under way."""

    code = "CANCELLED"


class WriteFailed(ActionError):
    """The ZIP could not be written locally (folder not writable, disk full)."""

    code = "WRITE_FAILED"


class AuthFailed(ActionError):
    """A credential service (IAM, STS, GitHub's ID-token endpoint) refused or answered badly.

    `code` is the service's own textual code when its body had one, else AUTH_FAILED; `service`
    and `step` say where it happened, for the summary.
    """

    code = "AUTH_FAILED"

    def __init__(
        self,
        message: str,
        *,
        service: str,
        step: str,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            http_status=http_status,
            request_id=request_id,
            retryable=retryable,
            retry_after=retry_after,
        )
        self.service = service
        self.step = step


class InternalError(ActionError):
    """An unexpected failure (a bug): reported like any other, so the step still has a summary."""

    code = "INTERNAL_ERROR"

    def __init__(self, kind: str) -> None:
        super().__init__(f"unexpected {kind} (a bug); please report it with the step log")


LOCAL_CODES = frozenset(
    kind.code
    for kind in (
        InvalidInput,
        InvalidResponse,
        NetworkError,
        DownloadTimeout,
        ArtifactUploadFailed,
        Cancelled,
        WriteFailed,
        AuthFailed,
        InternalError,
    )
)
"""The codes the action itself gives (besides `HTTP_<status>`)."""


def is_local_code(code: str) -> bool:
    """Whether `code` is one of the action's own codes: a fixed value, never scrubbed, so that no
    secret can change it (a password `INTERNAL` would otherwise turn `INTERNAL_ERROR` into
    `***_ERROR`). Service codes are service text and are scrubbed like any."""
    return code in LOCAL_CODES or _HTTP_CODE.fullmatch(code) is not None
