"""Transport rules every client applies: https only (plain http to loopback), and one origin
for each credential.

Pure functions, but for the name lookup behind `is_loopback`, which callers (and tests) can
replace. A credential goes only to the origin of the service it was made for, so every client
compares origins before attaching one; `requests` alone would forward custom headers such as
`X-Auth-Token` along a redirect to another host (it strips only `Authorization`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

Origin = tuple[str, str, int | None]
Resolver = Callable[[str], Sequence[str]]
"""A host name to every address it resolves to; empty when it does not resolve."""


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (`socket.getaddrinfo`), or none when it does not."""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [str(info[4][0]) for info in found]


def _loopback_address(text: str) -> bool | None:
    """True or False for an IP address literal (IPv4-mapped IPv6 included); None otherwise."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_loopback(host: str, *, resolver: Resolver = resolve) -> bool:
    """True for `localhost`, a loopback address (127.0.0.0/8, ::1), or a name whose every
    address is one. A name is judged by what it resolves to, never by its looks: `*.localhost`
    is loopback only where the resolver says so, and a name that does not resolve is not."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    literal = _loopback_address(name)
    if literal is not None:
        return literal
    if not name:
        return False
    addresses = resolver(name)
    return bool(addresses) and all(_loopback_address(a) for a in addresses)


def check_transport(url: str, *, resolver: Resolver = resolve) -> None:
    """Raise ValueError unless `url` is https, or http to a loopback host."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname, resolver=resolver):
        return
    raise ValueError(
        "only https:// endpoints are accepted (http:// only for loopback hosts: 127.0.0.0/8, "
        "::1, localhost, or a name that resolves only to those), so no credential travels in "
        f"clear text; got {parts.scheme or 'no'} scheme for host {parts.hostname or '?'}"
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
