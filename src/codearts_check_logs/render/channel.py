"""The words of the place a message is shown. Pure.

The same failure reads differently in a workflow step and in a terminal: the action speaks of the
runner, the step's `with:` inputs and the job summary; the command line of this machine, its
options and environment variables, and the exit status. Hints are written once, as templates
whose `{fields}` each channel fills (`Channel.fill`), and our own messages, which name inputs as
action.yml spells them, are spoken in the channel's terms by `Channel.speak`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from ..inputs.metadata import input_specs

TOKEN_ENV = "CODEARTS_CHECK_TOKEN"
PASSWORD_ENV = "CODEARTS_CHECK_IAM_PASSWORD"
SDK_KEY_ENV = {
    "access-key-id": "HUAWEICLOUD_SDK_AK",
    "secret-access-key": "HUAWEICLOUD_SDK_SK",
    "security-token": "HUAWEICLOUD_SDK_SECURITY_TOKEN",
}
"""Where the command line reads the AK/SK: the official SDK's variables (huaweicloud/auth-action's
HUAWEI_CLOUD_* names are read too)."""

CLI_SPELLING = {
    "sub-job-id": "SUB_JOB_ID",
    "token": TOKEN_ENV,
    "iam-password": PASSWORD_ENV,
    **SDK_KEY_ENV,
    "path": "--output-dir",
    "upload-artifact": "--upload",
}
"""How the command line spells an input where it is not `--<input>`: a secret is an environment
variable, never an option."""

_BARE_NAMES = ("token", "region", "endpoint", "path", "overwrite", "triage")
"""Inputs whose names are also ordinary words: rewritten only where a message starts with one."""


@dataclass(frozen=True)
class Channel:
    """One channel's vocabulary: the terms a hint template names, and how inputs are spelled."""

    terms: Mapping[str, str]
    spelling: Mapping[str, str] = field(default_factory=dict)
    options: bool = False
    """Inputs are `--options` here (the command line), else plain input names (the action)."""

    def spell(self, name: str) -> str:
        """Input `name` as this channel writes it."""
        if name in self.spelling:
            return self.spelling[name]
        return f"--{name}" if self.options else name

    def fill(self, template: str) -> str:
        """`template` with each `{term}` or `{input-name}` in this channel's words."""
        return template.format_map(_Terms(self))

    def speak(self, message: str) -> str:
        """One of our messages, which names inputs as action.yml does, in this channel's
        spelling. Hyphenated names (`timeout-seconds`) are rewritten wherever they stand; a name
        that is also a word (`token`) only where it opens one of the message's parts."""
        if not self.options:
            return message
        text = self._hyphenated.sub(lambda m: self.spell(m.group(0)), message)
        return self._opening.sub(lambda m: m.group(1) + self.spell(m.group(2)), text)

    @cached_property
    def _hyphenated(self) -> re.Pattern[str]:
        names = sorted((n for n in input_specs() if "-" in n), key=len, reverse=True)
        return re.compile(rf"(?<![\w$-])(?:{'|'.join(map(re.escape, names))})(?![\w-])")

    @cached_property
    def _opening(self) -> re.Pattern[str]:
        return re.compile(rf"(^|; )({'|'.join(_BARE_NAMES)})(?= )")


class _Terms(dict[str, str]):
    """`format_map`'s lookup: a channel term, else an input name spelled for the channel."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(channel.terms)
        self._channel = channel

    def __missing__(self, key: str) -> str:
        return self._channel.spell(key)


ACTION = Channel(
    terms={
        "Machine": "The runner",
        "machine": "the runner",
        "we": "the action",
        "We": "The action",
        "fix_inputs": "Fix the step's with: inputs",
        "stopped": "The job was cancelled (or timed out at the job level) before this finished.",
        "report_with": "the step log",
        "auth_inputs": "the authentication inputs",
        "Rerun": "Re-run the job",
        "input": "input",
        "and_file_commands": ", and that the runner's file commands are usable",
    }
)
CLI = Channel(
    terms={
        "Machine": "This machine",
        "machine": "this machine",
        "we": "the command",
        "We": "The command",
        "fix_inputs": "Fix the options or environment variables named above",
        "stopped": "The command was interrupted (Ctrl-C) or terminated before this finished.",
        "report_with": "the output of the same command run with -v",
        "auth_inputs": "the credential options and environment variables",
        "Rerun": "Run the command again",
        "input": "option",
        "and_file_commands": "",
    },
    spelling=CLI_SPELLING,
    options=True,
)
