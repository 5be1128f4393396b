"""The job summary, in GitHub-flavoured Markdown. Pure functions of the run's `Outcome`.

Service text arrives cleaned (one line, capped) and is escaped here with `md`, so it cannot add
structure, HTML, mentions or references. The Markdown stays under `MAX_SUMMARY_BYTES`, far below
the runner's 1 MiB per step (beyond which it drops the whole summary), whatever the outcome holds:
every piece is measured as written, after escaping (a `|` takes 6 bytes), and drawn from one
`Budget` in order of importance. Rows, sections and messages that do not fit are counted, not
shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sized

from ..outcome import Failure, Outcome, SubJobResult
from ..textsafe import clean, md
from ..ziplog.reader import Listing
from ..ziplog.verify import Unverified
from .budget import Budget
from .hints import hint_for
from .triage_section import share, triage_md
from .wording import counted, plural

TITLE = "CodeArts Check logs"
MAX_SUMMARY_BYTES = 256 * 1024
"""The whole summary in bytes: a quarter of what the runner accepts, so it loads quickly."""
NOTES_BYTES = 1024
"""Kept back for the lines that count what did not fit: at most three, our words and numbers."""
MAX_CODE = 200
MAX_NAME = 200
LISTED_MEMBERS = 20


def format_size(size: int | None) -> str:
    """Bytes in binary units, e.g. `11.1 KiB`."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


SUB_JOBS_ARE = ("sub-job is", "sub-jobs are")


def headline(outcome: Outcome, escape: Callable[[str], str] = str) -> str:
    """One sentence for the top of the summary, the end of the log and the CLI; the service's
    code in it goes through `escape` (`md` for the summary)."""
    if outcome.error is not None:
        return f"{TITLE}: nothing fetched ({escape(clean(outcome.error.code, MAX_CODE))})"
    total = len(outcome.results)
    failed = outcome.failed_count
    cancelled = " (the job was cancelled)" if outcome.cancelled else ""
    if total == 1:
        return f"{TITLE}: 1 sub-job {'failed' if failed else 'fetched'}{cancelled}"
    if failed:
        return f"{TITLE}: {failed} of {total} sub-jobs failed{cancelled}"
    return f"{TITLE}: {total} of {total} sub-jobs fetched{cancelled}"


def render_markdown(outcome: Outcome) -> str:
    """The job summary for one run of the action, within `MAX_SUMMARY_BYTES` for any outcome.

    From one budget, in this order: the headline, the run's warnings and failed channels, the
    run-level failure or else the overview table row by row, then one section per sub-job. Each
    kind stops at its first piece that does not fit, and a line counts what it left out.
    """
    # `budget` was used by `outputs` first (the outputs are written before the summary): both
    # measure what they write with the one byte-budget mechanism rather than each its own.
    room = Budget(MAX_SUMMARY_BYTES - NOTES_BYTES)
    mark = "✅" if outcome.status == "success" else "❌"
    parts = room.leading([f"## {mark} {headline(outcome, md)}\n\n"])
    messages = [("⚠️", warning) for warning in outcome.warnings]
    messages += [("❌", problem) for problem in outcome.channel_errors]
    shown = room.leading(f"> {sign} {md(clean(text))}\n\n" for sign, text in messages)
    parts += shown
    if len(shown) < len(messages):
        parts.append(_left_out(messages, shown, ("message is", "messages are"), "not shown here"))
    if outcome.error is not None:
        parts += room.leading([_run_error_md(outcome.error) + "\n"])
        return _joined(parts)

    results = outcome.results
    table = "| Sub-job | Result | Size | Artifact |\n|---|---|---|---|\n"
    rows = room.leading(_overview_row(r) + "\n" for r in results) if room.take(table + "\n") else []
    if rows:
        parts += [table, *rows, "\n"]
    if len(rows) < len(results):
        parts.append(_left_out(results, rows, SUB_JOBS_ARE, "not in the table above", listed=True))

    triage_bytes = share(MAX_SUMMARY_BYTES, sum(r.triage is not None for r in results))
    sections = room.leading(_section_md(r, triage_bytes) + "\n" for r in results)
    parts += sections
    if len(sections) < len(results):
        what = "not shown in detail here"
        parts.append(_left_out(results, sections, SUB_JOBS_ARE, what, listed=True))
    return _joined(parts)


