"""The outcome as plain text, for a terminal or another CI system's log. Pure functions."""

from __future__ import annotations

from ..errors import is_local_code
from ..outcome import Outcome
from ..textsafe import clean, for_log
from .channel import CLI, Channel
from .hints import hint_for
from .markdown import MAX_NAME, format_size, headline
from .triage_section import triage_text
from .wording import counted

LISTED_NAMES = 5


def render_text(outcome: Outcome, channel: Channel = CLI, *, brief: bool = False) -> str:
    """Every sub-job on a line or three: what was saved where, or what went wrong and why, in
    the words of `channel` (the command line's by default). `brief` (`-q`) leaves out the file
    lists and triage: the outcome and the errors only."""
    lines = [headline(outcome)]
    lines += [f"  warning: {for_log(clean(warning))}" for warning in outcome.warnings]
    if outcome.error is not None:
        error = outcome.error
        where = " / ".join(part for part in (error.service, error.step) if part)
        message = spoken(channel, error.code, error.message)
        lines.append(f"  error: {for_log(error.code)}: {for_log(message)}")
        if where:
            lines.append(f"  at: {for_log(where)}")
        hint = hint_for(error.code, error.http_status, error.step, channel)
        if hint:
            lines.append(f"  hint: {hint}")
        return "\n".join(lines) + "\n"
    for r in outcome.results:
        if r.ok:
            lines.append(
                f"  OK    {r.sub_job_id}  {for_log(clean(r.file))}  {format_size(r.size)}  "
                f"sha256 {r.sha256}"
            )
            if r.artifact_url:
                lines.append(f"        artifact: {r.artifact_url}")
            if r.listing is not None and not brief:
                shown = r.listing.members[:LISTED_NAMES]
                names = ", ".join(for_log(clean(m.name, MAX_NAME)) for m in shown)
                rest = r.listing.total - len(shown)
                more = f" and {rest} more" if rest > 0 else ""
                lines.append(f"        {counted(r.listing.total, 'file')}: {names}{more}")
            if r.unverified:
                shown_u = r.unverified[:LISTED_NAMES]
                names = ", ".join(
                    f"{for_log(clean(u.name, MAX_NAME))} ({u.reason})" for u in shown_u
                )
                rest = len(r.unverified) - len(shown_u)
                more = f" and {rest} more" if rest > 0 else ""
                lines.append(f"        not verified (data not checked): {names}{more}")
        else:
            status = f"HTTP {r.http_status}  " if r.http_status is not None else ""
            lines.append(
                f"  FAIL  {r.sub_job_id}  {status}{for_log(r.error_code)}: "
                f"{for_log(spoken(channel, r.error_code, r.error_message))}"
            )
            if r.request_id:
                lines.append(f"        request ID: {for_log(r.request_id)}")
            hint = hint_for(r.error_code, r.http_status, channel=channel)
            if hint:
                lines.append(f"        hint: {hint}")
        if r.triage is not None and not brief:
            lines += triage_text(r.triage)
    return "\n".join(lines) + "\n"


def spoken(channel: Channel, code: str, message: str) -> str:
    """Our own messages in the channel's terms; a service's text stays as the service sent it."""
    return channel.speak(message) if is_local_code(code) else message
