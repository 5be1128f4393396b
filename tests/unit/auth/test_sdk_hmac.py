"""The SDK-HMAC-SHA256 algorithm against hand-checked answers and against the official SDK.

The oracle is `huaweicloudsdkcore.signer.signer.Signer` (requirements/oracle.txt), fed an
`SdkRequest` built the way the SDK's client builds one: `host` is the endpoint's netloc,
`resource_path` the path with parameters already percent-encoded, `query_params` a list of
decoded `(key, value)` pairs, `header_params` a plain dict, `body` bytes, text or None.
"""

from __future__ import annotations

import re
import traceback
from datetime import UTC, datetime, timedelta, timezone
from string import ascii_letters, ascii_uppercase, digits, hexdigits
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
import requests
from huaweicloudsdkcore.sdk_request import SdkRequest  # type: ignore[import-untyped]
from huaweicloudsdkcore.signer.signer import Signer  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codearts_check_logs.auth.sdk_hmac import (
    ALGORITHM,
    AUTHORIZATION_HEADER,
    CONTENT_SHA256_HEADER,
    DATE_HEADER,
    EMPTY_BODY_SHA256,
    UNSIGNED_PAYLOAD,
    SigningError,
    canonical_query,
    canonical_request,
    canonical_uri,
    headers_to_sign,
    parse_target,
    query_pairs,
    sign,
    signature,
    string_to_sign,
    wire_header_value,
)

AK = "HPUAEXAMPLEACCESSKEY"
SK = "exampleSecretKey0123456789abcdefghijklmn"
NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
SUB_JOB = "a777ff00d3cf4d369d87066806ae0001"


class Credentials:
    """All the SDK's Signer reads from its credentials object."""

    def __init__(self, ak: str, sk: str) -> None:
        self.ak = ak
        self.sk = sk


def oracle(
    method: str,
    host: str,
    resource_path: str,
    pairs: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes | str | None,
    date: str,
    ak: str,
    sk: str,
) -> Any:
    """The SDK's signed request. `X-Sdk-Date` is given so that the SDK uses our clock."""
    request = SdkRequest(
        method=method,
        schema="https",
        host=host,
        resource_path=resource_path,
        query_params=list(pairs),
        header_params={**headers, DATE_HEADER: date},
        body=body,
    )
    return Signer(Credentials(ak, sk)).sign(request)


def as_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else body


def url_sent(url: str) -> str:
    """The URL as it must be sent for the gateway to see what was signed."""
    return parse_target(url).url


def host_of(url: str) -> str:
    """The `Host` that is signed (and that urllib3 writes) for `url`."""
    return parse_target(url).host


# --- known answers ---------------------------------------------------------------------------


def test_empty_body_hash_is_sha256_of_nothing():
    assert EMPTY_BODY_SHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    for body in (b"", b"x"):
        text = canonical_request("GET", parse_target(BASE + "/"), {"Host": "h"}, body)
        assert text.endswith(EMPTY_BODY_SHA256) is (body == b"")


def test_path_is_signed_with_a_trailing_slash_but_sent_without():
    assert canonical_uri("/v1/log-file") == "/v1/log-file/"
    assert canonical_uri("/v1/log-file/") == "/v1/log-file/"
    assert canonical_uri("/") == "/"
    assert url_sent(BASE + "/v1/log-file") == BASE + "/v1/log-file"


