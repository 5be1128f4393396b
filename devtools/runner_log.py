"""A step's raw output as GitHub's log viewer shows it, for the demo.

The runner reads workflow commands from stdout and stderr and does not print them as they were
written: `::add-mask::` registers a value and its line is not shown, every later occurrence of a
registered value reads `***`, `::group::` / `::endgroup::` fold the lines between them under a
heading, annotations (`::error`, `::warning`, `::notice`) show as `Error: …` lines (and in the
run's annotation list), `::debug::` lines stay hidden unless step debug logging is on, and
`::stop-commands::<token>` prints everything verbatim until `::<token>::`. Command data is
escaped (`%25`, `%0D`, `%0A`), and shown unescaped.

This follows the workflow-command rules as GitHub documents them; it is a viewer for the demo,
not a second implementation the action relies on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MASK = "***"
_COMMAND = re.compile(r"^\s*::(?P<name>[a-z-]+)(?: (?P<props>[^:]*))?::(?P<data>.*)$")
_ANNOTATIONS = {"error": "Error", "warning": "Warning", "notice": "Notice"}


def unescape_data(text: str) -> str:
    """A command's data as the runner reads it back: `%0D`, `%0A`, then `%25`."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@dataclass
class LogView:
    """The runner's reading of one step's output, line by line."""

    secrets: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    annotations: list[tuple[str, str]] = field(default_factory=list)
    """(level, message) in the order the step raised them, masked like the log."""
    _stopped_until: str | None = None
    _in_group: bool = False

    def mask(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def feed(self, raw: str) -> None:
        if self._stopped_until is not None:
            if raw.strip() == f"::{self._stopped_until}::":
                self._stopped_until = None
            else:
                self._show(raw)
            return
        command = _COMMAND.match(raw)
        if command is None:
            self._show(raw)
            return
        name, data = command["name"], unescape_data(command["data"])
        if name == "add-mask":
            if data.strip():
                self.secrets.append(data.strip())
        elif name == "group":
            self._in_group = True
            self.lines.append(f"▼ {self.mask(data)}")
        elif name == "endgroup":
            self._in_group = False
        elif name in _ANNOTATIONS:
            message = self.mask(data)
            self.annotations.append((name, message))
            for number, part in enumerate(message.split("\n")):
                self._show(f"{_ANNOTATIONS[name]}: {part}" if number == 0 else part)
        elif name == "stop-commands":
            self._stopped_until = data
        elif name != "debug":
            self._show(raw)

    def _show(self, text: str) -> None:
        indent = "  " if self._in_group else ""
        self.lines.append(indent + self.mask(text))


def displayed(output: str) -> LogView:
    """What the log viewer shows for a step that printed `output` (stdout and stderr)."""
    view = LogView()
    for line in output.splitlines():
        view.feed(line)
    return view
