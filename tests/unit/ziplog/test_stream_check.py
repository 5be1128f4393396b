"""The stream check: each stored member's CRC-32 as the body arrives, judged against zipfile."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codearts_check_logs.ziplog import stream_check
from codearts_check_logs.ziplog.stream_check import StreamCheck, Streamed
from tests.unit.ziplog.test_verify import with_data_descriptors

STORED, DEFLATED = zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED


def archive(members: list[tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for n, (data, method) in enumerate(members):
            out.writestr(zipfile.ZipInfo(f"{n}.log", (2026, 2, 3, 10, 0, 0)), data, method)
    return buffer.getvalue()


def fed(data: bytes, chunk: int) -> Streamed:
    check = StreamCheck()
    for at in range(0, len(data), chunk):
        check.feed(memoryview(data)[at : at + chunk])
    return check.result()


def expected(data: bytes) -> dict[int, tuple[int, int]]:
    """zipfile's CRC-32 and size of each stored member, keyed by its local header's offset."""
    with zipfile.ZipFile(io.BytesIO(data)) as read:
        return {
            i.header_offset: (i.CRC, i.compress_size)
            for i in read.infolist()
            if i.compress_type == STORED
        }


@settings(max_examples=60, deadline=None)
@given(
    members=st.lists(
        st.tuples(st.binary(max_size=3000), st.sampled_from([STORED, DEFLATED])), max_size=6
    ),
    chunk=st.integers(1, 4096),
)
def test_every_stored_member_is_checked_whatever_the_chunks(
    members: list[tuple[bytes, int]], chunk: int
) -> None:
    data = archive(members)
    seen = fed(data, chunk)
    assert dict(seen.stored) == expected(data)
    assert seen.bytes_seen == len(data)


def test_the_stream_stops_following_after_a_data_descriptor() -> None:
    data = with_data_descriptors(STORED)
    seen = fed(data, 1 << 16)
    # The sizes follow the data: the stream cannot know where it ends, so the pass reads both.
    assert dict(seen.stored) == {}
    assert seen.bytes_seen == len(data)


def test_zip64_local_headers_are_followed() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", STORED) as out:
        with out.open("a.log", "w", force_zip64=True) as member:
            member.write(b"x" * 1000)
        out.writestr("b.log", b"y" * 10)
    data = buffer.getvalue()
    assert dict(fed(data, 13).stored) == expected(data)


def test_what_is_not_a_local_header_ends_the_stream_quietly() -> None:
    seen = fed(b"not a zip at all" * 100, 7)
    assert (dict(seen.stored), seen.bytes_seen) == ({}, 1600)


def test_only_so_many_members_are_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_check, "MAX_RECORDED", 3)
    data = archive([(b"line %d\n" % n, STORED) for n in range(10)])
    seen = fed(data, 1 << 16)
    assert list(seen.stored) == sorted(expected(data))[:3]
