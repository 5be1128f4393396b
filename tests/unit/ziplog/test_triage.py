"""Triage of a whole ZIP: exact counts, the budgets, and bounded whatever the ZIP holds."""

from __future__ import annotations

import codecs
import io
import random
import struct
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from devtools.doubles.logs import MAIN_LOG_LINES, PROBLEM_LINES, realistic_log_package

from codearts_check_logs.ziplog.findings import Problem, Triage
from codearts_check_logs.ziplog.pattern import (
    BUILTIN_PATTERN,
    TriagePattern,
    Watch,
    compile_pattern,
)
from codearts_check_logs.ziplog.triage import KiB, Limits, MiB, Scan, triage
from codearts_check_logs.ziplog.verify import verify
from tests.unit.ziplog.test_pattern import MATCH, NO_MATCH

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
    pattern: TriagePattern = BUILTIN_PATTERN,
    **limits: float,
) -> Triage:
    return triage(save(tmp_path, make_zip(members)), pattern, limits=Limits(**limits))  # type: ignore[arg-type]


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


def test_custom_pattern_is_case_sensitive_unless_it_says_so(tmp_path: Path) -> None:
    data = [("a.log", b"Error one\nERROR two\nerrors three\nfine\n")]
    assert run(tmp_path, data, compile_pattern("Error")).total_problems == 1
    # `(?i)` and no word boundaries: `errors` counts too.
    assert run(tmp_path, data, compile_pattern("(?i)error")).total_problems == 3
    assert run(tmp_path, data, compile_pattern(r"^fine$")).total_problems == 1


# --- lines ---------------------------------------------------------------------------------


def test_line_numbers_endings_and_carriage_returns(tmp_path: Path) -> None:
    data = b"one\r\ntwo error\r\n\r\nthree\rerror\nlast error"
    result = run(tmp_path, [("a.log", data)], compile_pattern("error$"))
    member = result.members[0]
    assert (member.lines, member.problems) == (6, 3)
    assert [(p.line, p.text) for p in result.problems] == [
        (2, "two error"),
        (5, "error"),
        (6, "last error"),
    ]
    assert result.tail == ("one", "two error", "", "three", "error", "last error")
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
        ("mixed.log", "错误 一\n".encode() + "错误 二\n".encode("gbk")),
    ]
    result = run(tmp_path, members)
    assert [(m.encoding, m.problems, m.lines) for m in result.members] == [
        ("utf-8", 2, 3),
        ("utf-8-sig", 2, 3),
        ("gb18030", 2, 3),
        ("gb18030", 1, 3),
        ("utf-8", 0, 1),
        ("utf-8+gb18030", 2, 2),
    ]
    texts = [p.text for p in result.problems]
    assert texts[:6] == ["错误 编译失败", "error 𠀀"] * 3
    assert texts[6] == "error \ufffd"
    assert texts[7:] == ["错误 一", "错误 二"]


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
    assert result.members[0].skipped == "damaged"  # inflating stops at the size it claims
    assert result.bytes_read <= 100 * KiB + len(b"error after the bomb\n")
    assert result.notes[0].startswith("bomb.log is damaged (it inflates to more than its size)")


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
    text = b"".join(b"line %d error\n" % i for i in range(1000))
    data = bytearray(make_zip([("a.log", text, zipfile.ZIP_STORED), ("b.log", b"failed\n")]))
    data[data.find(b"line 999") + 5] = ord("8")
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN)
    first, second = result.members
    assert first.skipped == "damaged"
    assert (first.lines, first.problems) == (1000, 1000)  # every line was read before the CRC
    assert second.skipped is None
    assert result.total_problems == 1001
    assert result.notes == (
        "a.log is damaged (its CRC check failed); only the 1000 lines read before that count",
        "the last lines of a.log are where triage stopped reading it (damaged), "
        "not the end of the file",
    )


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_small_damaged_member_still_yields_its_first_lines(tmp_path: Path, method: int) -> None:
    text = b"INFO start\nERROR first problem\nFATAL second problem\n" + b"INFO more\n" * 200
    data = bytearray(make_zip([("small.log", text, method)]))
    for at in (14, data.find(b"PK\x01\x02") + 16):  # the CRC, in both headers
        data[at] ^= 0xFF
    assert len(data) < 64 * KiB
    result = triage(save(tmp_path, bytes(data)), BUILTIN_PATTERN)
    [member] = result.members
    assert member.skipped == "damaged"
    assert [(p.line, p.text) for p in result.problems] == [
        (2, "ERROR first problem"),
        (3, "FATAL second problem"),
    ]


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


