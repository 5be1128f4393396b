"""The job summary: every field of a failure, the ZIP's contents, hostile text inert, its size
bounded."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codearts_check_logs.errors import AuthFailed, InvalidInput
from codearts_check_logs.outcome import Outcome, SubJobResult
from codearts_check_logs.render import markdown
from tests.conftest import ID1, ID2
from tests.samples import HOSTILE, failed_result, ok_result, outcome_of


@pytest.mark.parametrize("text", HOSTILE)
def test_summary_structure_survives_hostile_text(text: str) -> None:
    rendered = markdown.render_markdown(outcome_of(ok_result(), failed_result(text)))
    table_rows = [line for line in rendered.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") for line in table_rows)
    assert all(line.count("|") in (3, 5) for line in table_rows)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "@octocat" not in rendered
    assert "#123" not in rendered
    assert not any(line.lstrip().startswith("::") for line in rendered.splitlines())


def test_success_summary_shows_size_digest_and_members() -> None:
    rendered = markdown.render_markdown(outcome_of(ok_result(members=120)))
    assert rendered.startswith("## ✅ CodeArts Check logs: 1 sub-job fetched")
    assert "11.1 KiB (11319 bytes)" in rendered
    assert f"| SHA-256 | `{'ab' * 32}` |" in rendered
    assert f"Contents of {ID1}.zip (120 files)" in rendered
    assert f"| _and {120 - markdown.LISTED_MEMBERS} more_ | |" in rendered


def test_failure_summary_has_every_field() -> None:
    rendered = markdown.render_markdown(
        outcome_of(failed_result("Authentication information expired."))
    )
    for fragment in (
        "| HTTP status | 401 |",
        "| error_code | CC.00000003 |",
        "| error_msg | Authentication information expired. |",
        "| Request ID | req-42 |",
        "**Hint:** The token has expired",
    ):
        assert fragment in rendered


def test_summary_stays_far_below_the_step_limit() -> None:
    failed = failed_result("|" * (10 * 1024 * 1024))
    results = [replace(failed, sub_job_id=f"{i:032d}") for i in range(300)]
    results += [ok_result(f"{i:032x}", members=10_000) for i in range(300, 400)]
    rendered = markdown.render_markdown(outcome_of(*results))
    size = len(rendered.encode())
    assert size < markdown.MAX_SUMMARY_BYTES + 64 * 1024
    assert size < 1024 * 1024
    assert "more sub-jobs are not shown" in rendered


def test_artifact_link_in_summary() -> None:
    result = replace(
        ok_result(),
        artifact_id="77",
        artifact_name="logs.zip",
        artifact_url="https://github.com/o/r/actions/runs/1/artifacts/77",
    )
    rendered = markdown.render_markdown(outcome_of(result))
    assert "[logs.zip](https://github.com/o/r/actions/runs/1/artifacts/77)" in rendered


def test_run_level_failure_names_the_service_and_the_step() -> None:
    error = AuthFailed(
        "The password is wrong", service="IAM", step="password token", code="IAM.0004"
    )
    rendered = markdown.render_markdown(Outcome.failed(error))
    assert rendered.startswith("## ❌ CodeArts Check logs: nothing fetched (IAM.0004)")
    assert "| Service | IAM |" in rendered
    assert "| Step | password token |" in rendered
    assert "| error_msg | The password is wrong |" in rendered
    assert "**Hint:** IAM refused the user, password or domain" in rendered


def test_invalid_input_summary_has_its_hint() -> None:
    rendered = markdown.render_markdown(Outcome.failed(InvalidInput("token is required")))
    assert "| error_code | INVALID&#95;INPUT |" in rendered
    assert "nothing was sent to the service" in rendered


def test_runner_files_that_failed_are_named() -> None:
    outcome = replace(
        outcome_of(ok_result()),
        channel_errors=("GITHUB_OUTPUT could not be written: Is a directory",),
    )
    rendered = markdown.render_markdown(outcome)
    assert "GITHUB&#95;OUTPUT could not be written" in rendered


def test_cancelled_run_says_so() -> None:
    outcome = replace(outcome_of(ok_result(), failed_result("x", ID2)), cancelled=True)
    assert "(the job was cancelled)" in markdown.headline(outcome)


# -- the budget holds for any number of sub-jobs and any text -----------------------------------

# 2,000 characters (the cap on service text) that grow most when escaped: `|` is `&#124;`.
LONG_HOSTILE = ("|<>&@#`*_" * 250)[:2000]
MIB = 1024 * 1024


def many_failed(count: int) -> list[SubJobResult]:
    """Failures whose code (200 characters, the most a code has) and message escape to ~6 bytes
    a character."""
    failed = failed_result(LONG_HOSTILE)
    return [
        replace(failed, sub_job_id=f"{i:032d}", error_code="CC." + "|" * 197) for i in range(count)
    ]


def many_saved(count: int) -> list[SubJobResult]:
    """Saved ZIPs with long names and artifact names full of characters Markdown must escape."""
    return [
        replace(
            ok_result(f"{i:032x}"),
            file=f"logs/{'_|' * 900}/{i:032x}.zip",
            artifact_id=str(i),
            artifact_name=f"{'*_' * 100}{i}",
            artifact_url=f"https://github.com/o/r/actions/runs/1/artifacts/{i}",
        )
        for i in range(count)
    ]


def table_rows(rendered: str) -> list[str]:
    return [line for line in rendered.splitlines() if line.startswith("| `")]


def counted(rendered: str, what: str) -> int:
    """The number in the line that counts what did not fit, 0 without one."""
    pattern = what.replace("sub-jobs are", "(?:sub-jobs are|sub-job is)")
    found = re.search(rf"^_(\d+)(?: more)? {pattern}", rendered, re.MULTILINE)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("make", [many_failed, many_saved])
def test_the_overview_table_is_within_the_budget_rows_that_do_not_fit_are_counted(
    make: Callable[[int], list[SubJobResult]],
) -> None:
    """1,000 sub-jobs with long escaped text: the overview table alone used to take more than the
    runner's 1 MiB, and the runner then drops the whole summary."""
    results = make(1000)
    rendered = markdown.render_markdown(outcome_of(*results))
    assert len(rendered.encode()) <= markdown.MAX_SUMMARY_BYTES < MIB
    rows = table_rows(rendered)
    assert 0 < len(rows) < 1000
    assert len(rows) + counted(rendered, "sub-jobs are not in the table above") == 1000
    assert "the `results` output lists every one" in rendered
    assert [row.split("`")[1] for row in rows] == [r.sub_job_id for r in results[: len(rows)]]
    assert all(row.endswith("|") and row.count("|") == 5 for row in rows), "no row is cut"


