"""The wall between triage and verification: a defect in triage is a note, never a failed pass."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from codearts_check_logs.ziplog.reader import Entry
from codearts_check_logs.ziplog.shield import Shielded
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN, Scan
from codearts_check_logs.ziplog.verify import TextSink, verify


def saved(tmp_path: Path) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.log", b"ERROR one\n")
        archive.writestr("b.log", b"ERROR two\n")
    path = tmp_path / "logs.zip"
    path.write_bytes(buffer.getvalue())
    return path


def test_without_a_defect_the_wall_is_transparent(tmp_path: Path) -> None:
    wall = Shielded(Scan(BUILTIN_PATTERN))
    assert verify(saved(tmp_path), None, text=wall).members == 2
    assert wall.result().total_problems == 2


def test_a_defect_when_a_member_ends_is_a_note(tmp_path: Path) -> None:
    class Broken(Scan):
        def add(self, *args: object, **kwargs: object) -> None:
            raise KeyError("a bug")

    wall = Shielded(Broken(BUILTIN_PATTERN))
    assert verify(saved(tmp_path), None, text=wall).members == 2, "verification goes on"
    [note] = wall.result().notes
    assert note.startswith("triage stopped on an unexpected KeyError (a defect of the action)")


def test_a_defect_when_a_member_opens_stops_handing_triage_anything(tmp_path: Path) -> None:
    opened: list[str] = []

    class Broken(Scan):
        def open(self, entry: Entry, unread: str | None) -> TextSink | None:
            opened.append(entry.name)
            raise ValueError("a bug")

    wall = Shielded(Broken(BUILTIN_PATTERN))
    assert verify(saved(tmp_path), None, text=wall).members == 2
    assert opened == ["a.log"], "after the first defect triage is asked nothing more"
    assert wall.result().truncated


def test_a_defect_while_writing_or_in_the_result_is_a_note(tmp_path: Path) -> None:
    class BrokenResult(Scan):
        def result(self) -> object:  # type: ignore[override]
            raise RuntimeError("a bug")

    wall = Shielded(BrokenResult(BUILTIN_PATTERN))
    verify(saved(tmp_path), None, text=wall)
    assert "unexpected RuntimeError" in wall.result().notes[0]
