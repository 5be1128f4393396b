"""One sub-job's ZIP onto disk: attempts within `timeout-seconds`, each one streamed to a part
file, verified, and only then renamed to its final name.

The retry rules of the log-file API live here with the loop that applies them (the client makes
one attempt, `answers` says whether its failure is worth another). A failed or abandoned
download leaves no file behind; the artifact service hears nothing until this returns.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import tenacity

from ..errorbody import is_throttled
from ..errors import ActionError, InvalidResponse
from ..http import CancelToken, Deadline, exponential_backoff, new_session, retrying, watchdog
from ..textsafe import clean, for_log
from ..ziplog import reader
from .client import Announce, Fetched, LogClient
from .partfile import PartFile

MAX_ATTEMPTS = 5
MAX_RETRY_AFTER = 60.0
BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 20.0

Log = Callable[[str], None]
Received = Callable[[int], None]
"""Told the size of each piece written, for progress bars."""


@dataclass(frozen=True)
class Saved:
    """A verified ZIP under its final name."""

    path: Path
    fetched: Fetched
    listing: reader.Listing


def retry_wait(state: tenacity.RetryCallState) -> float:
    """Retry-After when the server gave one (capped), 2-5 s for gateway throttling (Huawei's
    advice), else exponential backoff with jitter."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, ActionError):
        if exc.retry_after is not None:
            return float(min(exc.retry_after, MAX_RETRY_AFTER))
        if is_throttled(exc.code):
            return random.uniform(2.0, 5.0)  # noqa: S311 - jitter, not cryptography
    return exponential_backoff(BACKOFF_INITIAL, BACKOFF_MAX)(state)


def download(
    sub_job_id: str,
    dest: Path,
    *,
    base_url: str,
    credentials: requests.auth.AuthBase,
    budget: float,
    cancel: CancelToken,
    log: Log,
    announce: Announce | None = None,
    received: Received | None = None,
) -> Saved:
    """The verified ZIP at `dest`, retried within `budget` seconds; an ActionError otherwise.
    `announce` hears each attempt's announced length, `received` each piece written."""
    deadline = Deadline(budget)
    session, tracker = new_session(cancel)
    with session, watchdog(deadline, tracker):
        client = LogClient(base_url, credentials, session, cancel=cancel, deadline=deadline)
        attempts = retrying(
            deadline=deadline,
            cancel=cancel,
            attempts=MAX_ATTEMPTS,
            wait=retry_wait,
            retry_if=lambda exc: isinstance(exc, ActionError) and exc.retryable,
            before_sleep=_retry_logger(log, sub_job_id),
        )
        return attempts(_attempt, client, sub_job_id, dest, announce, received)


def _attempt(
    client: LogClient,
    sub_job_id: str,
    dest: Path,
    announce: Announce | None,
    received: Received | None,
) -> Saved:
    with PartFile(dest) as part:

        def write(chunk: bytes) -> None:
            part.write(chunk)
            if received is not None:
                received(len(chunk))

        fetched = client.fetch(sub_job_id, write, announce)
        part.close()
        listing = verify(part.path, fetched)
        part.commit()
    return Saved(path=dest, fetched=fetched, listing=listing)


def verify(path: Path, fetched: Fetched) -> reader.Listing:
    """The ZIP's central directory read back. A ZIP that looks cut short is worth another attempt
    only when the server did not confirm its length; one that arrived at its announced length is
    complete but damaged, and another attempt would fetch the same bytes."""
    try:
        # The client already asked `reader` whether the first bytes look like a ZIP (before any
        # byte is written); the whole file can only be checked here, once it is on disk. Two
        # questions to the one ZIP parser, at the two moments the bytes exist.
        return reader.inspect(path)
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


def _retry_logger(log: Log, sub_job_id: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        code = for_log(clean(exc.code, 200)) if isinstance(exc, ActionError) else "an error"
        log(
            f"{sub_job_id}: attempt {state.attempt_number} failed with {code}; "
            f"retrying in {state.upcoming_sleep:.1f} s"
        )

    return before_sleep
