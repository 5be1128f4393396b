"""The records of what triage found, and the wording of its notes."""

from __future__ import annotations

import pytest

from codearts_check_logs.ziplog.findings import counted, defect_note, nothing, sized


def test_nothing_is_an_empty_triage_with_its_reason() -> None:
    found = nothing("triage could not open the archive: not a ZIP", truncated=False)
    assert (found.members, found.problems, found.total_problems, found.main_log) == (
        (),
        (),
        0,
        None,
    )
    assert found.notes == ("triage could not open the archive: not a ZIP",)
    assert not found.truncated


def test_a_defect_names_the_exception_type_only() -> None:
    found = defect_note(KeyError("secret-looking detail"))
    [note] = found.notes
    assert note.startswith("triage stopped on an unexpected KeyError (a defect of the action)")
    assert "secret-looking detail" not in note
    assert found.truncated


@pytest.mark.parametrize(("n", "text"), [(0, "0 lines"), (1, "1 line"), (2, "2 lines")])
def test_counted(n: int, text: str) -> None:
    assert counted(n, "line") == text


@pytest.mark.parametrize(
    ("n", "text"),
    [(300, "300 bytes"), (1024, "1 KiB"), (1536 * 1024, "1.5 MiB"), (2 << 30, "2 GiB")],
)
def test_sized(n: int, text: str) -> None:
    assert sized(n) == text
