"""The package's own log records (a retry, a capped retention) as cleaned lines of the step log
or the CLI's stderr: they may quote a service's text, so they get the same cleaning as the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..textsafe import clean, for_log

_PACKAGE = __package__.rsplit(".", 1)[0] if __package__ else "codearts_check_logs"


class _LineHandler(logging.Handler):
    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        area = record.name.rsplit(".", 1)[-1]
        self._write(f"{area}: {for_log(clean(record.getMessage()))}")


def route_library_logs(write: Callable[[str], None]) -> None:
    """Send the package's log records at INFO and above to `write`, one line each."""
    logger = logging.getLogger(_PACKAGE)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [_LineHandler(write)]
