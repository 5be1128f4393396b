"""How far downloads and uploads are, for people: bars on a terminal, plain lines elsewhere.

On a terminal, `tqdm` draws one bar per sub-job and phase on stderr (it handles several bars from
several threads, resizing and redrawing, for 0.4 MB and no dependencies). When stderr is a file
or a CI system's log, bars would be noise: a plain line marks each quarter of a large transfer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ..render.markdown import format_size

if TYPE_CHECKING:
    from tqdm import tqdm

LARGE = 1 << 20
"""Transfers smaller than this get no lines of their own (they take a moment)."""
UNKNOWN_STEP = 64 << 20
"""Without a known total, a line every this many bytes."""


class TerminalProgress:
    """A `tqdm` bar per sub-job and phase; log lines are written above the bars."""

    def __init__(self, stream: TextIO) -> None:
        # Imported here, not with the module: only a terminal gets bars, and a CLI run whose
        # stderr is a CI log should not pay the milliseconds that loading tqdm costs.
        from tqdm import tqdm

        self._tqdm = tqdm
        self._stream = stream
        self._lock = threading.Lock()
        self._bars: dict[tuple[str, str], tqdm[Any]] = {}

    def write(self, line: str) -> None:
        self._tqdm.write(line, file=self._stream)

    def update(self, sub_job_id: str, phase: str, done: int, total: int | None) -> None:
        with self._lock:
            bar = self._bars.get((sub_job_id, phase)) or self._open(sub_job_id, phase, total)
            if done < bar.n or total != bar.total:
                bar.reset(total=total)  # a retry starts again from byte 0
            bar.update(done - bar.n)

    def _open(self, sub_job_id: str, phase: str, total: int | None) -> tqdm[Any]:
        bar: tqdm[Any] = self._tqdm(
            total=total,
            desc=f"{sub_job_id[:8]}… {phase}",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=self._stream,
            **_size(self._stream),
            mininterval=0.2,
            leave=True,
        )
        self._bars[(sub_job_id, phase)] = bar
        return bar

    def close(self, sub_job_id: str, phase: str) -> None:
        with self._lock:
            bar = self._bars.pop((sub_job_id, phase), None)
        if bar is not None:
            bar.close()


class LineProgress:
    """A line at each quarter of a large transfer (every 64 MiB when the size is unknown)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._lock = threading.Lock()
        self._marks: dict[tuple[str, str], int] = {}

    def update(self, sub_job_id: str, phase: str, done: int, total: int | None) -> None:
        key = (sub_job_id, phase)
        if total is not None and total < LARGE:
            return
        step = UNKNOWN_STEP if total is None else -(-total // 4)
        mark = done // step
        with self._lock:
            if done == 0:  # a start, or a retry starting again from byte 0
                self._marks[key] = 0
                return
            if mark <= self._marks.get(key, 0):
                return
            self._marks[key] = mark
        if total is None:
            self._write(f"{sub_job_id}: {phase} {format_size(done)} so far")
        else:
            percent = min(100, mark * 25)
            self._write(
                f"{sub_job_id}: {phase} {percent}% ({format_size(done)} of {format_size(total)})"
            )

    def close(self, sub_job_id: str, phase: str) -> None:
        with self._lock:
            self._marks.pop((sub_job_id, phase), None)


def _size(stream: TextIO) -> dict[str, Any]:
    """Follow the terminal's size; a terminal that reports none (a fresh pseudo-terminal, some CI
    consoles) gets 80 x 24, where tqdm would otherwise hide every bar."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError):
        size = os.terminal_size((0, 0))
    if size.columns and size.lines:
        return {"dynamic_ncols": True}
    return {"ncols": 80, "nrows": 24}
