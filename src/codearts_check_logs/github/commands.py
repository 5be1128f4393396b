"""The runner's channels: file commands (outputs, job summary) and workflow commands on stdout.

Formats come from `actions_toolkit` (heredoc outputs with a random delimiter, command escaping);
the file I/O is ours, so that a runner file that cannot be written is a typed failure the action
reports on its other channels, not a crash. Every text is scrubbed of registered secrets here,
the last step before it leaves the process; outputs arrive scrubbed field by field (see
`write_outputs`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from actions_toolkit.command import issue_command
from actions_toolkit.file_command import prepare_key_value_message

from ..errors import WriteFailed
from ..masking import redact
from ..textsafe import for_log

TITLE = "CodeArts Check logs"


def mask(value: str) -> None:
    """`::add-mask::` for a secret, so the runner hides it in every later log line."""
    issue_command("add-mask", {}, value)


def log(line: str) -> None:
    """A plain line in the step log (already cleaned by the caller; scrubbed here)."""
    sys.stdout.write(for_log(redact(line)) + os.linesep)
    sys.stdout.flush()


def group(title: str) -> None:
    issue_command("group", {}, redact(title))


def end_group() -> None:
    issue_command("endgroup", {}, "")


def annotate(level: str, message: str) -> None:
    """One `::error`/`::warning`/`::notice` command; the data is escaped so it stays one command,
    and the legacy `##[command]` form, which the runner matches anywhere in a line, is broken."""
    issue_command(level, {"title": TITLE}, for_log(redact(message)))


def write_outputs(path: str, values: Mapping[str, str]) -> None:
    """Append every output to the `GITHUB_OUTPUT` file in one write, each value as given.

    The values arrive scrubbed, text by text, from `render.outputs.outputs_for`: scrubbing them
    here, whole, could let a secret change a fixed value (a `status`, a digest, a code inside
    `results`).

    As heredocs (`name<<delimiter`, the value, the delimiter): `render.outputs.outputs_for`
    counts that encoding in its budget (`HEREDOC_BYTES` an output), so what this writes stays
    within GitHub's 1 MB."""
    text = "".join(
        prepare_key_value_message(name, value) + os.linesep for name, value in values.items()
    )
    _append(path, text, "GITHUB_OUTPUT")


def append_summary(path: str, markdown: str) -> None:
    """Append the Markdown to the `GITHUB_STEP_SUMMARY` file."""
    _append(path, redact(markdown) + "\n", "GITHUB_STEP_SUMMARY")


def _append(path: str, text: str, name: str) -> None:
    try:
        with open(path, "a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise WriteFailed(f"{name} could not be written: {reason}") from None
