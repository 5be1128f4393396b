"""What triage found in one ZIP: plain records, shared by triage, the pipeline and the renderers.

They hold raw, untrusted text from the logs; escaping it is the renderers' job.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024 * KiB


@dataclass(frozen=True)
class Problem:
    """One problem line: member name, 1-based line number, the line (cut, raw)."""

    member: str
    line: int
    text: str


@dataclass(frozen=True)
class MemberTriage:
    """What triage made of one file in the ZIP.

    `skipped` is None when the member was read to its end, else why it was read in part or not
    at all: `binary`, `encrypted`, `unsupported compression`, `ZIP bomb`, `damaged`, `read
    budget`, `time budget` or `cancelled`. `encoding` is `utf-8`, `utf-8-sig` (with BOM),
    `gb18030`, `utf-8+gb18030` (lines of both), or `""` if not decoded.
    """

    name: str
    problems: int
    lines: int
    encoding: str
    skipped: str | None


@dataclass(frozen=True)
class Triage:
    """The result for one ZIP.

    `problems` are the first problem lines in member order, `total_problems` all of them.
    `main_log` is, among the members triage read (fully or in part), the largest whose name
    ends in `.log`, else the largest; `tail` holds its last lines as far as triage read it.
    `truncated` is True when triage stopped before the end of the archive (the read or time
    budget ran out, a cancel, or too many members), so counts are lower bounds.
    """

    members: tuple[MemberTriage, ...]
    problems: tuple[Problem, ...]
    total_problems: int
    main_log: str | None
    tail: tuple[str, ...]
    notes: tuple[str, ...]
    bytes_read: int
    truncated: bool


def nothing(note: str, *, truncated: bool) -> Triage:
    """A triage that read nothing, for the reason in `note`."""
    return Triage((), (), 0, None, (), (note,), 0, truncated)


def defect_note(exc: Exception) -> Triage:
    """The record of a triage that stopped on a defect: nothing found, and a note that says so."""
    note = (
        f"triage stopped on an unexpected {type(exc).__name__} (a defect of the action); "
        "the ZIP is saved as downloaded"
    )
    return Triage((), (), 0, None, (), (note,), 0, truncated=True)


def counted(n: int, noun: str) -> str:
    """`1 line`, `2 lines`: the wording of triage's notes."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def sized(n: int) -> str:
    """A byte count as the notes give it: `2 GiB`, `1.5 MiB`, `300 bytes`."""
    for unit, name in ((1024 * MiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit:
            return f"{n / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{n} bytes"
