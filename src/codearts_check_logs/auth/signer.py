"""SDK-HMAC-SHA256 for `requests`: a prepared request signed in place, from an auth hook.

The algorithm is `sdk_hmac`'s; this module only turns a `PreparedRequest` into its inputs (the
body as bytes, the headers as text, those proxies may rewrite left out) and writes the result
back so that the request goes out exactly as it was signed.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

import requests

from .sdk_hmac import (
    AUTHORIZATION_HEADER,
    DATE_HEADER,
    SigningError,
    parse_target,
    sign,
    wire_header_value,
)

# Headers `sign_prepared` sends without signing. Hop-by-hop headers (RFC 9110 §7.6.1) and
# framing or compression negotiation may be rewritten by any proxy on the way, which would
# break the signature; Huawei requires only `X-Sdk-Date` to be signed. The SDK never signs them
# either: its `requests` session adds them after signing.
UNSIGNED_TRANSPORT_HEADERS = frozenset(
    {
        "accept-encoding",
        "connection",
        "content-length",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)


def _body_bytes(body: object) -> bytes:
    """What urllib3 sends for a prepared body: bytes as they are, text as UTF-8."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            raise SigningError("the request body is not valid Unicode text") from None
    raise SigningError(
        f"a {type(body).__name__} body cannot be signed: its hash is needed before it is sent"
    )


def _header_text(value: str | bytes) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise SigningError("a header value is not UTF-8") from None
    return value


def sign_prepared(
    request: requests.PreparedRequest, *, access_key: str, secret_key: str, now: datetime
) -> None:
    """Sign a prepared `requests` request in place, for use in an auth hook.

    Rewrites the URL to `Target.url`, trims the request's own header values (a non-ASCII
    one becomes its UTF-8 bytes) and adds the headers from `sign`. Headers in
    `UNSIGNED_TRANSPORT_HEADERS` go out unsigned.
    An earlier `Authorization` or `X-Sdk-Date` is replaced, so a request can be signed again.
    """
    if request.method is None or request.url is None:
        raise SigningError("the request has no method or URL yet; prepare it first")
    body = _body_bytes(request.body)
    target = parse_target(request.url)  # once: the URL sent and the one signed are this
    for name in (AUTHORIZATION_HEADER, DATE_HEADER):
        request.headers.pop(name, None)
    own = {name: _header_text(value) for name, value in request.headers.items()}
    signable = {
        name: value for name, value in own.items() if name.lower() not in UNSIGNED_TRANSPORT_HEADERS
    }
    added = sign(
        request.method,
        target,
        signable,
        body,
        access_key=access_key,
        secret_key=secret_key,
        now=now,
    )
    for name, value in own.items():
        request.headers[name] = _wire_value_for_requests(value)
    request.headers.update(added)
    request.url = target.url


def _wire_value_for_requests(value: str) -> str:
    """The trimmed value; a non-ASCII one as its UTF-8 bytes.

    Same bytes on the wire as `wire_header_value`, but bytes read back as the same text, so
    signing the request again signs the same value. `requests` accepts bytes header values and
    sends them unchanged, although its type stubs declare `str`.
    """
    trimmed = value.strip()
    if trimmed.isascii():
        return trimmed
    wire_header_value(trimmed)  # refuses text that has no UTF-8 form
    return cast(str, trimmed.encode("utf-8"))
