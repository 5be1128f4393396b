"""Bounded reads of small answers (JSON, XML, error pages): an endless body costs neither memory
nor the budget. Every client reads its small answers here, under one of these caps."""

from __future__ import annotations

from collections.abc import Iterable

import requests

MAX_SMALL_BODY = 1 << 20
"""The most of a small answer (an error body, a JSON reply, an error page) that is ever read:
1 MiB. Huawei's and GitHub's JSON error bodies are under 1 KiB and a proxy's HTML page is tens of
KiB, so every real one fits whole (and its error code is kept), while a body that never ends
costs at most this much memory and is then closed, keeping the status that came with it."""
MAX_BLOB_ANSWER = 16 * 1024
"""Blob storage's own cap, smaller because it can be: Azure's success bodies are empty and its
XML errors under 1 KiB, and up to five blocks are in flight at once."""
_CAPPED_READ = 1 << 16


def take(
    chunks: Iterable[bytes], limit: int, head: bytes = b"", *, into: bytearray | None = None
) -> tuple[bytes, bool]:
    """`head` and then `chunks` up to `limit` bytes: the bytes, and False when there were more.

    The caller stops reading (closes the connection) when False: the rest is never fetched.
    The bytes go into one growing buffer, whatever the chunking: a list of the chunks of a body
    sent a byte per chunk would cost some fifty times its size. `into` is that buffer when the
    caller wants what came before an error the chunks raise (it may hold one byte past `limit`).
    """
    data = bytearray() if into is None else into
    data += head[: limit + 1]
    if len(data) <= limit:
        for chunk in chunks:
            data += chunk[: limit + 1 - len(data)]
            if len(data) > limit:
                break
    if len(data) > limit:
        return bytes(data[:limit]), False
    return bytes(data), True


def read_capped(response: requests.Response, limit: int = MAX_SMALL_BODY) -> tuple[bytes, bool]:
    """A streamed response's body, or its first `limit` bytes and False when it runs longer.

    The rest is never read: the connection is closed instead, so a body that never ends costs
    `limit` bytes and no time. Errors while reading are the usual `requests` exceptions."""
    data, whole = take(response.iter_content(_CAPPED_READ), limit)
    if not whole:
        response.close()
    return data, whole
