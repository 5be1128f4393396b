"""Triage: exact counts for the built-in pattern, and bounded whatever the ZIP holds."""

from __future__ import annotations

import codecs
import io
import random
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from devtools.doubles.logs import MAIN_LOG_LINES, PROBLEM_LINES, realistic_log_package

from codearts_check_logs.ziplog.triage import (
    BUILTIN_PATTERN,
    KiB,
    Limits,
    MiB,
    PatternError,
    Problem,
    Triage,
    _why,
    compile_pattern,
    triage,
)

ID = "a777ff00d3cf4d369d87066806ae0001"
Member = tuple[str, bytes] | tuple[str, bytes, int]


def make_zip(members: Sequence[Member]) -> bytes:
    """A ZIP of (name, data[, compression]) members, deflated unless told otherwise."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            name, data = member[0], member[1]
            method = member[2] if len(member) == 3 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2026, 2, 3, 10, 0, 0)), data, method)
    return buffer.getvalue()


def save(tmp_path: Path, data: bytes, name: str = "logs.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(
    tmp_path: Path,
    members: Sequence[Member],
    pattern: re.Pattern[str] = BUILTIN_PATTERN,
    **limits: int,
) -> Triage:
    return triage(save(tmp_path, make_zip(members)), pattern, limits=Limits(**limits))


def entries(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(central entry offset, local header offset, name) of every member, from the directory."""
    eocd = data.rfind(b"PK\x05\x06")
    count, _size, offset = struct.unpack_from("<HLL", data, eocd + 10)
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, offset + 28)
        local = struct.unpack_from("<L", data, offset + 42)[0]
        yield offset, local, data[offset + 46 : offset + 46 + name_len]
        offset += 46 + name_len + extra_len + comment_len


def set_flags(data: bytes, name: bytes, *, on: int = 0, off: int = 0) -> bytes:
    """Change a member's general-purpose flags in both its headers."""
    out = bytearray(data)
    for central, local, found in entries(data):
        if found == name:
            for at in (central + 8, local + 6):
                flags = struct.unpack_from("<H", out, at)[0]
                struct.pack_into("<H", out, at, (flags | on) & ~off)
    return bytes(out)


def rename(data: bytes, placeholder: bytes, raw: bytes) -> bytes:
    """Give a member name bytes of our choosing (zipfile would flag non-ASCII names UTF-8)."""
    assert len(placeholder) == len(raw)
    assert data.count(placeholder) == 2
    return data.replace(placeholder, raw)


# --- the built-in pattern -----------------------------------------------------------------

MATCH = [
    "Error: disk full",
    "[ERROR] build stopped",
    "task failed.",
    "FATAL",
    "Traceback (most recent call last):",
    "panic: runtime error: index out of range",
    "deployment failure",
    "Exception in thread main",
    "(failed)",
    "build-failed",  # hyphens and dots separate words
    "see error.log",  # a known false positive of whole-word matching
    "ErRoR in mixed case",
    "编译error",  # non-ASCII letters separate words
    "错误",
    "编译失败",
    "运行时异常退出",
    "无错误",  # Chinese words count anywhere, even negated
    "\terror\t",
]
NO_MATCH = [
    "0 errors",
    "errors: 0",
    "error_count=0",
    "ERROR_CODE",
    "java.lang.NullPointerException",  # "exception" is not a whole word here
    "failedTests=0",
    "errored",
    "panicked",
    "tracebacks",
    "exceptional",
    "unfailed",
    "error404",
    "E_FATAL",
    "fail",
    "",
    "all good",
]


@pytest.mark.parametrize("line", MATCH)
def test_builtin_pattern_matches(line: str) -> None:
    assert BUILTIN_PATTERN.search(line)


@pytest.mark.parametrize("line", NO_MATCH)
def test_builtin_pattern_does_not_match(line: str) -> None:
    assert not BUILTIN_PATTERN.search(line)


