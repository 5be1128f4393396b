"""The `-v` line per answer: where and how it went, never a credential."""

from __future__ import annotations

import logging

import pytest
import requests
import responses

from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.request_log import LOGGER, where
from codearts_check_logs.net.session import new_session


def test_where_keeps_the_path_and_hides_query_values_that_may_be_secret() -> None:
    assert where("https://h.example:8443/v1/log-file?sub_job_id=abc") == (
        "https://h.example:8443/v1/log-file?sub_job_id=abc"
    )
    signed = "https://u:p@blob.example/c/b?sv=2024&sig=SECRETSIG&se=x"
    assert where(signed) == "https://blob.example/c/b?sv=…&sig=…&se=…"
    assert "SECRETSIG" not in where(signed)
    assert "u:p" not in where(signed)


@responses.activate
def test_each_answer_is_a_debug_record_without_headers(caplog: pytest.LogCaptureFixture) -> None:
    responses.get("https://h.example/v1/log-file", status=503)
    session, _ = new_session(CancelToken())
    with caplog.at_level(logging.DEBUG, logger=LOGGER.name):
        session.get(
            "https://h.example/v1/log-file?sub_job_id=abc&token=SECRET",
            headers={"X-Auth-Token": "SECRET"},
        )
    [record] = [r for r in caplog.records if r.name == LOGGER.name]
    line = record.getMessage()
    assert line.startswith("GET https://h.example/v1/log-file?sub_job_id=abc&token=… -> HTTP 503")
    assert "SECRET" not in line


@responses.activate
def test_nothing_is_formatted_unless_asked_for(caplog: pytest.LogCaptureFixture) -> None:
    responses.get("https://h.example/x", status=200)
    session, _ = new_session(CancelToken())
    with caplog.at_level(logging.INFO, logger=LOGGER.name):
        assert session.get("https://h.example/x").status_code == 200
    assert [r for r in caplog.records if r.name == LOGGER.name] == []
    assert isinstance(session, requests.Session)
