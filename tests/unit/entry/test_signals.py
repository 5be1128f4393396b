"""Signals cancel the run instead of raising, and are remembered for the exit status."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from codearts_check_logs.entry.signals import Signals
from codearts_check_logs.net.cancel import CancelToken


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
    assert signals.received == signum
    assert cancel.event.wait(30)


def test_a_signal_while_the_main_thread_holds_a_lock_the_cancel_needs_still_cancels() -> None:
    """In a subprocess: the main thread is inside the token's lock when SIGTERM arrives, as it
    can be while it registers a session; the cancel waits for the lock instead of deadlocking."""
    code = (
        "import os, signal\n"
        "from codearts_check_logs.entry.signals import Signals\n"
        "from codearts_check_logs.net.cancel import CancelToken\n"
        "cancel = CancelToken()\n"
        "Signals(cancel)\n"
        "with cancel._lock:\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    print('handled', flush=True)\n"
        "print('cancelled' if cancel.event.wait(30) else 'not cancelled', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout) == (0, "handled\ncancelled\n")


def test_leaving_does_not_wait_for_threads_still_winding_down() -> None:
    """In a subprocess: `leave` ends this process at once when a thread is still running."""
    code = (
        "import threading, time\n"
        "from codearts_check_logs.entry.signals import leave\n"
        "threading.Thread(target=time.sleep, args=(60,)).start()\n"
        "print('left', flush=True)\n"
        "leave(3)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert (done.returncode, done.stdout) == (3, "left\n")
    assert time.monotonic() - started < 10


def test_leaving_alone_returns_the_status() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from codearts_check_logs.entry.signals import leave; "
         "sys.exit(leave(4))"],
        timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 4
