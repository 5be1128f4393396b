"""Transport rules for credentials: https only (plain http to loopback), and one origin each.

Pure functions. A credential goes only to the origin of the service it was made for, so every
client compares origins before attaching one; `requests` alone would forward custom headers such
as `X-Auth-Token` along a redirect to another host (it strips only `Authorization`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

Origin = tuple[str, str, int | None]


def is_loopback(host: str) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_transport(url: str) -> None:
    """Raise ValueError unless `url` is https, or http to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    raise ValueError(
        "only https:// endpoints are accepted (http:// only for loopback hosts), so no "
        f"credential travels in clear text; got {parts.scheme or 'no'} scheme for host "
        f"{parts.hostname or '?'}"
    )


def origin(url: str) -> Origin:
    """Scheme, host and effective port: what must match for a credential to be sent."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port
