"""The CodeArts client: error parsing, retries, redirects and streaming (HTTP faked with
`responses`; the streaming details against the simulator)."""

from __future__ import annotations

import email.utils
import hashlib
import time
from pathlib import Path

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry
from tenacity import Future, RetryCallState, Retrying

from codearts_check_logs import codearts
from codearts_check_logs.auth import TokenAuth
from codearts_check_logs.codearts import ErrorBody, LogClient, parse_error_body
from codearts_check_logs.errors import ActionError
from codearts_check_logs.simulator import Simulator, Step, small_zip

from .conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"
ZIP = small_zip(ID1)


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codearts, "BACKOFF_INITIAL", 0.01)


def client(base: str = BASE) -> LogClient:
    return LogClient(base, TokenAuth(TOKEN, base))


def fetch(tmp_path: Path, base: str = BASE, budget: float = 30) -> codearts.Download:
    return client(base).download(ID1, tmp_path / f"{ID1}.zip", budget=budget)


def error_of(tmp_path: Path, budget: float = 30) -> ActionError:
    with pytest.raises(ActionError) as caught:
        fetch(tmp_path, budget=budget)
    return caught.value


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"error_code": "CC.00000003", "error_msg": "expired"}',
            ErrorBody("CC.00000003", "expired"),
        ),
        (b'{"errorCode": "CC.1", "errorMsg": "camel"}', ErrorBody("CC.1", "camel")),
        (b'{"code": "CC.2", "message": "plain"}', ErrorBody("CC.2", "plain")),
        (b'{"error": {"error_code": "CC.3", "error_msg": "nested"}}', ErrorBody("CC.3", "nested")),
        (
            b'{"status": "error", "error": {"code": "CC.4", "message": "v1"}, "result": null}',
            ErrorBody("CC.4", "v1"),
        ),
        (
            b'{"error_msg": "bad token", "error_code": "APIGW.0301", "request_id": "abc"}',
            ErrorBody("APIGW.0301", "bad token", "abc"),
        ),
        (b'{"code": 401, "message": "numeric"}', ErrorBody("401", "numeric")),
        (b'{"error": {"code": "CC.5", "msg": "short key"}}', ErrorBody("CC.5", "short key")),
    ],
)
def test_error_shapes_the_sdks_accept(body: bytes, expected: ErrorBody) -> None:
    assert parse_error_body(body) == expected


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b'{"status": "success", "result": {}}',
     b'{"code": true}', b'{"error_code": ""}', b"\xff\xfe", b"[" * 100_000],
)  # fmt: skip
def test_bodies_without_an_error(body: bytes) -> None:
    assert parse_error_body(body) is None


def test_retry_after() -> None:
    assert codearts.parse_retry_after("7") == 7.0
    assert codearts.parse_retry_after(None) is None
    assert codearts.parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (codearts.parse_retry_after(later) or 0) <= 30
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert codearts.parse_retry_after(past) == 0


def test_throttle_codes_match_either_prefix() -> None:
    assert codearts.is_throttled("APIGW.0308")
    assert codearts.is_throttled("APIG.0308")
    assert not codearts.is_throttled("CC.00000308")


@responses.activate(assert_all_requests_are_fired=True)
def test_success_sends_the_token_and_saves_the_zip(tmp_path: Path) -> None:
    responses.get(
        URL,
        body=ZIP,
        content_type="application/zip",
        headers={"X-Request-Id": "req-1"},
        match=[
            matchers.query_param_matcher({"sub_job_id": ID1}),
            matchers.header_matcher({"X-Auth-Token": TOKEN, "Accept-Encoding": "identity"}),
        ],
    )
    download = fetch(tmp_path)
    assert download.path.read_bytes() == ZIP
    assert download.sha256 == hashlib.sha256(ZIP).hexdigest()
    assert download.size == len(ZIP)
    assert download.request_id == "req-1"
    assert download.listing.total == 3
    assert [p.name for p in tmp_path.iterdir()] == [f"{ID1}.zip"]


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_5xx_then_success(tmp_path: Path) -> None:
    responses.get(URL, status=503, body="busy")
    responses.get(URL, status=500, json={"error_code": "CC.00050006", "error_msg": "inner"})
    responses.get(URL, body=ZIP)
    download = fetch(tmp_path)
    assert download.attempts == 3


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_429_retry_after_is_used(tmp_path: Path) -> None:
    responses.get(URL, status=429, json={"error_code": "APIGW.0308"}, headers={"Retry-After": "0"})
    responses.get(URL, body=ZIP)
    waits: list[float] = []
    log_client = LogClient(
        BASE, TokenAuth(TOKEN, BASE), on_retry=lambda _id, _e, wait, _n: waits.append(wait)
    )
    log_client.download(ID1, tmp_path / "x.zip", budget=30)
    assert waits == [0.0]


def test_throttling_without_retry_after_backs_off_two_to_five_seconds() -> None:
    error = ActionError("throttled", code="APIGW.0308", retryable=True)
    state = _state_after(error)
    assert all(2.0 <= codearts._wait(state) <= 5.0 for _ in range(20))