def test_builtin_counts_exactly_in_a_zip(tmp_path: Path) -> None:
    lines = [line for pair in zip(MATCH, NO_MATCH, strict=False) for line in pair]
    lines += MATCH[len(NO_MATCH) :] + NO_MATCH[len(MATCH) :]
    english = "\n".join(lines) + "\n"
    result = run(tmp_path, [("a.log", english.encode()), ("b.log", english.encode("gb18030"))])
    assert [m.problems for m in result.members] == [len(MATCH), len(MATCH)]
    assert [m.encoding for m in result.members] == ["utf-8", "gb18030"]
    assert result.total_problems == 2 * len(MATCH)
    assert [p.text for p in result.problems] == (MATCH + MATCH)[:20]
    assert result.problems[0] == Problem("a.log", 1, "Error: disk full")


@pytest.mark.parametrize("density", [1.0, 0.05])  # line by line, or keywords found first
def test_builtin_counts_the_same_whatever_the_chunk_size(tmp_path: Path, density: float) -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    plain = ["INFO all good", "", "信息 正常", "DEBUG x=1"]
    text = "\n".join(
        rng.choice(MATCH + NO_MATCH if rng.random() < density else plain) * rng.randint(1, 3)
        for _ in range(2000)
    )
    expected = sum(1 for line in text.split("\n") if BUILTIN_PATTERN.search(line))
    for chunk in (1, 7, 100, 4096, 64 * KiB):
        result = run(tmp_path, [("a.log", text.encode())], chunk_bytes=chunk, max_problems=5000)
        assert result.total_problems == expected, chunk
        found = [(p.line, p.text) for p in result.problems]
        lines = text.split("\n")
        assert found == [(i + 1, s) for i, s in enumerate(lines) if BUILTIN_PATTERN.search(s)]


def test_colour_codes_do_not_hide_words_even_split_across_pieces(tmp_path: Path) -> None:
    text = b"\x1b[1;31mERROR\x1b[0m: build\n\x1b[32mok\x1b[0m\n" * 30 + b"end \x1b["
    for chunk in (1, 2, 3, 5, 8, 13, 64 * KiB):
        result = run(tmp_path, [("a.log", text)], chunk_bytes=chunk)
        assert result.total_problems == 30, chunk
        assert result.problems[0].text == "ERROR: build"
        assert result.tail[-2:] == ("ok", "end \x1b[")


# --- custom patterns ----------------------------------------------------------------------


def test_empty_pattern_is_the_builtin() -> None:
    assert compile_pattern("") is BUILTIN_PATTERN


def test_custom_pattern_is_case_sensitive_unless_it_says_so(tmp_path: Path) -> None:
    data = [("a.log", b"Error one\nERROR two\nerrors three\nfine\n")]
    assert run(tmp_path, data, compile_pattern("Error")).total_problems == 1
    # `(?i)` and no word boundaries: `errors` counts too.
    assert run(tmp_path, data, compile_pattern("(?i)error")).total_problems == 3
    assert run(tmp_path, data, compile_pattern(r"^fine$")).total_problems == 1


@pytest.mark.parametrize("text", ["(unclosed", "a{2,1}", "*", "(?P<x>a)(?P<x>b)", "\\"])
def test_invalid_pattern_is_a_one_line_value_error(text: str) -> None:
    with pytest.raises(PatternError, match=r"^triage-pattern is not a valid regular expression: "):
        compile_pattern(text)
    with pytest.raises(ValueError, match=r"\A[^\n]+\Z"):
        compile_pattern(text)


@pytest.mark.parametrize("text", ["a*", "error|", ".*", "^", "(?m)$", "^$", "(?=x)?", "x*|y"])
def test_pattern_matching_an_empty_line_is_refused(text: str) -> None:
    with pytest.raises(PatternError, match="matches an empty line"):
        compile_pattern(text)


@pytest.mark.parametrize("text", ["x+", r"\berror\b", "(?i)fatal", "^ERROR", r"\S"])
def test_reasonable_patterns_are_accepted(text: str) -> None:
    assert compile_pattern(text).pattern == text


# --- lines ---------------------------------------------------------------------------------


def test_line_numbers_endings_and_carriage_returns(tmp_path: Path) -> None:
    data = b"one\r\ntwo error\r\n\r\nthree\rerror\nlast error"
    result = run(tmp_path, [("a.log", data)], compile_pattern("error$"))
    member = result.members[0]
    assert (member.lines, member.problems) == (5, 3)
    assert [(p.line, p.text) for p in result.problems] == [
        (2, "two error"),
        (4, "threeerror"),
        (5, "last error"),
    ]
    assert result.tail == ("one", "two error", "", "threeerror", "last error")
    empty = run(tmp_path, [("b.log", b""), ("c.log", b"\n")])
    assert [(m.lines, m.skipped) for m in empty.members] == [(0, None), (1, None)]


