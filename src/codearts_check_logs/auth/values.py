"""Single credential values, judged before any request: tokens, keys, passwords, names and
project IDs, each of a length and alphabet the services (and masking) can take. Pure."""

from __future__ import annotations

import re

from ..errors import InvalidInput

MIN_SECRET_LENGTH = 8
"""A secret shorter than this is refused, the IAM password included (IAM's default policy asks
for 8 characters as well): the runner masks every occurrence of a registered secret, and masking
a few common characters, or a word such as `failure`, would corrupt every log line. A refused
value is never registered, so it cannot edit anything (see `maskable`)."""
MAX_HEADER_SECRET = 100_000  # the CodeArts API's documented limit for X-Auth-Token
MAX_NAME = 1024
_PROJECT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def maskable(value: str) -> bool:
    """Whether `value` is long enough to be accepted, and so masked, as a secret. The entry points
    register only these before the inputs are parsed: a value too short is refused by the
    parsers below, never masked first (a one-character token masked would turn `failure` into
    `failur***`)."""
    return len(value.strip()) >= MIN_SECRET_LENGTH


def _check_secret_length(name: str, value: str) -> None:
    if len(value) < MIN_SECRET_LENGTH:
        raise InvalidInput(
            f"{name} is shorter than {MIN_SECRET_LENGTH} characters, which no real credential "
            "is (and masking it would hide those characters in every log line)"
        )


def parse_header_secret(name: str, value: str) -> str:
    """A token or security token: one header-safe word, of a length a credential has."""
    _check_secret_length(name, value)
    if len(value) > MAX_HEADER_SECRET:
        raise InvalidInput(f"{name} is longer than {MAX_HEADER_SECRET} characters")
    if any(not ("!" <= ch <= "~") for ch in value):
        raise InvalidInput(f"{name} contains spaces or characters that cannot be sent in a header")
    return value


def parse_access_key(name: str, value: str) -> str:
    """An access key: printable ASCII without spaces or commas (it is sent in `Authorization`)."""
    _check_secret_length(name, value)
    if len(value) > 256 or any(not ("!" <= ch <= "~") or ch == "," for ch in value):
        raise InvalidInput(f"{name} must be up to 256 printable ASCII characters without commas")
    return value


def parse_secret_key(name: str, value: str) -> str:
    """A secret key: printable ASCII (it keys the HMAC and is never sent)."""
    _check_secret_length(name, value)
    if len(value) > 256 or any(not ("!" <= ch <= "~") for ch in value):
        raise InvalidInput(f"{name} must be up to 256 printable ASCII characters")
    return value


def parse_password(name: str, value: str) -> str:
    """A password: any text without control characters (it travels in a JSON body), at least
    `MIN_SECRET_LENGTH` long like every secret."""
    _check_secret_length(name, value)
    if len(value) > MAX_NAME or any(ch < " " or ch == "\x7f" for ch in value):
        raise InvalidInput(
            f"{name} must be at most {MAX_NAME} characters, without control characters"
        )
    return value


def parse_name(name: str, value: str, *, spaces: bool = True) -> str:
    """A user, domain, URN, identity-provider ID or audience: printable, bounded."""
    bad = any(ch < " " or ch == "\x7f" or (not spaces and ch.isspace()) for ch in value)
    if not value or len(value) > MAX_NAME or bad:
        kind = "control characters" if spaces else "spaces or control characters"
        raise InvalidInput(f"{name} must be 1 to {MAX_NAME} characters without {kind}")
    return value


def parse_project_id(name: str, value: str) -> str:
    """Empty (looked up at IAM), else a project ID: letters, digits, `-`, `_`."""
    if value and not _PROJECT_ID.fullmatch(value):
        raise InvalidInput(
            f"{name} must be 1 to 64 letters, digits, '-' or '_', got {value[:70]!r}"
        )
    return value
