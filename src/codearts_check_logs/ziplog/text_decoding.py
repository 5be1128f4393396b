"""How the bytes of a log become text: UTF-8 where a line is valid UTF-8, else GB18030.

CodeArts Check runs on Chinese-language build hosts, whose tools may write GB18030 (a superset
of GBK) rather than UTF-8, and one log can hold both: a UTF-8 build log that quotes a GBK
compiler message. The choice is therefore made per line, so one GBK line does not turn the UTF-8
lines around it into mojibake. Nothing here ever raises on bad bytes: GB18030 with replacement
decodes anything. Splitting at line ends on the bytes is safe in both encodings: neither uses
the bytes of `\\n` or `\\r` inside a character.
"""

from __future__ import annotations

import codecs

BOM = codecs.BOM_UTF8
UTF8 = "utf-8"
GB18030 = "gb18030"


def decode_line(raw: bytes, *, cut: bool = False) -> tuple[str, str | None]:
    """One line's text, and `utf-8` or `gb18030` when it held non-ASCII bytes (else None).

    `cut`: `raw` is the start of a longer line and may end inside a character, which then
    does not count against UTF-8.
    """
    if raw.isascii():
        return raw.decode("ascii"), None
    for trim in range(4 if cut else 1):
        try:
            return raw[: len(raw) - trim].decode(UTF8), UTF8
        except UnicodeDecodeError:
            continue
    return raw.decode(GB18030, "replace"), GB18030


def decode_lines(block: bytes) -> tuple[str, frozenset[str]]:
    """The text of `block` (whole lines, line ends kept), and the encodings its non-ASCII lines
    used. Valid UTF-8 as a whole is the common case and is decoded at once; otherwise line by
    line."""
    if block.isascii():
        return block.decode("ascii"), frozenset()
    try:
        return block.decode(UTF8), frozenset((UTF8,))
    except UnicodeDecodeError:
        pass
    parts: list[str] = []
    used: set[str] = set()
    for raw in block.splitlines(keepends=True):
        text, encoding = decode_line(raw)
        parts.append(text)
        if encoding is not None:
            used.add(encoding)
    return "".join(parts), frozenset(used)


def encoding_name(used: frozenset[str], bom: bool) -> str:
    """What a member was decoded as: `utf-8`, `utf-8-sig` (with a BOM), `gb18030`, or
    `utf-8+gb18030` when its lines needed both."""
    if GB18030 in used:
        return f"{UTF8}+{GB18030}" if UTF8 in used else GB18030
    return "utf-8-sig" if bom else UTF8
