"""The one place that turns an outcome into step outputs, the job summary and annotations.

Outputs go through `GITHUB_OUTPUT` (random heredoc delimiters), the summary is appended once to
`GITHUB_STEP_SUMMARY`, and annotations are workflow commands with escaped data, at most
`MAX_ANNOTATIONS` per step (the runner shows 10 of each level; the rest is in the summary).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence

from actions_toolkit import core
from actions_toolkit.command import issue_command

from .errors import ActionError
from .outcome import FAILURE, SUCCESS, SubJobResult
from .secrets import redact
from .summary import TITLE, render_markdown
from .textsafe import clean, for_log

MAX_ANNOTATIONS = 10


def outputs_for(
    results: Sequence[SubJobResult], run_error: ActionError | None = None
) -> dict[str, str]:
    """Every declared output. Scalars describe the first sub-job; `results` holds them all."""
    failed = run_error is not None or any(not r.ok for r in results)
    first = results[0] if results else None
    if run_error is not None:
        code, message = clean(run_error.code, 200), clean(run_error.message)
    elif first is not None:
        code, message = first.error_code, first.error_message
    else:
        code = message = ""
    return {
        "status": FAILURE if failed else SUCCESS,
        "file": first.file if first else "",
        "size": "" if first is None or first.size is None else str(first.size),
        "sha256": first.sha256 if first else "",
        "artifact-id": first.artifact_id if first else "",
        "artifact-url": first.artifact_url if first else "",
        "error-code": code,
        "error-message": message,
        "results": json.dumps([r.as_json() for r in results], ensure_ascii=True),
    }


def annotations_for(
    results: Sequence[SubJobResult],
    run_error: ActionError | None,
    *,
    fail_on_error: bool,
    warnings: Sequence[str] = (),
) -> list[tuple[str, str]]:
    """(level, message) pairs: one per failure, capped, the last one counting the rest."""
    level = "error" if fail_on_error else "warning"
    messages = [("warning", clean(warning)) for warning in warnings]
    if run_error is not None:
        return [*messages, (level, f"{clean(run_error.code, 200)}: {clean(run_error.message)}")]
    for r in results:
        if not r.ok:
            status = f" (HTTP {r.http_status})" if r.http_status is not None else ""
            messages.append(
                (level, f"sub-job {r.sub_job_id}{status}: {r.error_code}: {r.error_message}")
            )
    if len(messages) > MAX_ANNOTATIONS:
        rest = len(messages) - (MAX_ANNOTATIONS - 1)
        messages = messages[: MAX_ANNOTATIONS - 1]
        messages.append((level, f"{rest} more problems: see the job summary"))
    return messages


def publish(
    results: Sequence[SubJobResult],
    run_error: ActionError | None,
    *,
    fail_on_error: bool,
    warnings: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> None:
    """Write outputs, summary and annotations for a run inside GitHub Actions."""
    env = os.environ if env is None else env
    if env.get("GITHUB_OUTPUT"):
        for name, value in outputs_for(results, run_error).items():
            core.set_output(name, redact(value))
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(redact(render_markdown(results, run_error, warnings)) + "\n")
    annotations = annotations_for(
        results, run_error, fail_on_error=fail_on_error, warnings=warnings
    )
    for level, message in annotations:
        annotate(level, message)


def annotate(level: str, message: str) -> None:
    """One `::error`/`::warning` command; the data is escaped so it stays one command, and the
    legacy `##[command]` form, which the runner matches anywhere in a line, is broken up."""
    issue_command(level, {"title": TITLE}, for_log(redact(message)))


class _LineHandler(logging.Handler):
    """Library log records (retries, a capped retention) as cleaned, single log lines."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._write = write

    def emit(self, record: logging.LogRecord) -> None:
        area = record.name.rsplit(".", 1)[-1]
        self._write(f"{area}: {for_log(clean(record.getMessage()))}")


def route_library_logs(write: Callable[[str], None]) -> None:
    """Send the package's log records to `write` (the step log, or stderr for the CLI).

    Messages may quote a service's text, so they go through the same cleaning as the rest.
    """
    logger = logging.getLogger(__package__)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [_LineHandler(write)]
