"""The package's log records become cleaned single lines of the step log."""

from __future__ import annotations

import logging

from codearts_check_logs import masking
from codearts_check_logs.entry.library_logs import route_library_logs


def test_records_become_clean_lines_named_by_their_module() -> None:
    lines: list[str] = []
    route_library_logs(lines.append)
    masking.register("hidden-value-123")
    logging.getLogger("codearts_check_logs.artifact.twirp").info(
        "retrying %s\n::error::fake ##[error]x hidden-value-123", "now"
    )
    logging.getLogger("codearts_check_logs.artifact.twirp").debug("not shown")
    assert lines == ["twirp: retrying now ::error::fake # #[error]x ***"]
