"""Member names: how the bytes of a name in a log ZIP become the name its creator meant.

CodeArts Check runs on Chinese-language build hosts, so names may be GB18030 (a superset of GBK)
rather than UTF-8. The logs themselves are decoded by the same policy, line by line, in
`text_decoding`. Nothing here ever raises on bad bytes.
"""

from __future__ import annotations

UTF8_FLAG = 0x800
"""General-purpose flag bit 11: the member name is UTF-8."""


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
