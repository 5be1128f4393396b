"""Upload one file to an Azure block blob at a SAS URL, with plain Blob REST calls.

The artifact service hands out a signed blob URL; the Azure SDK would add a large dependency for
three requests, so this speaks REST through `requests`: one `Put Blob` when the file fits in one
block, otherwise `Put Block` per block — several in flight, each streamed from the file as it is
sent, so memory stays flat whatever the size — and one `Put Block List` to commit. Nothing is
visible in the blob before the commit. Every request is an idempotent PUT, retried on 429, 5xx and
transport errors within the upload's budget, under the blob policy (`net.retry.BLOB`). Answers
are read up to `net.capped.MAX_BLOB_ANSWER` bytes only.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

import requests

from .. import masking
from ..errorbody import parse_retry_after
from ..net.budget import Deadline
from ..net.cancel import CancelToken, SocketTracker
from ..net.capped import MAX_BLOB_ANSWER, read_capped
from ..net.retry import RETRYABLE_STATUS, RetryPolicy, policy_for, retrying, socket_error_name

API_VERSION = "2024-11-04"
"""`x-ms-version` sent with every call: a GA REST version that real Azure Storage accepts."""

DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
"""Same block size as the official client, so both produce the same block layout."""

DEFAULT_CONCURRENCY = 5
"""Blocks in flight at once; the official client's default."""

MAX_BLOCKS = 50_000
"""Azure's limit of committed blocks per blob."""

_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