def test_long_lines_are_cut_and_matched_on_what_is_kept(tmp_path: Path) -> None:
    early = "error " + "x" * 994
    late = "x" * 600 + " error"
    result = run(tmp_path, [("a.log", f"{early}\n{late}\n".encode())])
    assert result.total_problems == 1  # the word after the 500th character is not seen
    assert result.problems[0].text == early[:500] + " …[cut: 1000 characters in all]"
    assert result.tail[-1] == late[:500] + " …[cut: 606 characters in all]"


def test_first_problems_in_member_order_and_all_counted(tmp_path: Path) -> None:
    first = "".join(f"error {i}\n" for i in range(15)).encode()
    second = "".join(f"fine\nfailed {i}\n" for i in range(15)).encode()
    result = run(tmp_path, [("a.log", first), ("b.log", second)])
    assert result.total_problems == 30
    assert [(p.member, p.line, p.text) for p in result.problems] == [
        *[("a.log", i + 1, f"error {i}") for i in range(15)],
        *[("b.log", 2 * i + 2, f"failed {i}") for i in range(5)],
    ]


# --- the main log and its tail ---------------------------------------------------------------


def numbered(count: int, word: str = "line") -> bytes:
    return "".join(f"{word} {i}\n" for i in range(1, count + 1)).encode()


def test_main_log_is_the_largest_log_file(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [
            ("small.log", numbered(5)),
            ("big.txt", numbered(500)),
            ("sub/Main.LOG", numbered(100, "main")),
            ("other.log", numbered(30)),
        ],
    )
    assert result.main_log == "sub/Main.LOG"
    assert result.tail == tuple(f"main {i}" for i in range(81, 101))


def test_without_log_files_the_main_log_is_the_largest(tmp_path: Path) -> None:
    result = run(tmp_path, [("a.txt", numbered(3)), ("b.json", numbered(9)), ("c", b"")])
    assert result.main_log == "b.json"
    assert result.tail == tuple(f"line {i}" for i in range(1, 10))


def test_main_log_is_among_members_triage_read(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        [("huge.log", b"\x00binary" * 1000), ("pic.png", b"x" * 9999), ("run.log", b"ok\n")],
    )
    assert result.main_log == "run.log"
    assert run(tmp_path, [("pic.png", b"x")]).main_log is None


def test_main_log_ties_go_to_the_first(tmp_path: Path) -> None:
    result = run(tmp_path, [("a.log", numbered(9)), ("b.log", numbered(9))])
    assert result.main_log == "a.log"


# --- encodings -----------------------------------------------------------------------------


def test_encodings(tmp_path: Path) -> None:
    text = "信息 开始\n错误 编译失败\nerror 𠀀\n"
    members: list[Member] = [
        ("utf8.log", text.encode()),
        ("bom.log", codecs.BOM_UTF8 + text.encode()),
        ("gb.log", text.encode("gb18030")),
        ("broken.log", b"\xff\xfe ok\nerror \x81\n\xc3(\n"),
        ("ascii.log", b"fine\n"),
    ]
    result = run(tmp_path, members, chunk_bytes=5)
    assert [(m.encoding, m.problems, m.lines) for m in result.members] == [
        ("utf-8", 2, 3),
        ("utf-8-sig", 2, 3),
        ("gb18030", 2, 3),
        ("gb18030", 1, 3),
        ("utf-8", 0, 1),
    ]
    texts = [p.text for p in result.problems]
    assert texts[:6] == ["错误 编译失败", "error 𠀀"] * 3
    assert texts[6] == "error \ufffd"


# --- binary members -------------------------------------------------------------------------


