"""The outcome record: cleaned text in results, the run's status, the first and first failure,
a sub-job's triage and the run's total of problem lines."""

from __future__ import annotations

from dataclasses import replace

from codearts_check_logs.errors import AuthFailed, InvalidInput, ServiceError
from codearts_check_logs.outcome import FAILURE, SUCCESS, Failure, Outcome, failure
from codearts_check_logs.ziplog.findings import Triage
from tests.conftest import ID1, ID2
from tests.samples import failed_result, ok_result, outcome_of


def test_service_text_is_cleaned_when_a_result_is_made() -> None:
    result = failure(ID1, ServiceError("line one\n::error::two", code="CC.1\n", http_status=400))
    assert result.status == FAILURE
    assert (result.error_code, result.error_message) == ("CC.1", "line one ::error::two")
    assert result.http_status == 400


def test_a_failure_keeps_what_was_achieved() -> None:
    saved = ok_result()
    failed = saved.failed_with(ServiceError("no", code="X"))
    assert (failed.file, failed.sha256, failed.http_status) == (saved.file, saved.sha256, 200)


def test_a_run_level_failure_names_service_and_step() -> None:
    error = Failure.of(AuthFailed("refused", service="STS", step="AssumeAgencyWithOIDC"))
    assert (error.code, error.service, error.step) == ("AUTH_FAILED", "STS", "AssumeAgencyWithOIDC")
    assert Failure.of(InvalidInput("x")).service == ""


def test_status_first_and_first_failure() -> None:
    good = ok_result(ID1)
    bad = failure(ID2, ServiceError("no", code="X"))
    outcome = Outcome(results=(good, bad))
    assert (outcome.status, outcome.first, outcome.first_failure) == (FAILURE, good, bad)
    assert outcome.failed_count == 1
    assert Outcome(results=(good,)).status == SUCCESS
    assert Outcome.failed(InvalidInput("x")).status == FAILURE


def test_a_cancelled_or_unreported_run_is_not_ok_though_its_status_may_be_success() -> None:
    outcome = Outcome(results=(ok_result(),))
    assert outcome.ok
    assert not replace(outcome, cancelled=True).ok
    assert not replace(outcome, channel_errors=("GITHUB_OUTPUT could not be written",)).ok
    assert replace(outcome, channel_errors=("x",)).status == SUCCESS


def found(problems: int) -> Triage:
    return Triage((), (), problems, None, (), (), 0, truncated=False)


def test_problems_are_none_without_triage_and_counted_with_it() -> None:
    assert ok_result().problems is None
    assert replace(ok_result(), triage=found(0)).problems == 0
    assert replace(ok_result(), triage=found(7)).as_json()["problems"] == 7
    assert ok_result().as_json()["problems"] is None


def test_the_run_total_counts_triaged_zips_only() -> None:
    assert Outcome().problems is None
    assert outcome_of(ok_result(), failed_result("no")).problems is None
    triaged = [replace(ok_result(ID1), triage=found(3)), replace(ok_result(ID2), triage=found(0))]
    assert outcome_of(*triaged, failed_result("no")).problems == 3
    assert outcome_of(triaged[1]).problems == 0


def test_as_json_has_exactly_the_interface_fields() -> None:
    assert list(ok_result().as_json()) == [
        "sub_job_id", "status", "file", "size", "sha256", "artifact_id", "artifact_url",
        "http_status", "error_code", "error_message", "problems",
    ]  # fmt: skip
