"""Verification: what `unzip -t` checks, judged against zipfile's own test of every member."""

from __future__ import annotations

import contextlib
import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from devtools.doubles.logs import realistic_log_package
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codearts_check_logs.ziplog import stream_check
from codearts_check_logs.ziplog import verify as verify_module
from codearts_check_logs.ziplog.reader import BadZip
from codearts_check_logs.ziplog.stream_check import StreamCheck, Streamed
from codearts_check_logs.ziplog.verify import DamagedZip, Unverified, verify

MiB = 1024 * 1024
ID = "a777ff00d3cf4d369d87066806ae0001"


def make_zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, method in members:
            archive.writestr(zipfile.ZipInfo(name, (2026, 2, 3, 10, 0, 0)), data, method)
    return buffer.getvalue()


def streamed(data: bytes, chunk: int = 1 << 16) -> Streamed:
    check = StreamCheck()
    for at in range(0, len(data), chunk):
        check.feed(data[at : at + chunk])
    return check.result()


def save(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "x.zip"
    path.write_bytes(data)
    return path


def data_span(data: bytes, name: str) -> tuple[int, int]:
    """Where a member's data lies in the file, from its local header."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    n, e = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + n + e
    return start, start + info.compress_size


STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED
LOGS = [("a.log", b"INFO one\n" * 500, STORED), ("b.log", b"ERROR two\n" * 900, DEFLATED)]


@pytest.mark.parametrize("chunk", [1, 7, 1 << 16])
def test_a_stored_and_a_deflated_zip_pass(tmp_path: Path, chunk: int) -> None:
    data = make_zip(LOGS)
    result = verify(save(tmp_path, data), streamed(data, chunk))
    assert (result.members, result.unverified, result.listing.total) == (2, (), 2)
    assert [m.name for m in result.listing.members] == ["a.log", "b.log"]


def test_stored_members_are_settled_by_the_stream_without_a_second_read(tmp_path: Path) -> None:
    data = make_zip(LOGS)
    seen = streamed(data)
    start, end = data_span(data, "a.log")
    assert seen.stored[0] == (zlib.crc32(LOGS[0][1]), end - start)
    # The bytes on disk no longer match, but the stream saw the right ones arrive: no re-read.
    blanked = data[:start] + bytes(end - start) + data[end:]
    assert verify(save(tmp_path, blanked), seen).members == 2
    with pytest.raises(DamagedZip, match=r"'a\.log' is damaged: its CRC check failed"):
        verify(save(tmp_path, blanked), None)


@pytest.mark.parametrize("name", ["a.log", "b.log"])
def test_member_data_damaged_at_full_length_names_the_member(tmp_path: Path, name: str) -> None:
    data = bytearray(make_zip(LOGS))
    start, end = data_span(bytes(data), name)
    data[(start + end) // 2] ^= 0x55
    with pytest.raises(DamagedZip) as caught:
        verify(save(tmp_path, bytes(data)), streamed(bytes(data)))
    assert caught.value.member == name
    assert isinstance(caught.value, BadZip)


def test_a_bomb_is_not_inflated_and_is_reported_not_verified(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", DEFLATED, compresslevel=9) as archive:
        archive.writestr("zeros.log", bytes(64 * MiB))
        archive.writestr("run.log", b"ok\n")
    data = buffer.getvalue()
    result = verify(save(tmp_path, data), streamed(data))
    assert result.unverified == (Unverified("zeros.log", "ZIP bomb"),)
    assert result.members == 1


def test_encrypted_and_unsupported_members_are_not_verified(tmp_path: Path) -> None:
    data = bytearray(make_zip([("s.log", b"x", DEFLATED), ("b.log", b"y" * 10, DEFLATED)]))
    for at in (6, data.find(b"PK\x01\x02") + 8):  # the first member's flags, in both headers
        data[at] |= 0x1
    bz = make_zip([("z.log", b"z" * 100, zipfile.ZIP_BZIP2)])
    assert verify(save(tmp_path, bytes(data))).unverified == (Unverified("s.log", "encrypted"),)
    unsupported = verify(save(tmp_path, bz)).unverified
    assert unsupported == (Unverified("z.log", "unsupported compression"),)


def with_data_descriptors(method: int) -> bytes:
    """Two members written to a stream that cannot seek: zipfile then puts each one's sizes and
    CRC after its data (a data descriptor), as a streaming zipper does."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.data += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", method) as archive:
        archive.writestr("a.log", b"one\n" * 100)
        archive.writestr("b.log", b"two\n" * 100)
    return bytes(sink.data)


