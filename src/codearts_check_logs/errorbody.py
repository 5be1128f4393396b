"""Error bodies of Huawei Cloud services: CodeArts Check, the API gateway, IAM and STS.

Pure parsing. Every shape the official SDKs accept is read the same way here, whichever client
received it, so the code a user sees never depends on which service answered.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from typing import Any

# (code key, message key) pairs the official SDKs accept, in their order of preference.
_ERROR_KEYS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))
THROTTLE_SUFFIX = ".0308"


@dataclass(frozen=True)
class ErrorBody:
    """The error a service body carries."""

    code: str
    message: str
    request_id: str | None = None


def parse_error_body(data: bytes) -> ErrorBody | None:
    """The error in a JSON body, in any of the shapes the official SDKs accept, else None.

    Top level first, then nested under `error` (the v1 APIs' `{"status": "error", "error": …}`,
    and Keystone's `{"error": {"code": 401, …}}`). A numeric code is kept as text; callers that
    want only textual codes check for that themselves.
    """
    try:
        try:
            document = json.loads(data)
        except UnicodeDecodeError:
            # One invalid byte in a message must not cost the error its code: use U+FFFD.
            document = json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        # A body cut at the read cap (or by a broken connection) still holds the members that
        # came before the cut, and services put the code and message first.
        document = leading_members(data.decode("utf-8-sig", errors="replace"))
    if not isinstance(document, dict):
        return None
    request_id = _text(document.get("request_id"))
    nested = document.get("error")
    for candidate in (document, nested):
        if not isinstance(candidate, dict):
            continue
        for code_key, message_key in _ERROR_KEYS:
            code = _text(candidate.get(code_key))
            if code:
                message = _text(candidate.get(message_key)) or _text(candidate.get("msg")) or ""
                return ErrorBody(
                    code=code,
                    message=message,
                    request_id=request_id or _text(candidate.get("request_id")),
                )
    return None


_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"
MAX_DEPTH = 8
"""Objects nested deeper than this are not looked into: the codes stand at the top or one level
down (`error`)."""


def leading_members(text: str) -> dict[str, Any] | None:
    """The members of the JSON object `text` begins with that are complete before it breaks off
    (nested objects likewise, as far as they came); None when `text` does not begin with one."""
    start = _skip(text, 0)
    if not text.startswith("{", start):
        return None
    try:
        found, _ = _members(text, start, MAX_DEPTH)
    except RecursionError:
        return None
    return found


def _members(text: str, at: int, depth: int) -> tuple[dict[str, Any], int | None]:
    """The complete members of the object at `text[at]` (a `{`), and the index after it, or None
    when the text breaks off inside it."""
    found: dict[str, Any] = {}
    at = _skip(text, at + 1)
    while at < len(text):
        if text[at] == "}":
            return found, at + 1
        if text[at] != '"':
            return found, None
        try:
            key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        except ValueError:
            return found, None
        at = _skip(text, at)
        if not text.startswith(":", at):
            return found, None
        at = _skip(text, at + 1)
        if text.startswith("{", at) and depth > 0:
            value, end = _members(text, at, depth - 1)
            found[key] = value
            if end is None:
                return found, None
            at = end
        else:
            try:
                found[key], at = _DECODER.raw_decode(text, at)
            except ValueError:
                return found, None
        at = _skip(text, at)
        if text.startswith(",", at):
            at = _skip(text, at + 1)
        elif not text.startswith("}", at):
            return found, None
    return found, None


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def is_throttled(code: str) -> bool:
    """Gateway throttling (`APIGW.0308`, also written `APIG.0308`)."""
    return code.upper().startswith(("APIGW.", "APIG.")) and code.endswith(THROTTLE_SUFFIX)
