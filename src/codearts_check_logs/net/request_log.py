"""One debug line per HTTP answer (`-v` on the command line): method, where, status, time.

Never a secret: only the scheme, host and path are shown, and of the query only the names of its
parameters, with the values of those known to carry nothing secret (a blob URL's signature, a
signed download link's keys stay out). Headers and bodies are never shown. The line is a log
record of this package, so the entry point decides whether it appears and cleans it on the way.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

LOGGER = logging.getLogger(__name__)
SHOWN_VALUES = frozenset({"sub_job_id", "api-version", "name"})
"""Query parameters whose values say what was asked for and are never credentials."""


def where(url: str) -> str:
    """`url` without credentials: scheme, host, path, and the query's names (known values)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    shown = f"{parts.scheme}://{host}{parts.path}"
    query = [
        f"{name}={value}" if name in SHOWN_VALUES else f"{name}=…"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return shown + ("?" + "&".join(query) if query else "")


def log_answer(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A `requests` response hook: called when the head of each answer has arrived."""
    if not LOGGER.isEnabledFor(logging.DEBUG):
        return
    request = response.request
    millis = response.elapsed.total_seconds() * 1000
    LOGGER.debug(
        "%s %s -> HTTP %s in %.0f ms",
        request.method,
        where(request.url or ""),
        response.status_code,
        millis,
    )
