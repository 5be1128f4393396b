"""Upload one Azure block blob to a SAS URL with plain REST calls.

The artifact service hands out a signed blob URL; the Azure SDK would add a large dependency for
three requests, so this speaks the Blob REST API through `requests`: one `Put Blob` when the
content fits in a single block, otherwise `Put Block` per block and one `Put Block List` to commit.
Blocks are staged while the source is still being read, with a fixed number in flight, so memory
stays bounded (about `(max_concurrency + 1) * block_size`) whatever the size; with `spool=True`
the bytes wait in an anonymous temporary file instead and each block is streamed from it, so
memory stays flat (a few socket buffers) and the writer never holds back its source. Nothing becomes
visible in the blob until the commit. Transient failures (connection resets, 429, 5xx) are
retried by urllib3 `Retry` on the session's adapter: every blob request here is an idempotent
PUT, so replaying it is safe and needs no code of ours.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import tempfile
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from urllib.parse import parse_qs, quote, urlsplit
from xml.sax.saxutils import escape

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from codearts_check_logs import __version__, secrets

API_VERSION = "2024-11-04"
"""`x-ms-version` sent with every call: a GA REST version that real Azure Storage accepts."""

DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
"""Same block size as the official client, so both produce the same block layout."""

DEFAULT_CONCURRENCY = 5
"""Blocks in flight at once; the official client's default."""

DEFAULT_TIMEOUT = (10.0, 120.0)
"""(connect, read) seconds for every blob request; a stalled block fails instead of hanging."""

MAX_BLOCKS = 50_000
"""Azure's limit of committed blocks per blob."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_QUERY = re.compile(r"\?[^\s'\"<>]*")
_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


class _RedactUrls(logging.Filter):
    """urllib3 logs each request line, SAS signature included, at DEBUG; scrub it first."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = secrets.redact(record.getMessage())
        record.args = ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactUrls())


class BlobUploadError(Exception):
    """A blob request failed for good. The text never carries the SAS query string."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(secrets.redact(message))
        self.status = status


def blob_retry(attempts: int = 5, *, backoff_factor: float = 1.0) -> Retry:
    """Retry policy for blob PUTs: resets, timeouts, 429 and 5xx, honouring `Retry-After`."""
    return Retry(
        total=attempts - 1,
        connect=attempts - 1,
        read=attempts - 1,
        status=attempts - 1,
        other=0,
        allowed_methods=frozenset({"PUT", "GET", "HEAD"}),
        status_forcelist=RETRY_STATUSES,
        backoff_factor=backoff_factor,
        backoff_jitter=backoff_factor / 2,
        backoff_max=30.0,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def new_blob_session(
    *, max_concurrency: int = DEFAULT_CONCURRENCY, retry: Retry | None = None
) -> requests.Session:
    """A session whose connection pool fits the block concurrency and which retries by itself."""
    session = requests.Session()
    session.headers["User-Agent"] = f"codearts-check-logs/{__version__}"
    adapter = HTTPAdapter(
        pool_connections=1,
        pool_maxsize=max(max_concurrency, 1) + 1,
        max_retries=retry if retry is not None else blob_retry(),
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def register_sas_signature(url: str) -> None:
    """Treat the URL's `sig` value as a secret (raw and decoded) before anything can print it."""
    for raw in re.findall(r"(?:^|[?&])sig=([^&#]*)", urlsplit(url).query):
        secrets.register(raw)
    for value in parse_qs(urlsplit(url).query).get("sig", []):
        secrets.register(value)


def describe_exception(exc: BaseException) -> str:
    """One line about a transport error without the URL's query string (it holds the SAS)."""
    text = _QUERY.sub("?…", str(exc))
    return secrets.redact(f"{type(exc).__name__}: {text}")


