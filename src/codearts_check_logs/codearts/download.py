"""One sub-job's ZIP onto disk: attempts within `timeout-seconds`, each one streamed to a part
file, verified, and only then renamed to its final name.

The attempts loop lives here, under the log-file API's retry policy (`net.retry.CODEARTS`): the
client makes one attempt, `answers` says whether its failure is worth another. A failed or abandoned
download leaves no file behind; the artifact service hears nothing until this returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
import tenacity

from ..errors import ActionError, InvalidResponse
from ..net.budget import Deadline, watchdog
from ..net.cancel import CancelToken
from ..net.retry import RetryPolicy, policy_for, retrying
from ..net.session import new_session
from ..textsafe import clean, for_log
from ..ziplog import reader
from .client import Announce, Fetched, LogClient
from .credential_gate import CredentialGate
from .partfile import PartFile

Log = Callable[[str], None]
Received = Callable[[int], None]
"""Told the size of each piece written, for progress bars."""


@dataclass(frozen=True)
class Saved:
    """A verified ZIP under its final name."""

    path: Path
    fetched: Fetched
    listing: reader.Listing


def download(
    sub_job_id: str,
    dest: Path,
    *,
    base_url: str,
    credentials: requests.auth.AuthBase,
    budget: float,
    cancel: CancelToken,
    gate: CredentialGate,
    log: Log,
    announce: Announce | None = None,
    received: Received | None = None,
    policy: RetryPolicy | None = None,
) -> Saved:
    """The verified ZIP at `dest`, retried within `budget` seconds; an ActionError otherwise.
    `gate` is the run's (at most one refused credential per run); `announce` hears each
    attempt's announced length, `received` each piece written; `policy` is the log-file API's
    unless a test gives its own."""
    deadline = Deadline(budget)
    policy = policy or policy_for("codearts")
    session, tracker = new_session(cancel, follow_redirects=False)  # the client follows them
    with session, watchdog(deadline, tracker):
        client = LogClient(
            base_url,
            credentials,
            session,
            cancel=cancel,
            deadline=deadline,
            policy=policy,
            gate=gate,
        )
        attempts = retrying(
            policy,
            deadline=deadline,
            cancel=cancel,
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
