"""One sub-job's download: retries, verification and the final name. HTTP faked with `responses`
for the retry rules, the simulator for streaming; loopback servers for stalls."""

from __future__ import annotations

import errno
import gzip
import io
import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses
from devtools.doubles.codearts import Simulator, Step, small_zip
from devtools.doubles.slow import Kind, SlowServer, answer
from responses.registries import OrderedRegistry
from tenacity import Future, RetryCallState, Retrying

from codearts_check_logs.auth.credentials import TokenCredentials
from codearts_check_logs.codearts import download as download_module
from codearts_check_logs.codearts.credential_gate import CredentialGate
from codearts_check_logs.codearts.download import Saved
from codearts_check_logs.errors import ActionError
from codearts_check_logs.net import retry
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.retry import CODEARTS, wait_for
from codearts_check_logs.ziplog.stream_check import StreamCheck
from tests.conftest import ID1, TOKEN

BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
URL = f"{BASE}/v1/log-file"
ZIP = small_zip(ID1)


@pytest.fixture(autouse=True)
def _fast_backoff() -> Iterator[None]:
    with retry.shortened(0.02):
        yield


def download(
    tmp_path: Path,
    base: str = BASE,
    *,
    timeout_seconds: str = "300",
    cancel: CancelToken | None = None,
    log: Callable[[str], None] | None = None,
) -> Saved:
    """The download as the pipeline starts it: into the default folder, `timeout-seconds` as
    the budget."""
    return download_module.download(
        ID1,
        tmp_path / "codearts-check-logs" / f"{ID1}.zip",
        base_url=base,
        credentials=TokenCredentials(TOKEN, base),
        budget=float(timeout_seconds),
        cancel=cancel or CancelToken(),
        gate=CredentialGate(),
        log=log or (lambda _line: None),
    )


def error_of(tmp_path: Path, base: str = BASE, timeout_seconds: str = "300") -> ActionError:
    with pytest.raises(ActionError) as caught:
        download(tmp_path, base, timeout_seconds=timeout_seconds)
    return caught.value


# -- attempts, verification, the final name --------------------------------------------------------


@responses.activate(assert_all_requests_are_fired=True)
def test_a_verified_zip_gets_its_final_name(tmp_path: Path) -> None:
    responses.get(URL, body=ZIP)
    saved = download(tmp_path)
    assert saved.path == tmp_path / "codearts-check-logs" / f"{ID1}.zip"
    assert saved.path.read_bytes() == ZIP
    assert saved.listing.total == 5
    assert [p.name for p in saved.path.parent.iterdir()] == [f"{ID1}.zip"]


