"""Outputs and annotations: single-line values, the first failure's code, per-level caps."""

from __future__ import annotations

import json
from dataclasses import replace

from codearts_check_logs import inputs as config
from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.outcome import Outcome, SubJobResult
from codearts_check_logs.render import outputs, textsafe
from codearts_check_logs.ziplog.triage import MemberTriage, Problem, Triage
from tests.conftest import ID1, ID2
from tests.samples import failed_result, ok_result, outcome_of


def test_outputs_are_single_line_and_describe_the_first() -> None:
    values = outputs.outputs_for(outcome_of(failed_result("a\nb\r\nc" * 5000), ok_result()))
    assert set(values) == {
        "status", "file", "size", "sha256", "artifact-id", "artifact-url",
        "error-code", "error-message", "problems", "results",
    }  # fmt: skip
    assert all("\n" not in value and "\r" not in value for value in values.values())
    assert values["status"] == "failure"
    assert values["error-code"] == "CC.00000003"
    assert len(values["error-message"]) <= textsafe.MAX_TEXT
    assert [r["sub_job_id"] for r in json.loads(values["results"])] == [ID2, ID1]


def test_error_outputs_describe_the_first_sub_job_that_failed() -> None:
    values = outputs.outputs_for(outcome_of(ok_result(), failed_result("expired")))
    assert values["status"] == "failure"
    assert values["file"] == f"codearts-check-logs/{ID1}.zip"
    assert values["error-code"] == "CC.00000003"
    assert values["error-message"] == "expired"


def test_run_level_error_outputs() -> None:
    values = outputs.outputs_for(Outcome.failed(InvalidInput("token is required")))
    assert values["error-code"] == "INVALID_INPUT"
    assert values["results"] == "[]"
    assert values["file"] == values["size"] == ""


def test_annotations_are_capped_at_ten_per_level() -> None:
    results = [failed_result("no", sub_job_id=f"{i:032d}") for i in range(25)]
    outcome = Outcome(results=tuple(results), warnings=tuple(f"w{i}" for i in range(12)))
    notes = outputs.annotations_for(outcome, fail_on_error=True)
    errors = [message for level, message in notes if level == "error"]
    warnings = [message for level, message in notes if level == "warning"]
    assert len(errors) == len(warnings) == outputs.MAX_PER_LEVEL
    assert errors[-1] == "16 more: see the job summary"
    assert warnings[-1] == "3 more: see the job summary"


def test_annotations_become_warnings_without_fail_on_error() -> None:
    notes = outputs.annotations_for(outcome_of(failed_result("no")), fail_on_error=False)
    assert notes == [("warning", f"sub-job {ID2} (HTTP 401): CC.00000003: no")]


def test_a_runner_file_that_failed_is_an_error_annotation() -> None:
    outcome = Outcome(
        results=(ok_result(),), channel_errors=("GITHUB_OUTPUT could not be written",)
    )
    assert outputs.annotations_for(outcome, fail_on_error=False) == [
        ("error", "GITHUB_OUTPUT could not be written")
    ]


# -- triage: the `problems` output and one notice per sub-job with problem lines ----------------


def triaged(sub_job_id: str, problems: int) -> SubJobResult:
    found = Triage(
        members=(MemberTriage("a.log", problems, 10, "utf-8", None),),
        problems=tuple(Problem("a.log", n, f"ERROR {n}\n::error::x") for n in range(problems)),
        total_problems=problems,
        main_log="a.log",
        tail=(),
        notes=(),
        bytes_read=100,
        truncated=False,
    )
    return replace(ok_result(sub_job_id), triage=found)


def test_problems_output_totals_the_triaged_zips() -> None:
    values = outputs.outputs_for(outcome_of(triaged(ID1, 3), triaged(ID2, 0)))
    assert values["problems"] == "3"
    assert [r["problems"] for r in json.loads(values["results"])] == [3, 0]
    assert tuple(values) == config.output_names()


def test_problems_output_is_empty_when_nothing_was_triaged() -> None:
    values = outputs.outputs_for(outcome_of(ok_result(), failed_result("no")))
    assert values["problems"] == ""
    assert [r["problems"] for r in json.loads(values["results"])] == [None, None]
    assert outputs.outputs_for(Outcome.failed(InvalidInput("bad")))["problems"] == ""


def test_notices_come_after_the_errors_one_per_sub_job_with_problems() -> None:
    results = [triaged(f"{i:032d}", i % 3) for i in range(20)] + [failed_result("no")]
    notes = outputs.annotations_for(outcome_of(*results), fail_on_error=True)
    levels = [level for level, _ in notes]
    assert levels == ["error"] + ["notice"] * outputs.MAX_PER_LEVEL
    notices = [message for level, message in notes if level == "notice"]
    assert notices[0] == f"sub-job {1:032d}: 1 problem line; first, a.log:0: ERROR 0 ::error::x"
    assert notices[-1] == "4 more: see the job summary"  # 13 sub-jobs of 20 have problem lines
    assert all("\n" not in message for message in notices)


def test_notices_follow_warnings_too_without_fail_on_error() -> None:
    notes = outputs.annotations_for(
        outcome_of(triaged(ID1, 2), failed_result("no")), fail_on_error=False
    )
    assert [level for level, _ in notes] == ["warning", "notice"]
