"""Huawei Cloud API Gateway request signing, SDK-HMAC-SHA256 (AK/SK and temporary AK/SK).

The gateway recomputes the signature from the request it receives, so two things must hold:
the signature is computed exactly as Huawei's signer computes it, and the request goes out
exactly as it was signed. The first is checked against the official Python SDK
(`huaweicloudsdkcore.signer.signer.Signer`, release 3.1.219) byte for byte by the tests; the
second is why `Target.url` exists and `sign` takes the URL, not its parts. The URL is parsed once
per signature (`parse_target`) and its parts handed on. The `requests` adaptor is `signer`.

Where the SDK behaves oddly this module does the same, since that is what the gateway accepts:

- Path: the signed path is the *percent-decoded* path split on `/`, each piece re-encoded
  keeping only unreserved characters, with `/` appended. An encoded `%2F` inside a segment is
  therefore signed as a separator (the SDK encodes path parameters with `safe=''` and sends
  them like that). The URL sent keeps the path without the appended `/`.
- Query: pairs are sorted by *decoded* key, then value, in code-point order, not by their
  encoded form; a key without `=` is signed (and sent) as `key=`.
- Header values are trimmed with Python's `str.strip()` (every Unicode space, not only HTTP's
  space and tab) and signed as UTF-8. The SDK sends the trimmed value as UTF-8 bytes by handing
  `http.client` their latin-1 view; `wire_header_value` gives that view.
- A `Content-Type` header, looked up under that exact spelling, whose value does not start with
  `application/json` or `application/bson` makes the SDK add `X-Sdk-Content-Sha256:
  UNSIGNED-PAYLOAD`; a non-empty body is then signed as the literal `UNSIGNED-PAYLOAD` rather
  than its hash. Any `X-Sdk-Content-Sha256` the caller sets replaces the hash the same way.
- Header names that differ only in case (possible in a plain dict) are each listed in
  `SignedHeaders`, each with the value of the last of them.

Nothing here does I/O or keeps state; the secret key appears in no message and no result.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_HEADER = "X-Sdk-Date"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
AUTHORIZATION_HEADER = "Authorization"
CONTENT_SHA256_HEADER = "X-Sdk-Content-Sha256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_BODY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SIGNER_OWNED = frozenset({AUTHORIZATION_HEADER.lower(), DATE_HEADER.lower()})
_UNHASHED_CONTENT_TYPES = ("application/json", "application/bson")


class SigningError(ValueError):
    """A request that cannot be signed so that the gateway would verify it; no secret inside."""


@dataclass(frozen=True)
class Target:
    """The parts of a URL that are signed, in the form they are sent (see `parse_target`)."""

    scheme: str
    host: str
    """The `Host` that `requests` (urllib3) sends, and that therefore gets signed: the lower-case
    host name (IPv6 in brackets) plus `:port` only when the port is not the scheme's default,
    which is also what `http.client` writes."""
    path: str
    """Re-encoded, as sent: no trailing `/` (that is for signing only)."""
    query: str
    """The canonical query string, as sent."""

    @property
    def url(self) -> str:
        """The URL exactly as it must be sent for the gateway to see what was signed.

        Scheme and host lower-cased, the scheme's default port dropped, user information
        refused, fragment dropped, path segments and query pairs re-encoded the signer's way
        (pairs sorted, space as `%20`, `/` as `%2F`, `~` kept). `requests` leaves it unchanged
        when it prepares a request.
        """
        tail = f"?{self.query}" if self.query else ""
        return f"{self.scheme}://{self.host}{self.path}{tail}"


def _encode(text: str) -> str:
    """Percent-encode all but unreserved characters (`~` included), as the SDK does."""
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """The path as signed: decoded, split on `/`, pieces re-encoded, and ending in `/`.

    Decoding comes before splitting, so `%2F` is signed as a separator (SDK behaviour).
    """
    signed = "/".join(_encode(piece) for piece in unquote(path).split("/"))
    return signed if signed.endswith("/") else f"{signed}/"


def canonical_query(pairs: list[tuple[str, str]]) -> str:
    """`k=v` pairs sorted by decoded key then value, each side encoded, joined by `&`."""
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def query_pairs(query: str) -> list[tuple[str, str]]:
    """Decoded pairs of a raw query string: `+` is a space, a bare key has an empty value."""
    return parse_qsl(query, keep_blank_values=True)


def _send_path(path: str) -> str:
    """Each raw segment decoded and re-encoded the signer's way; no trailing `/` added.

    What `requests` does with this string is nothing (it is already in its canonical form), so
    the gateway sees it as written. A segment that decodes to `.` or `..` is refused: `requests`
    (urllib3) would collapse it after signing and the signature would no longer match.
    """
    segments = [unquote(segment) for segment in (path or "/").split("/")]
    if any(segment in {".", ".."} for segment in segments):
        raise SigningError(
            "the URL path has a '.' or '..' segment, which would not be sent as signed"
        )
    return "/".join(_encode(segment) for segment in segments)


def parse_target(url: str) -> Target:
    """The URL's signed parts, or SigningError for one that would not be sent as signed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise SigningError("the URL cannot be parsed (bad port or IPv6 address)") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise SigningError("only http:// and https:// URLs can be signed")
    if "@" in parts.netloc:
        raise SigningError(
            "the URL carries user information, which requests would send as a second credential"
        )
    name = parts.hostname or ""
    if not name:
        raise SigningError("the URL has no host")
    if not name.isascii() or "%" in name:
        raise SigningError("the URL's host must be plain ASCII (IDNA-encode it; no IPv6 zone)")
    host = f"[{name}]" if ":" in name else name
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return Target(scheme, host, _send_path(parts.path), canonical_query(query_pairs(parts.query)))


