"""The log-file client, one attempt at a time (HTTP faked with `responses`): what is sent, how each
answer is classified, redirects, and the retry waits it asks for."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator

import pytest
import requests
import responses
from devtools.doubles.codearts import small_zip
from devtools.doubles.slow import SlowServer, answer
from responses import matchers
from responses.registries import OrderedRegistry
from tenacity import Future, RetryCallState, Retrying

from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts import client as client_module
from codearts_check_logs.codearts.client import Fetched, LogClient, retry_wait
from codearts_check_logs.errors import ActionError
from codearts_check_logs.http import CancelToken, Deadline, new_session
from tests.conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"
ZIP = small_zip(ID1)


@pytest.fixture
def session() -> Iterator[requests.Session]:
    made, _tracker = new_session(CancelToken())
    with made:
        yield made


def fetch_once(
    session: requests.Session, base: str = BASE, budget: float = 30
) -> tuple[Fetched, bytes]:
    received = bytearray()
    client = LogClient(
        base,
        TokenCredentials(TOKEN, base),
        session,
        cancel=CancelToken(),
        deadline=Deadline(budget),
    )
    fetched = client.fetch(ID1, received.extend)
    return fetched, bytes(received)


def error_of(session: requests.Session, base: str = BASE, budget: float = 30) -> ActionError:
    with pytest.raises(ActionError) as caught:
        fetch_once(session, base, budget)
    return caught.value


@responses.activate(assert_all_requests_are_fired=True)
def test_success_sends_the_token_and_streams_the_zip(session: requests.Session) -> None:
    responses.get(
        URL,
        body=ZIP,
        content_type="application/zip",
        headers={"X-Request-Id": "req-1"},
        auto_calculate_content_length=True,
        match=[
            matchers.query_param_matcher({"sub_job_id": ID1}),
            matchers.header_matcher({"X-Auth-Token": TOKEN, "Accept-Encoding": "identity"}),
        ],
    )
    fetched, data = fetch_once(session)
    assert data == ZIP
    assert fetched.sha256 == hashlib.sha256(ZIP).hexdigest()
    assert fetched.size == len(ZIP)
    assert fetched.request_id == "req-1"
    assert fetched.http_status == 200
    assert fetched.length_confirmed


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


@responses.activate
def test_connection_refused_is_a_network_error(session: requests.Session) -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    error = error_of(session)
    assert (error.code, error.retryable) == ("NETWORK_ERROR", True)


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


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_redirect_to_another_host_goes_without_the_token(session: requests.Session) -> None:
    signed = "https://obs.example.com/logs.zip?Signature=abc"
    responses.get(URL, status=302, headers={"Location": signed})
    responses.get(signed, body=ZIP)
    fetch_once(session)
    assert responses.calls[0].request.headers["X-Auth-Token"] == TOKEN
    assert "X-Auth-Token" not in responses.calls[1].request.headers


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_same_origin_redirect_keeps_the_token(session: requests.Session) -> None:
    responses.get(URL, status=307, headers={"Location": "/v2/log-file?sub_job_id=" + ID1})
    responses.get(f"{BASE}/v2/log-file", body=ZIP)
    fetch_once(session)
    assert responses.calls[1].request.headers["X-Auth-Token"] == TOKEN


@responses.activate(assert_all_requests_are_fired=True)
def test_redirect_to_plain_http_is_refused(session: requests.Session) -> None:
    responses.get(URL, status=302, headers={"Location": "http://evil.example.com/x"})
    error = error_of(session)
    assert error.code == "HTTP_302"
    assert "plain-http" in error.message


@responses.activate
def test_redirect_loop_ends(session: requests.Session) -> None:
    responses.get(URL, status=302, headers={"Location": URL})
    error = error_of(session)
    assert error.code == "HTTP_302"
    assert len(responses.calls) == client_module.MAX_REDIRECTS + 1


def _state_after(error: ActionError) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = 1
    future = Future(1)
    future.set_exception(error)
    state.outcome = future
    return state


def test_throttling_without_retry_after_backs_off_two_to_five_seconds() -> None:
    error = ActionError("throttled", code="APIGW.0308", retryable=True)
    assert all(2.0 <= retry_wait(_state_after(error)) <= 5.0 for _ in range(20))


def test_retry_after_is_capped() -> None:
    error = ActionError("later", code="HTTP_429", retryable=True, retry_after=86400)
    assert retry_wait(_state_after(error)) == client_module.MAX_RETRY_AFTER


def test_other_errors_back_off_exponentially() -> None:
    error = ActionError("busy", code="HTTP_503", retryable=True)
    waits = [retry_wait(_state_after(error)) for _ in range(20)]
    assert all(
        client_module.BACKOFF_INITIAL / 2 <= wait <= client_module.BACKOFF_INITIAL for wait in waits
    )


# -- answers that are not a ZIP are read up to a cap, and keep their status -----------------------


def test_an_endless_error_body_is_read_up_to_the_cap(session: requests.Session) -> None:
    """Before: drained until the budget ran out, then TIMEOUT without the 502."""
    endless = answer("body", status=502, content_type="text/html", interval=0, piece=1 << 16)
    with SlowServer(endless) as server:
        started = time.monotonic()
        error = error_of(session, server.url, budget=30)
        elapsed = time.monotonic() - started
    assert (error.code, error.http_status, error.retryable) == ("HTTP_502", 502, True)
    assert f"text/html body of {client_module.MAX_ERROR_BODY} bytes" in error.message
    assert "read no further" in error.message
    assert elapsed < 10
    assert sum(server.sent) < 64 << 20, "the connection was closed, not drained"


def test_a_capped_error_body_that_parses_keeps_its_code(session: requests.Session) -> None:
    error_json = json.dumps({"error_code": "CC.00050099", "error_msg": "busy"}).encode()
    padded = answer("body", status=500, body=error_json, filler=b" ", interval=0, piece=1 << 16)
    with SlowServer(padded) as server:
        error = error_of(session, server.url)
    assert (error.code, error.http_status, error.message) == ("CC.00050099", 500, "busy")


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


@responses.activate(assert_all_requests_are_fired=True)
def test_a_redirect_whose_location_is_not_utf8_is_not_followed() -> None:
    """`requests` would raise UnicodeDecodeError working out the next hop; the user sees the
    status and that the redirect was not followed."""
    responses.get(URL, status=307, headers={"Location": "/v1/log-file?x=\xff\xfe"})
    for follow in (False, True):
        made, _tracker = new_session(CancelToken(), follow_redirects=follow)
        with made:
            error = error_of(made)
        assert (error.code, error.http_status) == ("HTTP_307", 307)
        assert "not valid UTF-8; the redirect was not followed" in error.message
    assert len(responses.calls) == 2
