"""Fixtures for the credential doubles: a manual clock and the whole cloud on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from devtools.doubles.account import ManualClock
from devtools.doubles.cloud import HuaweiCloud, huawei_cloud

from tests.doubles.helpers import START


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def cloud(clock: ManualClock) -> Iterator[HuaweiCloud]:
    with huawei_cloud(clock=clock) as running:
        yield running
