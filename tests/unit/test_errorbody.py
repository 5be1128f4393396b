"""Error bodies: every shape the official SDKs accept, also cut at the read cap; Retry-After,
gateway throttling."""

from __future__ import annotations

import email.utils
import json
import time

import pytest

from codearts_check_logs import errorbody
from codearts_check_logs.errorbody import ErrorBody, leading_members, parse_error_body


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


def test_a_body_cut_at_the_cap_keeps_the_members_before_the_cut() -> None:
    whole = json.dumps(
        {"error_code": "CC.00000400", "error_msg": "bad", "details": "x" * (2 << 20)}
    ).encode()
    assert parse_error_body(whole[: 1 << 20]) == ErrorBody("CC.00000400", "bad")


def test_a_nested_error_cut_short_keeps_its_code() -> None:
    whole = json.dumps(
        {"status": "error", "error": {"code": "CC.1", "message": "mä", "trace": ["x"] * 99}}
    ).encode()
    assert parse_error_body(whole[:-40]) == ErrorBody("CC.1", "mä")


@pytest.mark.parametrize(
    "cut",
    [
        b'{"error_code": "CC.1", "error_m',  # the message cut: the code alone
        b'{"error_code": "CC.1", "error_msg": "half a mess',
        b'  {"error_code": "CC.1"  ,',
    ],
)
def test_the_code_survives_wherever_the_cut_falls(cut: bytes) -> None:
    found = parse_error_body(cut)
    assert found is not None
    assert (found.code, found.message) == ("CC.1", "")


@pytest.mark.parametrize(
    "text", ["", "{", "[1, 2", "garbage", '{"a": ', '{"error_code": CC', '{"x": {"y": {"z"']
)
def test_leading_members_of_what_is_not_an_object(text: str) -> None:
    found = leading_members(text)
    assert found is None or found.get("error_code") is None


def test_leading_members_go_no_deeper_than_the_codes_do() -> None:
    deep = '{"a": ' * 50 + "1"
    assert leading_members(deep) is not None