def test_fixed_request_gives_the_hand_computed_authorization():
    """Every step below was computed outside Python: sha256sum and `openssl dgst -hmac`."""
    url = f"{BASE}/v1/log-file?sub_job_id={SUB_JOB}"
    full = headers_to_sign(parse_target(url), {"X-Project-Id": PROJECT}, NOW)
    assert full == {
        "X-Project-Id": PROJECT,
        "X-Sdk-Date": "20240102T030405Z",
        "Host": "codearts-check.cn-north-4.myhuaweicloud.com",
    }
    text = canonical_request("GET", parse_target(url), full, b"")
    assert text == (
        "GET\n"
        "/v1/log-file/\n"
        f"sub_job_id={SUB_JOB}\n"
        "host:codearts-check.cn-north-4.myhuaweicloud.com\n"
        f"x-project-id:{PROJECT}\n"
        "x-sdk-date:20240102T030405Z\n"
        "\n"
        "host;x-project-id;x-sdk-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    to_sign = string_to_sign(text, "20240102T030405Z")
    assert to_sign == (
        "SDK-HMAC-SHA256\n20240102T030405Z\n"
        "2f097a68a564e97735df76dc5c7c55d231c078c5f78dd6af3a73868e61943e11"
    )
    expected = "84c91da244bb237f87fafcc97e3e93cd7ab4ec2f16bc4e1444f2666a3a4c2a31"
    assert signature(SK, to_sign) == expected
    added = sign("GET", url, {"X-Project-Id": PROJECT}, b"", access_key=AK, secret_key=SK, now=NOW)
    assert added == {
        "X-Sdk-Date": "20240102T030405Z",
        "Authorization": f"{ALGORITHM} Access={AK}, "
        f"SignedHeaders=host;x-project-id;x-sdk-date, Signature={expected}",
    }


def test_the_signing_time_is_converted_to_utc():
    later = NOW.astimezone(timezone(timedelta(hours=8)))
    added = sign("GET", BASE + "/", {}, b"", access_key=AK, secret_key=SK, now=later)
    assert added[DATE_HEADER] == "20240102T030405Z"


def test_url_is_re_encoded_the_signers_way():
    url = "HTTPS://Example.COM:443/a b/%7e~/x%2Fy/?b=2&a=x+y&a=/&c#fragment"
    assert url_sent(url) == "https://example.com/a%20b/~~/x%2Fy/?a=%2F&a=x%20y&b=2&c="
    assert url_sent("http://example.com:8080") == "http://example.com:8080/"
    assert url_sent("https://[::1]:443/x?") == "https://[::1]/x"


def test_query_sorts_by_decoded_text_not_by_its_encoding():
    # "." (0x2E) sorts before "/" (0x2F) decoded, but "a%2F" sorts before "a." encoded.
    assert canonical_query([("a/", "1"), ("a.", "2")]) == "a.=2&a%2F=1"
    assert canonical_query([("k", "b"), ("k", "a"), ("k", "")]) == "k=&k=a&k=b"
    assert query_pairs("a=x+y&b&=v&&c=%zz") == [("a", "x y"), ("b", ""), ("", "v"), ("c", "%zz")]


def test_encoded_slash_in_a_segment_is_signed_as_a_separator_and_sent_encoded():
    assert canonical_uri("/v1/a%2Fb") == "/v1/a/b/"
    assert url_sent(BASE + "/v1/a%2Fb") == BASE + "/v1/a%2Fb"


def test_non_json_content_type_signs_the_body_as_unsigned_payload():
    headers = {"Content-Type": "text/plain"}
    added = sign("POST", BASE + "/", headers, b"x", access_key=AK, secret_key=SK, now=NOW)
    assert added[CONTENT_SHA256_HEADER] == UNSIGNED_PAYLOAD
    assert "x-sdk-content-sha256" in added[AUTHORIZATION_HEADER]
    full = headers_to_sign(parse_target(BASE + "/"), headers, NOW)
    assert canonical_request("POST", parse_target(BASE + "/"), full, b"x").endswith(
        "\nUNSIGNED-PAYLOAD"
    )
    for json_type in ("application/json", "application/json;charset=UTF-8", "application/bson"):
        added = sign(
            "POST", BASE + "/", {"Content-Type": json_type}, b"x", access_key=AK, secret_key=SK,
            now=NOW,
        )  # fmt: skip
        assert CONTENT_SHA256_HEADER not in added


def test_header_values_are_trimmed_and_sent_as_utf8():
    assert wire_header_value("  déjà vu\u3000") == "déjà vu".encode().decode("latin-1")
    assert wire_header_value("plain ") == "plain"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        (BASE + "/v1/../log-file", "'.' or '..'"),
        (BASE + "/v1/%2E/log-file", "'.' or '..'"),
        ("ftp://example.com/", "only http"),
        ("https://user:pw@example.com/", "user information"),
        ("https:///path", "no host"),
        ("https://exämple.com/", "ASCII"),
        ("https://example.com:99999/", "cannot be parsed"),
    ],
)
def test_urls_that_cannot_be_sent_as_signed_are_refused(url, why):
    with pytest.raises(SigningError, match=re.escape(why)):
        url_sent(url)