def test_retry_after_is_capped() -> None:
    error = ActionError("later", code="HTTP_429", retryable=True, retry_after=86400)
    assert codearts._wait(_state_after(error)) == codearts.MAX_RETRY_AFTER


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate(assert_all_requests_are_fired=True)
def test_client_errors_are_never_retried(tmp_path: Path, status: int) -> None:
    responses.get(URL, status=status, json={"error_code": f"E{status}", "error_msg": "no"})
    error = error_of(tmp_path)
    assert (error.code, error.http_status, error.retryable) == (f"E{status}", status, False)
    assert len(responses.calls) == 1


@responses.activate
def test_5xx_gives_up_after_bounded_attempts(tmp_path: Path) -> None:
    responses.get(URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    error = error_of(tmp_path)
    assert error.code == "HTTP_502"
    assert "text/html" in error.message
    assert len(responses.calls) == codearts.MAX_ATTEMPTS


@responses.activate
def test_connection_refused_is_a_network_error(tmp_path: Path) -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    error = error_of(tmp_path)
    assert error.code == "NETWORK_ERROR"
    assert len(responses.calls) == codearts.MAX_ATTEMPTS


@responses.activate(assert_all_requests_are_fired=True)
def test_200_that_is_not_a_zip(tmp_path: Path) -> None:
    responses.get(URL, body="<html>login</html>", content_type="text/html")
    error = error_of(tmp_path)
    assert error.code == "INVALID_RESPONSE"
    assert "text/html" in error.message
    assert list(tmp_path.iterdir()) == []


@responses.activate(assert_all_requests_are_fired=True)
def test_empty_200(tmp_path: Path) -> None:
    responses.get(URL, body=b"")
    assert error_of(tmp_path).code == "INVALID_RESPONSE"


@pytest.mark.parametrize(
    "damaged",
    [
        ZIP[: len(ZIP) - 22] + b"PK\x05\x06" + b"\x00" * 18,  # directory emptied
        ZIP.replace(b"PK\x01\x02", b"XX\x01\x02", 1),  # directory entry overwritten
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_damaged_zip_is_not_kept(tmp_path: Path, damaged: bytes) -> None:
    responses.get(URL, body=damaged)
    error = error_of(tmp_path)
    assert error.code == "INVALID_RESPONSE"
    assert list(tmp_path.iterdir()) == []


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_redirect_to_another_host_goes_without_the_token(tmp_path: Path) -> None:
    signed = "https://obs.example.com/logs.zip?Signature=abc"
    responses.get(URL, status=302, headers={"Location": signed})
    responses.get(signed, body=ZIP)
    fetch(tmp_path)
    assert responses.calls[0].request.headers["X-Auth-Token"] == TOKEN
    assert "X-Auth-Token" not in responses.calls[1].request.headers


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_same_origin_redirect_keeps_the_token(tmp_path: Path) -> None:
    responses.get(URL, status=307, headers={"Location": "/v2/log-file?sub_job_id=" + ID1})
    responses.get(f"{BASE}/v2/log-file", body=ZIP)
    fetch(tmp_path)
    assert responses.calls[1].request.headers["X-Auth-Token"] == TOKEN


@responses.activate(assert_all_requests_are_fired=True)
def test_redirect_to_plain_http_is_refused(tmp_path: Path) -> None:
    responses.get(URL, status=302, headers={"Location": "http://evil.example.com/x"})
    error = error_of(tmp_path)
    assert error.code == "HTTP_302"
    assert "plain-http" in error.message


@responses.activate
def test_redirect_loop_ends(tmp_path: Path) -> None:
    responses.get(URL, status=302, headers={"Location": URL})
    error = error_of(tmp_path)
    assert error.code == "HTTP_302"
    assert len(responses.calls) == codearts.MAX_REDIRECTS + 1


class RecordingSink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.resets = 0

    def write(self, chunk: bytes) -> None:
        self.data += chunk

    def reset(self) -> None:
        self.resets += 1
        self.data.clear()


def test_sink_sees_the_bytes_and_restarts_with_a_retry(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.truncate(0.5))
    sink = RecordingSink()
    download = client(sim.base_url).download(ID1, tmp_path / "x.zip", budget=30, sink=sink)
    assert download.attempts == 2
    assert sink.resets == 1
    assert bytes(sink.data) == sim.zip_bytes(ID1) == download.path.read_bytes()


def test_large_zip_streams_and_matches(sim: Simulator, tmp_path: Path) -> None:
    sim.set_zip_size(ID1, 24 << 20)
    download = client(sim.base_url).download(ID1, tmp_path / "x.zip", budget=60)
    assert download.size == 24 << 20
    assert sim.served[ID1] == [(download.size, download.sha256)]
    assert download.listing.total == 1


def test_cancel_stops_a_stalled_download(sim: Simulator, tmp_path: Path) -> None:
    import threading

    sim.script(ID1, Step.stall(30, after_headers=True))
    cancel = codearts.CancelToken()
    log_client = LogClient(sim.base_url, TokenAuth(TOKEN, sim.base_url), cancel=cancel)
    threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(ActionError) as caught:
        log_client.download(ID1, tmp_path / "x.zip", budget=60)
    assert caught.value.code == "CANCELLED"
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []


def _state_after(error: ActionError) -> RetryCallState:

    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = 1
    future = Future(1)
    future.set_exception(error)
    state.outcome = future
    return state


def test_zip_signature_split_over_several_reads(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.split_head())
    download = client(sim.base_url).download(ID1, tmp_path / "x.zip", budget=30)
    assert download.path.read_bytes() == sim.zip_bytes(ID1)
