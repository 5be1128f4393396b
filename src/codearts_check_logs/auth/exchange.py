"""What every credential exchange shares: one session, one budget, the retry policy, and every
refusal turned into an `AuthFailed` naming the service and the step.

Exchanges retry what may pass on another attempt — 429, 5xx, a broken or silent connection —
with backoff inside the budget, and never a 401 or 403: Huawei locks an access key after five
failed attempts, and a refused password or ID token stays refused. Redirects are never followed:
a credential goes only to the origin of the service it is for, and `requests` would carry custom
headers such as `X-Auth-Token` along to another host.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import tenacity

from .. import masking
from ..errorbody import is_throttled, parse_error_body, parse_retry_after
from ..errors import ActionError, AuthFailed
from ..net.budget import Deadline, watchdog
from ..net.cancel import CancelToken
from ..net.capped import read_capped
from ..net.retry import (
    RETRYABLE_STATUS,
    RetryPolicy,
    policy_for,
    retrying,
    transport_failure,
)
from ..net.session import new_session
from .credentials import AccessKeys
from .values import maskable

IAM = "IAM"
STS = "STS"
GITHUB = "GitHub"
JSON_TYPE = "application/json;charset=UTF-8"

Log = Callable[[str], None]


@dataclass(frozen=True)
class Answer:
    """A 2xx answer, its body read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def document(self, service: str, step: str) -> dict[str, Any]:
        """The body as a JSON object, or AuthFailed: the service answered something unusable."""
        try:
            data = json.loads(self.body)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise unusable(service, step, f"HTTP {self.status} without a JSON object body")
        return data


def unusable(service: str, step: str, what: str) -> AuthFailed:
    """AuthFailed for an answer that is not a refusal but cannot be used either."""
    return AuthFailed(f"{service} answered {what}", service=service, step=step)


