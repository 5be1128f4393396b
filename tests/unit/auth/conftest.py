"""Fixtures for the credential exchanges: an exchange with quick retries against the Huawei
credential doubles (`cloud` and `clock` come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from codearts_check_logs.auth import exchange as exchange_module
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.http import CancelToken


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_module, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(exchange_module, "BACKOFF_MAX", 0.02)


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with Exchange.opened(cancel=CancelToken(), budget=20) as opened:
        yield opened
