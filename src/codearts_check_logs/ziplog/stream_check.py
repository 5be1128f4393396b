"""The check of stored members as the body arrives: the first half of verification (`verify`).

`StreamCheck` follows the local headers of the body chunk by chunk and computes the CRC-32 of
each stored member's data on the fly (`zlib.crc32` releases the interpreter lock for large
buffers, so it runs beside the receive loop, on the digest thread). Deflated data is only
stepped over: inflating it here would mean inflating it again for triage. What it cannot follow
(a data descriptor of unknown length, bytes that are not a local header) it leaves to the pass
over the file on disk, which reads those members itself.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from . import rules
from .reader import LOCAL_HEADER, LOCAL_RECORD

MAX_RECORDED = 10_000
"""Stored members the stream remembers, and unverified or damaged members a pass lists: an
archive of a million tiny members costs bounded memory (the stream's remainder is read back
from disk; the lists keep their first entries)."""


@dataclass(frozen=True)
class Streamed:
    """What the stream saw: for each stored member whose data it read whole, keyed by the
    offset of its local header, the CRC-32 it computed and the data's length. Members the
    stream lost track of are absent; the pass reads them from disk instead."""

    stored: Mapping[int, tuple[int, int]]
    bytes_seen: int


class StreamCheck:
    """Follows the body as it arrives; see the module doc. O(1) memory: the header being read
    and one running CRC. Feed it from one thread at a time, in order."""

    _HEADER, _STORED, _SKIP, _DONE = range(4)

    def __init__(self) -> None:
        self._state = self._HEADER
        self._buffer = bytearray()
        self._need = LOCAL_RECORD.size
        self._offset = 0  # of the member being read
        self._position = 0  # bytes seen so far
        self._left = 0
        self._crc = 0
        self._size = 0
        self._descriptor = False
        self._stored: dict[int, tuple[int, int]] = {}

    def feed(self, chunk: bytes | memoryview) -> None:
        """The next bytes of the body. Never raises for what they hold: damage is decided later,
        against the central directory; the chunk is not kept."""
        view = memoryview(chunk)
        while view and self._state != self._DONE:
            if self._state == self._HEADER:
                view = self._header(view)
            else:
                take = min(self._left, len(view))
                if self._state == self._STORED:
                    self._crc = zlib.crc32(view[:take], self._crc)
                self._left -= take
                self._position += take
                view = view[take:]
                if not self._left:
                    self._member_end()
        self._position += len(view)

    def result(self) -> Streamed:
        """What was seen; call after the last chunk."""
        return Streamed(stored=dict(self._stored), bytes_seen=self._position)

    def _header(self, view: memoryview) -> memoryview:
        take = min(self._need - len(self._buffer), len(view))
        self._buffer += view[:take]
        self._position += take
        view = view[take:]
        if len(self._buffer) < self._need:
            return view
        if self._need == LOCAL_RECORD.size:
            if not self._buffer.startswith(LOCAL_HEADER):
                self._state = self._DONE  # the central directory, or bytes it cannot follow
                return view
            fields = LOCAL_RECORD.unpack(self._buffer)
            self._need += fields[9] + fields[10]
            if len(self._buffer) < self._need:
                return view
        self._begin(bytes(self._buffer))
        self._buffer.clear()
        self._need = LOCAL_RECORD.size
        return view

    def _begin(self, header: bytes) -> None:
        fields = LOCAL_RECORD.unpack_from(header)
        flags, method, csize, usize = fields[2], fields[3], fields[7], fields[8]
        extra = header[LOCAL_RECORD.size + fields[9] :]
        if 0xFFFFFFFF in (csize, usize):
            usize, csize = _zip64_local(extra, usize, csize)
        self._offset = self._position - len(header)
        self._descriptor = bool(flags & rules.DATA_DESCRIPTOR)
        if self._descriptor and not csize:
            self._state = self._DONE  # the length is known only at its end: the disk pass reads it
            return
        self._left, self._crc, self._size = csize, 0, csize
        stored = method == rules.STORED and csize == usize and not flags & rules.ENCRYPTED
        self._state = self._STORED if stored else self._SKIP
        if not self._left:
            self._member_end()

    def _member_end(self) -> None:
        if self._state == self._STORED and len(self._stored) < MAX_RECORDED:
            self._stored[self._offset] = (self._crc, self._size)
        # After a data descriptor, whose length varies, the next header cannot be found for sure.
        self._state = self._DONE if self._descriptor else self._HEADER


def _zip64_local(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001 and length >= 16:
            usize, csize = struct.unpack_from("<QQ", extra, pos + 4)
            break
        pos += 4 + length
    return usize, csize
