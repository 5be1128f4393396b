"""The command line's options: strict (no abbreviations), grouped help in the command line's
terms, secrets refused as options, and usage errors that name options but never values."""

from __future__ import annotations

import pytest

from codearts_check_logs.auth import ways
from codearts_check_logs.entry import cli_options
from codearts_check_logs.entry.cli_options import UsageError, parse
from codearts_check_logs.inputs.metadata import input_specs
from tests.conftest import ID1

SECRET = "S3cretValue!42"


def test_every_secret_input_comes_from_the_environment() -> None:
    assert {*cli_options.SECRET_FROM_ENV, *cli_options.SDK_ONLY} == set(ways.SECRET_INPUTS)


def test_options_mirror_the_inputs() -> None:
    parser = cli_options.build_parser()
    options = {a.dest for a in parser._actions}
    assert set(input_specs()) - set(ways.SECRET_INPUTS) <= options
    for secret in ways.SECRET_INPUTS:  # secrets on a command line end up in process listings
        assert f"--{secret}" not in parser.format_help().split()


def test_every_input_has_a_group_and_a_help_of_its_own() -> None:
    grouped = [name for names in cli_options.GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(set(input_specs()) - set(cli_options.SDK_ONLY))
    assert set(cli_options.HELP) == set(grouped)


def test_help_is_grouped_with_examples_and_exit_statuses_in_the_commands_terms() -> None:
    text = cli_options.build_parser().format_help()
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    for title in (*cli_options.GROUPS, "examples:", "exit status:"):
        assert any(h.startswith(title) for h in headings), title
    examples = text.split("examples:")[1].split("exit status:")[0]
    assert examples.count("codearts-check-logs ") == 3
    assert "CODEARTS_CHECK_TOKEN" in examples
    assert "HUAWEICLOUD_SDK_AK" in examples
    assert "| jq" in examples
    for fragment in ("130", "143", "-o DIR", "-q, --quiet", "-v, --verbose", "--no-progress"):
        assert fragment in text
    for action_word in ("the step", "runner", "job summary", "the action", "with:"):
        assert action_word not in text, action_word
    assert "--token " not in text
    assert "--secret-access-key" not in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--token", SECRET, ID1],
        [f"--token={SECRET}", ID1],
        [ID1, "--secret-access-key", SECRET],
        [ID1, "--iam-password", SECRET],
        [ID1, "--security-token", SECRET],
        [ID1, "--access-key-id", SECRET],
        [ID1, "--token"],
    ],
)
def test_a_secret_as_an_option_is_refused_with_the_variable_to_use(argv: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse(argv)
    message = caught.value.message
    assert SECRET not in message
    name = next(word for word in argv if word.startswith("--")).split("=")[0]
    assert message.startswith(f"{name} is not an option")
    assert cli_options.SECRET_OPTIONS[name] in message


def test_after_a_double_dash_a_word_is_no_option() -> None:
    assert parse(["--", ID1]).ids == [ID1]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--tok", SECRET], "--tok"),
        (["--timeout", "5"], "--timeout"),
        (["--token-e", "NAME"], "--token-e"),
        (["--js"], "--js"),
    ],
)
def test_no_option_is_abbreviated(argv: list[str], named: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse([ID1, *argv])
    assert caught.value.message.startswith(f"unknown option {named}")
    assert SECRET not in caught.value.message


def test_an_unknown_option_is_named_with_the_nearest_one() -> None:
    with pytest.raises(UsageError) as caught:
        parse([ID1, "--timout-seconds", "5"])
    assert caught.value.message == (
        "unknown option --timout-seconds; did you mean --timeout-seconds?"
    )


@pytest.mark.parametrize(
    "argv",
    [
        [f"--bogus={SECRET}"],
        ["--bogus", SECRET],
        [f"--upload={SECRET}"],
        [f"--json={SECRET}"],
        [f"-{SECRET}"],
        [f"--{SECRET}"],
        ["--quiet", "--verbose", SECRET],
    ],
)
def test_a_usage_error_never_repeats_a_value(argv: list[str]) -> None:
    with pytest.raises(UsageError) as caught:
        parse([ID1, *argv])
    assert SECRET not in caught.value.message
    assert SECRET.lower() not in caught.value.message.lower()


def test_a_missing_value_names_the_option() -> None:
    with pytest.raises(UsageError) as caught:
        parse([ID1, "--region"])
    assert caught.value.message == "argument --region: expected one argument"


def test_wants_json_is_read_before_parsing() -> None:
    assert cli_options.wants_json(["--bogus", "--json"])
    assert not cli_options.wants_json(["--", "--json"])


def test_booleans_are_flags_with_the_actions_spelling_still_understood() -> None:
    assert cli_options.flag_words(["--overwrite", "true", "--triage=false", ID1]) == [
        "--overwrite",
        "--no-triage",
        ID1,
    ]
    assert cli_options.flag_words(["--fail-on-error", "false", "--upload-artifact", "TRUE"]) == [
        "--no-fail-on-error",
        "--upload",
    ]
    assert cli_options.flag_words(["--overwrite", ID1]) == ["--overwrite", ID1], "no boolean"
    parsed = parse(["--no-triage", "--overwrite"])
    assert (parsed.triage, parsed.overwrite, parsed.__dict__["upload-artifact"]) == (
        False,
        True,
        False,
    )


def test_quiet_verbose_and_no_progress() -> None:
    assert (parse(["-q"]).quiet, parse(["-v"]).verbose, parse(["--no-progress"]).progress) == (
        True,
        True,
        False,
    )
    defaults = parse([])
    assert (defaults.quiet, defaults.verbose, defaults.progress) == (False, False, True)