def test_sub_job_sections_come_after_the_whole_table_and_are_counted() -> None:
    results = many_failed(150)  # every row fits; sections for only some of them
    rendered = markdown.render_markdown(outcome_of(*results))
    assert len(rendered.encode()) <= markdown.MAX_SUMMARY_BYTES
    assert len(table_rows(rendered)) == 150
    assert counted(rendered, "sub-jobs are not in the table above") == 0
    sections = rendered.count("\n### ❌ `")
    assert 0 < sections < 150
    assert sections + counted(rendered, "sub-jobs are not shown in detail here") == 150


def test_run_level_messages_are_within_the_budget_too() -> None:
    outcome = replace(
        outcome_of(*many_failed(3)), warnings=tuple(LONG_HOSTILE for _ in range(10_000))
    )
    rendered = markdown.render_markdown(outcome)
    assert len(rendered.encode()) <= markdown.MAX_SUMMARY_BYTES
    assert rendered.startswith("## ❌ CodeArts Check logs: 3 of 3 sub-jobs failed")
    shown = rendered.count("\n> ⚠️ ")
    assert 0 < shown < 10_000
    assert shown + counted(rendered, "messages are not shown here") == 10_000
    rows = len(table_rows(rendered))
    assert rows + counted(rendered, "sub-jobs are not in the table above") == 3


texts = st.text(alphabet="|<>&@#_*😀é a", max_size=2500)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(min_value=0, max_value=1200),
    code=texts,
    message=texts,
    file=texts,
    warnings=st.lists(texts, max_size=5),
)
def test_any_outcome_stays_within_the_budget(
    count: int, code: str, message: str, file: str, warnings: list[str]
) -> None:
    """Whatever the text and however many sub-jobs, every one is in the table or counted."""
    failed = replace(failed_result(message), error_code=code)
    saved = replace(ok_result(), file=file, artifact_name=code, artifact_url="https://x/1")
    results = [replace(saved if i % 2 else failed, sub_job_id=f"{i:032d}") for i in range(count)]
    rendered = markdown.render_markdown(replace(outcome_of(*results), warnings=tuple(warnings)))
    assert len(rendered.encode()) <= markdown.MAX_SUMMARY_BYTES
    shown = len(table_rows(rendered))
    assert shown + counted(rendered, "sub-jobs are not in the table above") == count


def test_a_run_level_code_in_the_heading_is_inert() -> None:
    error = AuthFailed("x", service="IAM", step="password token", code="<b>@team</b>|#1")
    heading = markdown.render_markdown(Outcome.failed(error)).splitlines()[0]
    assert heading.startswith("## ❌ CodeArts Check logs: nothing fetched (")
    assert "<b>" not in heading
    assert "@team" not in heading
    assert "|" not in heading