def wire_header_value(value: str) -> str:
    """A header value as the SDK sends it: trimmed, its UTF-8 bytes seen as latin-1.

    `http.client` encodes header values as latin-1, so this puts the UTF-8 bytes of the signed
    value on the wire, where a non-ASCII value would otherwise go out differently from how it
    was signed (or not at all).
    """
    try:
        return value.strip().encode("utf-8").decode("latin-1")
    except UnicodeEncodeError:
        raise SigningError("a header value is not valid Unicode text") from None


def format_date(now: datetime) -> str:
    """`X-Sdk-Date` for an aware datetime: UTC, `YYYYMMDDTHHMMSSZ`."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise SigningError("the signing time must be timezone-aware")
    return now.astimezone(UTC).strftime(DATE_FORMAT)


def _marks_unsigned_payload(headers: Mapping[str, str]) -> bool:
    """True when the SDK would sign the body as `UNSIGNED-PAYLOAD` (exact `Content-Type` key)."""
    content_type = dict(headers).get("Content-Type") or ""
    return bool(content_type) and not content_type.startswith(_UNHASHED_CONTENT_TYPES)


def headers_to_sign(target: Target, headers: Mapping[str, str], now: datetime) -> dict[str, str]:
    """The request's headers plus those the SDK adds before signing, in the SDK's order.

    Adds `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` for a non-JSON, non-BSON `Content-Type`,
    then `X-Sdk-Date`, then `Host` unless the caller set one. `Authorization` and `X-Sdk-Date`
    belong to the signer and are refused in `headers`.
    """
    taken = sorted({name for name in headers if name.lower() in _SIGNER_OWNED})
    if taken:
        raise SigningError(
            f"headers to sign already carry {', '.join(taken)}; the signer sets them"
        )
    result = dict(headers)
    if _marks_unsigned_payload(headers):
        result[CONTENT_SHA256_HEADER] = UNSIGNED_PAYLOAD
    result[DATE_HEADER] = format_date(now)
    if not any(name.lower() == "host" for name in result):
        result["Host"] = target.host
    return result


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Every header name without `_`, lower-cased and sorted (duplicates kept, as the SDK)."""
    return sorted(name.lower() for name in headers if "_" not in name)


def _payload_hash(headers: Mapping[str, str], body: bytes) -> str:
    if not body:
        return EMPTY_BODY_SHA256
    for name, value in headers.items():
        if name.lower() == CONTENT_SHA256_HEADER.lower():
            # The SDK reads it back after rewriting values to their wire form.
            declared = wire_header_value(value)
            if declared:
                return declared
            break
    return hashlib.sha256(body).hexdigest()


def canonical_request(method: str, target: Target, headers: Mapping[str, str], body: bytes) -> str:
    """Six lines: method, signed path, query, `name:value` lines, signed names, body hash.

    `headers` is the complete set to sign (see `headers_to_sign`).
    """
    values = {name.lower(): value.strip() for name, value in headers.items()}
    names = signed_header_names(headers)
    lines = "".join(f"{name}:{values[name]}\n" for name in names)
    return "\n".join(
        (
            method.upper(),
            canonical_uri(target.path),
            target.query,
            lines,
            ";".join(names),
            _payload_hash(headers, body),
        )
    )


def string_to_sign(canonical: str, date: str) -> str:
    """`SDK-HMAC-SHA256`, the `X-Sdk-Date` value and the hex SHA-256 of the canonical request."""
    try:
        digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:
        raise SigningError(
            "the method, a header value or the URL is not valid Unicode text"
        ) from None
    return f"{ALGORITHM}\n{date}\n{digest}"


def _key_bytes(secret_key: str) -> bytes:
    if not isinstance(secret_key, str) or not secret_key:
        raise SigningError("the secret key is missing")
    try:
        return secret_key.encode("utf-8")
    except UnicodeEncodeError:
        raise SigningError("the secret key is not valid Unicode text") from None


def _check_access_key(access_key: str) -> None:
    if not isinstance(access_key, str) or not access_key:
        raise SigningError("the access key is missing")
    if (
        not access_key.isascii()
        or not access_key.isprintable()
        or any(c in access_key for c in " ,")
    ):
        raise SigningError("the access key must be printable ASCII without spaces or commas")


def signature(secret_key: str, text: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed by the secret key."""
    return hmac.new(_key_bytes(secret_key), text.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(
    method: str,
    url: str | Target,
    headers: Mapping[str, str],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    now: datetime,
) -> dict[str, str]:
    """The headers to add to the request: `X-Sdk-Date`, `Authorization` and, when the SDK adds
    it, `X-Sdk-Content-Sha256`.

    Send the request to `parse_target(url).url`, with each of its own header values as
    `wire_header_value` gives it. `Host` is signed but not returned: `requests` sends the same
    value itself (see `Target.host`), and a fixed `Host` would follow a redirect to another host.
    A caller that has already parsed the URL passes its `Target`, so it is parsed once.
    """
    _check_access_key(access_key)
    _key_bytes(secret_key)  # refuse a bad key before any work
    target = parse_target(url) if isinstance(url, str) else url
    full = headers_to_sign(target, headers, now)
    text = string_to_sign(canonical_request(method, target, full, body), full[DATE_HEADER])
    digest = signature(secret_key, text)
    added = {DATE_HEADER: full[DATE_HEADER]}
    if _marks_unsigned_payload(headers):
        added[CONTENT_SHA256_HEADER] = UNSIGNED_PAYLOAD
    added[AUTHORIZATION_HEADER] = (
        f"{ALGORITHM} Access={access_key}, "
        f"SignedHeaders={';'.join(signed_header_names(full))}, Signature={digest}"
    )
    return added