def _azure_error(response: requests.Response) -> str:
    """`<Code>: <Message>` from Azure's XML error body (or the error-code header), one line."""
    text = response.content[:16384].decode("utf-8", "replace")
    code_match = _XML_CODE.search(text)
    message_match = _XML_MESSAGE.search(text)
    code = code_match.group(1) if code_match else response.headers.get("x-ms-error-code", "")
    message = next(iter(message_match.group(1).strip().splitlines()), "") if message_match else ""
    return ": ".join(part for part in (code.strip(), message[:300]) if part)


class BlockBlobWriter:
    """Stream bytes into one block blob; `commit` makes them the blob's content.

    `write` may be called with chunks of any size; full blocks are sent as soon as they fill.
    `reset` forgets everything staged (the source restarted from byte 0). `commit` uploads the
    rest and commits; `abort` stops without committing, leaving only uncommitted blocks that
    Azure discards on its own.
    """

    def __init__(
        self,
        sas_url: str,
        *,
        content_type: str,
        session: requests.Session | None = None,
        retry: Retry | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        spool: bool = False,
    ) -> None:
        """`session` defaults to a private one built with `retry` (see `new_blob_session`).

        `spool`: keep written bytes in an unlinked temporary file, not in memory; blocks are
        read back from it as they are sent (the page cache makes that a memory copy)."""
        if block_size < 1 or max_concurrency < 1:
            raise ValueError("block_size and max_concurrency must be positive")
        register_sas_signature(sas_url)
        self._url = sas_url
        self._content_type = content_type
        self._owns_session = session is None
        self._session = session or new_blob_session(max_concurrency=max_concurrency, retry=retry)
        self._block_size = block_size
        self._max_concurrency = max_concurrency
        self._timeout = timeout
        self._executor: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[None]] = set()
        self._closed = False
        self._spool = tempfile.TemporaryFile(buffering=0) if spool else None  # noqa: SIM115
        self._start_generation()

    def _start_generation(self) -> None:
        # A fresh prefix per generation keeps IDs unique across resets and of one length,
        # which Azure requires for all blocks of a blob.
        self._prefix = uuid.uuid4().hex
        self._block_ids: list[str] = []
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self._size = 0
        self._staged = 0  # spool mode: bytes of the spool already handed to blocks
        if self._spool is not None:
            os.ftruncate(self._spool.fileno(), 0)
            os.lseek(self._spool.fileno(), 0, os.SEEK_SET)

    @property
    def size(self) -> int:
        """Bytes written since creation or the last reset."""
        return self._size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes written since creation or the last reset."""
        return self._hash.hexdigest()

    @property
    def staged_blocks(self) -> int:
        """Blocks handed to the uploader so far in this generation."""
        return len(self._block_ids)

    def write(self, data: bytes) -> None:
        """Buffer `data`; send every block that is full. Raises the first failed block's error."""
        self._check_open()
        self._reap(block=False)
        self._hash.update(data)
        self._size += len(data)
        if self._spool is not None:
            self._spool_write(self._spool.fileno(), data)
            return
        self._buffer += data
        # Keep one full block back: if the source ends there, a single Put Blob is enough.
        while len(self._buffer) > self._block_size:
            block = bytes(self._buffer[: self._block_size])
            del self._buffer[: self._block_size]
            self._stage(block)

    def _spool_write(self, fd: int, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        # As with the buffer, one full block is kept back for a possible single Put Blob.
        while self._size - self._staged > self._block_size:
            self._stage(_Segment(fd, self._staged, self._block_size))
            self._staged += self._block_size

    def reset(self) -> None:
        """Forget all staged and buffered bytes; in-flight blocks are awaited and ignored."""
        self._check_open()
        if self._in_flight:
            wait(self._in_flight)
            self._in_flight.clear()
        self._start_generation()

    def commit(self) -> None:
        """Upload what is left and make it the blob's content, with its content type."""
        self._check_open()
        try:
            if not self._block_ids:
                self._put(
                    self._url,
                    self._rest(),
                    {"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": self._content_type},
                    "Put Blob",
                )
            else:
                rest = self._rest()
                if len(rest):
                    self._stage(rest)
                    self._buffer.clear()
                self._reap(block=True, until_empty=True)
                self._put_block_list()
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Stop without committing; best effort, never raises."""
        if not self._closed:
            self._shutdown()

    def _rest(self) -> bytes | _Segment:
        """What is written but not yet handed to a block."""
        if self._spool is None:
            return bytes(self._buffer)
        return _Segment(self._spool.fileno(), self._staged, self._size - self._staged)

    def _check_open(self) -> None:
        if self._closed:
            raise BlobUploadError("the blob upload was already committed or aborted")

    def _stage(self, block: bytes | _Segment) -> None:
        if len(self._block_ids) >= MAX_BLOCKS:
            raise BlobUploadError(f"content needs more than {MAX_BLOCKS} blocks")
        block_id = base64.b64encode(f"{self._prefix}{len(self._block_ids):06d}".encode()).decode()
        self._block_ids.append(block_id)
        # Bound memory: never more than max_concurrency blocks waiting or being sent. A spooled
        # block is only an offset, so the source runs ahead and the pool works through them.
        while self._spool is None and len(self._in_flight) >= self._max_concurrency:
            self._reap(block=True)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._max_concurrency, thread_name_prefix="blob-block"
            )
        url = _with_query(self._url, f"comp=block&blockid={quote(block_id, safe='')}")
        self._in_flight.add(self._executor.submit(self._put, url, block, {}, "Put Block"))

    def _reap(self, *, block: bool, until_empty: bool = False) -> None:
        while self._in_flight:
            done, pending = wait(
                self._in_flight, timeout=None if block else 0, return_when=FIRST_COMPLETED
            )
            self._in_flight = set(pending)
            for future in done:
                future.result()
            if not until_empty:
                return

    def _put_block_list(self) -> None:
        latest = "".join(f"<Latest>{escape(block_id)}</Latest>" for block_id in self._block_ids)
        body = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{latest}</BlockList>'
        self._put(
            _with_query(self._url, "comp=blocklist"),
            body.encode(),
            {"Content-Type": "application/xml", "x-ms-blob-content-type": self._content_type},
            "Put Block List",
        )

    def _put(
        self, url: str, body: bytes | _Segment, headers: dict[str, str], operation: str
    ) -> None:
        headers = {"x-ms-version": API_VERSION, **headers}
        try:
            response = self._session.put(url, data=body, headers=headers, timeout=self._timeout)
        except requests.RequestException as exc:
            raise BlobUploadError(
                f"{operation} could not reach blob storage: {describe_exception(exc)}"
            ) from None
        with response:
            if response.status_code != 201:
                detail = _azure_error(response)
                raise BlobUploadError(
                    f"{operation} failed with HTTP {response.status_code}"
                    + (f" ({detail})" if detail else ""),
                    status=response.status_code,
                )

    def _shutdown(self) -> None:
        self._closed = True
        executor, self._executor = self._executor, None
        self._in_flight.clear()
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        if self._spool is not None:
            # Blocks still being sent hold their own descriptor (see _Segment).
            self._spool.close()
        if self._owns_session:
            self._session.close()


class _Segment:
    """A byte range of the spool as a seekable, sized request body: `requests` sends it with a
    Content-Length and urllib3 streams it in small reads (and rewinds it for a retry). It holds
    a duplicate descriptor, so closing the spool never pulls the file from under a send."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self._fd = os.dup(fd)
        self._offset = offset
        self._length = length
        self._position = 0

    def __len__(self) -> int:
        return self._length

    def __del__(self) -> None:
        os.close(self._fd)

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


def _with_query(url: str, extra: str) -> str:
    """Append `extra` to the SAS URL's query without re-encoding what is already there."""
    return f"{url}{'&' if urlsplit(url).query else '?'}{extra}"
