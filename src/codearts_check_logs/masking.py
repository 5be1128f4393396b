"""Process-wide registry of secret values, so every text that leaves the process can be scrubbed.

The runner masks registered values in its log, but outputs, saved files and the CLI's text do
not pass through the runner; `redact` is applied wherever untrusted or composed text is emitted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import quote, unquote

_lock = threading.Lock()
_values: set[str] = set()
_listeners: list[Callable[[str], None]] = []

REPLACEMENT = "***"


def register(value: str) -> None:
    """Remember `value` (and its URL-encoded/decoded twins) as a secret to scrub; tell the
    listeners about `value` itself the first time it is seen."""
    if not value:
        return
    with _lock:
        known = value in _values
        _values.update(v for v in (value, quote(value, safe=""), unquote(value)) if v)
        listeners = [] if known else list(_listeners)
    for listener in listeners:
        listener(value)


def on_register(listener: Callable[[str], None]) -> None:
    """Call `listener` with every secret registered from now on (e.g. to mask it in the log)."""
    with _lock:
        _listeners.append(listener)


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
        _listeners.clear()
