"""Progress for people: plain lines at each quarter off a terminal, bars on one."""

from __future__ import annotations

import io

from codearts_check_logs.entry.progress import LARGE, UNKNOWN_STEP, LineProgress, TerminalProgress

ID = "a777ff00d3cf4d369d87066806ae0001"
MIB = 1 << 20


def test_a_line_at_each_quarter_of_a_large_transfer() -> None:
    lines: list[str] = []
    progress = LineProgress(lines.append)
    for done in range(0, 8 * MIB + 1, MIB // 4):
        progress.update(ID, "download", done, 8 * MIB)
    assert lines == [
        f"{ID}: download 25% (2.0 MiB of 8.0 MiB)",
        f"{ID}: download 50% (4.0 MiB of 8.0 MiB)",
        f"{ID}: download 75% (6.0 MiB of 8.0 MiB)",
        f"{ID}: download 100% (8.0 MiB of 8.0 MiB)",
    ]


def test_a_retry_starts_the_quarters_again_and_small_transfers_say_nothing() -> None:
    lines: list[str] = []
    progress = LineProgress(lines.append)
    progress.update(ID, "upload", 5 * MIB, 8 * MIB)
    progress.update(ID, "upload", 0, 8 * MIB)
    progress.update(ID, "upload", 3 * MIB, 8 * MIB)
    progress.update(ID, "download", LARGE - 1, LARGE - 1)
    assert lines == [
        f"{ID}: upload 50% (5.0 MiB of 8.0 MiB)",
        f"{ID}: upload 25% (3.0 MiB of 8.0 MiB)",
    ]


def test_without_a_known_size_a_line_every_step() -> None:
    lines: list[str] = []
    progress = LineProgress(lines.append)
    for done in (MIB, UNKNOWN_STEP, UNKNOWN_STEP + MIB, 2 * UNKNOWN_STEP):
        progress.update(ID, "download", done, None)
    assert lines == [f"{ID}: download 64.0 MiB so far", f"{ID}: download 128.0 MiB so far"]


def test_bars_follow_the_bytes_and_restart_with_a_retry() -> None:
    stream = io.StringIO()
    bars = TerminalProgress(stream)
    bars.update(ID, "download", 0, 8 * MIB)
    bars.update(ID, "download", 6 * MIB, 8 * MIB)
    bars.update(ID, "download", 0, 8 * MIB)
    bars.update(ID, "download", 8 * MIB, 8 * MIB)
    bars.write("a log line")
    bars.close(ID, "download")
    text = stream.getvalue()
    assert "a777ff00… download" in text
    assert "100%" in text
    assert "a log line\n" in text
