"""The `requests` adaptor: a prepared request signed in place goes out exactly as signed (the Host
urllib3 writes, the URL unchanged by `requests`), and a real round trip to a loopback gateway
verifies with the official SDK's signer."""

from __future__ import annotations

import http.server
import re
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from devtools.doubles.serving import PromptHTTPServer
from huaweicloudsdkcore.sdk_request import SdkRequest  # type: ignore[import-untyped]
from huaweicloudsdkcore.signer.signer import Signer  # type: ignore[import-untyped]
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool
from urllib3.connection import HTTPConnection

from codearts_check_logs.auth import sdk_hmac
from codearts_check_logs.auth.sdk_hmac import (
    AUTHORIZATION_HEADER,
    CONTENT_SHA256_HEADER,
    DATE_HEADER,
    UNSIGNED_PAYLOAD,
    SigningError,
    parse_target,
    sign,
)
from codearts_check_logs.auth.signer import sign_prepared
from tests.unit.auth.test_sdk_hmac import AK, BASE, NOW, PROJECT, SK, SUB_JOB, Credentials

SECRET = "Sup3r-Secret-Key-Value-0123456789"


# --- requests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        BASE + "/v1/log-file",
        "https://Example.COM:443/",
        "http://example.com:80/x",
        "https://example.com:8443/x",
        "http://127.0.0.1:8080/",
        "http://[::1]:8080/x",
        "https://[::1]/",
    ],
)
def test_signed_host_is_what_urllib3_writes(url, monkeypatch):
    """The Host signed equals the one http.client puts on the wire, default port or not."""
    prepared = requests.Request("GET", url).prepare()
    assert prepared.url is not None
    pool = HTTPAdapter().get_connection_with_tls_context(prepared, verify=True)
    assert isinstance(pool, HTTPConnectionPool)
    connection = pool.ConnectionCls(host=pool.host, port=pool.port)
    assert isinstance(connection, HTTPConnection)  # what urllib3 builds on http.client
    written: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(
        connection, "putheader", lambda name, *values: written.append((name, values))
    )
    connection.putrequest("GET", "/")  # buffers only; nothing is connected
    (value,) = dict(written)["Host"]
    assert (value.decode("ascii") if isinstance(value, bytes) else value) == parse_target(url).host


def test_sign_prepared_rewrites_the_url_and_adds_the_headers():
    session = requests.Session()
    request = requests.Request(
        "POST",
        BASE + "/v1/log-file/a b?sub_job_id=x y&b=/~&a=2&a=1#frag",
        headers={"X-Project-Id": PROJECT, "X-Note": "déjà vu  ", "Content-Type": "text/plain"},
        data="é body",
    )
    prepared = session.prepare_request(request)
    sign_prepared(prepared, access_key=AK, secret_key=SK, now=NOW)

    assert prepared.url == BASE + "/v1/log-file/a%20b?a=1&a=2&b=%2F~&sub_job_id=x%20y"
    assert prepared.headers[DATE_HEADER] == "20240102T030405Z"
    assert prepared.headers[CONTENT_SHA256_HEADER] == UNSIGNED_PAYLOAD
    assert prepared.headers["X-Note"] == "déjà vu".encode()  # type: ignore[comparison-overlap]
    signed = re.search(r"SignedHeaders=([^,]+)", prepared.headers[AUTHORIZATION_HEADER])
    assert signed is not None
    assert signed.group(1).split(";") == [
        "accept",
        "content-type",
        "host",
        "user-agent",
        "x-note",
        "x-project-id",
        "x-sdk-content-sha256",
        "x-sdk-date",
    ]
    expected = sign(
        "POST",
        prepared.url,
        {
            name: value
            for name, value in session.prepare_request(request).headers.items()
            if name.lower() not in {"connection", "accept-encoding", "content-length"}
        },
        "é body".encode(),
        access_key=AK,
        secret_key=SK,
        now=NOW,
    )
    assert prepared.headers[AUTHORIZATION_HEADER] == expected[AUTHORIZATION_HEADER]

    # Signing again (a retry) replaces the signature instead of signing the old one.
    first = dict(prepared.headers)
    sign_prepared(prepared, access_key=AK, secret_key=SK, now=NOW)
    assert dict(prepared.headers) == first


def test_sign_prepared_refuses_a_streamed_body():
    prepared = requests.Request("PUT", BASE + "/", data=iter([b"a", b"b"])).prepare()
    with pytest.raises(SigningError, match="cannot be signed"):
        sign_prepared(prepared, access_key=AK, secret_key=SK, now=NOW)