def _joined(parts: list[str]) -> str:
    """The pieces, each followed by a blank line but the last."""
    return "".join(parts).rstrip("\n") + "\n"


def _left_out(
    every: Sized, shown: Sized, nouns: tuple[str, str], what: str, *, listed: bool = False
) -> str:
    """The line that counts what did not fit; it takes room kept back for it (`NOTES_BYTES`).
    `nouns` is the subject with its verb, singular and plural (`sub-job is`, `sub-jobs are`)."""
    left = len(every) - len(shown)
    count = f"{left}{' more' if shown else ''}"
    where = "; the `results` output lists every one" if listed else ""
    subject = plural(left, *nouns)
    return f"_{count} {subject} {what}, to keep the summary within GitHub's size limit{where}._\n\n"


def _run_error_md(error: Failure) -> str:
    rows: list[tuple[str, str]] = []
    if error.service:
        rows.append(("Service", md(error.service)))
    if error.step:
        rows.append(("Step", md(error.step)))
    if error.http_status is not None:
        rows.append(("HTTP status", str(error.http_status)))
    rows += [("error_code", md(error.code)), ("error_msg", md(error.message))]
    if error.request_id:
        rows.append(("Request ID", md(error.request_id)))
    hint = hint_for(error.code, error.http_status, error.step)
    return _table(rows) + (f"\n> **Hint:** {hint}\n" if hint else "")


def _overview_row(r: SubJobResult) -> str:
    saved = f" saved {md(r.file)}" if r.file else ""
    result = f"✅{saved}" if r.ok else f"❌ {md(r.error_code)}"
    artifact = f"[{md(r.artifact_name)}]({r.artifact_url})" if r.artifact_url else ""
    return f"| `{r.sub_job_id}` | {result} | {format_size(r.size)} | {artifact} |"


def _section_md(r: SubJobResult, triage_bytes: int) -> str:
    mark = "✅" if r.ok else "❌"
    rows: list[tuple[str, str]] = []
    if r.file:
        rows += [("File", md(r.file)), ("Size", f"{format_size(r.size)} ({r.size} bytes)")]
        rows.append(("SHA-256", f"`{r.sha256}`"))
    if r.artifact_url:
        rows.append(("Artifact", f"[{md(r.artifact_name)}]({r.artifact_url})"))
    if not r.ok:
        rows.append(("HTTP status", "" if r.http_status is None else str(r.http_status)))
        rows += [("error_code", md(r.error_code)), ("error_msg", md(r.error_message))]
        if r.request_id:
            rows.append(("Request ID", md(r.request_id)))
    text = f"### {mark} `{r.sub_job_id}`\n\n" + _table(rows)
    hint = "" if r.ok else hint_for(r.error_code, r.http_status)
    if hint:
        text += f"\n> **Hint:** {hint}\n"
    if r.triage is not None:
        text += triage_md(r.triage, triage_bytes)
    if r.unverified:
        text += _unverified_md(r.unverified)
    if r.listing is not None:
        text += _listing_md(r.sub_job_id, r.listing)
    return text


def _unverified_md(unverified: tuple[Unverified, ...]) -> str:
    """The members whose data was not checked: never passed over in silence."""
    shown = [f"{md(clean(u.name, MAX_NAME))} ({md(u.reason)})" for u in unverified[:LISTED_MEMBERS]]
    more = len(unverified) - len(shown)
    rest = f" and {more} more" if more > 0 else ""
    count = len(unverified)
    return (
        f"\n> ⚠️ {count} member{'' if count == 1 else 's'} not verified (data not checked "
        f"against its CRC-32): {', '.join(shown)}{rest}.\n"
    )


def _table(rows: list[tuple[str, str]]) -> str:
    """A two-column table; values arrive already escaped (or are our own Markdown)."""
    lines = ["| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines) + "\n"


def _listing_md(sub_job_id: str, listing: Listing) -> str:
    shown = listing.members[:LISTED_MEMBERS]
    lines = [
        "",
        f"<details><summary>Contents of {sub_job_id}.zip ({counted(listing.total, 'file')})"
        "</summary>",
        "",
        "| File | Size |",
        "|---|---|",
    ]
    lines += [f"| {md(clean(m.name, MAX_NAME))} | {format_size(m.size)} |" for m in shown]
    more = listing.total - len(shown)
    if more > 0:
        lines.append(f"| _and {more} more_ | |")
    lines += ["", "</details>", ""]
    return "\n".join(lines)
