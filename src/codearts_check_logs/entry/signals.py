"""What both entry points do about signals: a cancelled job stops every request and cleans up.

SIGTERM (the runner cancelling a job, `kill`, a CI system's time-out) and SIGINT (Ctrl-C) cancel
the run instead of raising in whatever line happens to run, so partial files are removed and the
outcome is still reported. The last signal is remembered, for the CLI's 130 / 143 exit statuses.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from ..net.cancel import CancelToken


class Signals:
    """Installs the handlers; `received` is the last signal number, or None."""

    def __init__(self, cancel: CancelToken) -> None:
        self.cancel = cancel
        self.received: int | None = None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = signum
        # The cancel runs on a thread of its own. The handler runs in the main thread, between
        # two of its bytecodes, maybe while that thread holds a lock the cancel takes (an
        # event's, the token's): taken here, it would wait for itself for ever.
        threading.Thread(target=self.cancel.cancel, name="cancel", daemon=True).start()


def leave(code: int) -> int:
    """`code`, as the exit status; after a cancel, sub-jobs may still be winding down in their
    threads, and the interpreter would wait for them at exit: leave at once instead."""
    if threading.active_count() > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
