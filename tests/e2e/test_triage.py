"""Triage end to end: the real entrypoint, the runner's environment, the simulator on loopback."""

from __future__ import annotations

import io
import json
import random
import re
import string
import zipfile
from pathlib import Path

import pytest
from devtools.doubles.codearts import Simulator, Step
from devtools.doubles.logs import PROBLEM_LINES

from tests.conftest import ID1, ID2, ActionRunner, inputs_for
from tests.e2e.test_faults import assert_inert, assert_refused, zip_step
from tests.e2e.test_local_faults import assert_cancelled, start_action, terminate_when
from tests.samples import HOSTILE

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024


def commands(stdout: str) -> list[str]:
    """The workflow commands the step printed, in order, by name."""
    return [m.group(1) for m in re.finditer(r"^::([a-z-]+)[ :]", stdout, re.M)]


def test_a_triaged_success_and_a_failure(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID2, Step.json(404, {"error_code": "APIGW.0101", "error_msg": "API not found"}))
    run = run_action(inputs_for(sim, ID1, ID2))

    assert run.returncode == 1
    assert_inert(run)
    assert run.outputs["problems"] == str(PROBLEM_LINES)
    results = {r["sub_job_id"]: r for r in json.loads(run.outputs["results"])}
    assert results[ID1]["problems"] == PROBLEM_LINES
    assert results[ID2]["problems"] is None, "no ZIP, no triage"
    # The summary: the sentence, the first problem lines (open), the tail, the counts.
    assert "**Triage:** 8 problem lines in 4 of 5 files read." in run.summary
    assert "<details open><summary>Problem lines</summary>" in run.summary
    assert f"<details><summary>Last 20 lines of {ID1}/codecheck.log</summary>" in run.summary
    assert f"| {ID1}/tools/编译构建.log | 2 | 5 | GB18030 |" in run.summary
    assert "错误 编译失败&#58; 找不到头文件 openssl/ssl.h" in run.summary
    # One notice, after the error annotation.
    order = commands(run.stdout)
    assert order.count("notice") == 1
    assert order.index("error") < order.index("notice")
    [notice] = [line for line in run.stdout.splitlines() if line.startswith("::notice ")]
    assert notice == (
        f"::notice title=CodeArts Check logs::sub-job {ID1}: 8 problem lines; first, "
        f"{ID1}/codecheck.log:127: 2026-02-03 10:02:04.900 ERROR [secbrella] analysis of "
        "src/net/socket.c failed: timeout after 600 s"
    )
    assert f"{ID1}: triage: 8 problem lines, the first in {ID1}/codecheck.log at line 127" in (
        run.stdout
    )


def test_triage_off(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1, triage="false"))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["problems"] == ""
    assert json.loads(run.outputs["results"])[0]["problems"] is None
    assert "Triage" not in run.summary
    assert "Contents of" in run.summary
    assert "::notice" not in run.stdout
    assert "triage" not in run.stdout


def test_a_custom_pattern(sim: Simulator, run_action: ActionRunner) -> None:
    run = run_action(inputs_for(sim, ID1, triage_pattern="(?i)warn"))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["problems"] == "3"  # WARN, `3 warnings`, `warning_count=3`
    assert "retrying src/net/socket.c with the reduced rule set" in run.summary


@pytest.mark.parametrize(
    ("pattern", "says"),
    [("(unclosed", "not a valid regular expression"), ("error|", "matches an empty line")],
)
def test_a_bad_pattern_is_refused_before_any_request(
    sim: Simulator, run_action: ActionRunner, pattern: str, says: str
) -> None:
    run = run_action(inputs_for(sim, ID1, triage_pattern=pattern))

    assert_refused(run, sim, "triage-pattern", says)
    assert run.outputs["problems"] == ""


def hostile_package() -> bytes:
    """A log whose every line is hostile, a line of 1 MiB among them, under a hostile name."""
    # Random letters: a megabyte of one letter would deflate so well that it is a ZIP bomb.
    rng = random.Random(11)  # noqa: S311 - reproducible data, not secrets
    long_line = "".join(rng.choices(string.ascii_letters, k=MiB))
    # The long line comes first: a NUL byte (in HOSTILE) in the first block would mean binary.
    lines = [long_line, *HOSTILE, "```", "</pre>", "</details>", "| a | b |", "::error::forged"]
    text = "\n".join(f"ERROR {line}" for line in lines) + "\n" + "\n".join(lines) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("::warning::</pre>`@octocat`.log", text)
    return buffer.getvalue()