def test_binary_members_are_skipped_and_counted(tmp_path: Path) -> None:
    controls = bytes(range(1, 9)) * 100 + b"error\n"
    ansi = b"\x1b[31mERROR\x1b[0m red\n" * 50
    result = run(
        tmp_path,
        [
            ("nul.log", b"error\n\x00"),
            ("controls.log", controls),
            ("report.PDF", b"error\n"),
            ("lib/x.so", b"error\n"),
            ("colours.log", ansi),
        ],
    )
    assert [m.skipped for m in result.members] == ["binary"] * 4 + [None]
    assert result.total_problems == 50
    assert result.notes == ("4 binary members skipped",)
    # Known extensions are not even read.
    assert result.bytes_read == len(b"error\n\x00") + len(controls) + len(ansi)


# --- bombs and the budget ------------------------------------------------------------------


def bomb(tmp_path: Path, fill: bytes, mib: int, head: bytes = b"") -> Path:
    path = tmp_path / "bomb.zip"
    block = fill * MiB
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("bomb.log", "w") as member,
    ):
        member.write(head)
        for _ in range(mib):
            member.write(block)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("after.log", b"error after the bomb\n")
    return path


@pytest.mark.parametrize(("fill", "mib"), [(b"\x00", 200), (b" ", 50)])
def test_bomb_is_skipped_unread_with_a_note(tmp_path: Path, fill: bytes, mib: int) -> None:
    path = bomb(tmp_path, fill, mib, head=b"error in the bomb\n")
    started = time.perf_counter()
    result = triage(path, BUILTIN_PATTERN)
    assert time.perf_counter() - started < 0.5
    assert [m.skipped for m in result.members] == ["ZIP bomb", None]
    assert result.members[0].problems == 0  # a bomb contributes nothing
    assert result.total_problems == 1
    assert result.notes == (
        f"bomb.log skipped: it would decompress to {mib} MiB, more than 100 times its "
        "compressed size (ZIP bomb?)",
    )
    assert result.bytes_read == len(b"error after the bomb\n")
    assert result.main_log == "after.log"


def test_bomb_that_understates_its_size_yields_no_more_than_it_claims(tmp_path: Path) -> None:
    path = bomb(tmp_path, b" ", 50, head=b"error in the bomb\n")
    data = bytearray(path.read_bytes())
    for central, local, name in entries(bytes(data)):
        if name == b"bomb.log":
            struct.pack_into("<L", data, central + 24, 100 * KiB)  # uncompressed size
            struct.pack_into("<L", data, local + 22, 100 * KiB)
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN)
    assert result.members[0].skipped == "damaged"  # zipfile stops at 100 KiB; the CRC fails
    assert result.bytes_read <= 100 * KiB + len(b"error after the bomb\n")
    assert result.notes[0].startswith("bomb.log is damaged (its CRC check failed)")


def test_bomb_ratio_and_floor(tmp_path: Path) -> None:
    # About 1 MB at a ratio of about 500: under the floor, so read.
    result = run(tmp_path, [("a.log", b"same line\n" * 100_000)])
    assert result.members[0].skipped is None
    # The same at a lower floor is a bomb; at a higher ratio it is not.
    result = run(tmp_path, [("a.log", b"same line\n" * 100_000)], bomb_floor=KiB)
    assert result.members[0].skipped == "ZIP bomb"
    result = run(tmp_path, [("a.log", b"same line\n" * 100_000)], bomb_floor=KiB, bomb_ratio=2000)
    assert result.members[0].skipped is None


def test_read_budget(tmp_path: Path) -> None:
    part = numbered(60_000)  # ~650 KB each
    result = run(
        tmp_path,
        [
            ("a.log", part),
            ("b.log", numbered(70_000)),
            ("c.log", part),
            ("d.txt", part),
            ("e.log", b""),
        ],
        max_read_bytes=1 * MiB,
    )
    assert result.bytes_read == MiB
    assert result.truncated
    assert [m.skipped for m in result.members] == [
        None,
        "read budget",
        "read budget",
        "read budget",
        None,
    ]
    assert result.members[1].lines > 30_000
    assert result.notes == (
        "stopped after 1 MiB of decompressed text; b.log was read in part and 2 members not read",
        "the last lines of b.log are where triage stopped reading it (read budget), "
        "not the end of the file",
    )
    assert result.main_log == "b.log"
    assert all(line.startswith("line") for line in result.tail)


