"""Triage as shown: the summary part (inert whatever the logs hold, within its byte share), the
CLI's lines and JSON."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from devtools.doubles.logs import PROBLEM_LINES, realistic_log_package

from codearts_check_logs import masking
from codearts_check_logs.render import markdown, outputs
from codearts_check_logs.render import triage_section as view
from codearts_check_logs.textsafe import MAX_TEXT
from codearts_check_logs.ziplog.findings import MemberTriage, Problem, Triage
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN, triage
from tests.conftest import ID1
from tests.samples import HOSTILE, ok_result, outcome_of

MiB = 1024 * 1024
# What log lines may hold to break out of a <pre> block, a table or the step log.
HOSTILE_LINES = [
    *HOSTILE,
    "```",
    "~~~ fence",
    "    indented code",
    "</pre>",
    "</PRE >",
    "</details>",
    "<pre>",
    "<!-- comment",
    "&lt;script&gt; already escaped",
    "| a | b |",
    "|---|---|",
    "@octocat",
    "::error::forged annotation",
    "::add-mask::x",
    "  ::warning file=a.c::indented command",
    "##[error]legacy",
    "# heading",
    "- [ ] task",
    "<details open><summary>fake</summary>",
    "x" * MiB,
    "|" * MiB,
]


def realistic(tmp_path: Path) -> Triage:
    path = tmp_path / "logs.zip"
    path.write_bytes(realistic_log_package(ID1))
    return triage(path, BUILTIN_PATTERN)


def hostile_triage(line: str) -> Triage:
    """Every text field of a triage holding `line`: names, problem lines, tail, notes."""
    member = f"{line[:300]}.log"
    return Triage(
        members=(MemberTriage(member, 1, 2, "utf-8", None), MemberTriage(line, 0, 0, "", "binary")),
        problems=(Problem(member, 1, line), Problem(line, 2, line)),
        total_problems=2,
        main_log=member,
        tail=(line, line),
        notes=(f"{line} skipped: it is encrypted",),
        bytes_read=len(line),
        truncated=False,
    )


PRE = re.compile(r"^<pre>\n(.*?)^</pre>$", re.M | re.S)


def pre_blocks(rendered: str) -> list[str]:
    return PRE.findall(rendered)


def assert_structure(rendered: str) -> None:
    """The blocks we opened are the ones that close, and nothing else is a tag."""
    lines = rendered.splitlines()
    assert lines.count("<pre>") == lines.count("</pre>") == len(pre_blocks(rendered))
    opened = [line for line in lines if line.startswith("<details")]
    assert len(opened) == lines.count("</details>")
    assert all(re.fullmatch(r"<details( open)?><summary>[^<>]*</summary>", o) for o in opened)
    for block in pre_blocks(rendered):
        for line in block.splitlines():
            # Only entities: no tag, no Markdown or mention character, no workflow command.
            bare = re.sub(r"&#\d+;", "", line)
            assert not set(bare) & set("<>&`|*_[]()#@!\\{}:$\"'~"), line[:200]
    table = [line for line in lines if line.startswith("|")]
    assert all(line.endswith("|") for line in table)
    assert all(line.count("|") in (3, 5, 6) for line in table), table


# -- the summary ----------------------------------------------------------------------------------


def test_the_realistic_package(tmp_path: Path) -> None:
    found = realistic(tmp_path)
    rendered = view.triage_md(found)

    assert rendered.startswith("\n**Triage:** 8 problem lines in 4 of 5 files read.\n")
    assert_structure(rendered)
    problems, tail = pre_blocks(rendered)
    assert len(problems.splitlines()) == PROBLEM_LINES
    assert problems.splitlines()[0].startswith(f"{ID1}/codecheck.log&#58;127&#58; 2026-02-03")
    assert "错误 编译失败" in problems
    assert len(tail.splitlines()) == 20
    assert tail.splitlines()[-1].endswith("finished with status FAILED")
    assert "<details open><summary>Problem lines</summary>" in rendered
    assert f"<details><summary>Last 20 lines of {ID1}/codecheck.log</summary>" in rendered
    assert f"| {ID1}/tools/编译构建.log | 2 | 5 | GB18030 |" in rendered
    # Files with problem lines come first; the clean one last.
    rows = [line for line in rendered.splitlines() if line.startswith(f"| {ID1}")]
    assert rows[-1] == f"| {ID1}/summary.json | 0 | 12 |  |"


def test_layout_of_log_lines_is_kept(tmp_path: Path) -> None:
    found = replace(realistic(tmp_path), tail=("\tat com.example.Main(Main.java:3)", "a    b"))
    _problems, tail = pre_blocks(view.triage_md(found))
    assert tail.splitlines() == ["    at com.example.Main&#40;Main.java&#58;3&#41;", "a    b"]


def test_in_the_job_summary_before_the_member_list(tmp_path: Path) -> None:
    result = replace(ok_result(), triage=realistic(tmp_path))
    rendered = markdown.render_markdown(outcome_of(result))
    assert rendered.index("**Triage:**") < rendered.index("Contents of")
    assert "**Triage:**" not in markdown.render_markdown(outcome_of(ok_result()))


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=lambda line: repr(line[:24]))
def test_hostile_log_text_is_inert(line: str) -> None:
    result = replace(ok_result(), triage=hostile_triage(line))
    rendered = markdown.render_markdown(outcome_of(result))
    assert_structure(rendered)
    for fragment in ("<script", "<img", "<!--", "@octocat", "#123", "##[", "\x1b", "```", "~~~"):
        assert fragment not in rendered
    assert not any(text.lstrip().startswith("::") for text in rendered.splitlines())
    assert len(rendered.encode()) < view.SECTION_BYTES + 16 * 1024


def test_a_line_of_one_mib_is_cut_and_bounded() -> None:
    rendered = view.triage_md(hostile_triage("y" * MiB))
    assert "…&#91;cut&#58; 1048576 characters in all&#93;" in rendered
    assert max(len(line) for line in rendered.splitlines()) < 8 * view.LINE_CHARS
    assert len(rendered.encode()) <= view.SECTION_BYTES + 1024


def test_secrets_are_scrubbed_even_split_by_invisible_characters() -> None:
    secret = "S3cr3t_t0ken-value"
    masking.register(secret)
    lines = (f"token={secret}", "token=S3cr3t\u200b_t0ken-value", "S3cr3t\x1b[0m_t0ken-value x")
    found = replace(hostile_triage("x"), tail=lines, problems=(Problem("a.log", 1, lines[1]),))
    rendered = view.triage_md(found)
    text = "\n".join(view.triage_text(found))
    for shown in (rendered, text, str(view.triage_json(found)), outputs.notice(ID1, found) or ""):
        assert "S3cr3t" not in shown
        assert "S3cr3t" not in re.sub(r"&#(\d+);", lambda m: chr(int(m.group(1))), shown)


def test_lines_beyond_the_share_are_counted_not_shown() -> None:
    wide = "|" * 500  # 3,000 bytes once escaped
    problems = tuple(Problem("a.log", n, wide) for n in range(1, 21))
    found = replace(hostile_triage("x"), problems=problems, total_problems=20, tail=(wide,) * 20)
    rendered = view.triage_md(found, budget=16 * 1024)
    assert len(rendered.encode()) <= 16 * 1024 + 512
    match = re.search(r"_(\d+) lines? of triage (?:is|are) not shown here", rendered)
    assert match is not None
    shown = sum(len(block.splitlines()) for block in pre_blocks(rendered))
    assert shown + int(match.group(1)) >= 40
    assert_structure(rendered)


def test_the_share_keeps_triage_to_half_the_summary() -> None:
    assert view.share(markdown.MAX_SUMMARY_BYTES, 1) == view.SECTION_BYTES
    assert view.share(markdown.MAX_SUMMARY_BYTES, 64) == markdown.MAX_SUMMARY_BYTES // 128
    wide = hostile_triage("|" * 500)
    results = [replace(ok_result(f"{i:032x}"), triage=wide) for i in range(40)]
    rendered = markdown.render_markdown(outcome_of(*results))
    assert len(rendered.encode()) < markdown.MAX_SUMMARY_BYTES + 64 * 1024
    assert "more sub-jobs are not shown" not in rendered, "triage squeezed out a sub-job"


def test_sentences() -> None:
    nothing = Triage((), (), 0, None, (), ("triage could not open the archive",), 0, False)
    assert view.summary_sentence(nothing) == "no text file read."
    clean_log = Triage(
        (MemberTriage("a.log", 0, 3, "utf-8", None),), (), 0, "a.log", (), (), 9, False
    )
    assert view.summary_sentence(clean_log) == "no problem lines in 1 file read."
    cut = replace(clean_log, total_problems=1, truncated=True)
    assert view.summary_sentence(cut).endswith(
        "Triage stopped early, so the counts are lower bounds."
    )


def test_notes_and_skipped_members_are_shown() -> None:
    found = Triage(
        members=(
            MemberTriage("bomb.log", 0, 0, "", "ZIP bomb"),
            MemberTriage("a.log", 0, 4, "utf-8-sig", None),
            MemberTriage("mixed.log", 0, 2, "utf-8+gb18030", None),
        ),
        problems=(),
        total_problems=0,
        main_log="a.log",
        tail=("done",),
        notes=("bomb.log skipped: it would decompress to 2 GiB, more than 100 times (ZIP bomb?)",),
        bytes_read=20,
        truncated=False,
    )
    rendered = view.triage_md(found)
    assert "- ⚠️ bomb.log skipped&#58; it would decompress to 2 GiB" in rendered
    assert "| bomb.log | 0 | 0 | ZIP bomb, not read |" in rendered
    assert "| a.log | 0 | 4 | UTF-8 with BOM |" in rendered
    assert "| mixed.log | 0 | 2 | UTF-8 and GB18030 lines |" in rendered


def test_many_members_are_listed_up_to_the_limit() -> None:
    members = tuple(MemberTriage(f"m{i}.log", i % 2, 1, "utf-8", None) for i in range(50))
    found = Triage(members, (), 25, "m0.log", (), (), 50, False)
    rendered = view.triage_md(found)
    rows = [line for line in rendered.splitlines() if line.startswith("| m")]
    assert len(rows) == view.LISTED_FILES
    assert all(row.split(" | ")[1] == "1" for row in rows), "files with problems first"
    assert "| _and 30 more_ | 5 | | |" in rendered


# -- the CLI and the annotation ----------------------------------------------------------------


def test_text_lines(tmp_path: Path) -> None:
    lines = view.triage_text(realistic(tmp_path))
    assert lines[0] == "        triage: 8 problem lines in 4 of 5 files read."
    assert lines[1].startswith(f"        problems per file: {ID1}/codecheck.log 4, ")
    assert lines[2] == (
        f"        problem: {ID1}/codecheck.log:127: 2026-02-03 10:02:04.900 ERROR [secbrella] "
        "analysis of src/net/socket.c failed: timeout after 600 s"
    )
    assert f"        last 20 lines of {ID1}/codecheck.log:" in lines
    assert lines[-1].startswith("        | 2026-02-03 10:04:50.200 INFO  [main] sub-job")


@pytest.mark.parametrize("line", HOSTILE_LINES, ids=lambda line: repr(line[:24]))
def test_text_lines_cannot_start_a_command(line: str) -> None:
    for text in view.triage_text(hostile_triage(line)):
        stripped = text.lstrip()
        assert re.match(
            r"(triage: |problems per file: |problem: |last \d+ lines of |\| |note: )", stripped
        )
        assert "##[" not in text
        assert "\x1b" not in text
        assert len(text) < 2 * MAX_TEXT


def test_json(tmp_path: Path) -> None:
    found = realistic(tmp_path)
    data = view.triage_json(found)
    assert data is not None
    assert set(data) == {"main_log", "truncated", "members", "problems", "tail", "notes"}
    assert data["main_log"] == f"{ID1}/codecheck.log"
    assert data["members"][4] == {
        "name": f"{ID1}/tools/编译构建.log",
        "problems": 2,
        "lines": 5,
        "encoding": "gb18030",
        "skipped": None,
    }
    assert data["problems"][0] == {
        "member": f"{ID1}/codecheck.log",
        "line": 127,
        "text": "2026-02-03 10:02:04.900 ERROR [secbrella] analysis of src/net/socket.c "
        "failed: timeout after 600 s",
    }
    assert len(data["tail"]) == 20
    assert data["notes"] == []
    assert view.triage_json(None) is None
    hostile = view.triage_json(hostile_triage("a\nb\x00c" + "d" * MiB))
    assert hostile is not None
    assert all("\n" not in p["text"] and "\x00" not in p["text"] for p in hostile["problems"])
    assert all(len(p["text"]) <= view.LINE_CHARS for p in hostile["problems"])


def test_with_500_triaged_sub_jobs_problem_lines_outrank_the_tails() -> None:
    wide = "E" * 20 + " error " + "|" * 470  # a long problem line, 2,800 bytes once escaped
    found = replace(
        hostile_triage("x"),
        problems=(Problem("build.log", 7, wide),),
        total_problems=1,
        tail=("INFO short line",) * 20,
        main_log="build.log",
        notes=(),
    )
    results = [replace(ok_result(f"{i:032x}"), triage=found) for i in range(500)]
    rendered = markdown.render_markdown(outcome_of(*results))
    sections = rendered.split("\n### ")[1:]
    assert len(sections) > 100
    for section in sections:
        if "**Triage:**" not in section:
            continue
        assert "<summary>Problem lines</summary>" in section, section
        assert "build.log&#58;7&#58; EEEEEEEEEEEEEEEEEEEE error" in section
    assert "<summary>Last 20 lines" not in rendered


def test_the_share_goes_to_the_triaged_sub_jobs_only() -> None:
    found = hostile_triage("x")
    triaged = [replace(ok_result(f"{i:032x}"), triage=found) for i in range(4)]
    failed = [replace(ok_result(f"{i:032x}"), status="failure") for i in range(4, 400)]
    rendered = markdown.render_markdown(outcome_of(*triaged, *failed))
    alone = markdown.render_markdown(outcome_of(*triaged))
    first = rendered.split("\n### ")[1]
    assert first.count("\n") == alone.split("\n### ")[1].count("\n"), "the same room as alone"