def test_the_signer_owns_authorization_and_date_and_needs_an_aware_time():
    for name in ("authorization", "X-SDK-DATE"):
        with pytest.raises(SigningError, match="the signer sets them"):
            sign("GET", BASE, {name: "x"}, b"", access_key=AK, secret_key=SK, now=NOW)
    with pytest.raises(SigningError, match="timezone-aware"):
        sign("GET", BASE, {}, b"", access_key=AK, secret_key=SK, now=datetime(2024, 1, 2))
    for bad in ("", "AK WITH SPACE", "AK,", "AKé"):
        with pytest.raises(SigningError, match="access key"):
            sign("GET", BASE, {}, b"", access_key=bad, secret_key=SK, now=NOW)
    with pytest.raises(SigningError, match="secret key is missing"):
        sign("GET", BASE, {}, b"", access_key=AK, secret_key="", now=NOW)


# --- the oracle ------------------------------------------------------------------------------

HOSTS = [
    ("https", "codearts-check.cn-north-4.myhuaweicloud.com"),
    ("https", "iam.ap-southeast-1.myhuaweicloud.com"),
    ("https", "127.0.0.1:8443"),
    ("http", "localhost:8080"),
    ("https", "[::1]:9443"),
]
# Decoded text for path segments and query keys and values: anything but surrogates and control
# characters, plus the characters the encodings treat specially.
TEXT_CHARS = st.one_of(
    st.characters(exclude_categories=("Cs", "Cc")),
    st.sampled_from(" /~%+&=?#;:@!$'()*,.-_é中"),
)
# A raw path as it may appear in a URL: percent escapes (valid, invalid, of `/`), spaces,
# unicode; no `?` or `#`, which would end it.
RAW_PATH_CHARS = st.one_of(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="?#/"),
    st.sampled_from(["%", "%2F", "%2f", "%7E", "%20", "%25", "%zz", "%C3%A9", "%FF", "~", " "]),
)
TCHAR = "!#$%&'*+-.^_`|~" + digits + ascii_letters
VALUE_CHARS = st.one_of(st.characters(exclude_categories=("Cs", "Cc")), st.sampled_from("\té"))
# Whitespace that str.strip() trims but HTTP's OWS does not include, and HTTP's own.
PADDING = st.text(st.sampled_from(" \t\xa0\u3000\u2028\x1f\x85"), max_size=2)
HEADER_VALUES = st.tuples(PADDING, st.text(VALUE_CHARS, max_size=10), PADDING).map("".join)


def _is_dot_segment(segment: str) -> bool:
    return unquote(segment) in {".", ".."}


@st.composite
def paths(draw: st.DrawFn) -> str:
    """A resource path as the SDK's client builds it (segments quoted with safe='') or raw."""
    if draw(st.booleans()):
        segments = draw(st.lists(st.text(TEXT_CHARS, max_size=8), max_size=5))
        segments = [quote(segment, safe="") for segment in segments]
    else:
        pieces = st.lists(RAW_PATH_CHARS, max_size=6).map("".join)
        segments = draw(st.lists(pieces, max_size=5))
    segments = [s for s in segments if not _is_dot_segment(s)]
    return "/" + "/".join(segments)


