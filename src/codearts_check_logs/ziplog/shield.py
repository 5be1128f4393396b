"""A wall between triage and verification: a defect in triage never fails the pass.

Triage reads text that verification's pass hands it. An exception triage did not foresee must not
end the pass (the ZIP is still checked whole), nor cost the sub-job its ZIP: `Shielded` catches it,
stops handing triage anything, and turns it into a note (`findings.defect_note`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .findings import Triage, defect_note

if TYPE_CHECKING:
    from .reader import Entry
    from .triage import Scan
    from .verify import TextSink


class Shielded:
    """A `Scan` behind a wall: a defect in triage (an exception it did not foresee) ends triage
    with a note instead of failing the pass, so it never costs the sub-job its ZIP."""

    def __init__(self, scan: Scan) -> None:
        self.scan = scan
        self.defect: Exception | None = None

    def open(self, entry: Entry, unread: str | None) -> TextSink | None:
        if self.defect is not None:
            return None
        try:
            sink = self.scan.open(entry, unread)
        except Exception as exc:
            self.defect = exc
            return None
        return None if sink is None else _ShieldedMember(self, sink)

    def result(self) -> Triage:
        if self.defect is not None:
            return defect_note(self.defect)
        try:
            return self.scan.result()
        except Exception as exc:
            return defect_note(exc)


class _ShieldedMember:
    def __init__(self, wall: Shielded, sink: TextSink) -> None:
        self.wall = wall
        self.sink = sink

    def write(self, data: bytes) -> bool:
        if self.wall.defect is not None:
            return False
        try:
            return self.sink.write(data)
        except Exception as exc:
            self.wall.defect = exc
            return False

    def close(self, damage: str | None) -> None:
        if self.wall.defect is not None:
            return
        try:
            self.sink.close(damage)
        except Exception as exc:
            self.wall.defect = exc