def test_data_descriptors_are_checked_from_disk(tmp_path: Path) -> None:
    data = with_data_descriptors(DEFLATED)
    assert struct.unpack_from("<H", data, 6)[0] & 0x08, "written with a data descriptor"
    assert verify(save(tmp_path, data), streamed(data)).members == 2
    broken = bytearray(data)
    start, _end = data_span(data, "b.log")
    broken[start + 2] ^= 0xFF
    with pytest.raises(DamagedZip):
        verify(save(tmp_path, bytes(broken)), streamed(bytes(broken)))


def test_zip64_local_headers_are_followed(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", STORED) as archive:
        with archive.open("a.log", "w", force_zip64=True) as member:
            member.write(b"x" * 1000)
        archive.writestr("b.log", b"y" * 10)
    data = buffer.getvalue()
    seen = streamed(data, 13)
    assert len(seen.stored) == 2
    assert verify(save(tmp_path, data), seen).members == 2


def test_the_check_is_called_between_reads(tmp_path: Path) -> None:
    class Stop(Exception):
        pass

    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise Stop

    with pytest.raises(Stop):
        verify(save(tmp_path, realistic_log_package(ID)), check=check)


def test_the_realistic_package_passes(tmp_path: Path) -> None:
    data = realistic_log_package(ID)
    assert verify(save(tmp_path, data), streamed(data)).members == 5


def zipfile_says_ok(data: bytes) -> bool:
    """The reference: zipfile reads every member whole and checks its CRC-32; and, as `unzip -t`
    insists and zipfile does not (it stops at the member's size), each deflate stream ends."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.testzip() is not None:
                return False
            for info in archive.infolist():
                if info.compress_type == DEFLATED:
                    start, end = data_span(data, info.filename)
                    inflater = zlib.decompressobj(-15)
                    inflater.decompress(data[start:end])
                    if not inflater.eof:
                        return False
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error):
        return False
    return True


member = st.tuples(
    st.sampled_from(["a.log", "b/c.txt", "d.log", "日志.log"]),
    st.binary(max_size=3000) | st.text(max_size=2000).map(str.encode),
    st.sampled_from([STORED, DEFLATED]),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(member, min_size=1, max_size=4, unique_by=lambda m: m[0]),
    st.integers(min_value=0),
    st.integers(min_value=1, max_value=255),
    st.integers(min_value=1, max_value=4096),
)
def test_verify_agrees_with_zipfile_on_damaged_member_data(
    tmp_path: Path, members: list[tuple[str, bytes, int]], where: int, flip: int, chunk: int
) -> None:
    data = bytearray(make_zip(members))
    spans = [data_span(bytes(data), name) for name, payload, _ in members if payload]
    if spans:
        start, end = spans[where % len(spans)]
        if end > start:
            data[start + where % (end - start)] ^= flip
    damaged = bytes(data)
    try:
        verify(save(tmp_path, damaged), streamed(damaged, chunk))
        ours = True
    except BadZip:
        ours = False
    assert ours == zipfile_says_ok(damaged)


def test_mangled_archives_raise_only_bad_zip(tmp_path: Path) -> None:
    original = realistic_log_package(ID)
    rng = random.Random(20260203)  # noqa: S311 - reproducible mutations
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.2:
            del data[rng.randrange(len(data)) :]
        with contextlib.suppress(BadZip):
            verify(save(tmp_path, bytes(data)), streamed(bytes(data), rng.randint(1, 5000)))


def test_memory_is_bounded_whatever_the_member_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stream remembers only so many stored members; the pass reads the rest from disk."""
    monkeypatch.setattr(stream_check, "MAX_RECORDED", 3)
    monkeypatch.setattr(verify_module, "MAX_RECORDED", 3)
    data = make_zip([(f"{i}.log", b"line %d\n" % i, STORED) for i in range(10)])
    seen = streamed(data)
    assert len(seen.stored) == 3
    assert verify(save(tmp_path, data), seen).members == 10
    broken = bytearray(data)
    start, _end = data_span(data, "8.log")
    broken[start] ^= 0x01
    with pytest.raises(DamagedZip, match=r"'8\.log'"):
        verify(save(tmp_path, bytes(broken)), streamed(bytes(broken)))