@st.composite
def queries(draw: st.DrawFn) -> tuple[list[tuple[str, str]], str]:
    """Decoded pairs (repeated keys likely) and one of several ways to write them in a URL."""
    keys = st.one_of(
        st.sampled_from(["sub_job_id", "a", "a b", "~k", "é", ""]), st.text(TEXT_CHARS, max_size=6)
    )
    values = st.one_of(st.just(""), st.text(TEXT_CHARS, max_size=8))
    pairs = draw(st.lists(st.tuples(keys, values), max_size=6))
    style = draw(st.sampled_from(["percent", "plus", "loose"]))
    if style == "percent":
        raw = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    elif style == "plus":
        raw = urlencode(pairs)
    else:
        loose = "/~:@!$'()*,;"
        raw = "&".join(
            quote(k, safe=loose)
            if k and not v
            else f"{quote(k, safe=loose)}={quote(v, safe=loose)}"
            for k, v in pairs
        )
    return pairs, raw


def _casings(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper()])


@st.composite
def header_sets(draw: st.DrawFn, host: str) -> dict[str, str]:
    """Random headers (some names with `_`), then the ones our requests really carry."""
    names = st.text(TCHAR, min_size=1, max_size=12).filter(
        lambda n: n.lower() not in {"authorization", "x-sdk-date"}
    )
    headers = draw(st.dictionaries(names, HEADER_VALUES, max_size=5))
    token = st.text(ascii_letters + digits + "+/=-_", min_size=1, max_size=48)
    specials: list[tuple[st.SearchStrategy[str], st.SearchStrategy[str]]] = [
        (_casings("X-Security-Token"), token),
        (st.just("X-Project-Id"), st.text(hexdigits.lower()[:16], min_size=32, max_size=32)),
        (
            st.sampled_from(["Content-Type", "content-type"]),
            st.sampled_from(
                [
                    "application/json",
                    "application/json;charset=UTF-8",
                    "application/bson",
                    "text/plain",
                    "application/octet-stream",
                    "Application/JSON",
                    " application/json",
                    "",
                ]
            ),
        ),
        (_casings("Host"), st.sampled_from([host, "other.example.com"])),
        (
            _casings("X-Sdk-Content-Sha256"),
            st.sampled_from(["", UNSIGNED_PAYLOAD, "abc", " déjà "]),
        ),
        (st.just("User-Agent"), st.just("huaweicloud-usdk-python/3.0")),
        (st.sampled_from(["X_Custom_Header", "x_request_id"]), HEADER_VALUES),
    ]
    for name_strategy, value_strategy in specials:
        if draw(st.booleans()):
            headers[draw(name_strategy)] = draw(value_strategy)
    return headers


methods = st.one_of(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "get", "Post"]),
    st.text(ascii_letters, min_size=1, max_size=7),
)
bodies = st.one_of(st.none(), st.binary(max_size=64), st.text(max_size=32))
access_keys = st.text(ascii_uppercase + digits, min_size=1, max_size=24)
secret_keys = st.text(min_size=1, max_size=40)  # any text but surrogates
times = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.one_of(
        st.just(UTC), st.integers(-12, 14).map(lambda h: timezone(timedelta(hours=h)))
    ),
)


