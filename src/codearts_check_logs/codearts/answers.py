"""What a log-file answer that is not the ZIP means: the typed error for a status, or for a 2xx
whose body is not a ZIP, with what came of its body described.

CodeArts reports many `CC.*` errors with HTTP 200, so a JSON error body is read on any status.
Such bodies are read up to `MAX_ERROR_BODY` only, and the status already received is what gets
reported whatever happens to the body. Kept apart from the client, which only opens the request
and streams: these rules are the contract with the service, and they change for other reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import requests

from ..errorbody import is_throttled, parse_error_body, parse_retry_after
from ..errors import (
    ActionError,
    DownloadTimeout,
    HttpStatusError,
    InvalidResponse,
    NetworkError,
    ServiceError,
)
from ..net.capped import MAX_SMALL_BODY, take
from ..net.retry import RETRYABLE_STATUS

MAX_ERROR_BODY = MAX_SMALL_BODY
"""The most of an answer that is not a ZIP that is read (1 MiB, see `net.capped.MAX_SMALL_BODY`);
the connection is closed after it, and the status is reported with what came."""
NEVER_RETRIED = frozenset({400, 401, 403, 404})
"""Never retried, whatever the body says: five failed AK/SK attempts lock the key."""
RETRY_LATER_CODES = frozenset({"CC.00050012"})
"""Codes that say "try again shortly" on a 200."""


@dataclass(frozen=True)
class Body:
    """An answer that is not a ZIP, as far as it was read."""

    data: bytes
    ended: str = ""
    """Why reading stopped before the body's end; empty when it was read whole."""


def collect(chunks: Iterator[bytes], head: bytes = b"") -> Body:
    """Read a body that is not a ZIP: up to `MAX_ERROR_BODY` bytes and no further (the caller
    closes the connection), or until time runs out or the connection breaks. Either way the
    status already received is what gets reported, with what came."""
    received = bytearray()  # what came before a break is still reported
    try:
        data, whole = take(chunks, MAX_ERROR_BODY, head, into=received)
    except DownloadTimeout:
        return Body(bytes(received[:MAX_ERROR_BODY]), "still arriving when time ran out")
    except (NetworkError, InvalidResponse):
        return Body(bytes(received[:MAX_ERROR_BODY]), "cut short: the connection broke")
    if not whole:
        return Body(data, f"more than {MAX_ERROR_BODY:,} bytes; read no further")
    return Body(data)


def content_length(response: requests.Response) -> int | None:
    """The announced length, when the server gave a plain number."""
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _encoding(response: requests.Response) -> str:
    """The body's content coding, when it has one (we ask for `identity`)."""
    value = response.headers.get("Content-Encoding", "").strip().lower()
    return "" if value in {"", "identity"} else value


def describe_body(response: requests.Response, body: Body) -> str:
    """`a text/html body of 120 bytes (…)`: what came, never the bytes themselves."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no content type"
    encoding = _encoding(response)
    if encoding:
        kind = f"{encoding}-encoded {kind}"
    if not body.data:
        return f"an empty body ({body.ended})" if body.ended else "an empty body"
    ended = f" ({body.ended})" if body.ended else ""
    return f"a {kind} body of {len(body.data)} bytes{ended}"


def status_error(response: requests.Response, body: Body, request_id: str | None) -> ActionError:
    """A non-2xx answer: the service's own code when the body has one, else `HTTP_<status>`."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    parsed = parse_error_body(body.data)
    if parsed is not None:
        retryable = status not in NEVER_RETRIED and (
            status in RETRYABLE_STATUS or is_throttled(parsed.code)
        )
        # A body cut at the cap keeps the code and message that came before the cut; when the
        # message itself was cut, say how far the body went instead.
        described = (
            f"HTTP {status} {response.reason or 'error'} with {describe_body(response, body)}"
        )
        return ServiceError(
            parsed.message or (described if body.ended else f"HTTP {status}"),
            code=parsed.code,
            http_status=status,
            request_id=parsed.request_id or request_id,
            retryable=retryable,
            retry_after=retry_after,
        )
    reason = response.reason or "error"
    asked = f"; it asked to retry after {retry_after:.0f} s" if retry_after is not None else ""
    return HttpStatusError(
        status,
        f"HTTP {status} {reason} with {describe_body(response, body)}{asked}",
        request_id=request_id,
        retryable=status in RETRYABLE_STATUS,
        retry_after=retry_after,
    )


def bad_success(response: requests.Response, body: Body, request_id: str | None) -> ActionError:
    """A 2xx that is not a ZIP: an error body (CodeArts uses HTTP 200 for many), else invalid."""
    parsed = parse_error_body(body.data)
    if parsed is not None:
        return ServiceError(
            parsed.message or "the service reported an error",
            code=parsed.code,
            http_status=response.status_code,
            request_id=parsed.request_id or request_id,
            retryable=parsed.code in RETRY_LATER_CODES or is_throttled(parsed.code),
        )
    encoding = _encoding(response)
    if encoding and body.data:
        # We ask for `Accept-Encoding: identity`; a proxy or gateway that compresses anyway has
        # sent the ZIP wrapped in its encoding.
        return InvalidResponse(
            f"the service sent a {encoding}-encoded body, not the ZIP itself (HTTP "
            f"{response.status_code}, {describe_body(response, body)}); the action asks for "
            "Accept-Encoding: identity, so something on the way compressed it",
            http_status=response.status_code,
            request_id=request_id,
        )
    return InvalidResponse(
        f"HTTP {response.status_code} carried {describe_body(response, body)}, not a ZIP",
        http_status=response.status_code,
        request_id=request_id,
    )
