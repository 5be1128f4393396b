"""The ZIP check reads only the central directory, and only as much of it as it lists."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from devtools.doubles.codearts import StreamedZip, small_zip

from codearts_check_logs.ziplog import reader as logzip
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN, triage
from tests.conftest import ID1


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "x.zip"
    path.write_bytes(data)
    return path


def test_lists_members_with_sizes(tmp_path: Path) -> None:
    listing = logzip.inspect(write(tmp_path, small_zip(ID1)))
    assert listing.total == 5
    assert [m.name for m in listing.members] == [
        f"{ID1}/codecheck.log",
        f"{ID1}/summary.json",
        f"{ID1}/tools/secbrella.log",
        f"{ID1}/tools/cppcheck.log",
        f"{ID1}/tools/编译构建.log",
    ]
    assert listing.members[0].size == 18620
    assert listing.members[0].compressed_size < listing.members[0].size
    assert listing.more == 0


def test_streamed_zip_is_a_valid_zip(tmp_path: Path) -> None:
    data = b"".join(StreamedZip(ID1, 3 << 20).chunks())
    path = write(tmp_path, data)
    assert len(data) == StreamedZip(ID1, 3 << 20).length == 3 << 20
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
    assert logzip.inspect(path).total == 1


def test_empty_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    assert logzip.inspect(write(tmp_path, buffer.getvalue())) == logzip.Listing(0, ())


def test_archive_comment_is_allowed(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.log", "x")
        archive.comment = b"PK\x05\x06 looks like an end record but is a comment"
    assert logzip.inspect(write(tmp_path, buffer.getvalue())).total == 1


def many_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            archive.writestr(f"logs/{i:06d}.log", "")
    return buffer.getvalue()


def test_listing_is_capped_but_counts_everything(tmp_path: Path) -> None:
    listing = logzip.inspect(write(tmp_path, many_entries(5000)), limit=50)
    assert listing.total == 5000
    assert len(listing.members) == 50
    assert listing.more == 4950


def test_listing_a_huge_directory_reads_little(tmp_path: Path) -> None:
    path = write(tmp_path, many_entries(100_000))
    tracemalloc.start()
    listing = logzip.inspect(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert listing.total == 100_000
    assert peak < 512 * 1024, f"listing used {peak} bytes"


def test_zip_bomb_claims_are_only_reported(tmp_path: Path) -> None:
    """A member claiming 16 EiB (ZIP64 sizes) is listed, never expanded."""
    name = b"bomb.log"
    huge = 0xFFFF_FFFF_FFFF_FFF0
    extra = struct.pack("<HHQQ", 0x0001, 16, huge, 42)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 45, 0, 8, 0, 0, 0, 0, 0, len(name), 0)
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, 8, 0, 0, 0,
        0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0,
    ) + name + extra  # fmt: skip
    body = local + name + b"\x00" * 42
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(body), 0)
    listing = logzip.inspect(write(tmp_path, body + central + end))
    assert listing.members == (logzip.Member("bomb.log", huge, 42),)


def test_zip64_archive(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=True) as archive:
        for i in range(70_000):  # more entries than a 16-bit count holds
            archive.writestr(f"{i}", b"")
    listing = logzip.inspect(write(tmp_path, buffer.getvalue()), limit=3)
    assert listing.total == 70_000
    assert [m.name for m in listing.members] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("mutate", "truncated"),
    [
        (lambda z: z[: len(z) // 2], True),
        (lambda z: z[:-10], True),
        (lambda z: b"", True),
        (lambda z: z.replace(b"PK\x01\x02", b"PK\x01\x09", 1), False),
        (lambda z: b"XXXX" + z[4:], False),
        (lambda z: z[:-6] + struct.pack("<L", 0x7FFFFFFF) + z[-2:], False),
    ],
)
def test_damaged_archives(tmp_path: Path, mutate: object, truncated: bool) -> None:
    data = mutate(small_zip(ID1))  # type: ignore[operator]
    with pytest.raises(logzip.BadZip) as caught:
        logzip.inspect(write(tmp_path, data))
    assert caught.value.truncated is truncated


def test_names_in_cp437_and_utf8(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("plain.log", "")
        archive.writestr("журнал.log", "")
    names = [m.name for m in logzip.inspect(write(tmp_path, buffer.getvalue())).members]
    assert names == ["plain.log", "журнал.log"]


def test_zip64_record_offset_beyond_any_file(tmp_path: Path) -> None:
    """A hostile ZIP64 locator (offset 2**64 - 1) is a damaged ZIP, not a crash in seek()."""
    body = small_zip(ID1)
    body = body[: body.index(b"PK\x01\x02")]
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 2**64 - 1, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
    path = tmp_path / "x.zip"
    path.write_bytes(body + locator + end)
    with pytest.raises(logzip.BadZip, match="damaged"):
        logzip.inspect(path)


# Raw names without the UTF-8 flag, as Windows tools in China (GBK), Linux tools (UTF-8 without the
# flag) and old DOS tools (CP437) write them.
UNFLAGGED_NAMES = {
    "编译构建.log".encode("gbk"): "编译构建.log",  # GBK is a subset of GB18030
    "日志/检查€.log".encode("gb18030"): "日志/检查€.log",  # € is four bytes in GB18030
    "журнал.log".encode(): "журнал.log",  # UTF-8 without the flag
    "Ülog.txt".encode("cp437") + b"\xff\x80": "Ülog.txt\xa0Ç",  # neither UTF-8 nor GB18030
}


def raw_names_zip(names: list[bytes], flags: int = 0) -> bytes:
    """A ZIP whose members have exactly these raw names (no UTF-8 flag unless `flags` says)."""
    body = bytearray()
    central = bytearray()
    data = b"ERROR here\n"
    crc = zlib.crc32(data)
    for name in names:
        offset = len(body)
        body += struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, flags, 0, 0, 0x21, crc, len(data), len(data),
            len(name), 0,
        ) + name + data  # fmt: skip
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, 0, 0, 0x21, crc, len(data), len(data),
            len(name), 0, 0, 0, 0, 0, offset,
        ) + name  # fmt: skip
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central), len(body), 0
    )
    return bytes(body + central + end)


def test_names_without_the_utf8_flag_are_decoded_like_triage_does(tmp_path: Path) -> None:
    path = write(tmp_path, raw_names_zip(list(UNFLAGGED_NAMES)))
    names = [m.name for m in logzip.inspect(path).members]
    assert names == list(UNFLAGGED_NAMES.values())
    found = triage(path, BUILTIN_PATTERN)
    assert [m.name for m in found.members] == names, "the listing and triage agree"
    assert [p.member for p in found.problems] == names


def test_a_flagged_name_with_bad_utf8_is_replaced_not_refused(tmp_path: Path) -> None:
    path = write(tmp_path, raw_names_zip([b"o\xffk.log"], flags=0x800))
    [member] = logzip.inspect(path).members
    assert member.name == "o\ufffdk.log"
