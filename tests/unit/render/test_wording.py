"""Counted nouns: one is singular, every other count (zero included) plural."""

from __future__ import annotations

import re

import pytest

from codearts_check_logs.render import markdown, text
from codearts_check_logs.render.wording import counted, plural
from tests.samples import failed_result, ok_result, outcome_of


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 files"), (1, "1 file"), (2, "2 files"), (500, "500 files")]
)
def test_counted_regular_nouns(count: int, expected: str) -> None:
    assert counted(count, "file") == expected


def test_irregular_plurals_and_phrases() -> None:
    assert counted(1, "log package") == "1 log package"
    assert counted(3, "log package") == "3 log packages"
    assert plural(1, "sub-job is", "sub-jobs are") == "sub-job is"
    assert plural(4, "sub-job is", "sub-jobs are") == "sub-jobs are"


ONE_PLURAL = re.compile(r"(?<![\d.,])1 (?:more )?[a-z-]+s\b(?<!\bs)|\(s\)")
"""`1 files`, `1 more sub-jobs`, `package(s)`: a count of one followed by a plural noun."""


def test_a_single_sub_job_with_one_file_reads_as_english() -> None:
    one = ok_result(members=1)
    rendered = markdown.render_markdown(outcome_of(one)) + text.render_text(outcome_of(one))
    assert "1 sub-job fetched" in rendered
    assert "(1 file)" in rendered
    assert "1 file:" in rendered
    assert not ONE_PLURAL.findall(rendered), ONE_PLURAL.findall(rendered)
    failed = markdown.render_markdown(outcome_of(failed_result("expired")))
    assert "1 sub-job failed" in failed
    assert not ONE_PLURAL.findall(failed)


def test_several_still_read_as_plural() -> None:
    rendered = markdown.render_markdown(outcome_of(ok_result(), failed_result("no")))
    assert "1 of 2 sub-jobs failed" in rendered
    assert "(3 files)" in rendered
