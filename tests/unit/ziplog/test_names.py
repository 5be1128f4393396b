"""Member names: UTF-8, else GB18030, else CP437, never an error."""

from __future__ import annotations

import pytest

from codearts_check_logs.ziplog.names import decode_name

CHINESE = "工具/日志-𠀀€.log"


@pytest.mark.parametrize(
    ("raw", "flag", "expected"),
    [
        (b"logs/codecheck.log", False, "logs/codecheck.log"),
        (CHINESE.encode(), True, CHINESE),
        # Linux tools write UTF-8 without setting the flag.
        (CHINESE.encode(), False, CHINESE),
        # Windows tools in China write GBK, a subset of GB18030.
        ("工具/日志.log".encode("gbk"), False, "工具/日志.log"),
        (CHINESE.encode("gb18030"), False, CHINESE),
        # Neither UTF-8 nor GB18030 (0x82 then "."; a lone 0x80): CP437, as the standard says.
        (b"caf\x82.log", False, "café.log"),
        (b"\x80\xff.txt", False, "Ç\u00a0.txt"),
        # The flag is a promise: bad bytes are replaced, not reinterpreted.
        (b"bad\xff.log", True, "bad\ufffd.log"),
        (b"", False, ""),
    ],
)
def test_decode_name(raw: bytes, flag: bool, expected: str) -> None:
    assert decode_name(raw, flag) == expected


def test_every_byte_string_decodes_as_a_name() -> None:
    for first in range(256):
        for raw in (bytes([first]), bytes([first, 0x2E]), bytes([first, 0x81, 0x30])):
            assert isinstance(decode_name(raw, False), str)
            assert isinstance(decode_name(raw, True), str)
