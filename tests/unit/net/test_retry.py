"""The retry policy: attempts, the one wait function, the budget rule, the exception map."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import requests
import tenacity
import urllib3.exceptions

from codearts_check_logs.errors import ActionError, Cancelled
from codearts_check_logs.net import retry
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import CODEARTS, RESULTS, RetryPolicy, retrying, wait_for

NO_WAIT = RetryPolicy(initial=0.0, maximum=0.0)


def test_retrying_stops_after_the_attempts() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("again")

    attempts = retrying(
        replace(NO_WAIT, attempts=3), deadline=Deadline(60), cancel=CancelToken(),
        retry_if=lambda exc: isinstance(exc, ValueError),
    )  # fmt: skip
    with pytest.raises(ValueError, match="again"):
        attempts(failing)
    assert len(calls) == 3


def test_retrying_never_waits_into_the_last_second() -> None:
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise ValueError("again")

    policy = RetryPolicy(initial=1.0, jitter=(1.0, 1.0))
    attempts = retrying(
        policy, deadline=Deadline(policy.min_attempt + 0.5), cancel=CancelToken(),
        retry_if=lambda exc: True,
    )  # fmt: skip
    with pytest.raises(ValueError, match="again"):
        attempts(failing)
    assert len(calls) == 1


def test_a_cancel_is_never_retried() -> None:
    calls: list[int] = []

    def cancelled() -> None:
        calls.append(1)
        raise Cancelled("the job was cancelled")

    attempts = retrying(
        NO_WAIT, deadline=Deadline(60), cancel=CancelToken(), retry_if=lambda exc: True
    )
    with pytest.raises(Cancelled):
        attempts(cancelled)
    assert len(calls) == 1


def _state(error: BaseException, attempt: int = 1) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    future = tenacity.Future(attempt)
    future.set_exception(error)
    state.outcome = future
    return state


def test_the_results_schedule_starts_exact_then_grows_upwards() -> None:
    error = RuntimeError("busy")
    assert wait_for(RESULTS)(_state(error, 1)) == 3.0
    for attempt in (2, 3, 4):
        low = 3.0 * 1.5 ** (attempt - 1)
        assert low <= wait_for(RESULTS)(_state(error, attempt)) <= low * 1.5


def test_retry_after_wins_and_is_capped_per_service() -> None:
    error = ActionError("later", code="HTTP_429", retryable=True, retry_after=86400)
    assert wait_for(CODEARTS)(_state(error)) == 60.0
    assert wait_for(retry.CREDENTIALS)(_state(error)) == 30.0


def test_gateway_throttling_waits_two_to_five_seconds_only_where_the_policy_says() -> None:
    error = ActionError("throttled", code="APIG.0308", retryable=True)
    random.seed(7)
    assert all(2.0 <= wait_for(CODEARTS)(_state(error)) <= 5.0 for _ in range(20))
    assert all(wait_for(retry.CREDENTIALS)(_state(error)) <= 0.5 for _ in range(20))


def test_a_shortened_policy_scales_every_wait() -> None:
    quick = CODEARTS.shortened(0.01)
    error = ActionError("later", code="HTTP_429", retryable=True, retry_after=86400)
    assert wait_for(quick)(_state(error)) == pytest.approx(0.6)
    assert quick.min_attempt == pytest.approx(0.01)
    assert quick.attempts == CODEARTS.attempts
    assert quick.read_timeout == CODEARTS.read_timeout


def test_shortened_applies_to_every_service_for_the_block_only() -> None:
    with retry.shortened(0.5):
        assert retry.policy_for("blob").initial == retry.BLOB.initial * 0.5
        assert retry.policy_for("results").initial == 1.5
    assert retry.policy_for("blob") is retry.BLOB


def test_a_policy_sleep_replaces_the_wait() -> None:
    waits: list[float] = []
    policy = RetryPolicy(initial=7.0, jitter=(1.0, 1.0), attempts=2, sleep=waits.append)
    attempts = retrying(
        policy, deadline=Deadline(60), cancel=CancelToken(), retry_if=lambda _: True
    )
    with pytest.raises(ValueError, match="again"):
        attempts(lambda: (_ for _ in ()).throw(ValueError("again")))
    assert waits == [7.0]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (requests.exceptions.ConnectTimeout("slow"), "connect timeout"),
        (requests.exceptions.ReadTimeout("slow"), "read timeout"),
        (urllib3.exceptions.ReadTimeoutError(None, "/", "slow"), "read timeout"),  # type: ignore[arg-type]
        (TimeoutError(), "read timeout"),
        (
            requests.exceptions.ChunkedEncodingError("InvalidChunkLength(got length b'')"),
            "truncated",
        ),
        (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "broken"),
    ],
)
def test_the_exception_map(error: BaseException, kind: str) -> None:
    assert retry.transport_failure(error).kind == kind


def test_failure_names_never_carry_the_url() -> None:
    error = requests.exceptions.ConnectionError("https://host/?sig=SECRET [Errno 111] refused")
    assert retry.transport_failure(error).name == "connection refused"