@responses.activate
def test_the_stored_members_crc_is_fed_off_the_thread_that_reads_the_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream check sees every byte of the body, in order, on the digest thread."""
    responses.get(URL, body=ZIP)
    real = StreamCheck.feed
    fed = bytearray()
    threads: set[int] = set()

    def feed(self: StreamCheck, chunk: bytes | memoryview) -> None:
        fed.extend(chunk)
        threads.add(threading.get_ident())
        real(self, chunk)

    monkeypatch.setattr(StreamCheck, "feed", feed)
    download(tmp_path)
    assert bytes(fed) == ZIP
    assert threads
    assert threading.get_ident() not in threads


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_5xx_then_success(tmp_path: Path) -> None:
    responses.get(URL, status=503, body="busy")
    responses.get(URL, status=500, json={"error_code": "CC.00050006", "error_msg": "inner"})
    responses.get(URL, body=ZIP)
    assert download(tmp_path).path.read_bytes() == ZIP
    assert len(responses.calls) == 3


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_429_retry_after_is_used_and_logged(tmp_path: Path) -> None:
    responses.get(URL, status=429, json={"error_code": "APIGW.0308"}, headers={"Retry-After": "0"})
    responses.get(URL, body=ZIP)
    lines: list[str] = []
    download(tmp_path, log=lines.append)
    assert lines == [f"{ID1}: attempt 1 failed with APIGW.0308; retrying in 0.0 s"]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
@responses.activate(assert_all_requests_are_fired=True)
def test_client_errors_are_never_retried(tmp_path: Path, status: int) -> None:
    responses.get(URL, status=status, json={"error_code": f"E{status}", "error_msg": "no"})
    assert error_of(tmp_path).code == f"E{status}"
    assert len(responses.calls) == 1


@responses.activate
def test_5xx_gives_up_after_bounded_attempts(tmp_path: Path) -> None:
    responses.get(URL, status=502, body="<html>bad gateway</html>", content_type="text/html")
    assert error_of(tmp_path).code == "HTTP_502"
    assert len(responses.calls) == CODEARTS.attempts


@responses.activate
def test_network_errors_are_retried(tmp_path: Path) -> None:
    responses.get(URL, body=requests.exceptions.ConnectionError("refused"))
    assert error_of(tmp_path).code == "NETWORK_ERROR"
    assert len(responses.calls) == CODEARTS.attempts


@pytest.mark.parametrize(
    "damaged",
    [
        ZIP[: len(ZIP) - 22] + b"PK\x05\x06" + b"\x00" * 18,  # directory emptied
        ZIP.replace(b"PK\x01\x02", b"XX\x01\x02", 1),  # directory entry overwritten
        ZIP[:-30],  # end record cut off, though the length was announced as complete
    ],
)
@responses.activate(assert_all_requests_are_fired=True)
def test_a_damaged_zip_of_confirmed_length_is_neither_kept_nor_retried(
    tmp_path: Path, damaged: bytes
) -> None:
    responses.get(URL, body=damaged, auto_calculate_content_length=True)
    error = error_of(tmp_path)
    assert (error.code, error.http_status) == ("INVALID_RESPONSE", 200)
    assert len(responses.calls) == 1
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


def test_a_body_cut_short_is_retried(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.truncate(0.5))
    saved = download(tmp_path, sim.base_url)
    assert saved.path.read_bytes() == sim.zip_bytes(ID1)
    assert len(sim.requests_for()) == 2


def test_a_close_delimited_body_cut_short_is_retried(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.close_delimited_cut(0.5))
    assert download(tmp_path, sim.base_url).path.read_bytes() == sim.zip_bytes(ID1)
    assert len(sim.requests_for()) == 2


def test_large_zip_streams_and_matches(sim: Simulator, tmp_path: Path) -> None:
    sim.set_zip_size(ID1, 24 << 20)
    saved = download(tmp_path, sim.base_url, timeout_seconds="60")
    assert saved.fetched.size == 24 << 20
    assert sim.served[ID1] == [(saved.fetched.size, saved.fetched.sha256)]
    assert saved.listing.total == 1


def test_zip_signature_split_over_several_reads(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.split_head())
    assert download(tmp_path, sim.base_url).path.read_bytes() == sim.zip_bytes(ID1)


@pytest.mark.realtime
def test_cancel_stops_a_stalled_download(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(30, after_headers=True))
    cancel = CancelToken()
    threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(ActionError) as caught:
        download(tmp_path, sim.base_url, cancel=cancel, timeout_seconds="60")
    assert caught.value.code == "CANCELLED"
    assert time.monotonic() - started < 5
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


@pytest.mark.realtime
def test_a_stall_before_the_headers_ends_with_the_budget(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, Step.stall(30))
    started = time.monotonic()
    error = error_of(tmp_path, sim.base_url, timeout_seconds="1.5")
    assert error.code == "TIMEOUT"
    assert time.monotonic() - started < 4


SLACK = 1.0
"""Seconds a budget may be overrun in process: timer threads on a loaded two-core machine."""


@pytest.mark.realtime
@pytest.mark.parametrize("kind", ["status", "headers", "chunk-size", "tls"])
def test_a_server_that_never_finishes_a_line_ends_with_the_budget(
    tmp_path: Path, kind: Kind
) -> None:
    """Each read gets its byte in time; only the one deadline per sub-job ends the exchange. A
    status line or header that never ended is no status (it used to be taken for a 200)."""
    with SlowServer(answer(kind)) as server:
        base = server.tls_url if kind == "tls" else server.url
        started = time.monotonic()
        error = error_of(tmp_path, base, timeout_seconds="1")
        elapsed = time.monotonic() - started
    assert error.code == "TIMEOUT", error.message
    assert elapsed < 1 + SLACK
    assert error.http_status == (200 if kind == "chunk-size" else None)
    assert list((tmp_path / "codearts-check-logs").iterdir()) == []


def test_a_complete_but_damaged_zip_says_so_and_is_not_retried(
    sim: Simulator, tmp_path: Path
) -> None:
    whole = sim.zip_bytes(ID1)
    sim.script(ID1, *[Step.raw(200, whole[:-22], "application/zip")] * 3)
    error = error_of(tmp_path, sim.base_url)
    assert (error.code, error.http_status, error.retryable) == ("INVALID_RESPONSE", 200, False)
    assert "complete but damaged" in error.message
    assert "truncated" not in error.message
    assert len(sim.requests_for()) == 1


def test_a_zip_cut_short_without_a_length_is_called_truncated(
    sim: Simulator, tmp_path: Path
) -> None:
    sim.script(ID1, *[Step.close_delimited_cut(0.5)] * 10)
    error = error_of(tmp_path, sim.base_url, timeout_seconds="2")
    assert error.code == "INVALID_RESPONSE"
    assert "truncated" in error.message
    assert "complete" not in error.message


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_content_encoded_body_names_its_encoding(
    sim: Simulator, tmp_path: Path, encoding: str
) -> None:
    packed = gzip.compress(sim.zip_bytes(ID1))
    headers = {"Content-Encoding": encoding}
    sim.script(ID1, Step.raw(200, packed, "application/zip", headers))
    error = error_of(tmp_path, sim.base_url)
    assert (error.code, error.http_status) == ("INVALID_RESPONSE", 200)
    assert f"the service sent a {encoding}-encoded body, not the ZIP itself" in error.message
    assert len(sim.requests_for()) == 1


# -- the waits between attempts --------------------------------------------------------------------


def _state_after(error: ActionError) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = 1
    future = Future(1)
    future.set_exception(error)
    state.outcome = future
    return state


def test_throttling_without_retry_after_backs_off_two_to_five_seconds() -> None:
    error = ActionError("throttled", code="APIGW.0308", retryable=True)
    assert all(2.0 <= wait_for(CODEARTS)(_state_after(error)) <= 5.0 for _ in range(20))


def test_retry_after_is_capped() -> None:
    error = ActionError("later", code="HTTP_429", retryable=True, retry_after=86400)
    assert wait_for(CODEARTS)(_state_after(error)) == CODEARTS.max_retry_after


def test_other_errors_back_off_exponentially() -> None:
    error = ActionError("busy", code="HTTP_503", retryable=True)
    waits = [wait_for(CODEARTS)(_state_after(error)) for _ in range(20)]
    assert all(CODEARTS.initial / 2 <= wait <= CODEARTS.initial for wait in waits)


# -- local failures, in process: a disk that fills up while the ZIP streams ------------------------


DISK_FULL = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class FillingFile(io.RawIOBase):
    """Wraps the real temporary file; fails like a full disk at `where`."""

    def __init__(self, real: Any, where: str, room: int = 1024) -> None:
        self.real = real
        self.where = where
        self.room = room
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.where == "write" and self.written + len(data) > self.room:
            raise DISK_FULL
        self.written += len(data)
        return int(self.real.write(data))

    def close(self) -> None:
        self.real.close()
        super().close()
        if self.where == "close":
            raise DISK_FULL


@pytest.mark.parametrize("where", ["write", "close", "replace"])
def test_a_full_disk_leaves_no_partial_file_and_the_old_zip(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    old = tmp_path / "codearts-check-logs" / f"{ID1}.zip"
    old.parent.mkdir()
    old.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an earlier run's ZIP under the final name
    if where == "replace":

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise DISK_FULL

        monkeypatch.setattr(os, "replace", refuse)
    else:
        real_open = Path.open

        def filling(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = real_open(path, mode, *args, **kwargs)
            return FillingFile(handle, where) if path.suffix == ".part" else handle

        monkeypatch.setattr(Path, "open", filling)
    error = error_of(tmp_path, sim.base_url, timeout_seconds="10")

    assert error.code == "WRITE_FAILED"
    assert "No space left on device" in error.message
    assert [p.name for p in old.parent.iterdir()] == [old.name], "no temporary file left"
    assert old.read_bytes() == b"PK\x05\x06" + b"\x00" * 18, "the old ZIP is untouched"
    assert len(sim.requests_for()) == 1, "a local write failure is not retried"


def test_no_retry_starts_too_late_to_finish(sim: Simulator, tmp_path: Path) -> None:
    """A retry that would start with 2 ms left could only time out, and report TIMEOUT instead
    of what went wrong (here a body cut short, a retryable fault)."""
    sim.script(ID1, *[Step.close_delimited_cut(0.5)] * 5)
    budget = 1.5
    started = time.monotonic()

    def wait_until_the_last_moment(state: object) -> float:
        return max(0.0, budget - 0.002 - (time.monotonic() - started))

    with retry.using(codearts=replace(CODEARTS, wait=wait_until_the_last_moment)):
        error = error_of(tmp_path, sim.base_url, timeout_seconds=str(budget))
    assert error.code == "INVALID_RESPONSE", error.message
    assert len(sim.requests_for()) == 1


# -- the token stays out of exceptions and debug logs ----------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def exception_texts(exc: BaseException) -> str:
    """Everything an exception can show: str, repr, the formatted traceback, and the same for
    every exception chained to it (even when suppressed with `from None`)."""
    texts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


@pytest.mark.realtime
@pytest.mark.parametrize("failure", ["refused", "echoed", "echoed-on-200", "stall"])
def test_the_token_is_in_no_exception_and_no_debug_log(
    sim: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    """Every logger at DEBUG (urllib3's request lines included) while requests fail inside
    `requests` or the service echoes the token back, plain and URL-encoded."""
    caplog.set_level(logging.DEBUG)
    base = sim.base_url
    echo = f"token {TOKEN} / {quote(TOKEN, safe='')}"
    if failure == "refused":
        base = closed_port_url()
    elif failure == "echoed":
        sim.script(ID1, Step.json(401, {"error_code": "APIGW.0301", "error_msg": echo}))
    elif failure == "echoed-on-200":
        sim.script(ID1, Step.json(200, {"code": "CC.1", "message": echo}, {"X-Echo": TOKEN}))
    else:
        sim.script(ID1, Step.stall(10))
    error = error_of(tmp_path, base, timeout_seconds="1.5")

    texts = exception_texts(error)
    assert TOKEN not in texts
    assert quote(TOKEN, safe="") not in texts
    assert TOKEN not in caplog.text
    assert quote(TOKEN, safe="") not in caplog.text
