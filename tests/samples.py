"""Sample data shared by the tests: hostile service text, and typical sub-job results."""

from __future__ import annotations

from codearts_check_logs.errors import ServiceError
from codearts_check_logs.inputs.metadata import input_specs
from codearts_check_logs.outcome import SUCCESS, Outcome, SubJobResult, failure
from codearts_check_logs.ziplog.reader import Listing, Member
from tests.conftest import ID1, ID2, TOKEN

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


def outcome_of(*results: SubJobResult) -> Outcome:
    return Outcome(results=results)


def raw_inputs(**overrides: str) -> dict[str, str]:
    """Every input at its action.yml default, one sub-job and a token, then `overrides`
    (underscores in a name stand for its hyphens)."""
    values = {name: spec.default for name, spec in input_specs().items()}
    values.update({"sub-job-id": ID1, "token": TOKEN})
    values.update({k.replace("_", "-"): v for k, v in overrides.items()})
    return values
