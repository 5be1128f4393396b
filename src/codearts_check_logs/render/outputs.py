"""Step outputs and annotations: what the outcome says, as values and one-line messages. Pure.

Scalar outputs describe the first sub-job; `error-code` / `error-message` the first that failed
(or the run-level failure); `problems` totals every triaged ZIP; `results` holds every sub-job.
Annotations are capped per level at the runner's display limit, the last one counting what did
not fit; triage notices come after every error and warning.
"""

from __future__ import annotations

import json

from ..outcome import Outcome
from .textsafe import clean
from .triage import notice

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
    return {
        "status": outcome.status,
        "file": first.file if first else "",
        "size": "" if first is None or first.size is None else str(first.size),
        "sha256": first.sha256 if first else "",
        "artifact-id": first.artifact_id if first else "",
        "artifact-url": first.artifact_url if first else "",
        "error-code": code,
        "error-message": message,
        "problems": "" if outcome.problems is None else str(outcome.problems),
        "results": json.dumps([r.as_json() for r in outcome.results], ensure_ascii=True),
    }


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
