"""The CLI's plain-text outcome."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from devtools.doubles.logs import realistic_log_package

from codearts_check_logs.errors import AuthFailed, HttpStatusError
from codearts_check_logs.outcome import Outcome, failure
from codearts_check_logs.render.text import render_text
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN, triage
from tests.conftest import ID1, ID2
from tests.samples import ok_result, outcome_of


def test_text_summary_for_the_cli() -> None:
    error = HttpStatusError(502, "HTTP 502 Bad Gateway with a text/html body of 9 bytes")
    text = render_text(outcome_of(ok_result(), failure(ID2, error)))
    assert text.splitlines()[0] == "CodeArts Check logs: 1 of 2 sub-jobs failed"
    assert f"  OK    {ID1}  codearts-check-logs/{ID1}.zip  11.1 KiB" in text
    assert f"  FAIL  {ID2}  HTTP 502  HTTP_502: HTTP 502 Bad Gateway" in text
    assert "        3 files: f0.log, f1.log, f2.log" in text


def test_a_refused_exchange_names_where_and_why() -> None:
    error = AuthFailed(
        "The id_token is invalid: audience",
        service="STS",
        step="AssumeAgencyWithOIDC",
        code="STS5.1002",
        http_status=400,
    )
    lines = render_text(Outcome.failed(error)).splitlines()
    assert lines[:3] == [
        "CodeArts Check logs: nothing fetched (STS5.1002)",
        "  error: STS5.1002: The id_token is invalid: audience",
        "  at: STS / AssumeAgencyWithOIDC",
    ]
    assert lines[3].startswith("  hint: STS refused the GitHub ID token")


def test_triage_follows_each_triaged_sub_job(tmp_path: Path) -> None:
    path = tmp_path / "logs.zip"
    path.write_bytes(realistic_log_package(ID1))
    triaged = replace(ok_result(), triage=triage(path, BUILTIN_PATTERN))
    lines = render_text(outcome_of(triaged, ok_result(ID2))).splitlines()
    start = lines.index("        triage: 8 problem lines in 4 of 5 files read.")
    assert lines[start - 1] == "        3 files: f0.log, f1.log, f2.log"
    assert lines[start + 2].startswith(f"        problem: {ID1}/codecheck.log:127: ")
    assert sum(line.startswith("        | ") for line in lines) == 20
    assert lines[-2].startswith(f"  OK    {ID2}"), "the untriaged sub-job has no triage lines"
