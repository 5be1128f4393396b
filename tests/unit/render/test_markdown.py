"""The job summary: every field of a failure, the ZIP's contents, hostile text inert, its size
bounded."""

from __future__ import annotations

from dataclasses import replace

import pytest

from codearts_check_logs.errors import AuthFailed, InvalidInput
from codearts_check_logs.outcome import Outcome
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
    assert rendered.startswith("## ✅ CodeArts Check logs: 1 of 1 sub-jobs fetched")
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