def test_member_ending_exactly_at_the_budget_is_complete(tmp_path: Path) -> None:
    result = run(tmp_path, [("a.log", b"x" * 1000), ("b.log", b"y")], max_read_bytes=1000)
    assert [m.skipped for m in result.members] == [None, "read budget"]
    assert result.notes == ("stopped after 1000 bytes of decompressed text; 1 member not read",)


def test_real_budget_of_64_mib(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    line = b"2026-02-03 10:00:00.000 INFO  [worker] " + b"step done, nothing to report " * 30
    block = (line + b"\n") * (MiB // (len(line) + 1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name in ("one.log", "two.log"):
            with archive.open(name, "w") as member:
                for _ in range(40):
                    member.write(block)
    started = time.perf_counter()
    result = triage(path, BUILTIN_PATTERN)
    elapsed = time.perf_counter() - started
    assert result.bytes_read == 64 * MiB
    assert [m.skipped for m in result.members] == [None, "read budget"]
    assert result.main_log == "one.log"  # same size: the first
    assert elapsed < 10


# --- memory ----------------------------------------------------------------------------------


def stored_line(tmp_path: Path, size: int) -> Path:
    """A member of one line of `size` bytes, no newline, stored (so no bomb)."""
    path = tmp_path / "line.zip"
    block = b"error " + b"abcdefgh" * (MiB // 8)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive,
        archive.open("line.log", "w", force_zip64=True) as member,
    ):
        written = 0
        while written < size:
            piece = block[: size - written]
            member.write(piece)
            written += len(piece)
    return path


@pytest.mark.parametrize("mib", [1, 100])
def test_a_huge_line_is_never_held_whole(tmp_path: Path, mib: int) -> None:
    path = stored_line(tmp_path, mib * MiB)
    tracemalloc.start()
    try:
        result = triage(path, BUILTIN_PATTERN, limits=Limits(max_read_bytes=128 * MiB))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * MiB
    assert (result.members[0].lines, result.total_problems) == (1, 1)
    assert result.problems[0].text.endswith(f" …[cut: {mib * MiB} characters in all]")
    assert len(result.problems[0].text) < 550
    assert result.bytes_read == mib * MiB


def test_memory_stays_flat_across_many_lines(tmp_path: Path) -> None:
    text = b"".join(
        b"error %06d in module m, while checking rule SEC-C-0012\n" % i for i in range(100_000)
    )
    path = save(tmp_path, make_zip([("a.log", text)]))
    tracemalloc.start()
    try:
        result = triage(path, BUILTIN_PATTERN)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(text) > 5 * MiB
    assert result.total_problems == 100_000
    assert len(result.problems) == 20
    assert peak < 2 * MiB


# --- damaged, encrypted, unsupported ---------------------------------------------------------


def test_bad_crc_is_a_note_and_the_rest_is_read(tmp_path: Path) -> None:
    text = b"".join(b"line %d error\n" % i for i in range(1000))  # zipfile reads 4 KiB at once
    data = bytearray(make_zip([("a.log", text, zipfile.ZIP_STORED), ("b.log", b"failed\n")]))
    data[data.find(b"line 999") + 5] = ord("8")
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN, limits=Limits(chunk_bytes=256))
    first, second = result.members
    assert first.skipped == "damaged"
    assert 0 < first.lines < 1000
    assert first.problems >= first.lines - 1  # the last line read may be cut short
    assert second.skipped is None
    assert result.total_problems == first.problems + 1
    assert result.notes == (
        f"a.log is damaged (its CRC check failed); only the {first.lines} lines read before "
        "that count",
        "the last lines of a.log are where triage stopped reading it (damaged), "
        "not the end of the file",
    )


def test_corrupt_deflate_stream_is_a_note(tmp_path: Path) -> None:
    text = random.Random(3).randbytes(50_000).hex().encode()  # noqa: S311
    data = bytearray(make_zip([("a.log", text), ("b.log", b"fatal\n")]))
    start = 30 + len("a.log")
    data[start + 100 : start + 400] = bytes(300)
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN)
    assert result.members[0].skipped == "damaged"
    assert result.notes[0].startswith("a.log is damaged (its compressed data ")
    assert result.members[1].problems == 1


