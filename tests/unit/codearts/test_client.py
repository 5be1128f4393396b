"""The log-file client, one attempt at a time (HTTP faked with `responses`): what is sent, the ZIP
streamed, connection failures and redirects. What other answers mean: test_answers.py."""

from __future__ import annotations

import hashlib
import threading

import pytest
import requests
import responses
from devtools.doubles.codearts import small_zip
from responses import matchers
from responses.registries import OrderedRegistry

from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts import client as client_module
from codearts_check_logs.codearts.client import Fetched, LogClient
from codearts_check_logs.codearts.credential_gate import CredentialGate
from codearts_check_logs.errors import ActionError
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import new_session
from tests.conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"
ZIP = small_zip(ID1)


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


@responses.activate
def test_the_check_hears_the_body_off_the_receive_loop(session: requests.Session) -> None:
    """The stored members' CRC check is fed the same bytes as the file, in order, on the digest
    thread; what it raises ends the attempt."""
    responses.get(URL, body=ZIP, content_type="application/zip")
    heard = bytearray()
    threads: set[int] = set()

    def check(chunk: bytes) -> None:
        heard.extend(chunk)
        threads.add(threading.get_ident())

    client = LogClient(
        BASE, TokenCredentials(TOKEN, BASE), session, cancel=CancelToken(), deadline=Deadline(30)
    )
    written = bytearray()
    client.fetch(ID1, written.extend, check=check)
    assert bytes(heard) == bytes(written) == ZIP
    assert threading.get_ident() not in threads

    def damaged(chunk: bytes) -> None:
        raise ValueError("a stored member's CRC-32 does not match")

    with pytest.raises(ValueError, match="CRC-32"):
        client.fetch(ID1, bytearray().extend, check=damaged)


@responses.activate
def test_connection_refused_is_a_network_error(session: requests.Session) -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    error = error_of(session)
    assert (error.code, error.retryable) == ("NETWORK_ERROR", True)


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


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_401_from_the_download_host_is_not_a_refused_credential(
    session: requests.Session,
) -> None:
    """The service redirects to a signed download link that has expired: that link is
    refused, not the credential, and the run's other sub-jobs still go."""
    link = "https://obs.example.com/logs.zip?Signature=old"
    responses.get(URL, status=302, headers={"Location": link})
    responses.get(link, status=401, body=b"<Error><Code>AccessDenied</Code></Error>")
    responses.get(URL, body=ZIP)
    gate = CredentialGate()
    assert error_with(session, gate).code == "HTTP_401"
    assert client_with(session, gate).fetch(ID1, bytearray().extend).size == len(ZIP)


@responses.activate(assert_all_requests_are_fired=True)
def test_a_401_from_the_service_stops_the_runs_other_requests(session: requests.Session) -> None:
    responses.get(URL, status=401, json={"error_code": "APIGW.0301", "error_msg": "bad"})
    gate = CredentialGate()
    assert error_with(session, gate).code == "APIGW.0301"
    unsent = error_with(session, gate)
    assert (unsent.code, unsent.http_status) == ("APIGW.0301", None)
    assert "not sent" in unsent.message
    assert len(responses.calls) == 1


def client_with(session: requests.Session, gate: CredentialGate) -> LogClient:
    """A client of the run whose gate is `gate`."""
    credentials = TokenCredentials(TOKEN, BASE)
    return LogClient(
        BASE, credentials, session, cancel=CancelToken(), deadline=Deadline(30), gate=gate
    )


def error_with(session: requests.Session, gate: CredentialGate) -> ActionError:
    with pytest.raises(ActionError) as caught:
        client_with(session, gate).fetch(ID1, bytearray().extend)
    return caught.value
