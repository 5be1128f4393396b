"""Signals cancel the run instead of raising, and are remembered for the exit status."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from codearts_check_logs.entry.signals import Signals, leave
from codearts_check_logs.http import CancelToken


@pytest.fixture
def restored() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("restored")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_cancels_and_is_remembered(signum: int) -> None:
    cancel = CancelToken()
    signals = Signals(cancel)
    os.kill(os.getpid(), signum)  # no KeyboardInterrupt: the handler takes it
    assert cancel.cancelled
    assert signals.received == signum


def test_leaving_with_no_other_thread_returns_the_status() -> None:
    assert leave(3) == 3
