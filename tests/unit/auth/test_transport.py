"""Transport rules: https only, plain http to loopback, and what counts as one origin."""

from __future__ import annotations

import pytest

from codearts_check_logs.auth.transport import check_transport, is_loopback, origin


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST.", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    "url", ["https://codearts-check.cn-north-4.myhuaweicloud.com", "http://127.0.0.1:8080/x"]
)
def test_accepted_transports(url: str) -> None:
    check_transport(url)


@pytest.mark.parametrize("url", ["http://example.com", "ftp://127.0.0.1", "example.com", "http://"])
def test_refused_transports(url: str) -> None:
    with pytest.raises(ValueError, match="only https://"):
        check_transport(url)


def test_origins_compare_scheme_host_and_effective_port() -> None:
    assert origin("https://Example.com/a") == origin("https://example.com:443/b?c")
    assert origin("http://example.com") == ("http", "example.com", 80)
    assert origin("https://example.com") != origin("http://example.com:443")
    assert origin("https://example.com:8443") != origin("https://example.com")
    assert origin("https://example.com:bad") == ("https", "example.com", 443)
