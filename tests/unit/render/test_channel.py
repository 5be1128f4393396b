"""Channels: the action's words and the command line's, for one set of hint templates and for
our own messages, which name inputs as action.yml does."""

from __future__ import annotations

import pytest

from codearts_check_logs.render.channel import ACTION, CLI


def test_the_action_keeps_input_names_as_they_are() -> None:
    message = "token is shorter than 8 characters; timeout-seconds must be a number"
    assert ACTION.speak(message) == message
    assert ACTION.spell("timeout-seconds") == "timeout-seconds"


@pytest.mark.parametrize(
    ("message", "spoken"),
    [
        ("timeout-seconds must be a number", "--timeout-seconds must be a number"),
        ("token is shorter than 8", "CODEARTS_CHECK_TOKEN is shorter than 8"),
        ("path 'x' exists and is not a folder", "--output-dir 'x' exists and is not a folder"),
        ("iam-user needs iam-password and iam-domain (IAM password way)",
         "--iam-user needs CODEARTS_CHECK_IAM_PASSWORD and --iam-domain (IAM password way)"),
        ("region must be ...; token contains spaces",
         "--region must be ...; CODEARTS_CHECK_TOKEN contains spaces"),
        ("the token has expired", "the token has expired"),
        ("already --timeout-seconds", "already --timeout-seconds"),
        ("a sub-job-id-like word", "a sub-job-id-like word"),
        ("secret-access-key signs requests", "HUAWEICLOUD_SDK_SK signs requests"),
    ],
)  # fmt: skip
def test_the_command_line_speaks_of_options_and_variables(message: str, spoken: str) -> None:
    assert CLI.speak(message) == spoken


def test_templates_are_filled_with_terms_or_spelled_inputs() -> None:
    template = "{Machine} could not reach {endpoint}; raise {timeout-seconds}"
    assert ACTION.fill(template) == "The runner could not reach endpoint; raise timeout-seconds"
    assert CLI.fill(template) == (
        "This machine could not reach --endpoint; raise --timeout-seconds"
    )
    assert CLI.spell("upload-artifact") == "--upload"
