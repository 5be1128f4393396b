"""Error bodies: every shape the official SDKs accept, Retry-After, gateway throttling."""

from __future__ import annotations

import email.utils
import time

import pytest

from codearts_check_logs import errorbody
from codearts_check_logs.errorbody import ErrorBody, parse_error_body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"error_code": "CC.00000003", "error_msg": "expired"}',
            ErrorBody("CC.00000003", "expired"),
        ),
        (b'{"errorCode": "CC.1", "errorMsg": "camel"}', ErrorBody("CC.1", "camel")),
        (b'{"code": "CC.2", "message": "plain"}', ErrorBody("CC.2", "plain")),
        (b'{"error": {"error_code": "CC.3", "error_msg": "nested"}}', ErrorBody("CC.3", "nested")),
        (
            b'{"status": "error", "error": {"code": "CC.4", "message": "v1"}, "result": null}',
            ErrorBody("CC.4", "v1"),
        ),
        (
            b'{"error_msg": "bad token", "error_code": "APIGW.0301", "request_id": "abc"}',
            ErrorBody("APIGW.0301", "bad token", "abc"),
        ),
        (b'{"code": 401, "message": "numeric"}', ErrorBody("401", "numeric")),
        (b'{"error": {"code": "CC.5", "msg": "short key"}}', ErrorBody("CC.5", "short key")),
        (
            b'{"error_code": "CC.6", "error_msg": "bad \xff byte"}',
            ErrorBody("CC.6", "bad \ufffd byte"),
        ),
    ],
)
def test_error_shapes_the_sdks_accept(body: bytes, expected: ErrorBody) -> None:
    assert parse_error_body(body) == expected


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"text"', b'{"status": "success", "result": {}}',
     b'{"code": true}', b'{"error_code": ""}', b"\xff\xfe", b"[" * 100_000],
)  # fmt: skip
def test_bodies_without_an_error(body: bytes) -> None:
    assert parse_error_body(body) is None


def test_retry_after() -> None:
    assert errorbody.parse_retry_after("7") == 7.0
    assert errorbody.parse_retry_after(None) is None
    assert errorbody.parse_retry_after("soon") is None
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 28 <= (errorbody.parse_retry_after(later) or 0) <= 30
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert errorbody.parse_retry_after(past) == 0


def test_throttle_codes_match_either_prefix() -> None:
    assert errorbody.is_throttled("APIGW.0308")
    assert errorbody.is_throttled("APIG.0308")
    assert not errorbody.is_throttled("CC.00000308")
