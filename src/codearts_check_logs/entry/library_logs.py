"""The package's own log records (a retry, a capped retention) as cleaned lines of the step log
or the CLI's stderr: they may quote a service's text, so they get the same cleaning as the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..textsafe import clean, for_log

_PACKAGE = __package__.rsplit(".", 1)[0] if __package__ else "codearts_check_logs"


class _LineHandler(logging.Handler):
    def __init__(self, write: Callable[[str], None], level: int) -> None:
        super().__init__(level)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        area = record.name.rsplit(".", 1)[-1]
        self._write(f"{area}: {for_log(clean(record.getMessage()))}")


def route_library_logs(write: Callable[[str], None], level: int = logging.INFO) -> None:
    """Send the package's log records at `level` and above to `write`, one line each (DEBUG
    adds a line per HTTP answer: `net.request_log`)."""
    logger = logging.getLogger(_PACKAGE)
    logger.setLevel(level)
    logger.propagate = False
    logger.handlers = [_LineHandler(write, level)]