def test_members_past_the_limit_are_counted_not_read(tmp_path: Path) -> None:
    result = run(tmp_path, [(f"{i}.log", b"error\n") for i in range(5)], max_members=4)
    assert result.notes == ("triage read the first 4 members; 1 more member not read",)
    assert result.truncated
    assert (len(result.members), result.total_problems) == (4, 4)


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


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (
            b"not a zip at all",
            "triage could not open the archive: it has no end-of-central-directory record",
        ),
        (b"", "triage could not open the archive: it has no end-of-central-directory record"),
    ],
)
def test_not_a_zip_is_a_note(tmp_path: Path, data: bytes, note: str) -> None:
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert result.notes == (note,)
    assert not result.truncated


def test_flagged_name_that_is_not_utf8_is_read_with_replacements(tmp_path: Path) -> None:
    data = make_zip([("日志.log", b"error\n")])
    data = data.replace("日志".encode(), b"\xff\xfe\xfd\xfc\xfb\xfa")
    result = triage(save(tmp_path, data), BUILTIN_PATTERN)
    assert result.members[0].name == "\ufffd" * 6 + ".log"
    assert result.total_problems == 1


def test_missing_file_is_a_note(tmp_path: Path) -> None:
    result = triage(tmp_path / "absent.zip", BUILTIN_PATTERN)
    assert result.notes == ("triage could not read the archive: No such file or directory",)


def test_mangled_archives_never_raise(tmp_path: Path) -> None:
    original = realistic_log_package(ID)
    rng = random.Random(20260203)  # noqa: S311 - reproducible mutations
    path = tmp_path / "m.zip"
    limits = Limits(max_read_bytes=256 * KiB)
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


# --- the time budget and the cancel -----------------------------------------------------------


class SteppingClock:
    """Time that moves by `step` at every reading: no waiting, whatever the machine's speed."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def scan_with(
    tmp_path: Path, members: Sequence[Member], pattern: TriagePattern, watch: Watch
) -> Triage:
    scan = Scan(pattern, watch=watch)
    verify(save(tmp_path, make_zip(members)), text=scan)
    return scan.result()


# A user's pattern reads the clock at every line, the built-in one at every block of lines.
@pytest.mark.parametrize(("text", "step"), [("(?i)error", 0.001), ("", 0.1)])
def test_the_time_budget_stops_triage_and_says_so(tmp_path: Path, text: str, step: float) -> None:
    lines = b"".join(b"error %d\n" % i for i in range(100_000))
    watch = Watch(2.0, clock=SteppingClock(step))
    result = scan_with(
        tmp_path,
        [("a.log", lines), ("b.log", lines), ("c.log", b"")],
        compile_pattern(text),
        watch,
    )
    assert result.truncated
    assert result.notes[0].startswith(
        "triage stopped early: its time budget ran out while reading a.log; 1 more member not read"
    )
    assert [m.skipped for m in result.members] == ["time budget", "time budget", None]
    assert 0 < result.members[0].lines < 100_000


def test_a_cancel_stops_triage_and_says_so(tmp_path: Path) -> None:
    cancelled = threading.Event()
    cancelled.set()
    result = scan_with(
        tmp_path,
        [("a.log", b"error\n" * 10)],
        BUILTIN_PATTERN,
        Watch(60, cancelled=cancelled.is_set),
    )
    assert result.truncated
    assert result.notes[0] == "triage stopped early: the job was cancelled while reading a.log"