def test_encrypted_member_is_skipped(tmp_path: Path) -> None:
    data = make_zip([("secret.log", b"error\n"), ("open.log", b"error\n")])
    data = set_flags(data, b"secret.log", on=0x1)
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert [m.skipped for m in result.members] == ["encrypted", None]
    assert result.notes == ("secret.log skipped: it is encrypted",)
    assert result.total_problems == 1


def test_unsupported_compression_is_skipped(tmp_path: Path) -> None:
    result = run(tmp_path, [("a.log", b"error\n" * 10, zipfile.ZIP_BZIP2), ("b.log", b"error\n")])
    assert [m.skipped for m in result.members] == ["unsupported compression", None]
    assert result.notes == ("a.log skipped: triage does not read bzip2 compression",)
    assert result.bytes_read == 6


def test_notes_about_members_are_capped(tmp_path: Path) -> None:
    data = make_zip([(f"{i:02d}.log", b"x\n") for i in range(25)])
    for i in range(25):
        data = set_flags(data, f"{i:02d}.log".encode(), on=0x1)
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert len(result.notes) == 21
    assert result.notes[-1] == "5 more members could not be read"


def test_local_header_that_disagrees_with_the_directory(tmp_path: Path) -> None:
    data = bytearray(make_zip([("a.log", b"error\n"), ("b.log", b"error\n")]))
    data[30:35] = b"z.log"  # the first local header's name
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN)
    assert result.members[0].skipped == "damaged"
    assert result.notes[0] == (
        "a.log is damaged (a ZIP structure is damaged); only the 0 lines read before that count"
    )
    assert result.total_problems == 1


@pytest.mark.parametrize(
    ("exc", "phrase"),
    [
        (zipfile.BadZipFile("Bad CRC-32 for file 'x'"), "its CRC check failed"),
        (zipfile.BadZipFile("Bad magic number for file header"), "a ZIP structure is damaged"),
        (zlib.error("Error -3 while decompressing data"), "its compressed data is corrupt"),
        (EOFError("Compressed file ended"), "its compressed data ends early"),
        (NotImplementedError("bit 6"), "it uses a ZIP feature zipfile does not support"),
        (OSError(5, "Input/output error"), "a read failed: Input/output error"),
        (OSError("no errno"), "a read failed: OSError"),
        (struct.error("unpack requires a buffer"), "a ZIP structure is invalid"),
    ],
)
def test_damage_is_told_in_fixed_words(exc: BaseException, phrase: str) -> None:
    """Notes never quote zipfile's messages, which repeat the (hostile) member name."""
    assert _why(exc) == phrase


# --- names ---------------------------------------------------------------------------------


def test_member_names_without_the_utf8_flag(tmp_path: Path) -> None:
    gbk = "构建/日志.log".encode("gbk")
    utf8 = "构建/日志.log".encode()
    cp437 = b"caf\x82.log"
    data = make_zip(
        [
            ("G" * len(gbk), b"error gbk\n"),
            ("U" * len(utf8), b"error utf8\n"),
            ("C" * len(cp437), b"error cp437\n"),
            ("构建/flagged.log", b"error flagged\n"),
        ]
    )
    data = rename(data, b"G" * len(gbk), gbk)
    data = rename(data, b"U" * len(utf8), utf8)
    data = rename(data, b"C" * len(cp437), cp437)
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    names = ["构建/日志.log", "构建/日志.log", "café.log", "构建/flagged.log"]
    assert [m.name for m in result.members] == names
    assert [p.member for p in result.problems] == names
    assert all(m.skipped is None for m in result.members)


def test_duplicate_names_are_each_read(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_zip([("a.log", b"error one\n"), ("a.log", b"fine\nerror two\n")])
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert [(p.line, p.text) for p in result.problems] == [(1, "error one"), (2, "error two")]


def test_directories_are_ignored(tmp_path: Path) -> None:
    result = run(tmp_path, [("logs/", b""), ("logs/a.log", b"error\n")])
    assert [m.name for m in result.members] == ["logs/a.log"]


# --- the archive as a whole ---------------------------------------------------------------------


def too_many(members: int, limit: int) -> str:
    return f"triage skipped: the archive lists {members} members, more than the {limit} it opens"


def test_too_many_members_is_refused_from_the_end_record(tmp_path: Path) -> None:
    result = run(tmp_path, [(f"{i}.log", b"error\n") for i in range(5)], max_members=4)
    assert result.notes == (too_many(5, 4),)
    assert result.truncated
    assert (result.members, result.bytes_read, result.total_problems) == ((), 0, 0)


def test_an_end_record_that_understates_the_count_is_caught(tmp_path: Path) -> None:
    data = bytearray(make_zip([(f"{i}.log", b"error\n") for i in range(5)]))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", data, eocd + 8, 1, 1)
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN, limits=Limits(max_members=4))
    assert result.notes == (too_many(5, 4),)