class _Gateway(PromptHTTPServer):
    """Loopback stand-in for the gateway: records each request exactly as it arrived."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []


class _Recorder(http.server.BaseHTTPRequestHandler):
    server: _Gateway

    def _record(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        # http.server decodes header bytes as latin-1; the gateway reads them as UTF-8.
        headers = [(k, v.encode("latin-1").decode("utf-8")) for k, v in self.headers.items()]
        self.server.seen.append((self.command, self.path, headers, body))
        self.send_response(204)
        self.end_headers()

    do_GET = do_POST = do_PUT = _record

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[_Gateway]:
    server = _Gateway()
    server.serve_in_background()
    yield server
    server.shutdown()
    server.server_close()


def _verifies(seen: tuple[str, str, list[tuple[str, str]], bytes], ak: str, sk: str) -> bool:
    """Recompute the signature from the request as received, with the SDK, as the gateway does."""
    method, target, headers, body = seen
    received = dict(headers)
    authorization = received[AUTHORIZATION_HEADER]
    match = re.search(r"SignedHeaders=([^,]+)", authorization)
    assert match is not None
    signed = match.group(1).split(";")
    path, _, query = target.partition("?")
    pairs = [
        (unquote(k), unquote(v)) for k, _, v in (p.partition("=") for p in query.split("&") if p)
    ]
    request = SdkRequest(
        method=method,
        schema="http",
        host=received["Host"],
        resource_path=path,
        query_params=pairs,
        header_params={k: v for k, v in headers if k.lower() in signed},
        body=body,
    )
    return bool(
        Signer(Credentials(ak, sk)).sign(request).header_params["Authorization"] == authorization
    )


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", f"/v1/log-file?sub_job_id={SUB_JOB}", {"X-Project-Id": PROJECT}, None),
        (
            "GET",
            "/v1/a b/%2F~/é?q=x y&q=1&b=/~&e=&é=ü",
            {"X-Security-Token": "tok+/=", "X-Note": "déjà vu\u3000 ", "X_Skipped": "x"},
            None,
        ),
        ("POST", "/v1/items", {"Content-Type": "text/plain; charset=utf-8"}, "déjà vu"),
        ("PUT", "/v1/items/1", {"Content-Type": "application/json"}, b'{"a": 1}'),
    ],
)
def test_what_arrives_verifies_as_signed(gateway, method, path, headers, body):
    """A real round trip: prepare, sign, send to loopback, recompute from what arrived."""
    url = f"http://127.0.0.1:{gateway.server_address[1]}{path}"
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment for loopback
        prepared = session.prepare_request(
            requests.Request(method, url, headers=headers, data=body)
        )
        sign_prepared(prepared, access_key=AK, secret_key=SK, now=datetime.now(UTC))
        response = session.send(prepared, timeout=10)
    assert response.status_code == 204
    (seen,) = gateway.seen
    assert seen[1] == urlsplit(parse_target(url).url)._replace(scheme="", netloc="").geturl()
    assert dict(seen[2])["Host"] == parse_target(url).host
    assert _verifies(seen, AK, SK)
    assert not _verifies(seen, AK, SK + "x")


# --- secrecy ---------------------------------------------------------------------------------


def test_the_secret_key_appears_in_no_signed_request():
    prepared = requests.Request("GET", BASE + "/v1/log-file?sub_job_id=1").prepare()
    sign_prepared(prepared, access_key=AK, secret_key=SECRET, now=NOW)
    assert SECRET not in repr(prepared.headers)
    assert SECRET not in str(prepared.url)
    assert SECRET not in repr(vars(prepared))


def test_a_request_that_cannot_be_signed_says_so_without_the_key():
    prepared = requests.Request("PUT", BASE + "/", data=iter([b"x"])).prepare()
    with pytest.raises(SigningError) as info:
        sign_prepared(prepared, access_key=AK, secret_key=SECRET, now=NOW)
    assert SECRET not in "".join(traceback.format_exception(info.value)) + repr(info.value)


def test_the_url_is_parsed_once_per_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = urlsplit

    def counting(url: str, *args: Any, **kwargs: Any) -> Any:
        parsed.append(url)
        return real(url, *args, **kwargs)

    monkeypatch.setattr(sdk_hmac, "urlsplit", counting)
    prepared = requests.Request("GET", BASE + "/v1/log-file?sub_job_id=1").prepare()
    sign_prepared(prepared, access_key=AK, secret_key=SK, now=NOW)
    assert parsed == [BASE + "/v1/log-file?sub_job_id=1"]
