"""What triage found, as the job summary and the CLI's text and JSON show it. Pure functions of
a `Triage` (the notice annotation is made with the other annotations, in `outputs`).

Every line comes from the ZIP and is untrusted. In the summary, log lines sit in an HTML `<pre>`
block inside `<details>`, one `clean_layout` line each, every character with a meaning in HTML or
Markdown written as an entity (`md`). That is inert on three counts:

- Markdown: a line starting with `<pre>` opens an HTML block that only a line containing `</pre>`
  closes; its content is never parsed as Markdown (no fences, tables, emphasis or links), and
  blank lines do not end it. No log line can hold `</pre>`, or any tag: `<` is always `&#60;`.
- HTML: with `<`, `>`, `&` and quotes as entities, the text cannot open or close an element, so
  `</pre>` or `</details>` in a log shows as text and the blocks around it stay whole.
- GitHub's filters (mentions, issue references, emoji) skip the text of `pre` elements; `@`,
  `#` and `:` are entities besides.

`clean_layout` has already turned each line into one line without control characters or escape
sequences and scrubbed the secrets, before the entities hide what a secret looks like.

Triage of one ZIP is bounded (`Limits`), but a line of 500 characters of `|` is 3 KB once
escaped: each sub-job's part gets a byte allowance (`share`), and the lines that do not fit are
counted instead of shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..textsafe import clean, clean_layout, for_log, md
from ..ziplog.findings import MemberTriage, Problem, Triage
from .budget import Budget, shorten, utf8_size
from .wording import counted, plural

SECTION_BYTES = 32 * 1024
"""The most one sub-job's triage may take in the summary."""
LINE_CHARS = 1000
"""A log line as shown: triage already cuts them at 500 characters (and says so)."""
NAME_CHARS = 200
NOTE_CHARS = 600
LISTED_FILES = 20
_ENCODINGS = {
    "utf-8-sig": "UTF-8 with BOM",
    "gb18030": "GB18030",
    "utf-8+gb18030": "UTF-8 and GB18030 lines",
}
_SKIPPED = {
    "binary": "binary, not read",
    "encrypted": "encrypted, not read",
    "unsupported compression": "compression triage does not read",
    "ZIP bomb": "ZIP bomb, not read",
    "damaged": "damaged, read in part",
    "read budget": "read budget spent",
}


