"""One member's text, as triage reads it while verification's pass inflates it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import rules
from .findings import MemberTriage, counted
from .lines import LineReader
from .pattern import Stopped

if TYPE_CHECKING:
    from .reader import Entry
    from .triage import Scan


class MemberReader:
    """Triage's reader of one member (a `verify.TextSink`): the bytes the pass inflates, cut to
    the scan's byte budget, sniffed for binary data, split into lines and tested; what it found
    goes back to the scan when the member ends."""

    def __init__(self, scan: Scan, entry: Entry) -> None:
        self.scan = scan
        self.entry = entry
        limits = scan.limits
        self.reader = LineReader(
            scan.matcher,
            scan.watch,
            cap=limits.max_line_chars,
            keep=limits.max_problems - len(scan.problems),
            tail_lines=limits.tail_lines,
        )
        self.size = 0
        self.binary = False
        self.stopped: str | None = None

    def write(self, data: bytes) -> bool:
        scan = self.scan
        if self.stopped is not None or scan.stopped is not None:
            return False
        first = not self.size
        data = data[: max(0, scan.budget)]
        self.size += len(data)
        scan.bytes_read += len(data)
        scan.budget -= len(data)
        if first and rules.looks_binary(data[:65536]):
            self.binary = True
            return False
        try:
            self.reader.feed(data)
        except Stopped as exc:
            scan.stop(exc.reason, self.entry.name)
            self.stopped = exc.reason
            return False
        if scan.budget <= 0:
            if self.size < self.entry.size:
                self.stopped = "read budget"
                scan.cut = self.entry.name
            return False
        return True

    def close(self, damage: str | None) -> None:
        scan, name = self.scan, self.entry.name
        if self.binary:
            scan.binary += 1
            scan.members.append(MemberTriage(name, 0, 0, "", "binary"))
            return
        try:
            self.reader.close()
        except Stopped as exc:
            scan.stop(exc.reason, name)
            self.stopped = self.stopped or exc.reason
        stopped = self.stopped
        if damage is not None:
            stopped = "damaged"
            scan.member_notes.append(
                f"{name} is damaged ({damage}); only the {counted(self.reader.lines, 'line')} "
                "read before that count"
            )
        scan.add(name, self.entry.size, self.reader, stopped)
