"""The ZIP's structure: the end record and the central directory, read once and in flat memory.

`zipfile` reads the whole central directory into memory; a hostile archive can claim millions
of entries. This reader finds the end record (the one place in the package that parses it),
checks the directory lies inside the file, and yields its entries one at a time: `inspect`
lists at most `limit` of them, so a ZIP bomb costs a few kilobytes to list, and `verify` walks
every entry without holding them. Nothing is extracted here.
Names are decoded as triage decodes them (`names.decode_name`: without the UTF-8 flag, UTF-8,
then GB18030, then CP437), so the listing and the triage of one archive agree on every name.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .names import UTF8_FLAG, decode_name

LOCAL_HEADER = b"PK\x03\x04"
LOCAL_RECORD = struct.Struct("<4s5H3L2H")
"""A local file header up to its name: signature, version, flags, method, time, date, CRC-32,
sizes, name and extra lengths."""
EMPTY_ARCHIVE = b"PK\x05\x06"
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_MAX_COMMENT = 0xFFFF
MAX_LISTED = 50


class BadZip(ValueError):
    """The file is not a complete ZIP archive. `truncated` when it looks cut short."""

    def __init__(self, message: str, *, truncated: bool = False) -> None:
        super().__init__(message)
        self.truncated = truncated


@dataclass(frozen=True)
class Member:
    """One entry as the central directory describes it (sizes are the archive's claims)."""

    name: str
    size: int
    compressed_size: int


@dataclass(frozen=True)
class Entry:
    """One central-directory entry with what reading its data needs (sizes are claims)."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    offset: int
    """Where its local header starts."""

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")


@dataclass(frozen=True)
class Directory:
    """Where the central directory lies, as the end record says (checked against the file)."""

    total: int
    offset: int
    size: int


@dataclass(frozen=True)
class Listing:
    """The first members of an archive and how many it holds in all."""

    total: int
    members: tuple[Member, ...]

    @property
    def more(self) -> int:
        """How many members are not listed."""
        return self.total - len(self.members)


def looks_like_zip(head: bytes) -> bool:
    """True when the first bytes are a ZIP's (a local header, or an empty archive)."""
    return head.startswith((LOCAL_HEADER, EMPTY_ARCHIVE))


def inspect(path: Path, *, limit: int = MAX_LISTED) -> Listing:
    """Verify the archive's structure and list up to `limit` members. Raises BadZip."""
    with path.open("rb") as handle:
        directory = locate(handle)
        members = tuple(
            Member(name=e.name, size=e.size, compressed_size=e.compressed_size)
            for e in entries(handle, directory, limit=limit)
        )
    return Listing(total=directory.total, members=members)


def locate(handle: BinaryIO) -> Directory:
    """The central directory's place, checked: inside the file, after a first local header."""
    size = handle.seek(0, io.SEEK_END)
    total, cd_offset, cd_size = _directory_bounds(handle, size)
    handle.seek(0)
    head = handle.read(4)
    if total and head != LOCAL_HEADER:
        raise BadZip("the file does not start with a ZIP local header")
    if not total and head == LOCAL_HEADER:
        raise BadZip("the archive holds files but its central directory lists none")
    return Directory(total=total, offset=cd_offset, size=cd_size)


def entries(handle: BinaryIO, directory: Directory, *, limit: int | None = None) -> Iterator[Entry]:
    """The first `limit` entries (all when None), one at a time, in directory order."""
    handle.seek(directory.offset)
    count = directory.total if limit is None else min(directory.total, limit)
    end = directory.offset + directory.size
    for _ in range(count):
        yield _read_entry(handle, end)


def directory_figures(handle: BinaryIO) -> tuple[int, int] | None:
    """Entry count and byte size of the central directory as the end record claims them, or
    None when there is no usable end record: cheap, for deciding before anything is loaded."""
    size = handle.seek(0, io.SEEK_END)
    try:
        total, _offset, cd_size = _directory_bounds(handle, size)
    except BadZip:
        return None
    return total, cd_size


def _directory_bounds(handle: BinaryIO, size: int) -> tuple[int, int, int]:
    """Entry count, offset and size of the central directory, checked against the file size."""
    tail_size = min(size, _EOCD.size + _MAX_COMMENT)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(EMPTY_ARCHIVE)
    while at >= 0 and at + _EOCD.size + _comment_length(tail, at) != len(tail):
        at = tail.rfind(EMPTY_ARCHIVE, 0, at)
    if at < 0:
        # The usual sign of a cut download; whether it was cut, only the transfer can tell.
        raise BadZip("it has no end-of-central-directory record", truncated=True)
    _sig, _disk, _cd_disk, _here, total, cd_size, cd_offset, _clen = _EOCD.unpack_from(tail, at)
    eocd_pos = size - tail_size + at
    if total == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        total, cd_offset, cd_size = _zip64_bounds(handle, eocd_pos)
        end = eocd_pos - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
    else:
        end = eocd_pos
    if cd_offset + cd_size > end or cd_size < total * _CENTRAL.size:
        raise BadZip("the central directory lies outside the file: the ZIP is damaged")
    return total, cd_offset, cd_size


def _comment_length(tail: bytes, at: int) -> int:
    if at + _EOCD.size > len(tail):
        return _MAX_COMMENT + 1
    return int(_EOCD.unpack_from(tail, at)[-1])


def _zip64_bounds(handle: BinaryIO, eocd_pos: int) -> tuple[int, int, int]:
    if eocd_pos < _ZIP64_LOCATOR.size:
        raise BadZip("the ZIP64 locator is missing: the ZIP is damaged")
    handle.seek(eocd_pos - _ZIP64_LOCATOR.size)
    sig, _disk, record_pos, _disks = _ZIP64_LOCATOR.unpack(handle.read(_ZIP64_LOCATOR.size))
    if sig != b"PK\x06\x07":
        raise BadZip("the ZIP64 locator is missing: the ZIP is damaged")
    # Checked before seeking: a hostile offset (up to 2**64 - 1) would make seek() raise.
    if record_pos > eocd_pos - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size:
        raise BadZip("the ZIP64 end record lies outside the file: the ZIP is damaged")
    handle.seek(record_pos)
    record = handle.read(_ZIP64_EOCD.size)
    if len(record) != _ZIP64_EOCD.size or not record.startswith(b"PK\x06\x06"):
        raise BadZip("the ZIP64 end record is missing: the ZIP is damaged")
    fields = _ZIP64_EOCD.unpack(record)
    total, cd_size, cd_offset = fields[7], fields[8], fields[9]
    return int(total), int(cd_offset), int(cd_size)


def _read_entry(handle: BinaryIO, cd_end: int) -> Entry:
    raw = handle.read(_CENTRAL.size)
    if len(raw) != _CENTRAL.size or not raw.startswith(b"PK\x01\x02"):
        raise BadZip("a central directory entry is damaged")
    fields = _CENTRAL.unpack(raw)
    flags, method, crc, csize, usize = fields[3], fields[4], fields[7], fields[8], fields[9]
    name_len, extra_len, comment_len = fields[10], fields[11], fields[12]
    offset = fields[16]
    name = handle.read(name_len)
    extra = handle.read(extra_len)
    handle.seek(comment_len, io.SEEK_CUR)
    if handle.tell() > cd_end or len(name) != name_len:
        raise BadZip("a central directory entry runs past the directory")
    usize, csize, offset = _zip64_sizes(extra, usize, csize, offset)
    return Entry(
        name=decode_name(name, bool(flags & UTF8_FLAG)),
        flags=flags,
        method=method,
        crc=crc,
        compressed_size=csize,
        size=usize,
        offset=offset,
    )


def _zip64_sizes(extra: bytes, usize: int, csize: int, offset: int = 0) -> tuple[int, int, int]:
    """Real sizes and offset from the ZIP64 extra field when the 32-bit ones are saturated
    (the field holds only those, in this order)."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if tag == 0x0001:
            values = [v[0] for v in struct.iter_unpack("<Q", body[: len(body) // 8 * 8])]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + length
    return usize, csize, offset
