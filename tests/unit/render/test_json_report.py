"""The CLI's JSON: one shape whatever happened."""

from __future__ import annotations

import json

from codearts_check_logs.errors import AuthFailed
from codearts_check_logs.outcome import Outcome
from codearts_check_logs.render.channel import CLI
from codearts_check_logs.render.hints import hint_for
from codearts_check_logs.render.json_report import json_report
from tests.samples import failed_result, ok_result, outcome_of

KEYS = {"schema", "status", "cancelled", "problems", "error", "warnings", "results"}


def test_sub_job_results_with_their_triage() -> None:
    report = json_report(outcome_of(ok_result(), failed_result("expired\n::error::x")))
    assert set(report) == KEYS
    assert (report["status"], report["error"], report["problems"]) == ("failure", None, None)
    assert [r["status"] for r in report["results"]] == ["success", "failure"]
    assert report["results"][1]["error_message"] == "expired ::error::x"
    assert report["results"][0]["triage"] is None
    assert (report["results"][0]["hint"], report["results"][1]["request_id"]) == (None, "req-42")
    assert "24 hours" in report["results"][1]["hint"], "what the text output shows"
    assert "let the command obtain one" in report["results"][1]["hint"]
    json.dumps(report)


def test_a_run_level_failure() -> None:
    error = AuthFailed("no", service="STS", step="AssumeAgencyWithOIDC", code="STS5.1002")
    report = json_report(Outcome.failed(error, warnings=("watch\nout",)))
    assert set(report) == KEYS
    assert report["results"] == []
    assert report["error"] == {
        "code": "STS5.1002",
        "message": "no",
        "http_status": None,
        "request_id": "",
        "service": "STS",
        "step": "AssumeAgencyWithOIDC",
        "hint": hint_for("STS5.1002", None, "AssumeAgencyWithOIDC", CLI),
    }
    assert "--oidc-audience" in report["error"]["hint"]
    assert report["warnings"] == ["watch out"]


def test_our_messages_name_options_a_services_text_stays() -> None:
    from codearts_check_logs.errors import DownloadTimeout

    timeout = failed_result("")
    timeout = timeout.failed_with(DownloadTimeout("not done within timeout-seconds (5 s)"))
    service = failed_result("bad timeout-seconds")
    report = json_report(outcome_of(timeout, service))
    assert report["results"][0]["error_message"] == "not done within --timeout-seconds (5 s)"
    assert report["results"][1]["error_message"] == "bad timeout-seconds"
