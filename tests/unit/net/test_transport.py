"""Transport rules: https only, plain http to loopback, and what counts as one origin."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from codearts_check_logs.net import transport
from codearts_check_logs.net.transport import check_transport, is_loopback, origin


def resolver_of(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    """A name lookup from a table; a name not in it does not resolve."""

    def lookup(host: str) -> list[str]:
        return table.get(host, [])

    return lookup


NAMES = {
    "dev.localhost": ["127.0.0.1", "::1"],
    "evil.localhost": ["203.0.113.7"],
    "split.example": ["127.0.0.1", "198.51.100.2"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "127.0.0.1.nip.io": ["127.0.0.1"],
    "example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
}


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("10.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("example.com", False),
        ("dev.localhost", True),
        ("127.0.0.1.nip.io", True),
        ("mapped.example", True),
        ("evil.localhost", False),
        ("split.example", False),
        ("unknown.localhost", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    """A name counts by what it resolves to, every address of it, never by how it looks."""
    assert is_loopback(host, resolver=resolver_of(NAMES)) is loopback


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "10.0.0.1"])
def test_literals_and_localhost_need_no_lookup(host: str) -> None:
    def refuse(name: str) -> list[str]:
        raise AssertionError(f"looked up {name}")

    is_loopback(host, resolver=refuse)


def test_a_localhost_subdomain_that_does_not_resolve_is_not_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default lookup is `socket.getaddrinfo`; a name it cannot resolve is refused."""

    def unknown(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)
    assert not is_loopback("evil.localhost")
    with pytest.raises(ValueError, match="only https://"):
        check_transport("http://evil.localhost:8080/")


def test_the_default_lookup_reads_every_address(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", 0, 0, 0)),
    ]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    assert transport.resolve("dev.localhost") == ["127.0.0.1", "::1"]
    assert is_loopback("dev.localhost")


@pytest.mark.parametrize(
    "url",
    [
        "https://codearts-check.cn-north-4.myhuaweicloud.com",
        "https://evil.localhost",
        "http://127.0.0.1:8080/x",
        "http://dev.localhost:8080/x",
    ],
)
def test_accepted_transports(url: str) -> None:
    check_transport(url, resolver=resolver_of(NAMES))


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://evil.localhost:8080",
        "http://split.example",
        "ftp://127.0.0.1",
        "example.com",
        "http://",
    ],
)
def test_refused_transports(url: str) -> None:
    with pytest.raises(ValueError, match="only https://"):
        check_transport(url, resolver=resolver_of(NAMES))


def test_origins_compare_scheme_host_and_effective_port() -> None:
    assert origin("https://Example.com/a") == origin("https://example.com:443/b?c")
    assert origin("http://example.com") == ("http", "example.com", 80)
    assert origin("https://example.com") != origin("http://example.com:443")
    assert origin("https://example.com:8443") != origin("https://example.com")
    assert origin("https://example.com:bad") == ("https", "example.com", 443)
