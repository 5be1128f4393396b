"""Fixtures for the credential exchanges: the Huawei credential doubles on loopback, on a clock
the tests move by hand, and an exchange with quick retries against them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud

from codearts_check_logs.auth import exchange as exchange_module
from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.http import CancelToken

START = 1_800_000_000.0
"""2027-01-15: a fixed 'now' for the doubles and the code under test alike."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def cloud(clock: ManualClock) -> Iterator[HuaweiCloud]:
    with huawei_cloud(clock=clock) as running:
        yield running


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exchange_module, "BACKOFF_INITIAL", 0.01)
    monkeypatch.setattr(exchange_module, "BACKOFF_MAX", 0.02)


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with Exchange.opened(cancel=CancelToken(), budget=20) as opened:
        yield opened
