"""Credentials as request hooks: attached on their own origin only, hidden from reprs."""

from __future__ import annotations

import requests

from codearts_check_logs import secrets
from codearts_check_logs.auth.credentials import TOKEN_HEADER, TokenCredentials

TOKEN = "MIIEtoken-value-0123456789"
BASE = "https://codearts-check.cn-north-4.myhuaweicloud.com"


def prepared(url: str) -> requests.PreparedRequest:
    return requests.Request("GET", url, auth=TokenCredentials(TOKEN, BASE)).prepare()


def test_the_token_goes_to_its_origin() -> None:
    assert prepared(f"{BASE}/v1/log-file?sub_job_id=x").headers[TOKEN_HEADER] == TOKEN
    assert prepared(f"{BASE}:443/other").headers[TOKEN_HEADER] == TOKEN


def test_no_token_for_another_origin() -> None:
    for url in (
        "https://obs.example.com/x.zip",
        "http://codearts-check.cn-north-4.myhuaweicloud.com/x",
        f"{BASE}:8443/x",
    ):
        assert TOKEN_HEADER not in prepared(url).headers


def test_the_token_is_a_secret_and_not_in_the_repr() -> None:
    credentials = TokenCredentials(TOKEN, BASE)
    assert TOKEN not in repr(credentials)
    assert secrets.redact(f"echo {TOKEN}") == "echo ***"
