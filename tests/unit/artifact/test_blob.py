"""The blob upload: one Put Blob or blocks streamed from the file, retries, failures without the
signature, bounded concurrency; then real blob semantics against Azurite."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from devtools.doubles.azurite import Azurite, BlobProxy, blob_sas
from devtools.doubles.results import CONTAINER
from devtools.doubles.slow import SlowServer, answer
from responses import matchers
from responses.registries import OrderedRegistry

from codearts_check_logs.artifact.blob import API_VERSION, BlobUpload, BlobUploadError
from codearts_check_logs.artifact.twirp import register_sas_signature
from codearts_check_logs.errors import Cancelled
from codearts_check_logs.net import retry
from codearts_check_logs.net.budget import Deadline
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import new_session

SAS = "https://acct.blob.core.windows.net/c/b.zip?sv=2024-11-04&sr=b&sp=cw&sig=Ab%2Fc%2Bd%3D"
BLOB = re.compile(r"https://acct\.blob\.core\.windows\.net/c/b\.zip\?.*")


def uploader(
    url: str = SAS,
    *,
    block_size: int = 4,
    concurrency: int = 2,
    session: requests.Session | None = None,
    cancel: CancelToken | None = None,
    deadline: float = 60,
) -> BlobUpload:
    cancel = cancel or CancelToken()
    made, tracker = new_session(cancel)
    register_sas_signature(url)  # as the URL arrives from CreateArtifact
    return BlobUpload(
        url,
        session or made,
        tracker,
        cancel=cancel,
        deadline=Deadline(deadline),
        content_type="application/zip",
        block_size=block_size,
        concurrency=concurrency,
        policy=replace(retry.BLOB, initial=0.0),
    )


def file_of(tmp_path: Path, data: bytes) -> tuple[Path, int]:
    path = tmp_path / "b.zip"
    path.write_bytes(data)
    return path, len(data)


def query(url: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(url)).query).items()}


def body_bytes(body: Any) -> bytes:
    if hasattr(body, "read"):
        body.seek(0)
        return bytes(body.read())
    return body if isinstance(body, bytes) else str(body).encode()


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_content_of_one_block_is_a_single_put_blob(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    mocked.put(
        SAS,
        status=201,
        match=[
            matchers.header_matcher(
                {
                    "x-ms-blob-type": "BlockBlob",
                    "x-ms-blob-content-type": "application/zip",
                    "x-ms-version": API_VERSION,
                    "Content-Length": "4",
                }
            )
        ],
    )
    uploader().send(*file_of(tmp_path, b"abcd"))  # exactly one block: still a single shot
    assert body_bytes(mocked.calls[0].request.body) == b"abcd"


def test_larger_content_is_staged_in_blocks_then_committed(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    mocked.put(BLOB, status=201)
    uploader(block_size=4).send(*file_of(tmp_path, b"0123456789"))
    staged = {
        query(c.request.url)["blockid"]: body_bytes(c.request.body)
        for c in mocked.calls
        if query(c.request.url).get("comp") == "block"
    }
    commit = mocked.calls[-1].request
    assert query(commit.url)["comp"] == "blocklist"
    assert commit.headers["x-ms-blob-content-type"] == "application/zip"
    assert query(commit.url)["sig"] == "Ab/c+d="
    order = re.findall(r"<Latest>([^<]+)</Latest>", body_bytes(commit.body).decode())
    assert [staged[block_id] for block_id in order] == [b"0123", b"4567", b"89"]
    assert len({len(block_id) for block_id in order}) == 1
    assert all(base64.b64decode(block_id) for block_id in order)


def test_blocks_in_flight_are_bounded(tmp_path: Path) -> None:
    release = threading.Event()
    active = peak = 0
    lock = threading.Lock()

    class SlowSession(requests.Session):
        def put(self, url: str | bytes, data: Any = None, **kwargs: Any) -> requests.Response:
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            release.wait(10)
            with lock:
                active -= 1
            response = requests.Response()
            response.status_code = 201
            response._content = b""
            response._content_consumed = True  # type: ignore[attr-defined]
            return response

    sender = threading.Thread(
        target=uploader(block_size=1, concurrency=3, session=SlowSession()).send,
        args=file_of(tmp_path, b"x" * 20),
    )
    sender.start()
    time.sleep(0.3)
    assert peak == 3
    release.set()
    sender.join(10)
    assert peak == 3


def test_transient_statuses_are_retried(tmp_path: Path) -> None:
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        mock.put(SAS, status=503)
        mock.put(SAS, status=500, headers={"Retry-After": "0"})
        mock.put(SAS, status=201)
        uploader().send(*file_of(tmp_path, b"data"))
        assert len(mock.calls) == 3


def test_a_failed_block_stops_the_upload_without_leaking_the_signature(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    mocked.put(
        BLOB,
        status=403,
        body="<?xml version='1.0'?><Error><Code>AuthenticationFailed</Code>"
        "<Message>Signature did not match.\nRequestId:1</Message></Error>",
    )
    with pytest.raises(BlobUploadError) as caught:
        uploader(block_size=2).send(*file_of(tmp_path, b"abcde"))
    assert caught.value.status == 403
    assert "Put Block failed with HTTP 403 (AuthenticationFailed: Signature did not match.)" in str(
        caught.value
    )
    assert not any(query(c.request.url).get("comp") == "blocklist" for c in mocked.calls)


def test_network_errors_never_show_the_signature(
    mocked: responses.RequestsMock, tmp_path: Path
) -> None:
    mocked.put(BLOB, body=requests.ConnectionError(f"Max retries exceeded with url: {SAS}"))
    with pytest.raises(BlobUploadError) as caught:
        uploader().send(*file_of(tmp_path, b"abc"))
    assert "Ab%2Fc%2Bd%3D" not in str(caught.value)
    assert "Ab/c+d=" not in str(caught.value)
    assert "could not reach blob storage" in str(caught.value)


def test_the_signature_stays_out_of_the_repr() -> None:
    assert "Ab" not in repr(uploader())


def test_a_cancel_ends_a_stalled_block(tmp_path: Path) -> None:
    """A blob store that accepts the connection and never answers: the cancel ends it at once."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/c/b.zip?sig=x"
        cancel = CancelToken()
        threading.Timer(0.5, cancel.cancel).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            uploader(url, block_size=2, cancel=cancel).send(*file_of(tmp_path, b"abcdef"))
        assert time.monotonic() - started < 5


