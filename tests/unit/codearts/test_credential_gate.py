"""The credential gate: the run's first CodeArts request goes alone; a 401 stops every later one,
which fails unsent with the refusal's code; any other answer lets every worker go."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from codearts_check_logs.codearts.credential_gate import CredentialGate
from codearts_check_logs.errors import (
    ActionError,
    Cancelled,
    DownloadTimeout,
    NetworkError,
    ServiceError,
)
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken

REFUSAL = ServiceError("Incorrect IAM authentication information", code="APIGW.0301")


def budget(seconds: float = 30.0, clock: Callable[[], float] | None = None) -> Deadline:
    return Deadline(seconds, clock=clock) if clock else Deadline(seconds)


def in_thread(gate: CredentialGate, cancel: CancelToken, deadline: Deadline) -> dict[str, object]:
    """A second worker: what it got from the gate (sent, or the error it was stopped with)."""
    got: dict[str, object] = {}

    def worker() -> None:
        try:
            with gate.turn(cancel=cancel, deadline=deadline):
                got["sent"] = True
        except ActionError as exc:
            got["error"] = exc

    thread = threading.Thread(target=worker)
    thread.start()
    got["thread"] = thread
    return got


def wait_for_waiter(gate: CredentialGate) -> None:
    """Until a second worker is blocked in the gate (it holds the condition only to wait)."""
    for _ in range(1000):
        with gate._condition:
            if gate._condition._waiters:  # type: ignore[attr-defined]
                return
        threading.Event().wait(0.001)
    raise AssertionError("no worker waited")


def finish(got: dict[str, object]) -> dict[str, object]:
    thread = got.pop("thread")
    assert isinstance(thread, threading.Thread)
    thread.join(5)
    return got


def test_the_first_request_goes_alone_and_an_answer_lets_the_others_go() -> None:
    gate, cancel = CredentialGate(wake=0.01), CancelToken()
    with gate.turn(cancel=cancel, deadline=budget()) as turn:
        other = in_thread(gate, cancel, budget())
        wait_for_waiter(gate)
        assert "sent" not in other
        turn.answered(200)  # the head has arrived; the body may take minutes
        assert finish(other) == {"sent": True}
    assert gate.sent == 2


def test_a_401_stops_every_later_request_with_the_refusals_code() -> None:
    gate, cancel = CredentialGate(wake=0.01), CancelToken()
    with gate.turn(cancel=cancel, deadline=budget()) as turn:
        waiting = in_thread(gate, cancel, budget())
        wait_for_waiter(gate)
        turn.answered(401)
        turn.refused(REFUSAL)
    stopped = finish(waiting)["error"]
    assert isinstance(stopped, ServiceError)
    assert (stopped.code, stopped.http_status, stopped.retryable) == ("APIGW.0301", None, False)
    assert "not sent" in stopped.message
    for _ in range(40):
        with pytest.raises(ServiceError, match="not sent"):
            send(gate, cancel)
    assert gate.sent == 1


def send(gate: CredentialGate, cancel: CancelToken, status: int | None = None) -> None:
    with gate.turn(cancel=cancel, deadline=budget()) as turn:
        if status is None:
            raise AssertionError("sent after a refusal")
        turn.answered(status)
        raise RuntimeError("a defect while reading the answer")


def test_a_401_whose_error_never_came_still_stops_the_run() -> None:
    gate, cancel = CredentialGate(), CancelToken()
    with pytest.raises(RuntimeError):
        send(gate, cancel, 401)
    with pytest.raises(ActionError) as caught, gate.turn(cancel=cancel, deadline=budget()):
        pass
    assert caught.value.code == "HTTP_401"


@pytest.mark.parametrize("status", [403, 404, 500, 302])
def test_any_other_status_accepts_the_credentials(status: int) -> None:
    gate, cancel = CredentialGate(), CancelToken()
    with gate.turn(cancel=cancel, deadline=budget()) as turn:
        turn.answered(status)
    first = in_thread(gate, cancel, budget())
    second = in_thread(gate, cancel, budget())
    assert finish(first) == finish(second) == {"sent": True}


def test_a_request_without_an_answer_decides_nothing_and_the_next_goes_alone() -> None:
    gate, cancel = CredentialGate(wake=0.01), CancelToken()
    with pytest.raises(NetworkError), gate.turn(cancel=cancel, deadline=budget()):
        raise NetworkError("connection reset")
    with gate.turn(cancel=cancel, deadline=budget()) as turn:
        other = in_thread(gate, cancel, budget())
        wait_for_waiter(gate)
        assert "sent" not in other  # still probing: the new request went alone too
        turn.answered(200)
    assert finish(other) == {"sent": True}


def test_a_waiting_worker_stops_on_a_cancel() -> None:
    """Woken by the cancel itself, not by looking every so often (its budget is 30 s)."""
    gate, cancel = CredentialGate(), CancelToken()
    with gate.turn(cancel=cancel, deadline=budget()):
        waiting = in_thread(gate, cancel, budget())
        wait_for_waiter(gate)
        cancel.cancel()
        assert isinstance(finish(waiting)["error"], Cancelled)


def test_a_waiting_worker_stops_when_its_budget_is_spent() -> None:
    gate, cancel = CredentialGate(wake=0.01), CancelToken()
    now = [0.0]
    with gate.turn(cancel=cancel, deadline=budget()):
        waiting = in_thread(gate, cancel, budget(10.0, clock=lambda: now[0]))
        wait_for_waiter(gate)
        now[0] = 11.0
        error = finish(waiting)["error"]
    assert isinstance(error, DownloadTimeout)
    assert "first answer" in error.message