def test_hostile_log_lines_stay_inert(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, zip_step(hostile_package()))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert_inert(run)
    triage = run.summary.split("**Triage:**")[1].split("Contents of")[0]
    lines = triage.splitlines()
    assert lines.count("<pre>") == lines.count("</pre>") == 2
    assert lines.count("</details>") == 3
    for fragment in ("<script", "<img", "@octocat", "```", "#123", "::", "##[", "\x1b", "`"):
        assert fragment not in triage, fragment
    assert "…&#91;cut&#58; 1048582 characters in all&#93;" in triage
    assert len(run.summary.encode()) < 256 * 1024
    [notice] = [line for line in run.stdout.splitlines() if line.startswith("::notice ")]
    assert len(notice) < 4096


def bomb_package() -> bytes:
    """A deflated member of 64 MiB of zeros (about 64 KiB: 1000 times smaller) beside a log."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("zeros.log", "w") as member:
            block = bytes(MiB)
            for _ in range(64):
                member.write(block)
        archive.writestr("codecheck.log", "INFO started\nFATAL: out of memory\n")
    return buffer.getvalue()


def test_a_zip_bomb_is_a_note_not_a_failure(sim: Simulator, run_action: ActionRunner) -> None:
    sim.script(ID1, zip_step(bomb_package()))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["problems"] == "1"
    assert "zeros.log skipped&#58; it would decompress to 64 MiB" in run.summary
    assert "| zeros.log | 0 | 0 | ZIP bomb, not read |" in run.summary


# -- any pattern ends within the budget; a cancel stops triage -----------------------------------


def package_of(text: bytes, name: str = "codecheck.log") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
        archive.writestr("tools/after.log", b"INFO after\n")
    return buffer.getvalue()


FILES = "ERROR in " + "src/net/socket.c, src/core/io.c, " * 12 + "done"
BACKTRACKING = {
    "(a+)+$": ("a" * 499 + "b\n") * 400,
    # The kind a user writes: a list of files, then the keyword at the end of the line.
    r"(.*,\s*)+ERROR$": (FILES + "\n") * 2000,  # under 1 MiB: not a ZIP bomb
}


@pytest.mark.realtime
@pytest.mark.parametrize("pattern", list(BACKTRACKING))
def test_a_backtracking_pattern_ends_within_the_budget(
    sim: Simulator, run_action: ActionRunner, pattern: str
) -> None:
    data = package_of(BACKTRACKING[pattern].encode())
    sim.script(ID1, zip_step(data))
    # 4 s: triage may take half of what is left, and the check that goes on after it must still
    # end in time on a busy machine (a regex call can overrun its slice while starved of CPU).
    run = run_action(inputs_for(sim, ID1, triage_pattern=pattern, timeout_seconds="4"), timeout=30)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.seconds < 4 + 3, "within timeout-seconds, plus the start and the rest"
    assert run.outputs["status"] == "success"
    assert run.outputs["problems"] == "0"
    assert run.saved_files() == {f"codearts-check-logs/{ID1}.zip": data}
    assert "Triage stopped early, so the counts are lower bounds." in run.summary
    assert "triage stopped early&#58; its time budget ran out while reading codecheck.log" in (
        run.summary
    )
    assert "(at least: triage stopped early)" in run.stdout


@pytest.mark.realtime
def test_sigterm_during_a_backtracking_triage(sim: Simulator, tmp_path: Path) -> None:
    sim.script(ID1, zip_step(package_of(BACKTRACKING["(a+)+$"].encode())))
    inputs = inputs_for(sim, ID1, triage_pattern="(a+)+$", timeout_seconds="120")
    action = start_action(tmp_path, inputs, {})
    # The ZIP has arrived; triage is matching (each line takes a good part of a second).
    run, seconds = terminate_when(action, lambda: len(sim.requests_for()) == 1, settle=1.0)
    assert_cancelled(run, seconds)


# -- lines and encodings ------------------------------------------------------------------------


def test_lines_ended_by_a_lone_carriage_return_count_each(
    sim: Simulator, run_action: ActionRunner
) -> None:
    sim.script(ID1, zip_step(package_of(b"ERROR one\rERROR two\rERROR three\r")))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["problems"] == "3"
    assert "codecheck.log&#58;3&#58; ERROR three" in run.summary


def test_a_gbk_line_among_utf8_lines_keeps_both_chinese_problem_lines(
    sim: Simulator, run_action: ActionRunner
) -> None:
    text = "信息 开始\n".encode() + "错误 编译失败\n".encode("gbk") + "失败 链接\n".encode()
    sim.script(ID1, zip_step(package_of(text)))
    run = run_action(inputs_for(sim, ID1))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["problems"] == "2"
    assert "codecheck.log&#58;2&#58; 错误 编译失败" in run.summary
    assert "codecheck.log&#58;3&#58; 失败 链接" in run.summary
