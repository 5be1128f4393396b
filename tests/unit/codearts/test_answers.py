"""What an answer that is not the ZIP means, through the one attempt that receives it: the
status and the service's code kept, bodies read up to a cap and described, never echoed whole."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator

import pytest
import requests
import responses
from devtools.doubles.slow import SlowServer, answer

from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts import answers
from codearts_check_logs.codearts.client import LogClient
from codearts_check_logs.errors import ActionError, NetworkError
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from tests.conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"


def error_of(session: requests.Session, base: str = BASE, budget: float = 30) -> ActionError:
    client = LogClient(
        base,
        TokenCredentials(TOKEN, base),
        session,
        cancel=CancelToken(),
        deadline=Deadline(budget),
    )
    with pytest.raises(ActionError) as caught:
        client.fetch(ID1, lambda _chunk: None)
    return caught.value


# -- statuses and bad successes --------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate(assert_all_requests_are_fired=True)
def test_client_errors_are_never_retryable(session: requests.Session, status: int) -> None:
    responses.get(URL, status=status, json={"error_code": f"E{status}", "error_msg": "no"})
    error = error_of(session)
    assert (error.code, error.http_status, error.retryable) == (f"E{status}", status, False)


@responses.activate
def test_5xx_without_a_body_is_an_http_status(session: requests.Session) -> None:
    responses.get(URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    error = error_of(session)
    assert (error.code, error.retryable) == ("HTTP_502", True)
    assert "text/html" in error.message


@responses.activate
def test_an_error_code_on_a_200_is_the_services(session: requests.Session) -> None:
    responses.get(URL, json={"error_code": "CC.00050010", "error_msg": "no permission"})
    error = error_of(session)
    assert (error.code, error.http_status, error.retryable) == ("CC.00050010", 200, False)


@responses.activate(assert_all_requests_are_fired=True)
def test_200_that_is_not_a_zip(session: requests.Session) -> None:
    responses.get(URL, body="<html>login</html>", content_type="text/html")
    error = error_of(session)
    assert error.code == "INVALID_RESPONSE"
    assert "text/html" in error.message


@responses.activate(assert_all_requests_are_fired=True)
def test_empty_200(session: requests.Session) -> None:
    responses.get(URL, body=b"")
    assert error_of(session).code == "INVALID_RESPONSE"


# -- answers that are not a ZIP are read up to a cap, and keep their status -----------------------


def test_an_endless_error_body_is_read_up_to_the_cap(session: requests.Session) -> None:
    """Before: drained until the budget ran out, then TIMEOUT without the 502."""
    endless = answer("body", status=502, content_type="text/html", interval=0, piece=1 << 16)
    with SlowServer(endless) as server:
        started = time.monotonic()
        error = error_of(session, server.url, budget=30)
        elapsed = time.monotonic() - started
    assert (error.code, error.http_status, error.retryable) == ("HTTP_502", 502, True)
    assert f"text/html body of {answers.MAX_ERROR_BODY} bytes" in error.message
    assert "read no further" in error.message
    assert elapsed < 10
    assert sum(server.sent) < 64 << 20, "the connection was closed, not drained"


def test_a_capped_error_body_that_parses_keeps_its_code(session: requests.Session) -> None:
    error_json = json.dumps({"error_code": "CC.00050099", "error_msg": "busy"}).encode()
    padded = answer("body", status=500, body=error_json, filler=b" ", interval=0, piece=1 << 16)
    with SlowServer(padded) as server:
        error = error_of(session, server.url)
    assert (error.code, error.http_status, error.message) == ("CC.00050099", 500, "busy")


@pytest.mark.realtime
def test_an_error_body_still_arriving_when_time_runs_out_keeps_the_status(
    session: requests.Session,
) -> None:
    """A status that arrived is the news; the budget's end is a note on its body."""
    with SlowServer(answer("body", status=503, interval=0.05)) as server:
        started = time.monotonic()
        error = error_of(session, server.url, budget=1)
        elapsed = time.monotonic() - started
    assert (error.code, error.http_status) == ("HTTP_503", 503)
    assert "still arriving when time ran out" in error.message
    assert elapsed < 1 + 1.0


def test_an_endless_body_that_is_not_a_zip_keeps_its_200(session: requests.Session) -> None:
    endless = answer("body", body=b"<html>", content_type="text/html", interval=0, piece=1 << 16)
    with SlowServer(endless) as server:
        error = error_of(session, server.url)
    assert (error.code, error.http_status) == ("INVALID_RESPONSE", 200)
    assert "read no further" in error.message


def test_a_body_sent_a_byte_per_read_costs_the_cap_not_fifty_times_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The reads of an error body one byte each: one growing buffer, not a list of the reads,
    and what came before a break is still there."""
    monkeypatch.setattr(answers, "MAX_ERROR_BODY", 100_000)

    def one_byte_reads() -> Iterator[bytes]:
        for _ in range(150_000):
            yield b"x"

    tracemalloc.start()
    try:
        body = answers.collect(one_byte_reads(), b"{")
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (len(body.data), body.ended) == (100_000, "more than 100,000 bytes; read no further")
    assert peak < 500_000, f"{peak:,} bytes at the peak"

    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise NetworkError("reset")

    assert answers.collect(broken(), b"{") == answers.Body(
        b"{partial", "cut short: the connection broke"
    )


def test_an_error_body_past_the_cap_keeps_the_code_and_message_it_began_with(
    session: requests.Session,
) -> None:
    """A 400 whose JSON runs on past the 1 MiB cap (a long `details`): `error_code` and
    `error_msg` stand at its start and are what the user sees."""
    start = b'{"error_code": "CC.00000400", "error_msg": "bad sub_job_id", "details": "'
    endless = answer("body", status=400, body=start, interval=0, piece=1 << 16)
    with SlowServer(endless) as server:
        error = error_of(session, server.url)
    assert (error.code, error.http_status, error.message) == (
        "CC.00000400",
        400,
        "bad sub_job_id",
    )
