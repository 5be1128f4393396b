"""Render the outcome: Markdown for the job summary, plain text for the CLI. Pure functions.

Service text arrives cleaned (one line, capped) and is escaped here with `md`, so it cannot
add structure, HTML, mentions or references. The Markdown stays under `MAX_SUMMARY_BYTES`,
far below the runner's 1 MiB per step (beyond which it drops the whole summary): sub-jobs
that do not fit are counted, not shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import ActionError
from .logzip import Listing
from .outcome import SubJobResult, hint_for
from .textsafe import clean, for_log, md

TITLE = "CodeArts Check logs"
MAX_SUMMARY_BYTES = 256 * 1024
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


def headline(results: Sequence[SubJobResult], run_error: ActionError | None) -> str:
    """One sentence for the top of the summary and the CLI."""
    if run_error is not None:
        return f"{TITLE}: nothing fetched ({run_error.code})"
    failed = sum(not r.ok for r in results)
    if failed:
        return f"{TITLE}: {failed} of {len(results)} sub-jobs failed"
    return f"{TITLE}: {len(results)} of {len(results)} sub-jobs fetched"


def render_markdown(
    results: Sequence[SubJobResult],
    run_error: ActionError | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The job summary for one run of the action."""
    ok = run_error is None and all(r.ok for r in results)
    parts = [f"## {'✅' if ok else '❌'} {headline(results, run_error)}\n"]
    parts += [f"> ⚠️ {warning}\n" for warning in warnings]
    if run_error is not None:
        parts.append(_run_error_md(run_error))
        return "\n".join(parts)
    parts.append(_overview_md(results))
    used = sum(len(p.encode()) for p in parts)
    hidden = 0
    for result in results:
        section = _section_md(result)
        if hidden or used + len(section.encode()) > MAX_SUMMARY_BYTES:
            hidden += 1
            continue
        parts.append(section)
        used += len(section.encode())
    if hidden:
        parts.append(
            f"_{hidden} more sub-jobs are not shown here to keep the summary within GitHub's "
            "size limit; the `results` output lists every one._\n"
        )
    return "\n".join(parts)


def _run_error_md(error: ActionError) -> str:
    rows = [("error_code", md(clean(error.code, 200))), ("error_msg", md(clean(error.message)))]
    hint = hint_for(error.code, error.http_status)
    table = _table(rows)
    return table + (f"\n> **Hint:** {hint}\n" if hint else "")


def _overview_md(results: Sequence[SubJobResult]) -> str:
    lines = ["| Sub-job | Result | Size | Artifact |", "|---|---|---|---|"]
    for r in results:
        if r.ok:
            result = f"✅ saved {md(r.file)}" if r.file else "✅"
        else:
            result = f"❌ {md(r.error_code)}"
        artifact = f"[{md(r.artifact_name)}]({r.artifact_url})" if r.artifact_url else ""
        lines.append(f"| `{r.sub_job_id}` | {result} | {format_size(r.size)} | {artifact} |")
    return "\n".join(lines) + "\n"


def _section_md(r: SubJobResult) -> str:
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
    if r.hint:
        text += f"\n> **Hint:** {r.hint}\n"
    if r.listing is not None:
        text += _listing_md(r.sub_job_id, r.listing)
    return text


def _table(rows: list[tuple[str, str]]) -> str:
    """A two-column table; values arrive already escaped (or are our own Markdown)."""
    lines = ["| | |", "|---|---|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    return "\n".join(lines) + "\n"


def _listing_md(sub_job_id: str, listing: Listing) -> str:
    shown = listing.members[:LISTED_MEMBERS]
    lines = [
        "",
        f"<details><summary>Contents of {sub_job_id}.zip ({listing.total} files)</summary>",
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


def render_text(
    results: Sequence[SubJobResult],
    run_error: ActionError | None = None,
    warnings: Sequence[str] = (),
) -> str:
    """The same outcome as plain text for a terminal or another CI's log."""
    lines = [headline(results, run_error)]
    lines += [f"  warning: {for_log(clean(warning))}" for warning in warnings]
    if run_error is not None:
        lines.append(
            f"  error: {for_log(clean(run_error.code, 200))}: {for_log(clean(run_error.message))}"
        )
        hint = hint_for(run_error.code, run_error.http_status)
        if hint:
            lines.append(f"  hint: {hint}")
        return "\n".join(lines) + "\n"
    for r in results:
        if r.ok:
            lines.append(
                f"  OK    {r.sub_job_id}  {r.file}  {format_size(r.size)}  sha256 {r.sha256}"
            )
            if r.artifact_url:
                lines.append(f"        artifact: {r.artifact_url}")
            if r.listing is not None:
                names = ", ".join(for_log(clean(m.name, MAX_NAME)) for m in r.listing.members[:5])
                more = f" and {r.listing.total - 5} more" if r.listing.total > 5 else ""
                lines.append(f"        {r.listing.total} files: {names}{more}")
        else:
            status = f"HTTP {r.http_status}  " if r.http_status is not None else ""
            lines.append(
                f"  FAIL  {r.sub_job_id}  {status}{for_log(r.error_code)}: "
                f"{for_log(r.error_message)}"
            )
            if r.request_id:
                lines.append(f"        request ID: {for_log(r.request_id)}")
            if r.hint:
                lines.append(f"        hint: {r.hint}")
    return "\n".join(lines) + "\n"
