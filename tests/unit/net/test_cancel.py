"""Cancellation: a cancel wakes every blocked read and every retry wait."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from codearts_check_logs.errors import Cancelled
from codearts_check_logs.net.cancel import CancelToken
from codearts_check_logs.net.session import new_session


def test_a_cancel_wakes_a_request_waiting_for_its_answer(silent_server: str) -> None:
    cancel = CancelToken()
    session, _tracker = new_session(cancel)
    threading.Timer(0.3, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(requests.RequestException):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


def test_after_a_cancel_new_connections_fail_at_once(silent_server: str) -> None:
    cancel = CancelToken()
    cancel.cancel()
    session, _tracker = new_session(cancel)
    started = time.monotonic()
    with pytest.raises(requests.RequestException):
        session.get(silent_server, timeout=(5, 30))
    assert time.monotonic() - started < 3


def test_a_cancel_ends_a_retry_wait() -> None:
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        cancel.sleep(30)
    assert time.monotonic() - started < 3


def test_on_cancel_calls_back_once_at_the_cancel_or_at_once_when_already_cancelled() -> None:
    cancel = CancelToken()
    heard: list[str] = []
    cancel.on_cancel(lambda: heard.append("first"))
    forget = cancel.on_cancel(lambda: heard.append("forgotten"))
    forget()
    assert heard == []
    cancel.cancel()
    cancel.cancel()
    assert heard == ["first"]
    cancel.on_cancel(lambda: heard.append("late"))
    assert heard == ["first", "late"]
