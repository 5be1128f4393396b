"""Lines of one member: every line end, per-line decoding, cut lines, whatever the chunking."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codearts_check_logs.ziplog.lines import LineReader
from codearts_check_logs.ziplog.pattern import (
    BUILTIN_PATTERN,
    Matcher,
    TriagePattern,
    Watch,
    compile_pattern,
)
from tests.unit.ziplog.test_pattern import MATCH, NO_MATCH


def read(
    data: bytes,
    pattern: TriagePattern = BUILTIN_PATTERN,
    *,
    chunk: int = 1 << 18,
    keep: int = 5000,
) -> LineReader:
    watch = Watch(60)
    reader = LineReader(Matcher(pattern, watch), watch, cap=500, keep=keep, tail_lines=20)
    for at in range(0, len(data), chunk):
        reader.feed(data[at : at + chunk])
    reader.close()
    return reader


def reference_lines(text: str) -> list[str]:
    """What Python calls the lines of `text` when only LF, CRLF and CR end one."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def test_every_line_end_counts() -> None:
    reader = read(b"one\r\ntwo error\r\n\r\nthree\rerror\nlast error", compile_pattern("error$"))
    assert (reader.lines, reader.problems) == (6, 3)
    assert reader.found == [(2, "two error"), (5, "error"), (6, "last error")]
    assert list(reader.tail) == ["one", "two error", "", "three", "error", "last error"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 18])
def test_three_problem_lines_ended_by_lone_carriage_returns_count_three(chunk: int) -> None:
    reader = read(b"ERROR one\rERROR two\rERROR three\r", chunk=chunk)
    assert (reader.lines, reader.problems) == (3, 3)
    assert [n for n, _ in reader.found] == [1, 2, 3]


@pytest.mark.parametrize("chunk", [1, 2, 5])
def test_a_crlf_split_between_pieces_is_one_line_end(chunk: int) -> None:
    reader = read(b"a\r\nb\r\n\r\nERROR\r\n", chunk=chunk)
    assert (reader.lines, reader.problems) == (4, 1)
    assert reader.found == [(4, "ERROR")]


@pytest.mark.parametrize("density", [1.0, 0.05])  # line by line, or keywords found first
def test_builtin_counts_the_same_whatever_the_chunk_size(density: float) -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    plain = ["INFO all good", "", "信息 正常", "DEBUG x=1"]
    ends = ["\n", "\r\n", "\r"]
    text = "".join(
        rng.choice(MATCH + NO_MATCH if rng.random() < density else plain) * rng.randint(1, 3)
        + rng.choice(ends)
        for _ in range(2000)
    )
    lines = reference_lines(text)
    expected = [(i + 1, s) for i, s in enumerate(lines) if BUILTIN_PATTERN.search(s)]
    for chunk in (1, 7, 100, 4096, 1 << 16):
        reader = read(text.encode(), chunk=chunk)
        assert reader.lines == len(lines) - 1, chunk  # the text ends with a line end
        assert reader.found == expected, chunk


@given(
    st.lists(
        st.text(alphabet="ab \r\n错E", max_size=12),
        max_size=30,
    ),
    st.integers(min_value=1, max_value=17),
)
def test_user_pattern_sees_the_lines_python_sees(parts: list[str], chunk: int) -> None:
    """The reference: str.replace-and-split on the decoded text, against any chunking."""
    text = "".join(parts)
    lines = reference_lines(text)
    if lines and lines[-1] == "":
        lines.pop()  # a line end at the very end opens no line
    reader = read(text.encode(), compile_pattern("a+b|错"), chunk=chunk)
    assert reader.lines == len(lines)
    pattern = compile_pattern("a+b|错")
    assert reader.found == [(i + 1, s) for i, s in enumerate(lines) if pattern.search(s)]


def test_colour_codes_do_not_hide_words_even_split_across_pieces() -> None:
    text = b"\x1b[1;31mERROR\x1b[0m: build\n\x1b[32mok\x1b[0m\n" * 30 + b"end \x1b["
    for chunk in (1, 2, 3, 5, 8, 13, 1 << 16):
        reader = read(text, chunk=chunk)
        assert reader.problems == 30, chunk
        assert reader.found[0] == (1, "ERROR: build")
        assert list(reader.tail)[-2:] == ["ok", "end \x1b["]


def test_one_gbk_line_does_not_cost_the_utf8_lines_around_it() -> None:
    data = "错误 一\n".encode() + "错误 二\n".encode("gbk") + "失败 三\n".encode()
    for chunk in (1, 3, 1 << 16):
        reader = read(data, chunk=chunk)
        assert reader.found == [(1, "错误 一"), (2, "错误 二"), (3, "失败 三")], chunk
        assert reader.encoding == "utf-8+gb18030"


def test_encodings_of_a_member() -> None:
    assert read("错误\n".encode()).encoding == "utf-8"
    assert read(b"\xef\xbb\xbf" + "错误\n".encode()).found == [(1, "错误")]
    assert read(b"\xef\xbb\xbfok\n").encoding == "utf-8-sig"
    assert read("错误\n".encode("gb18030")).encoding == "gb18030"
    assert read(b"fine\n").encoding == "utf-8"


def test_long_lines_are_cut_and_matched_on_what_is_kept() -> None:
    early = "error " + "x" * 994
    late = "x" * 600 + " error"
    reader = read(f"{early}\n{late}\n".encode())
    assert reader.problems == 1  # the word after the 500th character is not seen
    assert reader.found[0][1] == early[:500] + " …[cut: 1000 characters in all]"
    assert reader.tail[-1] == late[:500] + " …[cut: 606 characters in all]"


@pytest.mark.parametrize("chunk", [1000, 1 << 16])
def test_a_long_line_across_pieces_is_cut_and_counted(chunk: int) -> None:
    line = "错误 " + "字" * 5000
    reader = read((line + "\n").encode(), chunk=chunk)
    assert reader.problems == 1
    assert reader.found[0][1] == line[:500] + f" …[cut: {len(line)} characters in all]"


def test_first_problems_are_kept_up_to_the_limit_and_all_counted() -> None:
    reader = read(b"".join(b"error %d\n" % i for i in range(30)), keep=5)
    assert reader.problems == 30
    assert [n for n, _ in reader.found] == [1, 2, 3, 4, 5]


def test_the_last_line_without_an_end_counts() -> None:
    reader = read(b"one\ntwo error")
    assert (reader.lines, reader.found) == (2, [(2, "two error")])
    assert read(b"").lines == 0
    assert read(b"\n").lines == 1
