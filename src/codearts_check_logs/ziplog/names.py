"""How bytes from a log ZIP become text: member names, and the encoding of the logs themselves.

CodeArts Check runs on Chinese-language build hosts, so both names and logs may be GB18030 (a
superset of GBK) rather than UTF-8. The policy is the same for both: UTF-8 when the bytes are
valid UTF-8, else GB18030; nothing here ever raises on bad bytes.
"""

from __future__ import annotations

import codecs
import re

UTF8_FLAG = 0x800
"""General-purpose flag bit 11: the member name is UTF-8."""

BOM = codecs.BOM_UTF8
SNIFF_BYTES = 4096
"""How many bytes, from the first non-ASCII byte on, decide a log's encoding."""
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def decode_name(raw: bytes, utf8_flag: bool) -> str:
    """A member name as its creator meant it.

    With the UTF-8 flag the name is UTF-8 (bad bytes replaced). Without it the ZIP standard says
    CP437, but Windows tools in China write the local code page (GBK) and most tools on Linux
    write UTF-8 without setting the flag: so UTF-8, then GB18030, then CP437, which maps every
    byte and so always succeeds.
    """
    if utf8_flag:
        return raw.decode("utf-8", "replace")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")


def sniff_encoding(sample: bytes, *, final: bool) -> str | None:
    """`utf-8` or `gb18030` for a log whose non-ASCII text starts with `sample`, or None when
    `sample` is still too short to tell (more bytes to come, and no invalid UTF-8 so far).

    A sample may end inside a character: only bytes that can never be UTF-8 count against it.
    GB18030 decodes almost any byte string, so it is the fallback, never the test.
    """
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final)
    except UnicodeDecodeError:
        return "gb18030"
    if final or len(sample) >= SNIFF_BYTES:
        return "utf-8"
    return None


def text_encoding(data: bytes) -> str:
    """The codec for a whole log held in memory: `utf-8-sig` (BOM), `utf-8` or `gb18030`."""
    if data.startswith(BOM):
        return "utf-8-sig"
    first = _NON_ASCII.search(data)
    if first is None:
        return "utf-8"
    return sniff_encoding(data[first.start() :], final=True) or "utf-8"


def decode_text(data: bytes) -> str:
    """A whole log as text, by the same policy `TextDecoder` applies while streaming."""
    return data.decode(text_encoding(data), "replace")


class TextDecoder:
    """Decode a log that arrives in pieces, by the policy of `text_encoding`, in flat memory.

    ASCII passes through undecided (it reads the same in both encodings), so a log that is
    ASCII for megabytes and Chinese afterwards is still judged on its Chinese. The choice is
    made on the first `SNIFF_BYTES` from the first non-ASCII byte (sooner on invalid UTF-8),
    then an incremental decoder carries characters split across pieces. Bad bytes become
    U+FFFD. `encoding` is `""` until decided; an all-ASCII log ends as `utf-8`.
    """

    def __init__(self) -> None:
        self.encoding = ""
        self._decoder: codecs.IncrementalDecoder | None = None
        self._pending = b""
        self._at_start = True

    def decode(self, data: bytes, final: bool = False) -> str:
        """Text for `data` (and any bytes held back before it); `final` at the end of the log."""
        if self._decoder is not None:
            return self._decoder.decode(data, final)
        data = self._pending + data
        self._pending = b""
        if self._at_start and data.startswith(BOM):
            return self._decide("utf-8-sig", b"", data, final)
        first = None if data.isascii() else _NON_ASCII.search(data)
        if first is None:
            self._at_start = self._at_start and not data
            if final:
                self.encoding = "utf-8"
            return data.decode("ascii")
        head, rest = data[: first.start()], data[first.start() :]
        # A log's first bytes may be the start of a BOM that the next piece completes.
        if self._at_start and not head and not final and BOM.startswith(rest):
            self._pending = rest
            return ""
        self._at_start = False
        encoding = sniff_encoding(rest, final=final)
        if encoding is None:
            self._pending = rest
            return head.decode("ascii")
        return self._decide(encoding, head, rest, final)

    def _decide(self, encoding: str, head: bytes, rest: bytes, final: bool) -> str:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("replace")
        return head.decode("ascii") + self._decoder.decode(rest, final)
