"""Twirp JSON calls to the Actions results service's ArtifactService, as the official client makes
them: proto field names, int64 values as strings, a bearer runtime token, and its retry schedule
(`net.retry.RESULTS`: up to 5 attempts on 429/5xx and transport errors; 3 s, then 1.5 times
longer each time, with jitter), inside our budget. Answers are read up to
`net.capped.MAX_SMALL_BODY` only.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any, TypedDict, cast
from urllib.parse import parse_qs, urlsplit

import requests
import tenacity

from .. import masking
from ..net.budget import Deadline
from ..net.cancel import CancelToken
from ..net.capped import MAX_SMALL_BODY, read_capped
from ..net.retry import RETRYABLE_STATUS, RetryPolicy, policy_for, retrying, socket_error_name

log = logging.getLogger(__name__)


def register_sas_signature(url: str) -> None:
    """Treat a signed upload URL's `sig` value as a secret (raw and decoded) the moment the
    answer that carries it arrives, before anything can print it. Here, not in `blob`: the
    blob upload is only ever handed a URL this module has already registered."""
    for raw in re.findall(r"(?:^|[?&])sig=([^&#]*)", urlsplit(url).query):
        masking.register(raw)
    for value in parse_qs(urlsplit(url).query).get("sig", []):
        masking.register(value)


SERVICE = "github.actions.results.api.v1.ArtifactService"
MAX_MSG = 500
"""Longest service `msg` kept in an error; the rest is cut (reports cap text anyway)."""


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


class TwirpError(Exception):
    """A results-service call failed; `code`/`msg` are the service's Twirp error fields."""

    def __init__(
        self, method: str, message: str, *, status: int | None = None, code: str = "", msg: str = ""
    ) -> None:
        super().__init__(masking.redact(message))
        self.method = method
        self.status = status
        self.code = code
        self.msg = masking.redact(msg)


class _Retryable(TwirpError):
    """A failure the official client would retry: 429/5xx, a transport error, a garbled body."""


class ResultsClient:
    """Calls the results service at `origin` with the runtime token."""

    def __init__(
        self,
        origin: str,
        token: str,
        session: requests.Session,
        *,
        cancel: CancelToken,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._origin = origin
        self._token = token
        self._session = session
        self._cancel = cancel
        self._policy = policy or policy_for("results")

    def __repr__(self) -> str:
        return f"ResultsClient(origin={self._origin!r}, token=<hidden>)"

    def call(self, method: str, body: Mapping[str, object], deadline: Deadline) -> dict[str, Any]:
        """POST one Twirp JSON request within `deadline`; the decoded response object."""
        attempts = retrying(
            self._policy,
            deadline=deadline,
            cancel=self._cancel,
            retry_if=lambda exc: isinstance(exc, _Retryable),
            before_sleep=self._log_retry,
        )
        try:
            return attempts(self._attempt, method, body, deadline)
        except _Retryable as exc:
            tries = int(attempts.statistics.get("attempt_number", 1))
            raise TwirpError(
                method,
                f"{method} failed after {tries} attempt{'s' if tries > 1 else ''}: {exc}",
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
            self._policy.attempts,
            error,
            state.upcoming_sleep,
        )

    def _attempt(
        self, method: str, body: Mapping[str, object], deadline: Deadline
    ) -> dict[str, Any]:
        self._cancel.check()
        url = f"{self._origin}/twirp/{SERVICE}/{method}"
        try:
            response = self._session.post(
                url,
                data=json.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {self._token}",
                },
                timeout=deadline.timeouts(self._policy.read_timeout),
                stream=True,
            )
        except requests.RequestException as exc:
            self._cancel.check()
            raise _Retryable(method, socket_error_name(exc)) from None
        status = response.status_code
        with response:
            try:
                raw, whole = read_capped(response)
            except requests.RequestException as exc:
                self._cancel.check()
                raise _Retryable(
                    method,
                    f"HTTP {status}, then the answer broke off: {socket_error_name(exc)}",
                    status=status,
                ) from None
        if deadline.expired:
            # A read shut down by the watchdog ends like a clean close: what came may be a part.
            raise _Retryable(
                method,
                f"HTTP {status}: the answer was still arriving when time ran out",
                status=status,
            )
        payload = _json_object(raw) if whole else None
        if payload is not None and isinstance(payload.get("signed_upload_url"), str):
            register_sas_signature(payload["signed_upload_url"])
        oversized = "" if whole else f" (more than {MAX_SMALL_BODY:,} bytes; read no further)"
        if 200 <= status < 300:
            if payload is None:
                raise _Retryable(
                    method, f"HTTP {status} with a body that is not a JSON object{oversized}"
                )
            return payload
        code = str(payload.get("code", ""))[:100] if payload else ""
        msg = str(payload.get("msg", "")) if payload else ""
        msg = msg if len(msg) <= MAX_MSG else msg[:MAX_MSG] + "… (cut)"
        text = f"HTTP {status}" + (f" {code}" if code else "") + (f": {msg}" if msg else oversized)
        # A quota refusal will not change within minutes: fail at once, as the official client.
        retryable = status in RETRYABLE_STATUS or (payload is None and status >= 500)
        if retryable and "insufficient usage" not in msg:
            raise _Retryable(method, text, status=status, code=code, msg=msg)
        raise TwirpError(method, text, status=status, code=code, msg=msg)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        decoded: object = json.loads(raw)
    except ValueError:
        return None
    return cast("dict[str, Any]", decoded) if isinstance(decoded, dict) else None
