"""Authentication: which requests may carry the IAM token, and over what transport.

The token goes only to the configured CodeArts origin, over https (plain http only on loopback).
Redirects to any other origin are followed without it; `requests` would otherwise forward
custom headers such as `X-Auth-Token` across hosts (it strips only `Authorization`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from . import secrets

TOKEN_HEADER = "X-Auth-Token"


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
        "only https:// endpoints are accepted (http:// only for loopback hosts), so the token "
        f"never travels in clear text; got {parts.scheme or 'no'} scheme for host "
        f"{parts.hostname or '?'}"
    )


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and effective port: what must match for the token to be sent."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class TokenAuth:
    """Adds `X-Auth-Token` to requests bound for one trusted origin, and to nothing else."""

    def __init__(self, token: str, trusted_url: str) -> None:
        secrets.register(token)  # scrubbed from anything the service echoes, even in library use
        self._token = token
        self._origin = origin(trusted_url)

    def __repr__(self) -> str:
        return f"TokenAuth(origin={self._origin!r}, token=<hidden>)"

    def headers_for(self, url: str) -> dict[str, str]:
        """The auth headers for a request to `url`: the token only on the trusted origin."""
        if origin(url) == self._origin:
            return {TOKEN_HEADER: self._token}
        return {}
