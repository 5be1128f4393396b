"""Text safety: hostile service text becomes one inert line, for Markdown and for logs."""

from __future__ import annotations

import re

import pytest

from codearts_check_logs import masking, textsafe
from tests.samples import HOSTILE


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_is_one_inert_line(text: str) -> None:
    cleaned = textsafe.clean(text)
    assert "\n" not in cleaned
    assert "\r" not in cleaned
    assert "\x1b" not in cleaned
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u200b]", cleaned)


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_escape_leaves_no_active_characters(text: str) -> None:
    escaped = textsafe.md(textsafe.clean(text))
    assert not re.search(r"[<>|`*_\[\]()@#!$:\\]", escaped.replace("&#", "")), escaped


def test_invalid_utf8_is_replaced() -> None:
    assert textsafe.clean(b"ok \xff\xfe done") == "ok \ufffd\ufffd done"


def test_cap_marks_the_cut() -> None:
    text = "x" * (10 * 1024 * 1024)
    capped = textsafe.clean(text)
    assert len(capped) <= textsafe.MAX_TEXT
    assert capped.endswith(f"[cut: {len(text)} characters in all]")


def test_secrets_are_scrubbed_before_the_cut() -> None:
    masking.register("s3cr3t-value-xyz")
    assert "s3cr3t" not in textsafe.clean("a" * 1990 + "s3cr3t-value-xyz")
    assert textsafe.clean("token s3cr3t-value-xyz here") == "token *** here"


def test_for_log_breaks_legacy_commands() -> None:
    assert "##[" not in textsafe.for_log("x ##[error]y")
