"""Step outputs and annotations: what the outcome says, as values and one-line messages. Pure.

Scalar outputs describe the first sub-job; `error-code` / `error-message` the first that failed
(or the run-level failure); `problems` totals every triaged ZIP; `results` holds every sub-job.
Annotations are capped per level at the runner's display limit, the last one counting what did
not fit; triage notices come after every error and warning.

GitHub limits outputs to 1 MB, so all of them together, as written to `GITHUB_OUTPUT`, stay within
`OUTPUT_BYTES`: each scalar within `SCALAR_BYTES`, `results` within what they leave (`budget`).

In `results`, an entry's ID, status, HTTP status, size, digest, artifact ID and problem count are
small whatever happens: a 32-character ID (the inputs accept no other), `success` or `failure`,
integers, 64 hex digits, at most 19 digits. Its texts are bounded but not small: the error code
(cleaned to 200 characters), the path (4,096 bytes at most on Linux), the artifact URL (built from
the run's environment) and above all the message (2,000 characters, up to 12 bytes each in JSON).
Over budget, the messages are shortened first, longest first to one common cap, each cut one
ending in `budget.CUT`. If cutting every message to the marker alone is not enough (paths of
kilobytes for hundreds of sub-jobs, or hostile codes), every text but the ID is shortened the same
way; for 500 sub-jobs the common cap then stays above 200 bytes, so any plain code is still whole.
Only thousands of sub-jobs, more than the inputs accept, lose entries: the leading ones that fit
stay.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import is_local_code
from ..masking import redact, redact_values
from ..outcome import Outcome, SubJobResult
from ..textsafe import clean
from .budget import CUT, fit, json_size, shorten, utf8_size

if TYPE_CHECKING:
    from ..ziplog.findings import Triage

OUTPUT_BYTES = 900_000
"""Every output of the step together, as written to `GITHUB_OUTPUT`: GitHub's limit is 1 MB
(1,000,000 bytes); a tenth is kept back, since how the runner counts (names, delimiters, other
steps' outputs a job maps) is not documented."""
SCALAR_BYTES = 8 * 1024
"""Each output but `results`: room for `error-message` (2,000 characters) in any script."""
HEREDOC_BYTES = 128
"""What writing one output adds besides its name and value: `<<`, the delimiter twice
(`ghadelimiter_` and a UUID, 49 characters) and three line breaks, 106 bytes even with CRLF."""
MESSAGES = ("error_message",)
"""The `results` field shortened first when the JSON is over its budget."""
TEXTS = ("error_message", "error_code", "file", "artifact_url", "artifact_id", "sha256", "status")
"""Every text field of a `results` entry but the ID, shortened when cutting the messages does
not suffice (a text no longer than the marker, such as the status, is never cut)."""

FIXED = frozenset(
    {"status", "size", "sha256", "artifact-digest", "problems", "sub_job_id", "artifact_digest"}
)
"""Outputs and `results` fields whose values the action fixes (one of two words, numbers, hex
digits, a validated ID): never scrubbed, so no secret can change them. Every other text is
scrubbed here, field by field, before `results` is encoded; `error-code` is kept when it is one
of the action's own codes."""

MAX_PER_LEVEL = 10
"""The runner shows 10 error, 10 warning and 10 notice annotations per step."""

Annotation = tuple[str, str]
"""(level, message): level is `error`, `warning` or `notice`."""


def outputs_for(outcome: Outcome) -> dict[str, str]:
    """Every declared output, in action.yml order."""
    first = outcome.first
    failed = outcome.first_failure
    if outcome.error is not None:
        code, message = outcome.error.code, outcome.error.message
    elif failed is not None:
        code, message = failed.error_code, failed.error_message
    else:
        code = message = ""
    scalars = {
        "status": outcome.status,
        "file": first.file if first else "",
        "size": "" if first is None or first.size is None else str(first.size),
        "sha256": first.sha256 if first else "",
        "artifact-digest": first.artifact_digest if first else "",
        "artifact-id": first.artifact_id if first else "",
        "artifact-url": first.artifact_url if first else "",
        "error-code": code,
        "error-message": message,
        "problems": "" if outcome.problems is None else str(outcome.problems),
    }
    values = {
        name: shorten(_scrubbed(name, value), SCALAR_BYTES) for name, value in scalars.items()
    }
    used = sum(written_size(name, value) for name, value in values.items())
    values["results"] = results_json(
        outcome.results, OUTPUT_BYTES - used - written_size("results", "")
    )
    return values


def fixed_value(name: str, value: str) -> bool:
    """Whether the text `value` under `name` is a fixed value (`FIXED`), never scrubbed."""
    return name in FIXED or (name in {"error-code", "error_code", "code"} and is_local_code(value))


def _scrubbed(name: str, value: str) -> str:
    return value if fixed_value(name, value) else redact(value)


def written_size(name: str, value: str) -> int:
    """Bytes one output takes in `GITHUB_OUTPUT` (at most: the heredoc is counted generously)."""
    return utf8_size(name) + utf8_size(value) + HEREDOC_BYTES


def results_json(results: tuple[SubJobResult, ...], room: int) -> str:
    """The `results` array within `room` bytes: messages shortened first, then every text but
    the ID, then trailing entries left out (see the module docstring)."""
    entries = [redact_values(r.as_json(), fixed_value) for r in results]
    text = _dumps(entries)
    if len(text) <= room:
        return text
    for fields in (MESSAGES, TEXTS):
        shortened = _shortened(entries, fields, room)
        if shortened is not None:
            return shortened
    # The leading entries that fit with every text as short as `fit` may make it.
    kept, used = 0, len("[]")
    for entry in entries:
        used += len(_dumps(_least(entry))) + (len(", ") if kept else 0)
        if used > room:
            break
        kept += 1
    return _shortened(entries[:kept], TEXTS, room) or "[]"


def _least(entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` with each text `fit` would cut replaced by the marker alone: its smallest form."""
    floor = json_size(CUT)
    return {**entry, **{f: CUT if json_size(str(entry[f])) > floor else entry[f] for f in TEXTS}}


def _shortened(entries: list[dict[str, Any]], fields: tuple[str, ...], room: int) -> str | None:
    """The array with `fields` of every entry shortened to fit `room`, or None if they cannot be."""
    emptied = [{**entry, **{field: "" for field in fields}} for entry in entries]
    texts = [str(entry[field]) for entry in entries for field in fields]
    fitted = fit(texts, room - len(_dumps(emptied)), json_size)
    if fitted is None:
        return None
    values = iter(fitted)
    text = _dumps([{**entry, **{field: next(values) for field in fields}} for entry in entries])
    return text if len(text) <= room else None


def _dumps(entries: list[dict[str, Any]] | dict[str, Any]) -> str:
    """ASCII JSON, so its length in characters is its size in bytes."""
    return json.dumps(entries, ensure_ascii=True)


def annotations_for(outcome: Outcome, *, fail_on_error: bool) -> list[Annotation]:
    """One annotation per warning and per failure (a warning with `fail-on-error: false`), then
    one notice per sub-job whose logs hold problem lines."""
    level = "error" if fail_on_error else "warning"
    found: list[Annotation] = [("warning", clean(warning)) for warning in outcome.warnings]
    found += [("error", clean(problem)) for problem in outcome.channel_errors]
    if outcome.error is not None:
        error = outcome.error
        where = f" ({error.service}, {error.step})" if error.service and error.step else ""
        found.append((level, f"{error.code}{where}: {error.message}"))
    for r in outcome.results:
        if not r.ok:
            status = f" (HTTP {r.http_status})" if r.http_status is not None else ""
            found.append(
                (level, f"sub-job {r.sub_job_id}{status}: {r.error_code}: {r.error_message}")
            )
    for r in outcome.results:
        message = None if r.triage is None else notice(r.sub_job_id, r.triage)
        if message is not None:
            found.append(("notice", message))
    return cap_per_level(found)


def cap_per_level(found: list[Annotation]) -> list[Annotation]:
    """At most `MAX_PER_LEVEL` of each level, in order; the last kept one counts the rest."""
    kept: list[Annotation] = []
    for level in dict.fromkeys(lvl for lvl, _ in found):
        messages = [message for lvl, message in found if lvl == level]
        if len(messages) > MAX_PER_LEVEL:
            rest = len(messages) - (MAX_PER_LEVEL - 1)
            messages = [*messages[: MAX_PER_LEVEL - 1], f"{rest} more: see the job summary"]
        kept += [(level, message) for message in messages]
    return kept


def notice(sub_job_id: str, found: Triage) -> str | None:
    """The annotation for a sub-job with problem lines: the count and the first line, cleaned."""
    if not found.total_problems:
        return None
    count = found.total_problems
    text = f"sub-job {sub_job_id}: {count} problem line{'' if count == 1 else 's'}"
    if found.problems:
        first = found.problems[0]
        text += f"; first, {first.member}:{first.line}: {first.text}"
    return clean(text)