def test_a_cancel_during_a_retry_wait_ends_it_without_waiting_it_out(tmp_path: Path) -> None:
    """The service asked for 30 s; the job is cancelled once the wait has begun (the test
    learns that from the wait itself, not from a timer), and the one wait, not a series of short
    ones, ends with Cancelled."""
    cancel = CancelToken()
    waiting = threading.Event()
    timeouts: list[float | None] = []
    upload = uploader(cancel=cancel)
    stopped = upload._stopped  # the event the wait blocks on

    class Telling(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            timeouts.append(timeout)
            waiting.set()
            return stopped.wait(timeout)

        def set(self) -> None:
            stopped.set()

        def is_set(self) -> bool:
            return stopped.is_set()

    upload._stopped = Telling()
    errors: list[BaseException] = []

    def send() -> None:
        try:
            upload.send(*file_of(tmp_path, b"data"))
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    with responses.RequestsMock() as mock:
        mock.put(SAS, status=503, headers={"Retry-After": "30"})
        sender = threading.Thread(target=send)
        sender.start()
        assert waiting.wait(10)
        cancel.cancel()
        sender.join(10)
    assert not sender.is_alive()
    assert [type(exc) for exc in errors] == [Cancelled]
    assert timeouts == [30.0]


def test_the_budget_ends_a_stalled_block(tmp_path: Path) -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/c/b.zip?sig=x"
        started = time.monotonic()
        with pytest.raises(BlobUploadError):
            uploader(url, deadline=1.5).send(*file_of(tmp_path, b"abc"))
        assert time.monotonic() - started < 4


# --- real blob semantics ------------------------------------------------------------------------


def azurite_url(azurite: Azurite, blob: str) -> str:
    return f"{azurite.blob_url(CONTAINER, blob)}?{blob_sas(CONTAINER, blob, 'cw')}"


@pytest.fixture
def container(azurite: Azurite) -> str:
    azurite.create_container(CONTAINER)
    return CONTAINER


@pytest.mark.azurite
@pytest.mark.parametrize("size", [0, 1, 1024, 1024 * 1024, 3 * 1024 * 1024 + 7])
def test_azurite_content_is_byte_identical(
    azurite: Azurite, container: str, tmp_path: Path, size: int
) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    data = bytes((i * 7) % 251 for i in range(size))
    uploader(azurite_url(azurite, blob), block_size=1024 * 1024).send(*file_of(tmp_path, data))
    state = azurite.read_blob(container, blob)
    assert state is not None
    assert state.content == data
    assert (state.blob_type, state.content_type) == ("BlockBlob", "application/zip")


@pytest.mark.azurite
def test_azurite_nothing_visible_after_a_failed_block(
    azurite: Azurite, container: str, tmp_path: Path
) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    with BlobProxy(azurite.port) as proxy:
        proxy.fail(403, operation="block", times=100)
        with pytest.raises(BlobUploadError):
            uploader(proxy.rewrite(azurite_url(azurite, blob)), block_size=1000).send(
                *file_of(tmp_path, b"z" * 4000)
            )
    assert azurite.read_blob(container, blob) is None


@pytest.mark.azurite
def test_azurite_debug_logs_do_not_show_the_signature(
    azurite: Azurite, container: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    sas = blob_sas(CONTAINER, blob, "cw")
    signature = parse_qs(sas)["sig"][0]
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        uploader(f"{azurite.blob_url(CONTAINER, blob)}?{sas}", block_size=1000).send(
            *file_of(tmp_path, b"q" * 2500)
        )
    assert "comp=blocklist" in caplog.text
    assert signature not in caplog.text
    assert sas.split("sig=")[1] not in caplog.text


@pytest.mark.azurite
def test_azurite_retries_through_faults(azurite: Azurite, container: str, tmp_path: Path) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    with BlobProxy(azurite.port) as proxy:
        proxy.fail(503, operation="block")
        proxy.fail(reset=True, operation="block")
        proxy.fail(429, operation="blocklist")
        uploader(proxy.rewrite(azurite_url(azurite, blob)), block_size=1000).send(
            *file_of(tmp_path, b"r" * 3500)
        )
        statuses = [request.status for request in proxy.requests]
        assert statuses.count(201) == 5
        assert {503, 429, 0} <= set(statuses)
    state = azurite.read_blob(container, blob)
    assert state is not None
    assert state.content == b"r" * 3500


def test_an_endless_error_body_is_not_read_to_its_end(tmp_path: Path) -> None:
    """Azure's errors are small XML: at most `net.capped.MAX_BLOB_ANSWER` bytes are read, then
    the connection is closed, and the status is kept."""
    error_start = b"<Error><Code>InvalidBlobType</Code>"
    endless = answer(
        "body", status=400, body=error_start, content_type="application/xml", interval=0,
        piece=1 << 16,
    )  # fmt: skip
    with SlowServer(endless) as server:
        path, size = file_of(tmp_path, b"PK\x03\x04 data")
        started = time.monotonic()
        with pytest.raises(BlobUploadError) as caught:
            uploader(f"{server.url}/c/b.zip?sig=x", block_size=1 << 20).send(path, size)
        elapsed = time.monotonic() - started
    assert (caught.value.status, caught.value.retryable) == (400, False)
    assert "InvalidBlobType" in str(caught.value)
    assert elapsed < 10
    assert sum(server.sent) < 64 << 20