def test_too_large_central_directory_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, [("x" * 200 + ".log", b"error\n")], max_directory_bytes=KiB // 8)
    assert result.notes == (
        "triage skipped: the archive's central directory is 250 bytes, more than the 128 bytes "
        "it opens",
    )


def as_zip64(data: bytes) -> bytes:
    """The same archive with a ZIP64 end record, and the classic one saturated."""
    eocd = data.rfind(b"PK\x05\x06")
    count, size, offset = struct.unpack_from("<HLL", data, eocd + 10)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, eocd, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    return data[:eocd] + record + locator + end


def test_zip64_end_record_is_read(tmp_path: Path) -> None:
    data = as_zip64(make_zip([(f"{i}.log", b"error\n") for i in range(3)]))
    path = save(tmp_path, data)
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == 3
    assert triage(path, BUILTIN_PATTERN).total_problems == 3
    refused = triage(path, BUILTIN_PATTERN, limits=Limits(max_members=2))
    assert refused.notes == (too_many(3, 2),)
    small = triage(path, BUILTIN_PATTERN, limits=Limits(max_directory_bytes=100))
    assert small.notes[0].startswith("triage skipped: the archive's central directory is 153 bytes")


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (b"not a zip at all", "triage could not open the archive: a ZIP structure is damaged"),
        (b"", "triage could not open the archive: a ZIP structure is damaged"),
    ],
)
def test_not_a_zip_is_a_note(tmp_path: Path, data: bytes, note: str) -> None:
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert result.notes == (note,)
    assert not result.truncated


def test_flagged_name_that_is_not_utf8_is_a_note(tmp_path: Path) -> None:
    data = make_zip([("日志.log", b"error\n")])
    data = data.replace("日志".encode(), b"\xff\xfe\xfd\xfc\xfb\xfa")
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert result.notes == (
        "triage could not open the archive: a name marked as UTF-8 is not valid UTF-8",
    )


def test_missing_file_is_a_note(tmp_path: Path) -> None:
    result = triage(tmp_path / "absent.zip", BUILTIN_PATTERN)
    assert result.notes == ("triage could not read the archive: No such file or directory",)


def test_mangled_archives_never_raise(tmp_path: Path) -> None:
    original = realistic_log_package(ID)
    rng = random.Random(20260203)  # noqa: S311 - reproducible mutations
    path = tmp_path / "m.zip"
    limits = Limits(chunk_bytes=512, max_read_bytes=256 * KiB)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        path.write_bytes(bytes(data))
        result = triage(path, BUILTIN_PATTERN, limits=limits)
        assert result.bytes_read <= limits.max_read_bytes
        assert len(result.problems) <= limits.max_problems


# --- the realistic package -------------------------------------------------------------------


def test_realistic_log_package(tmp_path: Path) -> None:
    data = realistic_log_package(ID)
    assert data == realistic_log_package(ID)
    assert len(data) < 100 * KiB
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert result.total_problems == PROBLEM_LINES
    assert result.notes == ()
    assert not result.truncated
    assert result.main_log == f"{ID}/codecheck.log"
    assert result.members[0].lines == MAIN_LOG_LINES
    assert len(result.tail) == 20
    assert result.tail[-1].endswith(f"sub-job {ID} finished with status FAILED")
    by_name = {m.name.rpartition("/")[2]: m for m in result.members}
    assert by_name["summary.json"].problems == 0
    assert by_name["编译构建.log"].encoding == "gb18030"
    assert by_name["编译构建.log"].problems == 2
    assert any("错误" in p.text for p in result.problems)