@st.composite
def signing_cases(draw: st.DrawFn) -> dict[str, Any]:
    scheme, host = draw(st.sampled_from(HOSTS))
    path = draw(paths())
    pairs, raw_query = draw(queries())
    url = f"{scheme}://{host}{path}" + (f"?{raw_query}" if raw_query else "")
    return {
        "method": draw(methods),
        "url": url,
        "host": host,
        "path": path,
        "pairs": pairs,
        "headers": draw(header_sets(host)),
        "body": draw(bodies),
        "ak": draw(access_keys),
        "sk": draw(secret_keys),
        "now": draw(times),
    }


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(case=signing_cases())
def test_authorization_is_byte_identical_to_the_sdks(case):
    url, headers = case["url"], case["headers"]
    # The inputs mean the same to both sides: the URL holds this path and these pairs.
    parts = urlsplit(url)
    assert parts.path == case["path"]
    assert query_pairs(parts.query) == case["pairs"]
    assert host_of(url) == case["host"]

    ours = sign(
        case["method"], url, headers, as_bytes(case["body"]),
        access_key=case["ak"], secret_key=case["sk"], now=case["now"],
    )  # fmt: skip
    date = ours[DATE_HEADER]
    theirs = oracle(
        case["method"], case["host"], case["path"], case["pairs"], headers, case["body"], date,
        case["ak"], case["sk"],
    )  # fmt: skip
    assert ours[AUTHORIZATION_HEADER] == theirs.header_params[AUTHORIZATION_HEADER]

    # What we add is what the SDK added; the request's own values go out as the SDK sends them.
    for name, value in ours.items():
        assert theirs.header_params[name] == value
    for name, value in headers.items():
        if name not in ours:
            assert theirs.header_params[name] == wire_header_value(value)
    if not any(name.lower() == "host" for name in headers):
        assert theirs.header_params["Host"] == host_of(url)

    # The URL we send is the one signed: same query as the SDK sends, and the SDK signing our
    # re-encoded path (what the gateway sees) gives the same signature.
    sent = urlsplit(url_sent(url))
    assert sent.query == theirs.uri.partition("?")[2]
    again = oracle(
        case["method"], sent.netloc, sent.path, query_pairs(sent.query), headers, case["body"],
        date, case["ak"], case["sk"],
    )  # fmt: skip
    assert again.header_params[AUTHORIZATION_HEADER] == ours[AUTHORIZATION_HEADER]
    assert canonical_uri(sent.path) == canonical_uri(case["path"])

    # requests sends that URL as it is.
    assert requests.Request("GET", url_sent(url)).prepare().url == url_sent(url)


@pytest.mark.parametrize(
    "headers",
    [
        # The first of several same-named hash headers counts, even when empty.
        {"x-sdk-content-sha256": "", "X-SDK-CONTENT-SHA256": "abc"},
        {"X-Sdk-Content-Sha256": " d\u00e9j\u00e0 ", "Content-Type": "application/json"},
        {"X-Sdk-Content-Sha256": "abc", "Content-Type": "text/plain"},
        {"content-type": "text/plain"},
        {"X-A": "1", "x-a": "2", "X-A_b": "unsigned"},
        {"host": "Other.Example.com:8443"},
    ],
)
def test_odd_header_sets_match_the_sdk(headers):
    ours = sign("POST", BASE + "/", headers, b"x", access_key=AK, secret_key=SK, now=NOW)
    host = host_of(BASE)
    theirs = oracle("POST", host, "/", [], headers, b"x", ours[DATE_HEADER], AK, SK)
    assert ours[AUTHORIZATION_HEADER] == theirs.header_params[AUTHORIZATION_HEADER]


# --- secrecy ---------------------------------------------------------------------------------

SECRET = "Sup3r-Secret-Key-Value-0123456789"


def _error_text(call: Any) -> str:
    with pytest.raises(SigningError) as info:
        call()
    return "".join(traceback.format_exception(info.value)) + repr(info.value)


def test_the_secret_key_appears_in_no_result_and_no_error():
    added = sign("GET", BASE + "/", {}, b"", access_key=AK, secret_key=SECRET, now=NOW)
    assert SECRET not in repr(added)
    assert SECRET not in str(added)

    def signing(**overrides: Any) -> Any:
        arguments: dict[str, Any] = {
            "method": "GET",
            "url": BASE + "/",
            "headers": {},
            "body": b"",
            "access_key": AK,
            "secret_key": SECRET,
            "now": NOW,
        } | overrides
        return lambda: sign(**arguments)

    calls = [
        signing(secret_key=SECRET + "\ud800"),
        signing(url=f"https://user:{SECRET}@example.com/"),
        signing(url=f"https://example.com:{SECRET}/"),
        signing(now=datetime(2024, 1, 1)),
        signing(headers={"Authorization": SECRET}),
        signing(headers={"X-Token": SECRET + "\ud800"}),
        signing(access_key=""),
        signing(url=BASE + "/.."),
    ]
    for call in calls:
        assert SECRET not in _error_text(call)
