"""Rendering: hostile service text stays inert in the summary, outputs, annotations and logs."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from dataclasses import replace

import pytest

from codearts_check_logs import report, secrets, summary, textsafe
from codearts_check_logs.errors import HttpStatusError, InvalidInput, ServiceError
from codearts_check_logs.logzip import Listing, Member
from codearts_check_logs.outcome import SUCCESS, SubJobResult, failure, hint_for

from .conftest import ID1, ID2

HOSTILE = [
    "<img src=x onerror=alert(1)><script>alert(1)</script>",
    "**bold** _it_ [link](https://evil.example) ![img](x) <details>",
    "| a | b |\n|---|---|\n| injected | row |",
    "`code` ```fence```",
    "@octocat @org/team please look",
    "fixes #123 and GH-1 and octo-org/repo#9",
    "nul\x00bell\x07back\x08 del\x7f c1\x9b",
    "\x1b[31mred\x1b[0m \x1b]8;;https://evil\x07link\x1b]8;;\x07",
    "::add-mask::oops\n::set-output name=x::y\n::stop-commands::abc\n::error::fake",
    "line\r\n::warning::carriage\rreturn",
    "##[error]legacy command in the middle",
    "right-to-left \u202eeliF\u202c and zero\u200bwidth",
    "$\\alpha$ math and :smile: emoji",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_clean_is_one_inert_line(text: str) -> None:
    cleaned = textsafe.clean(text)
    assert "\n" not in cleaned
    assert "\r" not in cleaned
    assert "\x1b" not in cleaned
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u200b]", cleaned)


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_escape_leaves_no_active_characters(text: str) -> None:
    escaped = textsafe.md(textsafe.clean(text))
    assert not re.search(r"[<>|`*_\[\]()@#!$:\\]", escaped.replace("&#", "")), escaped


def test_invalid_utf8_is_replaced() -> None:
    assert textsafe.clean(b"ok \xff\xfe done") == "ok \ufffd\ufffd done"


def test_cap_marks_the_cut() -> None:
    text = "x" * (10 * 1024 * 1024)
    capped = textsafe.clean(text)
    assert len(capped) <= textsafe.MAX_TEXT
    assert capped.endswith(f"[cut: {len(text)} characters in all]")


def test_secrets_are_scrubbed_before_the_cut() -> None:
    secrets.register("s3cr3t-value-xyz")
    assert "s3cr3t" not in textsafe.clean("a" * 1990 + "s3cr3t-value-xyz")
    assert textsafe.clean("token s3cr3t-value-xyz here") == "token *** here"


def test_for_log_breaks_legacy_commands() -> None:
    assert "##[" not in textsafe.for_log("x ##[error]y")


def ok_result(sub_job_id: str = ID1, members: int = 3) -> SubJobResult:
    listing = Listing(
        members, tuple(Member(f"f{i}.log", 1000 * i, 10) for i in range(min(members, 50)))
    )
    return SubJobResult(
        sub_job_id=sub_job_id,
        status=SUCCESS,
        file=f"codearts-check-logs/{sub_job_id}.zip",
        size=11319,
        sha256="ab" * 32,
        http_status=200,
        listing=listing,
    )


def failed_result(message: str, sub_job_id: str = ID2) -> SubJobResult:
    error = ServiceError(message, code="CC.00000003", http_status=401, request_id="req-42")
    return failure(sub_job_id, error)


@pytest.mark.parametrize("text", HOSTILE)
def test_summary_structure_survives_hostile_text(text: str) -> None:
    rendered = summary.render_markdown([ok_result(), failed_result(text)])
    table_rows = [line for line in rendered.splitlines() if line.startswith("|")]
    assert all(line.endswith("|") for line in table_rows)
    assert all(line.count("|") in (3, 5) for line in table_rows)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert "@octocat" not in rendered
    assert "#123" not in rendered
    assert not any(line.lstrip().startswith("::") for line in rendered.splitlines())


def test_success_summary_shows_size_digest_and_members() -> None:
    rendered = summary.render_markdown([ok_result(members=120)])
    assert rendered.startswith("## ✅ CodeArts Check logs: 1 of 1 sub-jobs fetched")
    assert "11.1 KiB (11319 bytes)" in rendered
    assert f"| SHA-256 | `{'ab' * 32}` |" in rendered
    assert f"Contents of {ID1}.zip (120 files)" in rendered
    assert f"| _and {120 - summary.LISTED_MEMBERS} more_ | |" in rendered


def test_failure_summary_has_every_field() -> None:
    rendered = summary.render_markdown([failed_result("Authentication information expired.")])
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
    rendered = summary.render_markdown(results)
    size = len(rendered.encode())
    assert size < summary.MAX_SUMMARY_BYTES + 64 * 1024
    assert size < 1024 * 1024
    assert "more sub-jobs are not shown" in rendered


def test_artifact_link_in_summary() -> None:
    result = SubJobResult(
        **{**ok_result().__dict__, "artifact_id": "77", "artifact_name": "logs.zip",
           "artifact_url": "https://github.com/o/r/actions/runs/1/artifacts/77"}
    )  # fmt: skip
    rendered = summary.render_markdown([result])
    assert "[logs.zip](https://github.com/o/r/actions/runs/1/artifacts/77)" in rendered


def test_outputs_are_single_line_and_describe_the_first() -> None:
    outputs = report.outputs_for([failed_result("a\nb\r\nc" * 5000), ok_result()])
    assert set(outputs) == {
        "status", "file", "size", "sha256", "artifact-id", "artifact-url",
        "error-code", "error-message", "results",
    }  # fmt: skip
    assert all("\n" not in value and "\r" not in value for value in outputs.values())
    assert outputs["status"] == "failure"
    assert outputs["error-code"] == "CC.00000003"
    assert len(outputs["error-message"]) <= textsafe.MAX_TEXT
    assert [r["sub_job_id"] for r in json.loads(outputs["results"])] == [ID2, ID1]


def test_run_level_error_outputs() -> None:
    outputs = report.outputs_for([], InvalidInput("token is required"))
    assert outputs["error-code"] == "INVALID_INPUT"
    assert outputs["results"] == "[]"
    assert outputs["file"] == outputs["size"] == ""


def test_annotations_are_capped_at_ten() -> None:
    results = [failed_result("no", sub_job_id=f"{i:032d}") for i in range(25)]
    notes = report.annotations_for(results, None, fail_on_error=True)
    assert len(notes) == report.MAX_ANNOTATIONS
    assert notes[-1] == ("error", "16 more problems: see the job summary")
    assert {level for level, _ in notes} == {"error"}


def test_annotations_become_warnings_without_fail_on_error() -> None:
    notes = report.annotations_for([failed_result("no")], None, fail_on_error=False)
    assert notes == [("warning", f"sub-job {ID2} (HTTP 401): CC.00000003: no")]


@pytest.mark.parametrize("text", HOSTILE)
def test_annotation_is_one_command_line(text: str) -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        report.annotate("error", failed_result(text).error_message)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::error title=CodeArts Check logs::")


def test_hints() -> None:
    assert "24 hours" in hint_for("APIG.0307", 401)
    assert "codeartscheck:task:get" in hint_for("HTTP_403", 403)
    assert "region and endpoint" in hint_for("HTTP_404", 404)
    assert hint_for("CC.99999999", 500) == ""


def test_text_summary_for_the_cli() -> None:
    error = HttpStatusError(502, "HTTP 502 Bad Gateway with a text/html body of 9 bytes")
    text = summary.render_text([ok_result(), failure(ID2, error)])
    assert text.splitlines()[0] == "CodeArts Check logs: 1 of 2 sub-jobs failed"
    assert f"  OK    {ID1}  codearts-check-logs/{ID1}.zip  11.1 KiB" in text
    assert f"  FAIL  {ID2}  HTTP 502  HTTP_502: HTTP 502 Bad Gateway" in text