def share(summary_bytes: int, sections: int) -> int:
    """Bytes for each triaged sub-job's part: at most `SECTION_BYTES`, and all of them together at
    most half the summary, so triage never crowds out the results and errors of other sub-jobs.
    `sections` counts the sub-jobs that were triaged: the others need no share."""
    return min(SECTION_BYTES, summary_bytes // (2 * max(1, sections)))


# -- the job summary ------------------------------------------------------------------------------


@dataclass
class _Room(Budget):
    """A byte budget that also counts the lines it could not hold."""

    omitted: int = 0

    def fit(self, lines: list[str]) -> list[str]:
        """The first of `lines` (each with its newline) that fit; the rest are counted."""
        shown = [line[:-1] for line in self.leading(line + "\n" for line in lines)]
        self.omitted += len(lines) - len(shown)
        return shown

    def framed(self, head: str, lines: list[str], foot: str) -> str:
        """`lines` between `head` and `foot`, as many as fit with the frame; nothing at all (and
        the frame's bytes given back) when not one line fits."""
        if not self.take(head + foot):
            self.omitted += len(lines)
            return ""
        shown = self.fit(lines)
        if not shown:
            self.left += len((head + foot).encode())
            return ""
        return head + "".join(line + "\n" for line in shown) + foot


def triage_md(found: Triage, budget: int = SECTION_BYTES) -> str:
    """The triage part of one sub-job's section: a sentence, the notes, then folding blocks with
    the first problem lines (open), the end of the main log, and the counts per file."""
    room = _Room(budget)
    parts = [f"\n**Triage:** {md(summary_sentence(found))}\n"]
    notes = room.fit([f"- ⚠️ {md(clean(note, NOTE_CHARS))}" for note in found.notes])
    if notes:
        parts.append("\n" + "\n".join(notes) + "\n")
    problems_shown = True
    if found.problems:
        block = _problems_md(found, room)
        problems_shown = bool(block)
        parts.append(block)
    # The tail only once the problem lines have had their room: it never outranks them.
    if found.tail and found.main_log is not None and problems_shown:
        last = "Last line" if len(found.tail) == 1 else f"Last {len(found.tail)} lines"
        title = f"{last} of {md(clean(found.main_log, NAME_CHARS))}"
        parts.append(_pre(title, [md(clean_layout(line, LINE_CHARS)) for line in found.tail], room))
    if found.total_problems or any(m.skipped for m in found.members):
        parts.append(_files_md(found.members, room))
    if room.omitted:
        parts.append(
            f"\n_{counted(room.omitted, 'line')} of triage {plural(room.omitted, 'is', 'are')} "
            "not shown here to keep the summary within "
            "GitHub's size limit; the ZIP holds them all._\n"
        )
    return "".join(parts)


def _problems_md(found: Triage, room: _Room) -> str:
    """The first problem lines; when not one of them fits whole, the first shortened to the room
    left, so that a small share (many sub-jobs) still shows each sub-job's first problem."""
    shown, total = len(found.problems), found.total_problems
    title = f"First {shown} of {total} problem lines" if total > shown else "Problem lines"
    block = _pre(title, [md(_problem_text(p)) for p in found.problems], room, is_open=True)
    if block:
        return block
    head = f"\n<details open><summary>{title}</summary>\n\n<pre>\n"
    foot = "</pre>\n\n</details>\n"
    left = room.left - utf8_size(head + foot) - 1  # the line's newline
    first = shorten(_problem_text(found.problems[0]), left, lambda t: utf8_size(md(t)))
    if not first or not room.take(head + md(first) + "\n" + foot):
        return ""
    room.omitted -= 1  # the first line is shown after all, shortened
    return head + md(first) + "\n" + foot


def _problem_text(problem: Problem) -> str:
    """`member:line: text`, as grep and compilers write it (not yet escaped)."""
    name = clean(problem.member, NAME_CHARS)
    return f"{name}:{problem.line}: {clean_layout(problem.text, LINE_CHARS)}"


def _pre(title: str, lines: list[str], room: _Room, *, is_open: bool = False) -> str:
    """A folding block of preformatted lines (already escaped), as many as the room holds."""
    head = f"\n<details{' open' if is_open else ''}><summary>{title}</summary>\n\n<pre>\n"
    return room.framed(head, lines, "</pre>\n\n</details>\n")


def _files_md(members: tuple[MemberTriage, ...], room: _Room) -> str:
    """A table of the files with problem lines first, then the others, at most `LISTED_FILES`."""
    ordered = sorted(members, key=lambda m: m.problems == 0)
    listed = ordered[:LISTED_FILES]
    head = (
        "\n<details><summary>Problem lines per file</summary>\n\n"
        "| File | Problem lines | Lines read | Note |\n|---|---|---|---|\n"
    )
    rows = [
        f"| {md(clean(m.name, NAME_CHARS))} | {m.problems} | {m.lines} | {_about(m)} |"
        for m in listed
    ]
    rest = ordered[LISTED_FILES:]
    if rest:
        rows.append(f"| _and {len(rest)} more_ | {sum(m.problems for m in rest)} | | |")
    return room.framed(head, rows, "\n</details>\n")


def _about(member: MemberTriage) -> str:
    if member.skipped is not None:
        return _SKIPPED.get(member.skipped, "not read")
    return _ENCODINGS.get(member.encoding, "")


def summary_sentence(found: Triage) -> str:
    """One sentence: how many problem lines in how many files (plain text, our own words)."""
    read = sum(1 for m in found.members if m.lines or m.skipped is None)
    files = f"{read} file{'' if read == 1 else 's'} read"
    with_problems = sum(1 for m in found.members if m.problems)
    count = found.total_problems
    if not read:
        text = "no text file read."
    elif not count:
        text = f"no problem lines in {files}."
    else:
        lines = f"{count} problem line{'' if count == 1 else 's'}"
        text = f"{lines} in {with_problems} of {files}."
    if found.truncated:
        text += " Triage stopped early, so the counts are lower bounds."
    return text


# -- the CLI ---------------------------------------------------------------


def triage_text(found: Triage, indent: str = "        ") -> list[str]:
    """The same triage as plain lines for a terminal. Every line starts with a fixed word, so no
    log text can begin a line (where a runner would read `::command::` after leading spaces)."""
    lines = [f"{indent}triage: {summary_sentence(found)}"]
    counts = [m for m in found.members if m.problems]
    if counts:
        listed = ", ".join(
            f"{for_log(clean(m.name, NAME_CHARS))} {m.problems}" for m in counts[:LISTED_FILES]
        )
        rest = len(counts) - LISTED_FILES
        more = f" and {rest} more {plural(rest, 'file')}" if rest > 0 else ""
        lines.append(f"{indent}problems per file: {listed}{more}")
    for problem in found.problems:
        name = clean(problem.member, NAME_CHARS)
        text = clean_layout(problem.text, LINE_CHARS)
        lines.append(f"{indent}problem: {for_log(f'{name}:{problem.line}: {text}')}")
    if found.tail and found.main_log is not None:
        lines.append(
            f"{indent}last {counted(len(found.tail), 'line')} of "
            f"{for_log(clean(found.main_log, NAME_CHARS))}:"
        )
        lines += [f"{indent}| {for_log(clean_layout(line, LINE_CHARS))}" for line in found.tail]
    lines += [f"{indent}note: {for_log(clean(note, NOTE_CHARS))}" for note in found.notes]
    return lines


def triage_json(found: Triage | None) -> dict[str, Any] | None:
    """The `triage` object of the CLI's `--json` entries (None when the ZIP was not triaged).

    Texts are cleaned as for the summary (one line, no control characters, secrets scrubbed);
    `problems` here lists the first problem lines, and the entry's own `problems` counts them all.
    """
    if found is None:
        return None
    return {
        "main_log": None if found.main_log is None else clean(found.main_log),
        "truncated": found.truncated,
        "members": [
            {
                "name": clean(m.name),
                "problems": m.problems,
                "lines": m.lines,
                "encoding": m.encoding,
                "skipped": m.skipped,
            }
            for m in found.members
        ],
        "problems": [
            {"member": clean(p.member), "line": p.line, "text": clean_layout(p.text, LINE_CHARS)}
            for p in found.problems
        ],
        "tail": [clean_layout(line, LINE_CHARS) for line in found.tail],
        "notes": [clean(note, NOTE_CHARS) for note in found.notes],
    }
