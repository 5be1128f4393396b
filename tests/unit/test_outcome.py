"""The record every renderer takes: a sub-job's triage and the run's total of problem lines."""

from __future__ import annotations

from dataclasses import replace

from codearts_check_logs.outcome import Outcome
from codearts_check_logs.ziplog.triage import Triage
from tests.conftest import ID1, ID2
from tests.samples import failed_result, ok_result, outcome_of


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
