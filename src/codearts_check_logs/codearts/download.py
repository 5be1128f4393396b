"""One sub-job's ZIP onto disk: attempts within `timeout-seconds`, each one streamed to a part
file, verified, and only then renamed to its final name.

Verified means what `unzip -t` checks (`ziplog.verify`): the stored members' CRC-32 is computed
as the bytes arrive (`ziplog.stream_check`), and after the body has ended one pass over the
members settles the rest, inflating each deflated member once; when triage is on, that same
pass hands the inflated text to triage, so no member is read twice.

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

from ..errors import ActionError, DownloadTimeout, InvalidResponse
from ..net.budget import Deadline, watchdog
from ..net.cancel import CancelToken
from ..net.retry import RetryPolicy, policy_for, retrying
from ..net.session import new_session
from ..textsafe import clean, for_log
from ..ziplog import reader, stream_check
from ..ziplog import verify as zipverify
from ..ziplog.findings import Triage
from ..ziplog.shield import Shielded
from .client import Announce, Fetched, LogClient
from .credential_gate import CredentialGate
from .partfile import PartFile

Log = Callable[[str], None]
Received = Callable[[int], None]
"""Told the size of each piece written, for progress bars."""
Triager = Callable[[float], Shielded]
"""Given the seconds triage may spend, the triage that reads the members in verification's pass."""

TRIAGE_SHARE = 0.5
"""Triage's part of the time left when verification starts (and at most `Limits.max_seconds`):
the other part stays for the CRC of the members after triage stopped, so a pattern that
backtracks without end never costs the sub-job its ZIP."""


@dataclass(frozen=True)
class Saved:
    """A verified ZIP under its final name."""

    path: Path
    fetched: Fetched
    listing: reader.Listing
    unverified: tuple[zipverify.Unverified, ...] = ()
    """Members whose data was not checked (a ZIP bomb by its claimed size, encrypted, ...)."""
    triage: Triage | None = None
    """What triage found during verification's pass; None when no triage was asked for."""


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
    triage: Triager | None = None,
) -> Saved:
    """The verified ZIP at `dest`, retried within `budget` seconds; an ActionError otherwise.
    `gate` is the run's (at most one refused credential per run); `announce` hears each
    attempt's announced length, `received` each piece written; `policy` is the log-file API's
    unless a test gives its own; `triage`, when given, reads the members in the verifying pass."""
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
        attempt = _Attempt(client, sub_job_id, dest, deadline, cancel, announce, received, triage)
        return attempts(attempt.run)


@dataclass(frozen=True)
class _Attempt:
    client: LogClient
    sub_job_id: str
    dest: Path
    deadline: Deadline
    cancel: CancelToken
    announce: Announce | None
    received: Received | None
    triage: Triager | None

    def run(self) -> Saved:
        stream = stream_check.StreamCheck()
        with PartFile(self.dest) as part:

            def write(chunk: bytes) -> None:
                part.write(chunk)
                if self.received is not None:
                    self.received(len(chunk))

            # The stored members' CRC-32 is computed on the digest thread, beside the SHA-256,
            # not on the thread that reads the socket.
            fetched = self.client.fetch(self.sub_job_id, write, self.announce, check=stream.feed)
            part.close()
            text = None if self.triage is None else self.triage(self._triage_seconds())
            verified = verify(part.path, fetched, stream.result(), text, self._check)
            part.commit()
        return Saved(
            path=self.dest,
            fetched=fetched,
            listing=verified.listing,
            unverified=verified.unverified,
            triage=None if text is None else text.result(),
        )

    def _triage_seconds(self) -> float:
        return TRIAGE_SHARE * self.deadline.remaining()

    def _check(self) -> None:
        """Between reads of the verifying pass: a cancel, or the sub-job's deadline, stops it."""
        self.cancel.check()
        if self.deadline.expired:
            raise DownloadTimeout(
                f"the ZIP arrived but its check did not end within {self.deadline.budget:g} s "
                "(timeout-seconds)"
            )


def verify(
    path: Path,
    fetched: Fetched,
    streamed: stream_check.Streamed | None = None,
    text: Shielded | None = None,
    check: Callable[[], None] = lambda: None,
) -> zipverify.Verified:
    """The ZIP checked as `unzip -t` checks it: the central directory, then every member's CRC
    (stored ones were checked as they arrived), with `text` reading the members on the way. A
    ZIP that looks cut short is worth another attempt only when the server did not confirm its
    length; one that arrived at its announced length, or whose directory is whole but a member's
    data does not match, is complete but damaged, and another attempt would fetch the same
    bytes."""
    try:
        # The client already asked `reader` whether the first bytes look like a ZIP (before any
        # byte is written); the whole file can only be checked here, once it is on disk. Two
        # questions to the one ZIP parser, at the two moments the bytes exist.
        return zipverify.verify(path, streamed, text=text, check=check)
    except zipverify.DamagedZip as exc:
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


def _retry_logger(log: Log, sub_job_id: str) -> Callable[[tenacity.RetryCallState], None]:
    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        code = for_log(clean(exc.code, 200)) if isinstance(exc, ActionError) else "an error"
        log(
            f"{sub_job_id}: attempt {state.attempt_number} failed with {code}; "
            f"retrying in {state.upcoming_sleep:.1f} s"
        )

    return before_sleep
