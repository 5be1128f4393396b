"""At most one refused credential per run, whatever the number of workers.

The API gateway locks an access key after a few failed signatures, so a wrong key must cost one
request, not one per worker racing to see the first 401. Until CodeArts Check has answered a
request of this run, one request is in flight at a time: the first goes alone, and the others
start once it has an answer. Any status but 401 accepts the credentials and lets every worker
go; a 401 refuses them, and every later request of the run fails at once, unsent, with the
refusal's code. A request that got no answer at all (a broken connection, a time-out) decides
nothing, and the next one goes alone in its turn.

A 403 concerns one task and is the sub-job's own failure: it accepts the credentials.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from ..errors import ActionError, DownloadTimeout, HttpStatusError, ServiceError
from ..net.budget import Deadline
from ..net.cancel import CancelToken

REFUSED = 401


class Turn:
    """One request's part in the verdict: told the status of the first answer, and the error it
    became when that status was a refusal."""

    def __init__(self, gate: CredentialGate) -> None:
        self._gate = gate
        self.status: int | None = None

    def answered(self, status: int) -> None:
        """The first hop's status: anything but 401 lets the other workers go at once."""
        if self.status is None:
            self.status = status
            self._gate._answered(status)

    def refused(self, error: ActionError) -> None:
        """The error the 401 became (its body's code, or HTTP_401): every later request of the
        run fails with its code, unsent."""
        self._gate._refuse(error)


class CredentialGate:
    """Shared by every sub-job of a run (see the module docstring)."""

    def __init__(self, *, wake: float | None = None) -> None:
        self._wake = wake
        """The longest a waiting worker sleeps before it looks at its budget again; None: until
        the budget's end (a cancel wakes it at once either way). Tests with a clock of their
        own give a short one."""
        self._condition = threading.Condition()
        self._accepted = False
        self._probing = False
        self._refusal: ActionError | None = None
        self.sent = 0
        """Requests let through (tests read it)."""

    def __repr__(self) -> str:
        state = "refused" if self._refusal else "accepted" if self._accepted else "untried"
        return f"CredentialGate({state}, sent={self.sent})"

    @contextlib.contextmanager
    def turn(self, *, cancel: CancelToken, deadline: Deadline) -> Iterator[Turn]:
        """Wait until a request may be sent (Cancelled, or DownloadTimeout when the budget runs
        out first; the refusal's error once the credentials were refused), then send it inside."""
        probing = self._admit(cancel, deadline)
        turn = Turn(self)
        try:
            yield turn
        finally:
            with self._condition:
                if turn.status == REFUSED and self._refusal is None:
                    self._refusal = HttpStatusError(
                        REFUSED, "CodeArts Check refused the credentials (HTTP 401)"
                    )
                if probing:
                    self._probing = False
                self._condition.notify_all()

    def _admit(self, cancel: CancelToken, deadline: Deadline) -> bool:
        """True when this request goes alone, to find out whether the credentials work. A waiting
        worker sleeps until the verdict, a cancel or its budget's end, whichever comes first."""
        forget = cancel.on_cancel(self._wake_all)
        try:
            return self._admitted(cancel, deadline)
        finally:
            forget()

    def _admitted(self, cancel: CancelToken, deadline: Deadline) -> bool:
        with self._condition:
            while True:
                if self._refusal is not None:
                    raise _unsent(self._refusal)
                if self._accepted:
                    self.sent += 1
                    return False
                if not self._probing:
                    self._probing = True
                    self.sent += 1
                    return True
                cancel.check()
                if deadline.expired:
                    raise DownloadTimeout(
                        "time ran out while waiting for the run's first answer from CodeArts "
                        f"Check; timeout-seconds is {deadline.budget:g}"
                    )
                left = deadline.remaining()
                self._condition.wait(left if self._wake is None else min(self._wake, left))

    def _wake_all(self) -> None:
        with self._condition:
            self._condition.notify_all()

    def _answered(self, status: int) -> None:
        if status == REFUSED:
            return  # the verdict comes with the error (`Turn.refused`), or when the turn ends
        with self._condition:
            self._accepted = True
            self._condition.notify_all()

    def _refuse(self, error: ActionError) -> None:
        with self._condition:
            if self._refusal is None:
                self._refusal = error
            self._condition.notify_all()


def _unsent(refusal: ActionError) -> ActionError:
    """The failure of a request not sent because the credentials were refused: the refusal's
    code, and why nothing was sent."""
    return ServiceError(
        f"not sent: CodeArts Check refused the credentials for an earlier request of this run "
        f"(HTTP 401, {refusal.code}: {refusal.message}); another failed attempt would count "
        "toward locking the access key",
        code=refusal.code,
        retryable=False,
    )
