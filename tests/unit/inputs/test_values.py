"""The parsers of single values: IDs, booleans, retention, the budget, names, patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.inputs.settings import parse_settings
from codearts_check_logs.inputs.values import (
    MAX_SUB_JOBS,
    parse_artifact_name,
    parse_bool,
    parse_retention_days,
    parse_sub_job_ids,
    parse_timeout,
)
from tests.conftest import ID1, ID2
from tests.samples import raw_inputs as raw


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        (f"{ID1},{ID2}", (ID1, ID2)),
        (f"{ID1} {ID2}", (ID1, ID2)),
        (f"{ID1}\n{ID2}\n", (ID1, ID2)),
        (f"{ID1}, {ID1},\n{ID2} {ID1}", (ID1, ID2)),
    ],
)
def test_sub_job_ids_split_and_deduplicated(text: str, ids: tuple[str, ...]) -> None:
    assert parse_sub_job_ids(text) == ids


@pytest.mark.parametrize(
    "bad", ["abc", "a" * 33, "../" + "a" * 29, "a" * 30 + "%2F", "a" * 31 + "#", "a" * 31 + "/"]
)
def test_sub_job_id_rejects_anything_but_32_alphanumerics(bad: str) -> None:
    with pytest.raises(InvalidInput, match="32 characters"):
        parse_sub_job_ids(bad)


@pytest.mark.parametrize("word", ["true", "True", "TRUE"])
def test_true_spellings(word: str) -> None:
    assert parse_bool("overwrite", word) is True


@pytest.mark.parametrize("word", ["false", "False", "FALSE"])
def test_false_spellings(word: str) -> None:
    assert parse_bool("overwrite", word) is False


@pytest.mark.parametrize("word", ["yes", "no", "on", "1", "0", "tRuE", "", "true "])
def test_booleans_refuse_everything_else(word: str) -> None:
    with pytest.raises(InvalidInput, match="must be true or false"):
        parse_bool("overwrite", word)


@pytest.mark.parametrize(
    ("text", "days"), [("", None), ("0", None), ("00", None), ("1", 1), ("90", 90), ("30", 30)]
)
def test_retention_days(text: str, days: int | None) -> None:
    """`0` is the repository's default, as `actions/upload-artifact` reads it."""
    assert parse_retention_days(text) == days


@pytest.mark.parametrize("text", ["91", "abc", "-1", "1.5", "5abc", " 5"])
def test_retention_days_out_of_range(text: str) -> None:
    with pytest.raises(InvalidInput, match="retention-days"):
        parse_retention_days(text)


@pytest.mark.parametrize(("text", "seconds"), [("300", 300.0), ("0.5", 0.5), ("21600", 21600.0)])
def test_timeout(text: str, seconds: float) -> None:
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["0", "-5", "abc", "1e9", "21601", "99999999999", "nan", "inf"])
def test_timeout_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="timeout-seconds"):
        parse_timeout(text)


@pytest.mark.parametrize("char", ['"', ":", "<", ">", "|", "*", "?", "\r", "\n", "\\", "/"])
def test_artifact_name_forbidden_characters(char: str) -> None:
    with pytest.raises(InvalidInput, match="artifact-name"):
        parse_artifact_name(f"logs{char}{{sub_job_id}}")


def test_at_most_500_sub_jobs() -> None:
    ids = [f"{index:032x}" for index in range(MAX_SUB_JOBS + 1)]
    assert len(parse_sub_job_ids(",".join(ids[:-1]))) == 500
    assert len(parse_sub_job_ids(" ".join(ids[:-1] + ids[:10]))) == 500, "duplicates"
    with pytest.raises(InvalidInput, match="501 sub-jobs; at most 500"):
        parse_sub_job_ids("\n".join(ids))


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(", "not a valid regular expression"),
        ("[a-", "not a valid regular expression"),
        ("a{2,1}", "not a valid regular expression"),
        ("a*", "matches an empty line"),
        ("error|", "matches an empty line"),
        (".*", "matches an empty line"),
    ],
)
def test_bad_triage_patterns_are_invalid_input(tmp_path: Path, pattern: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as caught:
        parse_settings(raw(triage_pattern=pattern), tmp_path)
    assert caught.value.code == "INVALID_INPUT"
    assert caught.value.message.startswith("triage-pattern ")
