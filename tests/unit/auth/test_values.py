"""Single credential values: lengths and alphabets the services, headers and masking can take."""

from __future__ import annotations

import pytest

from codearts_check_logs.auth import values
from codearts_check_logs.errors import InvalidInput

AK = "HPUAEXAMPLEACCESSKEY"
SK = "exampleSecretKey0123456789abcdefghijklmn"


@pytest.mark.parametrize(
    "parse",
    [
        values.parse_header_secret,
        values.parse_access_key,
        values.parse_secret_key,
        values.parse_password,  # `failure` as a password would have turned `status` into `***`
    ],
)
def test_secrets_shorter_than_masking_can_take_are_refused(parse: object) -> None:
    with pytest.raises(InvalidInput, match="token is shorter than 8 characters"):
        parse("token", "seven77")  # type: ignore[operator]


def test_keys_and_tokens_keep_to_what_a_header_carries() -> None:
    assert values.parse_access_key("access-key-id", AK) == AK
    assert values.parse_secret_key("secret-access-key", SK) == SK
    with pytest.raises(InvalidInput, match="without commas"):
        values.parse_access_key("access-key-id", "AK,0123456789")
    with pytest.raises(InvalidInput, match="spaces"):
        values.parse_header_secret("token", "has a space in it")
    with pytest.raises(InvalidInput, match="longer than"):
        values.parse_header_secret("token", "x" * (values.MAX_HEADER_SECRET + 1))


def test_passwords_names_and_project_ids() -> None:
    assert values.parse_password("iam-password", "any text, even spaces") == "any text, even spaces"
    with pytest.raises(InvalidInput, match="control characters"):
        values.parse_password("iam-password", "line\nbreak")
    assert values.parse_name("iam-user", "ci bot") == "ci bot"
    with pytest.raises(InvalidInput, match="spaces or control characters"):
        values.parse_name("oidc-agency-urn", "a b", spaces=False)
    assert values.parse_project_id("project-id", "") == ""
    with pytest.raises(InvalidInput, match="project-id must be 1 to 64"):
        values.parse_project_id("project-id", "a/b")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("e", False), ("failure", False), ("  1234567 ", False), ("12345678", True)],
)
def test_only_values_long_enough_to_be_accepted_are_maskable(value: str, accepted: bool) -> None:
    """The entry points mask before they parse: only what the parsers will accept."""
    assert values.maskable(value) is accepted
