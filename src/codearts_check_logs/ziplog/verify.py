"""Verification: what `unzip -t` checks, in one pass and in flat memory.

A ZIP is verified when its central directory is whole and every member's data inflates to the
size the directory claims and matches its CRC-32. Two parts share the work so that no byte is
read twice where that can be helped:

- `stream_check.StreamCheck` is fed every chunk of the body as it arrives and computes the
  CRC-32 of each stored member's data on the fly. Deflated data is only stepped over there:
  inflating it would mean inflating it again for triage.
- `verify` then walks the central directory once. Stored members the stream saw whole are
  settled by comparing two numbers; every other member is read from disk, deflated ones
  inflated once, and the inflated bytes go to `text` (triage) while it wants them. Triage ending
  early (its byte or time budget) does not end the inflating: the CRC still needs every byte.

A member that is not inflated is never passed silently: a ZIP bomb by its claimed size (see
`rules.is_bomb`), an encrypted one and one in a method other than stored or deflated are listed
in `Verified.unverified`, for the summary to say so.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from . import rules
from .reader import (
    LOCAL_HEADER,
    LOCAL_RECORD,
    BadZip,
    Directory,
    Entry,
    Listing,
    Member,
    entries,
    locate,
)
from .stream_check import MAX_RECORDED, Streamed

KiB = 1024
CHUNK = 64 * KiB
"""Bytes read from disk at a time, and the most one inflate call may produce: what triage
holds of a member at once."""
MAX_LISTED = 50


class DamagedZip(BadZip):
    """A complete ZIP whose member data does not match the central directory. `member` is the
    raw (untrusted) name; the message holds only fixed words."""

    def __init__(self, member: str, why: str) -> None:
        super().__init__(f"its member {member!r} is damaged: {why}")
        self.member = member
        self.why = why


class TextSink(Protocol):
    """Where the inflated bytes of one member go (triage's reader of that member)."""

    def write(self, data: bytes) -> bool:
        """The next bytes; False when no more are wanted (the pass still checks the rest)."""

    def close(self, damage: str | None) -> None:
        """The member has ended: read whole (`damage` None), or found damaged (why)."""


class MemberSink(Protocol):
    """Triage's side of the pass: asked once per member, in directory order."""

    def open(self, entry: Entry, unread: str | None) -> TextSink | None:
        """A reader for the member's bytes, or None when none are wanted. `unread` is why the
        pass will not inflate the member (`ZIP bomb`, `encrypted`, `unsupported compression`);
        then no bytes follow whatever is returned."""


@dataclass(frozen=True)
class Unverified:
    """A member whose data was not checked, and why (`ZIP bomb`, `encrypted`,
    `unsupported compression`)."""

    name: str
    reason: str


@dataclass(frozen=True)
class Verified:
    """The result of a whole pass."""

    listing: Listing
    members: int
    """Members whose data matched their CRC-32."""
    unverified: tuple[Unverified, ...] = ()
    """The first `MAX_RECORDED` members whose data was not checked."""
    damaged: tuple[DamagedZip, ...] = field(default=())
    """Only with `stop_at_damage=False`: the first `MAX_RECORDED` damaged members, in order."""


def _no_check() -> None:
    pass


def verify(
    path: Path,
    streamed: Streamed | None = None,
    *,
    text: MemberSink | None = None,
    check: Callable[[], None] = _no_check,
    stop_at_damage: bool = True,
) -> Verified:
    """Check every member of the ZIP at `path`; see the module doc.

    `check` is called between reads: it raises to stop the pass (a cancel, the sub-job's
    deadline). Raises BadZip for a damaged structure and, unless `stop_at_damage` is False,
    DamagedZip naming the first damaged member.
    """
    with path.open("rb") as handle:
        # Back into `reader`, which the client already asked whether the first bytes look like
        # a ZIP: the end records are parsed in one place, and the sniff cannot wait for them.
        directory = locate(handle)
        return _Pass(handle, directory, streamed, text, check, stop_at_damage).run()


class _Pass:
    def __init__(
        self,
        handle: BinaryIO,
        directory: Directory,
        streamed: Streamed | None,
        text: MemberSink | None,
        check: Callable[[], None],
        stop_at_damage: bool,
    ) -> None:
        self.handle = handle
        self.directory = directory
        self.stored = {} if streamed is None else streamed.stored
        self.text = text
        self.check = check
        self.stop_at_damage = stop_at_damage
        self.listed: list[Member] = []
        self.verified = 0
        self.unverified: list[Unverified] = []
        self.damaged: list[DamagedZip] = []

    def run(self) -> Verified:
        # The directory is read entry by entry between members: one position for each.
        position = self.directory.offset
        for _ in range(self.directory.total):
            self.handle.seek(position)
            entry = next(entries(self.handle, _rest(self.directory, position), limit=1))
            position = self.handle.tell()
            if len(self.listed) < MAX_LISTED:
                self.listed.append(Member(entry.name, entry.size, entry.compressed_size))
            self.check()
            self._member(entry)
        return Verified(
            listing=Listing(total=self.directory.total, members=tuple(self.listed)),
            members=self.verified,
            unverified=tuple(self.unverified),
            damaged=tuple(self.damaged),
        )

    def _member(self, entry: Entry) -> None:
        unread = rules.unreadable(entry)
        if unread is None and rules.is_bomb(entry):
            unread = "ZIP bomb"
        sink = None
        if self.text is not None and not entry.is_dir:
            sink = self.text.open(entry, unread)
        if unread is not None:
            if len(self.unverified) < MAX_RECORDED:
                self.unverified.append(Unverified(entry.name, unread))
            return
        try:
            self._data(entry, sink)
        except DamagedZip as exc:
            if sink is not None:
                sink.close(exc.why)
            if self.stop_at_damage:
                raise
            if len(self.damaged) < MAX_RECORDED:
                self.damaged.append(exc)
            return
        self.verified += 1
        if sink is not None:
            sink.close(None)

    def _data(self, entry: Entry, sink: TextSink | None) -> None:
        start = self._data_start(entry)
        seen = self.stored.get(entry.offset)
        if entry.method == rules.STORED:
            if entry.compressed_size != entry.size:
                raise DamagedZip(entry.name, "its stored size and its size differ")
            if seen is not None and seen[1] == entry.size:
                if seen[0] != entry.crc:
                    raise DamagedZip(entry.name, "its CRC check failed")
                if sink is not None:
                    self._stored(entry, start, sink, check_crc=False)
                return
            self._stored(entry, start, sink, check_crc=True)
        else:
            self._deflated(entry, start, sink)

    def _data_start(self, entry: Entry) -> int:
        self.handle.seek(entry.offset)
        header = self.handle.read(LOCAL_RECORD.size)
        if len(header) != LOCAL_RECORD.size or not header.startswith(LOCAL_HEADER):
            raise DamagedZip(entry.name, "its local header is missing")
        fields = LOCAL_RECORD.unpack(header)
        start = entry.offset + LOCAL_RECORD.size + int(fields[9]) + int(fields[10])
        if start + entry.compressed_size > self.directory.offset:
            raise DamagedZip(entry.name, "its data runs into the central directory")
        self.handle.seek(start)
        return start

    def _reads(self, length: int) -> Iterator[bytes]:
        left = length
        while left:
            self.check()
            data = self.handle.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data

    def _stored(self, entry: Entry, start: int, sink: TextSink | None, *, check_crc: bool) -> None:
        crc = 0
        size = 0
        wanted = sink is not None
        for data in self._reads(entry.size):
            size += len(data)
            if check_crc:
                crc = zlib.crc32(data, crc)
            if wanted and sink is not None:
                wanted = sink.write(data)
            if not wanted and not check_crc:
                return
        if size != entry.size:
            raise DamagedZip(entry.name, "its data ends early")
        if check_crc and crc != entry.crc:
            raise DamagedZip(entry.name, "its CRC check failed")

    def _deflated(self, entry: Entry, start: int, sink: TextSink | None) -> None:
        inflater = zlib.decompressobj(-15)
        crc = 0
        size = 0
        wanted = sink is not None
        for data in self._reads(entry.compressed_size):
            pending = data
            while pending:
                try:
                    out = inflater.decompress(pending, CHUNK)
                except zlib.error:
                    raise DamagedZip(entry.name, "its compressed data is corrupt") from None
                pending = inflater.unconsumed_tail
                size += len(out)
                if size > entry.size:
                    raise DamagedZip(entry.name, "it inflates to more than its size")
                crc = zlib.crc32(out, crc)
                if wanted and sink is not None and out:
                    wanted = sink.write(out)
                if inflater.eof:
                    break
            if inflater.eof:
                break
        if not inflater.eof and (entry.size or entry.compressed_size):
            raise DamagedZip(entry.name, "its compressed data ends early")
        if size != entry.size:
            raise DamagedZip(entry.name, "it inflates to less than its size")
        if crc != entry.crc:
            raise DamagedZip(entry.name, "its CRC check failed")


def _rest(directory: Directory, position: int) -> Directory:
    """The part of the directory from `position` on, for reading its next entry."""
    return Directory(total=1, offset=position, size=directory.offset + directory.size - position)
