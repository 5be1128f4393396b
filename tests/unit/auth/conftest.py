"""Fixtures for the credential exchanges: an exchange with quick retries against the Huawei
credential doubles (`cloud` and `clock` come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from codearts_check_logs.auth.exchange import Exchange
from codearts_check_logs.net import retry
from codearts_check_logs.net.cancel import CancelToken


@pytest.fixture(autouse=True)
def _quick_retries() -> Iterator[None]:
    quick = replace(retry.CREDENTIALS, initial=0.01, maximum=0.02)  # Retry-After kept whole
    with retry.using(credentials=quick):
        yield


@pytest.fixture
def exchange() -> Iterator[Exchange]:
    with Exchange.opened(cancel=CancelToken(), budget=20) as opened:
        yield opened