class Exchange:
    """The HTTP side of one credential phase: a session whose sockets a cancel or the spent
    budget shut down, and `send`, which retries within that budget."""

    def __init__(
        self,
        session: requests.Session,
        *,
        deadline: Deadline,
        cancel: CancelToken,
        log: Log | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.session = session
        self.deadline = deadline
        self.cancel = cancel
        self._log = log
        self.policy = policy or policy_for("credentials")

    def __repr__(self) -> str:
        return f"Exchange(budget={self.deadline.budget:g})"

    @classmethod
    @contextlib.contextmanager
    def opened(
        cls, *, cancel: CancelToken, budget: float, log: Log | None = None
    ) -> Iterator[Exchange]:
        """An exchange with a fresh session and a budget of `budget` seconds."""
        deadline = Deadline(budget)
        session, tracker = new_session(cancel, follow_redirects=False)
        with session, watchdog(deadline, tracker):
            yield cls(session, deadline=deadline, cancel=cancel, log=log)

    def send(
        self,
        service: str,
        step: str,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        auth: requests.auth.AuthBase | None = None,
    ) -> Answer:
        """One request, retried on 429, 5xx and network errors; a 2xx `Answer`, else AuthFailed."""
        attempts = retrying(
            self.policy,
            deadline=self.deadline,
            cancel=self.cancel,
            retry_if=lambda exc: isinstance(exc, ActionError) and exc.retryable,
            before_sleep=self._retry_logger(service, step),
        )
        data = None if body is None else json.dumps(body).encode("utf-8")
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = JSON_TYPE
        return attempts(self._attempt, service, step, method, url, all_headers, data, auth)

    def _attempt(
        self,
        service: str,
        step: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: bytes | None,
        auth: requests.auth.AuthBase | None,
    ) -> Answer:
        self.cancel.check()
        if self.deadline.expired:
            raise self._timeout(service, step)
        host = urlsplit(url).hostname or "the service"
        try:
            response = self.session.request(
                method,
                url,
                headers=dict(headers),
                data=data,
                auth=auth,
                allow_redirects=False,
                stream=True,
                timeout=self.deadline.timeouts(self.policy.read_timeout),
            )
            with response:
                # A cut answer reads as an unusable body: credential answers are a few KiB.
                received, _whole = read_capped(response)
        except requests.exceptions.RequestException as exc:
            raise self._broken(service, step, host, exc) from None
        status = response.status_code
        if 200 <= status < 300:
            return Answer(status, response.headers, received)
        raise refusal(service, step, response, received)

    def _broken(
        self, service: str, step: str, host: str, exc: requests.exceptions.RequestException
    ) -> AuthFailed:
        self.cancel.check()
        if self.deadline.remaining() <= 0.05:
            return self._timeout(service, step)
        failure = transport_failure(exc)
        if failure.timed_out:
            what = f"no answer from {host} within {self.policy.read_timeout:g} s"
        else:
            what = f"could not reach {host}: {failure.name}"
        return AuthFailed(what, code="NETWORK_ERROR", service=service, step=step, retryable=True)

    def _timeout(self, service: str, step: str) -> AuthFailed:
        return AuthFailed(
            f"no usable answer within timeout-seconds ({self.deadline.budget:g} s)",
            code="TIMEOUT",
            service=service,
            step=step,
        )

    def _retry_logger(self, service: str, step: str) -> Callable[[tenacity.RetryCallState], None]:
        def before_sleep(state: tenacity.RetryCallState) -> None:
            if self._log is None:
                return
            exc = state.outcome.exception() if state.outcome else None
            code = exc.code if isinstance(exc, ActionError) else "an error"
            self._log(
                f"{service} {step}: attempt {state.attempt_number} failed with "
                f"{masking.redact(code)}; retrying in {state.upcoming_sleep:.1f} s"
            )

        return before_sleep


def refusal(service: str, step: str, response: requests.Response, body: bytes) -> AuthFailed:
    """The service's refusal, with its own code when its body has a textual one (`IAM.0001`,
    `STS5.xxxx`, `APIGW.0301`), else AUTH_FAILED: a Keystone-style numeric `code` is the status."""
    status = response.status_code
    parsed = parse_error_body(body)
    code = parsed.code.strip() if parsed is not None else ""
    if code.lstrip("-").isdigit():
        code = ""
    message = (parsed.message if parsed is not None else "") or _plain_message(body)
    if 300 <= status < 400:
        message = (
            f"a redirect (HTTP {status}), which is not followed: credentials go only to the "
            "service's own origin"
        )
    elif not message:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
        shape = f"a {kind} body of {len(body)} bytes" if body else "an empty body"
        message = f"HTTP {status} {response.reason or ''} with {shape}".replace("  ", " ")
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    request_id = (
        (parsed.request_id if parsed is not None else None)
        or response.headers.get("X-Request-Id")
        or response.headers.get("X-IAM-Trace-Id")
        or None
    )
    return AuthFailed(
        message,
        code=code or None,
        service=service,
        step=step,
        http_status=status,
        request_id=request_id,
        retryable=status in RETRYABLE_STATUS or is_throttled(code),
        retry_after=retry_after,
    )


def _plain_message(body: bytes) -> str:
    """A `message` field at the top of a JSON body (GitHub's refusals carry one)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    value = data.get("message") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def parse_expiry(value: object) -> float | None:
    """An ISO 8601 instant (`2026-02-03T10:00:00.000000Z`) as wall-clock seconds, else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp()


def keys_from(
    found: Mapping[str, Any],
    *,
    service: str,
    step: str,
    started: float,
    duration: float,
) -> AccessKeys:
    """Temporary keys from a `credentials`/`credential` object, in either naming (STS's
    `access_key_id`…`expiration`, IAM's `access`…`expires_at`). Each secret is registered the
    moment it is read, unless it is too short to be one: then it is refused, never masked (it
    would edit every line holding its characters). The expiry is the earlier of the stated one
    and `started + duration`, so a runner clock behind Huawei's cannot make expired keys look
    valid."""
    access = found.get("access_key_id", found.get("access"))
    secret = found.get("secret_access_key", found.get("secret"))
    token = found.get("security_token", found.get("securitytoken"))
    for value in (access, secret, token):
        if isinstance(value, str) and maskable(value):  # a shorter one is refused, never masked
            masking.register(value)
    if not all(
        isinstance(v, str) and maskable(v) and v.isascii() and v.isprintable()
        for v in (access, secret, token)
    ):
        raise unusable(
            service,
            step,
            "temporary credentials without an access key, secret key and security token",
        )
    stated = parse_expiry(found.get("expiration", found.get("expires_at")))
    expires = started + duration if stated is None else min(stated, started + duration)
    return AccessKeys(str(access), str(secret), str(token), expires_at=expires)