class _RedactUrls(logging.Filter):
    """urllib3 logs each request line, SAS signature included, at DEBUG; scrub it first."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = masking.redact(record.getMessage())
        record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactUrls())


class BlobUploadError(Exception):
    """A blob request failed for good. The text never carries the SAS query string."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(masking.redact(message))
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class BlobUpload:
    """One file into one block blob through `session`, bounded by `deadline`. The URL's signature
    is already a registered secret: `twirp` registers it the moment CreateArtifact answers."""

    def __init__(
        self,
        sas_url: str,
        session: requests.Session,
        tracker: SocketTracker,
        *,
        cancel: CancelToken,
        deadline: Deadline,
        content_type: str,
        block_size: int = DEFAULT_BLOCK_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        policy: RetryPolicy | None = None,
    ) -> None:
        if block_size < 1 or concurrency < 1:
            raise ValueError("block_size and concurrency must be positive")
        self._url = sas_url
        self._session = session
        self._tracker = tracker
        self._cancel = cancel
        self._deadline = deadline
        self._content_type = content_type
        self._block_size = block_size
        self._concurrency = concurrency
        self._policy = policy or policy_for("blob")
        self._stopped = threading.Event()

    def __repr__(self) -> str:
        return "BlobUpload(<signed URL hidden>)"

    def send(self, path: Path, size: int, sent: Callable[[int], None] | None = None) -> None:
        """Upload `size` bytes of `path` and commit them as the blob's content; `sent` hears of
        each part's bytes once blob storage has taken them (from several threads)."""
        told = sent or (lambda _count: None)
        with path.open("rb") as source:
            fd = source.fileno()
            if size <= self._block_size:
                headers = {
                    "x-ms-blob-type": "BlockBlob",
                    "x-ms-blob-content-type": self._content_type,
                }
                self._put(self._url, lambda: _Segment(fd, 0, size), headers, "Put Blob")
                told(size)
                return
            block_ids = self._put_blocks(fd, size, told)
        latest = "".join(f"<Latest>{escape(block_id)}</Latest>" for block_id in block_ids)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'.encode()
        self._put(
            _with_query(self._url, "comp=blocklist"),
            lambda: body,
            {"Content-Type": "application/xml", "x-ms-blob-content-type": self._content_type},
            "Put Block List",
        )

    def _put_blocks(self, fd: int, size: int, told: Callable[[int], None]) -> list[str]:
        count = -(-size // self._block_size)
        if count > MAX_BLOCKS:
            raise BlobUploadError(f"the file needs more than {MAX_BLOCKS} blocks")
        prefix = uuid.uuid4().hex  # one length for every ID of the blob, as Azure requires
        block_ids = [
            base64.b64encode(f"{prefix}{index:06d}".encode()).decode() for index in range(count)
        ]
        # Leaving the pool waits for every block: none outlives the file it reads from.
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="blob") as pool:
            futures = [
                pool.submit(self._put_block, block_id, fd, index * self._block_size, size, told)
                for index, block_id in enumerate(block_ids)
            ]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f.exception() for f in done if f.exception() is not None), None)
            if failed is not None:
                # Stop the other blocks at once: nothing is committed, Azure drops them later.
                self._stopped.set()
                self._tracker.shutdown()
                for future in pending:
                    future.cancel()
        if failed is not None:
            raise failed
        return block_ids

    def _put_block(
        self, block_id: str, fd: int, offset: int, size: int, told: Callable[[int], None]
    ) -> None:
        length = min(self._block_size, size - offset)
        self._put(
            _with_query(self._url, f"comp=block&blockid={quote(block_id, safe='')}"),
            lambda: _Segment(fd, offset, length),
            {},
            "Put Block",
        )
        told(length)

    def _put(
        self,
        url: str,
        body: _BodyMaker,
        headers: dict[str, str],
        operation: str,
    ) -> None:
        attempts = retrying(
            self._policy,
            deadline=self._deadline,
            cancel=self._cancel,
            retry_if=lambda exc: isinstance(exc, BlobUploadError) and exc.retryable,
            sleep=self._sleep,
        )
        attempts(self._put_once, url, body, {"x-ms-version": API_VERSION, **headers}, operation)

    def _sleep(self, seconds: float) -> None:
        """A retry wait that ends early when the job is cancelled or another block failed: a
        cancel sets the same event as a failed block, so the wait is one blocking call."""
        forget = self._cancel.on_cancel(self._stopped.set)
        try:
            stopped = self._stopped.wait(seconds)
        finally:
            forget()
        self._cancel.check()
        if stopped:
            raise BlobUploadError("stopped: another block of the upload failed")

    def _put_once(
        self, url: str, body: _BodyMaker, headers: dict[str, str], operation: str
    ) -> None:
        self._cancel.check()
        if self._stopped.is_set():
            raise BlobUploadError("stopped: another block of the upload failed")
        try:
            response = self._session.put(
                url,
                data=body(),
                headers=headers,
                timeout=self._deadline.timeouts(self._policy.read_timeout),
                stream=True,
            )
        except requests.RequestException as exc:
            self._cancel.check()
            raise BlobUploadError(
                f"{operation} could not reach blob storage: {socket_error_name(exc)}",
                retryable=True,
            ) from None
        with response:
            try:
                content, _whole = read_capped(response, MAX_BLOB_ANSWER)
            except requests.RequestException as exc:
                self._cancel.check()
                raise BlobUploadError(
                    f"{operation} answered HTTP {response.status_code}, then the connection "
                    f"broke: {socket_error_name(exc)}",
                    status=response.status_code,
                    retryable=True,
                ) from None
            if response.status_code == 201:
                return
            detail = _azure_error(response, content)
            raise BlobUploadError(
                f"{operation} failed with HTTP {response.status_code}"
                + (f" ({detail})" if detail else ""),
                status=response.status_code,
                retryable=response.status_code in RETRYABLE_STATUS,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )


class _Segment:
    """A byte range of the file as a sized, seekable request body: `requests` sends it with a
    Content-Length and streams it in small reads, so a block never sits in memory whole."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = fd
        self._offset = offset
        self._length = length
        self._position = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        left = self._length - self._position
        count = left if size < 0 else min(size, left)
        data = os.pread(self._fd, count, self._offset + self._position) if count else b""
        self._position += len(data)
        return data

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._length}[whence]
        self._position = max(0, min(self._length, base + position))
        return self._position


_BodyMaker = Callable[[], _Segment | bytes]


def _azure_error(response: requests.Response, content: bytes) -> str:
    """`<Code>: <Message>` from Azure's XML error body (or the error-code header), one line."""
    text = content.decode("utf-8", "replace")
    code_match = _XML_CODE.search(text)
    message_match = _XML_MESSAGE.search(text)
    code = code_match.group(1) if code_match else response.headers.get("x-ms-error-code", "")
    message = next(iter(message_match.group(1).strip().splitlines()), "") if message_match else ""
    return ": ".join(part for part in (code.strip(), message[:300]) if part)


def _with_query(url: str, extra: str) -> str:
    """Append `extra` to the SAS URL's query without re-encoding what is already there."""
    return f"{url}{'&' if urlsplit(url).query else '?'}{extra}"
