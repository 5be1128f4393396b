"""Process-wide registry of secret values, so every text that leaves the process can be scrubbed.

The runner masks registered values in its log, but outputs, saved files and the CLI's text do
not pass through the runner; `redact` is applied wherever untrusted or composed text is emitted.
"""

from __future__ import annotations

import threading
from urllib.parse import quote, unquote

_lock = threading.Lock()
_values: set[str] = set()

REPLACEMENT = "***"


def register(value: str) -> None:
    """Remember `value` (and its URL-encoded/decoded twins) as a secret to scrub."""
    if not value:
        return
    with _lock:
        for variant in (value, quote(value, safe=""), unquote(value)):
            if variant:
                _values.add(variant)


def redact(text: str) -> str:
    """Replace every registered secret in `text`, longest first so overlaps are fully covered."""
    with _lock:
        values = sorted(_values, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, REPLACEMENT)
    return text


def clear() -> None:
    """Forget every secret (tests only)."""
    with _lock:
        _values.clear()
