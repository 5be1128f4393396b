"""Outputs and annotations: single-line values, the first failure's code, per-level caps."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from devtools.runner import parse_outputs

from codearts_check_logs import masking, textsafe
from codearts_check_logs.errors import InternalError, InvalidInput
from codearts_check_logs.github import commands
from codearts_check_logs.inputs.metadata import action_metadata
from codearts_check_logs.outcome import Outcome, SubJobResult, failure
from codearts_check_logs.render import outputs
from codearts_check_logs.render.budget import CUT
from codearts_check_logs.ziplog.findings import MemberTriage, Problem, Triage
from tests.conftest import ID1, ID2
from tests.samples import failed_result, ok_result, outcome_of


def test_outputs_are_single_line_and_describe_the_first() -> None:
    values = outputs.outputs_for(outcome_of(failed_result("a\nb\r\nc" * 5000), ok_result()))
    assert set(values) == {
        "status", "file", "size", "sha256", "artifact-digest", "artifact-id", "artifact-url",
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


def test_artifact_digest_is_the_zips_digest_once_it_is_an_artifact() -> None:
    uploaded = outputs.outputs_for(outcome_of(replace(ok_result(), artifact_id="7")))
    assert uploaded["artifact-digest"] == uploaded["sha256"] == "ab" * 32
    kept = outputs.outputs_for(outcome_of(ok_result()))
    assert kept["sha256"] == "ab" * 32
    assert kept["artifact-digest"] == ""
    assert outputs.outputs_for(outcome_of(failed_result("no")))["artifact-digest"] == ""


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
    assert tuple(values) == tuple(action_metadata()["outputs"])


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


# -- every output within GitHub's limits, for any number of sub-jobs and any text ---------------

GITHUB_LIMIT = 1_000_000  # bytes: "Outputs are Unicode strings, and can be a maximum of 1 MB"
# 2,000 characters (the cap on service text) that grow most in JSON: an emoji is 12 bytes there.
LONG_HOSTILE = ('|<>&@#"\\😀é' * 200)[:2000]
KEPT = (
    *("sub_job_id", "status", "http_status", "error_code", "problems"),
    *("file", "size", "sha256", "artifact_id", "artifact_url"),
)


def many(count: int, message: str = LONG_HOSTILE) -> list[SubJobResult]:
    """Failed sub-jobs that still carry every other field, as an upload failure leaves them."""
    base = replace(
        triaged(ID1, 2),
        status="failure",
        http_status=500,
        error_code="ARTIFACT_UPLOAD_FAILED",
        error_message=message,
    )
    return [
        replace(
            base,
            sub_job_id=f"{i:032d}",
            file=f"codearts-check-logs/{i:032d}.zip",
            artifact_id=str(10**18 + i),
            artifact_url=f"https://github.com/octo-org/octo-repo/actions/runs/4242/artifacts/{i}",
        )
        for i in range(count)
    ]


def written(tmp_path: Path, outcome: Outcome) -> tuple[int, dict[str, str]]:
    """What the action writes to GITHUB_OUTPUT for `outcome`: its size and the values read back."""
    path = tmp_path / "github_output"
    commands.write_outputs(str(path), outputs.outputs_for(outcome))
    data = path.read_bytes()
    return len(data), parse_outputs(data.decode())


def test_1000_sub_jobs_with_long_messages_fit_and_keep_every_id_status_and_code(
    tmp_path: Path,
) -> None:
    """`results` used to be 5.6 MB here, and GitHub refuses outputs over 1 MB."""
    results = many(1000)
    size, values = written(tmp_path, outcome_of(*results))
    assert size <= outputs.OUTPUT_BYTES < GITHUB_LIMIT
    entries = json.loads(values["results"])
    assert [{k: e[k] for k in KEPT} for e in entries] == [
        {k: r.as_json()[k] for k in KEPT} for r in results
    ]
    messages = [e["error_message"] for e in entries]
    assert all(m.endswith(CUT) and LONG_HOSTILE.startswith(m.removesuffix(CUT)) for m in messages)
    assert len(set(map(len, messages))) <= 2, "one common cap (a character more or less)"
    assert len(messages[0]) > 50
    assert values["error-message"] == LONG_HOSTILE, "the scalar has its own cap"


def test_short_messages_stay_whole_only_the_longest_are_cut() -> None:
    results = many(1000, "Authentication information expired.")
    results[::3] = many(1000)[::3]
    entries = json.loads(outputs.outputs_for(outcome_of(*results))["results"])
    for entry, result in zip(entries, results, strict=True):
        if result.error_message == LONG_HOSTILE:
            assert entry["error_message"].endswith(CUT)
        else:
            assert entry["error_message"] == "Authentication information expired."
    # Messages are cut only when the output would be over its budget.
    values = outputs.outputs_for(outcome_of(*many(100)))
    assert [e["error_message"] for e in json.loads(values["results"])] == [LONG_HOSTILE] * 100


def test_paths_of_kilobytes_are_cut_after_the_messages_and_codes_stay_whole(
    tmp_path: Path,
) -> None:
    """500 sub-jobs (the most the inputs accept) saved under a path near Linux's 4,096 bytes:
    the texts are cut to one cap that leaves any plain code of 200 characters whole."""
    code = "CC." + "9" * 197
    results = [
        replace(r, file=f"{'d/' * 2000}{r.sub_job_id}.zip", error_code=code) for r in many(500)
    ]
    size, values = written(tmp_path, outcome_of(*results))
    assert size <= outputs.OUTPUT_BYTES
    entries = json.loads(values["results"])
    assert [(e["sub_job_id"], e["status"], e["http_status"]) for e in entries] == [
        (r.sub_job_id, "failure", 500) for r in results
    ]
    assert all(e["error_code"] == code for e in entries)
    assert all(e["file"].endswith(CUT) for e in entries)
    assert all(e["sha256"] == "ab" * 32 and e["problems"] == 2 for e in entries)


def test_thousands_of_sub_jobs_keep_the_leading_entries_that_fit(tmp_path: Path) -> None:
    """Beyond what the inputs accept, entries no text-cutting can fit: the first ones stay."""
    results = many(10_000)
    size, values = written(tmp_path, outcome_of(*results))
    assert size <= outputs.OUTPUT_BYTES
    entries = json.loads(values["results"])
    assert 1000 < len(entries) < 10_000
    assert [e["sub_job_id"] for e in entries] == [r.sub_job_id for r in results[: len(entries)]]


def test_scalar_outputs_have_their_own_caps(tmp_path: Path) -> None:
    huge = "é" * 100_000
    results = [replace(many(1, huge)[0], file=huge, artifact_url=huge, error_code=huge)]
    size, values = written(tmp_path, outcome_of(*results))
    assert size <= outputs.OUTPUT_BYTES
    for name in ("file", "artifact-url", "error-code", "error-message"):
        assert len(values[name].encode()) <= outputs.SCALAR_BYTES
        assert values[name].endswith(CUT)
    assert json.loads(values["results"])[0]["sub_job_id"] == f"{0:032d}"


def test_the_heredoc_allowance_covers_what_writing_adds(tmp_path: Path) -> None:
    outcome = outcome_of(*many(3))
    size, _ = written(tmp_path, outcome)
    values = outputs.outputs_for(outcome)
    assert size <= sum(outputs.written_size(name, value) for name, value in values.items())


def test_no_secret_changes_a_fixed_value() -> None:
    """Secrets that happen to be (part of) fixed values: the status, sizes, digests and local
    codes stay whole; texts are scrubbed field by field, `results` before it is encoded."""
    for secret in ("failure", "11319", "ab" * 6, "INTERNAL", "codearts-check-logs"):
        masking.register(secret)
    defect = failure(ID2, InternalError("KeyError"))
    values = outputs.outputs_for(outcome_of(ok_result(), defect))
    assert values["status"] == "failure"
    assert (values["size"], values["sha256"]) == ("11319", "ab" * 32)
    assert values["error-code"] == "INTERNAL_ERROR"
    assert values["file"] == f"***/{ID1}.zip"
    first, second = json.loads(values["results"])
    assert (first["size"], first["sha256"], first["file"]) == (11319, "ab" * 32, f"***/{ID1}.zip")
    assert (second["status"], second["error_code"]) == ("failure", "INTERNAL_ERROR")


def test_service_codes_are_service_text_and_scrubbed() -> None:
    masking.register("CC.00000003")
    values = outputs.outputs_for(outcome_of(failed_result("expired")))
    assert values["error-code"] == "***"
    assert json.loads(values["results"])[0]["error_code"] == "***"


def test_a_notice_has_the_count_and_the_first_line_cleaned() -> None:
    (found,) = [r.triage for r in [triaged(ID1, 3)] if r.triage is not None]
    assert (
        outputs.notice(ID1, found)
        == f"sub-job {ID1}: 3 problem lines; first, a.log:0: ERROR 0 ::error::x"
    )
    one = replace(
        found,
        total_problems=1,
        problems=(Problem("b.log", 7, "a\r\n::error::x\x1b[31m" + "z" * (1 << 20)),),
    )
    message = outputs.notice(ID1, one)
    assert message is not None
    assert message.startswith(f"sub-job {ID1}: 1 problem line; first, b.log:7: ")
    assert not {"\n", "\r", "\x1b"} & set(message)
    assert len(message) <= textsafe.MAX_TEXT
    assert outputs.notice(ID1, replace(found, total_problems=0)) is None
