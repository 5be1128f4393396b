"""The outcome record: cleaned text in results, the run's status, the first and first failure."""

from __future__ import annotations

from dataclasses import replace

from codearts_check_logs.errors import AuthFailed, InvalidInput, ServiceError
from codearts_check_logs.outcome import FAILURE, SUCCESS, Failure, Outcome, failure
from tests.conftest import ID1, ID2
from tests.samples import ok_result


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
