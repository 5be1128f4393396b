"""Helpers for the credential-double tests: Huawei's own SDK as the client-side signer (when
installed), so the gateway double is checked against the signatures real clients make."""

from __future__ import annotations

import functools
import importlib
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from devtools.doubles import signing
from devtools.doubles.account import ManualClock
from devtools.doubles.idtoken import SigningKey

START = 1_800_000_000.0
"""2027-01-15: a fixed 'now' for every double in a test."""


def sdk_signer() -> Any:
    """The official SDK's signer module, or skip: it is an optional dev dependency."""
    return pytest.importorskip("huaweicloudsdkcore.signer.signer")


def sdk_sign(
    ak: str,
    sk: str,
    method: str,
    url: str,
    *,
    date: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """(URL to send, headers) for a request signed by `huaweicloudsdkcore`'s Signer, which
    signs every header it is given (so pass X-Security-Token / X-Project-Id in `headers`)."""
    signer_module = sdk_signer()
    request_module: Any = importlib.import_module("huaweicloudsdkcore.sdk_request")
    parts = urlsplit(url)
    request = request_module.SdkRequest(
        method=method,
        schema=parts.scheme,
        host=parts.netloc,
        resource_path=parts.path,
        query_params=parse_qsl(parts.query, keep_blank_values=True),
        header_params={"X-Sdk-Date": date, **(headers or {})},
        body=body,
    )
    signed = signer_module.Signer(SimpleNamespace(ak=ak, sk=sk)).sign(request)
    return f"{parts.scheme}://{parts.netloc}{signed.uri}", dict(signed.header_params)


def date_at(clock: ManualClock, offset: float = 0.0) -> str:
    """`X-Sdk-Date` for the clock's now (plus `offset` seconds)."""
    return signing.sdk_date(clock() + offset)


@functools.cache
def other_key() -> SigningKey:
    """A key that is not GitHub's, made once: RSA key generation is the slow part."""
    return SigningKey.generate()
