"""SDK-HMAC-SHA256 as Huawei's API gateway checks it: the signature recomputed from what arrived.

Two implementations answer the same question. The official SDK's `Signer`
(`huaweicloudsdkcore.signer.signer`) is Huawei's own canonicalisation, so when it is installed (an
optional dev dependency, imported lazily) the gateway double checks signatures with it and never
with a reading of the rules that a client under test might share. Without it, `builtin_signature`
(written here from the published rules) stands in; tests check that both agree.

`sign` is a small client-side signer for tests and the demo, built on the builtin rules.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CONTENT_SHA256_HEADER = "x-sdk-content-sha256"
_AUTHORIZATION = re.compile(
    r"SDK-HMAC-SHA256\s+Access=(?P<ak>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-fA-F]+)"
)

Verifier = Literal["auto", "sdk", "builtin"]


class SdkUnavailable(RuntimeError):
    """The official SDK signer was asked for but is not installed."""


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_uri(path: str) -> str:
    """Each segment decoded then re-encoded; always ends with `/`, as the gateway signs it."""
    uri = "/".join(_encode(segment) for segment in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def parse_query(query: str) -> list[tuple[str, str]]:
    """The query as decoded pairs. A `+` stays a plus: signing clients encode spaces as %20."""
    pairs = []
    for item in query.split("&"):
        if item:
            key, _, value = item.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def canonical_query(pairs: Sequence[tuple[str, str]]) -> str:
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def payload_hash(signed: Sequence[tuple[str, str]], body: bytes) -> str:
    if not body:
        return EMPTY_SHA256
    declared = dict(signed).get(CONTENT_SHA256_HEADER)
    return declared or hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    path: str,
    pairs: Sequence[tuple[str, str]],
    signed: Sequence[tuple[str, str]],
    body: bytes,
) -> str:
    """`signed` holds (lower-case name, value) for each signed header, in SignedHeaders order."""
    header_lines = "".join(f"{name}:{value.strip()}\n" for name, value in signed)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(pairs),
            header_lines,
            ";".join(name for name, _ in signed),
            payload_hash(signed, body),
        ]
    )


def string_to_sign(canonical: str, date: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{date}\n{digest}"


def builtin_signature(
    sk: str,
    method: str,
    path: str,
    pairs: Sequence[tuple[str, str]],
    signed: Sequence[tuple[str, str]],
    body: bytes,
    date: str,
) -> str:
    text = string_to_sign(canonical_request(method, path, pairs, signed, body), date)
    return hmac.new(sk.encode(), text.encode(), hashlib.sha256).hexdigest()


def sent_text(value: str) -> str:
    """A received header value as the client wrote it: `http.server` decodes header bytes as
    Latin-1, while the SDK signs the text before encoding it as UTF-8."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def sdk_available() -> bool:
    try:
        importlib.import_module("huaweicloudsdkcore.signer.signer")
    except ImportError:
        return False
    return True


def sdk_signature(
    sk: str,
    method: str,
    path: str,
    pairs: Sequence[tuple[str, str]],
    signed: Sequence[tuple[str, str]],
    body: bytes,
    date: str,
) -> str:
    """The signature as the official SDK computes it for exactly these signed headers."""
    try:
        signer_module: Any = importlib.import_module("huaweicloudsdkcore.signer.signer")
        request_module: Any = importlib.import_module("huaweicloudsdkcore.sdk_request")
    except ImportError as exc:
        raise SdkUnavailable("huaweicloudsdkcore is not installed") from exc
    signer = signer_module.Signer(SimpleNamespace(ak="verifier", sk=sk))
    request = request_module.SdkRequest(
        method=method,
        resource_path=path,
        query_params=list(pairs),
        header_params=dict(signed),
        body=body,
    )
    # The SDK's own steps, minus the ones that add headers: the gateway checks the headers that
    # the client listed, no more and no fewer.
    canonical = signer._process_canonical_request(request, [name for name, _ in signed])
    moment = datetime.strptime(date, DATE_FORMAT)  # naive UTC, as the SDK parses it
    text = signer._process_string_to_sign(canonical, moment)
    return str(signer._sign_string_to_sign(text, sk))


def signature(
    verifier: Verifier,
    sk: str,
    method: str,
    path: str,
    pairs: Sequence[tuple[str, str]],
    signed: Sequence[tuple[str, str]],
    body: bytes,
    date: str,
) -> str:
    """The expected signature, computed by the SDK (`sdk`, or `auto` when installed) or here."""
    use_sdk = verifier == "sdk" or (verifier == "auto" and sdk_available())
    compute = sdk_signature if use_sdk else builtin_signature
    return compute(sk, method, path, pairs, signed, body, date)


def parse_authorization(value: str) -> tuple[str, list[str], str] | None:
    """(AK, signed header names, signature) from an SDK-HMAC-SHA256 Authorization header."""
    match = _AUTHORIZATION.fullmatch(value.strip())
    if match is None:
        return None
    return match["ak"], match["signed"].split(";"), match["signature"].lower()


def sdk_date(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime(DATE_FORMAT)


def sign(
    ak: str,
    sk: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    date: str,
    security_token: str | None = None,
    project_id: str | None = None,
) -> dict[str, str]:
    """The headers to send with a request signed as the SDK signs it (every header signed)."""
    parts = urlsplit(url)
    sent = {
        **(headers or {}),
        "Host": parts.netloc,
        "X-Sdk-Date": date,
        **({"X-Security-Token": security_token} if security_token else {}),
        **({"X-Project-Id": project_id} if project_id else {}),
    }
    signed = sorted((name.lower(), value) for name, value in sent.items() if "_" not in name)
    digest = builtin_signature(
        sk, method, parts.path or "/", parse_query(parts.query), signed, body, date
    )
    names = ";".join(name for name, _ in signed)
    sent["Authorization"] = f"{ALGORITHM} Access={ak}, SignedHeaders={names}, Signature={digest}"
    return sent
