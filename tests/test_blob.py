"""Block blob upload over REST: request shapes (mocked), bounded in-flight blocks, retries, and
real blob semantics on Azurite."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from devtools.azurite import Azurite, BlobProxy, blob_sas
from devtools.results_double import CONTAINER
from responses import matchers
from responses.registries import OrderedRegistry

from codearts_check_logs import secrets
from codearts_check_logs.blob import (
    API_VERSION,
    BlobUploadError,
    BlockBlobWriter,
    blob_retry,
    describe_exception,
    new_blob_session,
    register_sas_signature,
)

pytest_plugins = ["tests.fixtures_artifact"]

SAS = "https://acct.blob.core.windows.net/c/b.zip?sv=2024-11-04&sr=b&sp=cw&sig=Ab%2Fc%2Bd%3D"
BLOB = re.compile(r"https://acct\.blob\.core\.windows\.net/c/b\.zip\?.*")


def writer(block_size: int = 4, concurrency: int = 2, **kwargs: Any) -> BlockBlobWriter:
    return BlockBlobWriter(
        SAS,
        content_type="application/zip",
        block_size=block_size,
        max_concurrency=concurrency,
        retry=blob_retry(backoff_factor=0),
        **kwargs,
    )


def query(url: str | None) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(url)).query).items()}


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def test_small_content_is_a_single_put_blob(mocked: responses.RequestsMock) -> None:
    mocked.put(
        SAS,
        status=201,
        match=[
            matchers.header_matcher(
                {
                    "x-ms-blob-type": "BlockBlob",
                    "x-ms-blob-content-type": "application/zip",
                    "x-ms-version": API_VERSION,
                }
            )
        ],
    )
    upload = writer()
    upload.write(b"ab")
    upload.write(b"cd")  # exactly one block: still a single shot
    upload.commit()
    assert mocked.calls[0].request.body == b"abcd"
    assert (upload.size, upload.sha256) == (4, hashlib.sha256(b"abcd").hexdigest())


def test_large_content_is_staged_in_blocks_then_committed(mocked: responses.RequestsMock) -> None:
    mocked.put(BLOB, status=201)
    upload = writer(block_size=4)
    upload.write(b"0123456789")
    upload.commit()
    staged = {
        query(c.request.url)["blockid"]: c.request.body
        for c in mocked.calls
        if query(c.request.url).get("comp") == "block"
    }
    commit = mocked.calls[-1].request
    assert query(commit.url)["comp"] == "blocklist"
    assert commit.headers["x-ms-blob-content-type"] == "application/zip"
    assert query(commit.url)["sig"] == "Ab/c+d="
    body = commit.body.decode() if isinstance(commit.body, bytes) else str(commit.body)
    order = re.findall(r"<Latest>([^<]+)</Latest>", body)
    assert [staged[block_id] for block_id in order] == [b"0123", b"4567", b"89"]
    assert len({len(block_id) for block_id in order}) == 1
    assert all(base64.b64decode(block_id) for block_id in order)


def test_reset_forgets_staged_blocks(mocked: responses.RequestsMock) -> None:
    mocked.put(BLOB, status=201)
    upload = writer(block_size=4)
    upload.write(b"stale-bytes")
    stale = {query(c.request.url).get("blockid") for c in mocked.calls}
    upload.reset()
    upload.write(b"fresh-content")
    upload.commit()
    body = mocked.calls[-1].request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    committed = set(re.findall(r"<Latest>([^<]+)</Latest>", text))
    assert committed
    assert not committed & stale
    assert upload.size == len(b"fresh-content")


def test_in_flight_blocks_are_bounded() -> None:
    """Memory stays bounded: write() waits once max_concurrency blocks are being sent."""
    release = threading.Event()
    active = 0
    peak = 0
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

    upload = writer(block_size=1, concurrency=3, session=SlowSession())
    progress: list[int] = []

    def produce() -> None:
        for index in range(20):
            upload.write(b"x")
            progress.append(index)

    producer = threading.Thread(target=produce)
    producer.start()
    time.sleep(0.3)
    # 3 blocks in flight, one full block buffered, the producer stuck staging the next.
    assert peak == 3
    assert len(progress) < 6
    release.set()
    producer.join(10)
    upload.commit()
    assert peak == 3
    assert len(progress) == 20


def test_transient_statuses_are_retried() -> None:
    with responses.RequestsMock(registry=OrderedRegistry) as mock:
        mock.put(SAS, status=503)
        mock.put(SAS, status=500)
        mock.put(SAS, status=201)
        upload = writer()
        upload.write(b"data")
        upload.commit()
        assert len(mock.calls) == 3


def test_a_failed_block_stops_the_upload_without_leaking_the_signature(
    mocked: responses.RequestsMock,
) -> None:
    mocked.put(
        BLOB,
        status=403,
        body="<?xml version='1.0'?><Error><Code>AuthenticationFailed</Code>"
        "<Message>Signature did not match.\nRequestId:1</Message></Error>",
    )
    upload = writer(block_size=2)
    upload.write(b"abcde")
    with pytest.raises(BlobUploadError) as caught:
        upload.commit()
    assert caught.value.status == 403
    assert "Put Block failed with HTTP 403 (AuthenticationFailed: Signature did not match.)" in str(
        caught.value
    )
    with pytest.raises(BlobUploadError, match="already committed or aborted"):
        upload.write(b"more")


def test_network_errors_never_show_the_signature(mocked: responses.RequestsMock) -> None:
    mocked.put(BLOB, body=requests.ConnectionError(f"Max retries exceeded with url: {SAS}"))
    upload = writer()
    upload.write(b"abc")
    with pytest.raises(BlobUploadError) as caught:
        upload.commit()
    assert "Ab%2Fc%2Bd%3D" not in str(caught.value)
    assert "Ab/c+d=" not in str(caught.value)
    assert "could not reach blob storage" in str(caught.value)


def test_signature_is_registered_raw_and_decoded() -> None:
    register_sas_signature(SAS)
    assert secrets.redact("a Ab%2Fc%2Bd%3D b Ab/c+d= c") == "a *** b *** c"


def test_describe_exception_drops_query_strings() -> None:
    text = describe_exception(requests.ConnectionError(f"failed: {SAS} (reset)"))
    assert "sig" not in text
    assert text.startswith("ConnectionError: failed: https://acct.blob.core.windows.net/c/b.zip?")


def test_abort_is_quiet_and_final(mocked: responses.RequestsMock) -> None:
    upload = writer()
    upload.write(b"ab")
    upload.abort()
    upload.abort()
    with pytest.raises(BlobUploadError):
        upload.commit()


def test_session_pool_fits_the_concurrency() -> None:
    session = new_blob_session(max_concurrency=7)
    adapter = session.get_adapter("https://x")
    assert isinstance(adapter, requests.adapters.HTTPAdapter)
    assert adapter._pool_maxsize == 8  # type: ignore[attr-defined]
    session.close()


# --- real blob semantics ------------------------------------------------------------------------


def azurite_writer(azurite: Azurite, blob: str, **kwargs: Any) -> BlockBlobWriter:
    url = f"{azurite.blob_url(CONTAINER, blob)}?{blob_sas(CONTAINER, blob, 'cw')}"
    return BlockBlobWriter(
        url, content_type="application/zip", retry=blob_retry(backoff_factor=0), **kwargs
    )


@pytest.fixture
def container(azurite: Azurite) -> str:
    azurite.create_container(CONTAINER)
    return CONTAINER


@pytest.mark.azurite
@pytest.mark.parametrize("size", [0, 1, 1024, 1024 * 1024, 3 * 1024 * 1024 + 7])
def test_azurite_content_is_byte_identical(azurite: Azurite, container: str, size: int) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    data = bytes((i * 7) % 251 for i in range(size))
    upload = azurite_writer(azurite, blob, block_size=1024 * 1024)
    for offset in range(0, size, 300_000):
        upload.write(data[offset : offset + 300_000])
    upload.commit()
    state = azurite.read_blob(container, blob)
    assert state is not None
    assert state.content == data
    assert (state.blob_type, state.content_type) == ("BlockBlob", "application/zip")


@pytest.mark.azurite
def test_azurite_reset_commits_only_the_new_blocks(azurite: Azurite, container: str) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    upload = azurite_writer(azurite, blob, block_size=1000)
    upload.write(b"s" * 5500)
    upload.reset()
    upload.write(b"n" * 2500)
    upload.commit()
    state = azurite.read_blob(container, blob)
    assert state is not None
    assert state.content == b"n" * 2500
    assert state.committed_blocks == [1000, 1000, 500]


@pytest.mark.azurite
def test_azurite_nothing_visible_before_commit(azurite: Azurite, container: str) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    upload = azurite_writer(azurite, blob, block_size=1000)
    upload.write(b"z" * 4000)
    time.sleep(0.2)
    assert azurite.read_blob(container, blob) is None
    upload.abort()
    assert azurite.read_blob(container, blob) is None


@pytest.mark.azurite
def test_azurite_debug_logs_do_not_show_the_signature(
    azurite: Azurite, container: str, caplog: pytest.LogCaptureFixture
) -> None:
    blob = f"t/{uuid.uuid4().hex}.zip"
    sas = blob_sas(CONTAINER, blob, "cw")
    signature = parse_qs(sas)["sig"][0]
    with caplog.at_level(logging.DEBUG, logger="urllib3"):
        upload = azurite_writer(azurite, blob, block_size=1000)
        upload.write(b"q" * 2500)
        upload.commit()
    assert "comp=blocklist" in caplog.text
    assert signature not in caplog.text
    assert sas.split("sig=")[1] not in caplog.text


@pytest.mark.azurite
def test_azurite_retries_through_faults(azurite: Azurite, container: str) -> None:
    with BlobProxy(azurite.port) as proxy:
        blob = f"t/{uuid.uuid4().hex}.zip"
        url = f"{azurite.blob_url(CONTAINER, blob)}?{blob_sas(CONTAINER, blob, 'cw')}"
        upload = BlockBlobWriter(
            proxy.rewrite(url),
            content_type="application/zip",
            retry=blob_retry(backoff_factor=0),
            block_size=1000,
        )
        proxy.fail(503, operation="block")
        proxy.fail(reset=True, operation="block")
        proxy.fail(429, operation="blocklist")
        upload.write(b"r" * 3500)
        upload.commit()
        statuses = [request.status for request in proxy.requests]
        assert statuses.count(201) == 5
        assert {503, 429, 0} <= set(statuses)
    state = azurite.read_blob(container, blob)
    assert state is not None
    assert state.content == b"r" * 3500
