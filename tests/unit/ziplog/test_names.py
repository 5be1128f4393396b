"""Member names and log text: UTF-8, else GB18030 (else CP437 for names), never an error."""

from __future__ import annotations

import codecs

import pytest

from codearts_check_logs.ziplog.names import (
    SNIFF_BYTES,
    TextDecoder,
    decode_name,
    decode_text,
    sniff_encoding,
    text_encoding,
)

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


@pytest.mark.parametrize(
    ("data", "encoding", "text"),
    [
        (b"plain ascii\n", "utf-8", "plain ascii\n"),
        ("错误 error\n".encode(), "utf-8", "错误 error\n"),
        (codecs.BOM_UTF8 + "失败\n".encode(), "utf-8-sig", "失败\n"),
        ("失败 €𠀀\n".encode("gb18030"), "gb18030", "失败 €𠀀\n"),
        # Invalid in both: GB18030 is chosen and the bad byte replaced.
        (b"ok \xff error\n", "gb18030", "ok \ufffd error\n"),
        (b"", "utf-8", ""),
    ],
)
def test_decode_text(data: bytes, encoding: str, text: str) -> None:
    assert text_encoding(data) == encoding
    assert decode_text(data) == text


def test_sniff_waits_for_enough_bytes_unless_final() -> None:
    sample = "日志".encode()
    assert sniff_encoding(sample, final=False) is None
    assert sniff_encoding(sample, final=True) == "utf-8"
    assert sniff_encoding(sample[:-1], final=False) is None  # ends inside a character
    assert sniff_encoding(sample * SNIFF_BYTES, final=False) == "utf-8"
    assert sniff_encoding("日志".encode("gb18030"), final=False) == "gb18030"


def stream(data: bytes, size: int) -> tuple[str, str]:
    decoder = TextDecoder()
    text = "".join(decoder.decode(data[i : i + size]) for i in range(0, len(data), size))
    return text + decoder.decode(b"", final=True), decoder.encoding


@pytest.mark.parametrize(
    ("text", "encoding", "codec"),
    [
        ("信息 开始编译 𠀀 €\n错误 编译失败\n" * 40, "gb18030", "gb18030"),
        ("信息 开始编译 𠀀 €\n错误 编译失败\n" * 40, "utf-8", "utf-8"),
        ("信息 开始编译 𠀀 €\n错误 编译失败\n" * 40, "utf-8-sig", "utf-8-sig"),
        ("ascii only\n" * 50, "utf-8", "ascii"),
    ],
)
def test_stream_decoder_survives_every_split(text: str, encoding: str, codec: str) -> None:
    data = text.encode(codec)
    for size in (*range(1, 12), 64, 4096, len(data)):
        assert stream(data, size) == (text, encoding), size


def test_stream_decoder_judges_a_log_on_its_first_non_ascii_bytes() -> None:
    # Megabytes of ASCII, then Chinese in GB18030: ASCII does not decide anything.
    data = b"INFO step\n" * 200_000 + "错误 编译失败\n".encode("gb18030")
    text, encoding = stream(data, 65536)
    assert encoding == "gb18030"
    assert text.endswith("INFO step\n错误 编译失败\n")


def test_stream_decoder_holds_back_at_most_a_sample() -> None:
    decoder = TextDecoder()
    out = decoder.decode(b"abc" + "日".encode())
    assert out == "abc"  # one UTF-8 character is not enough to judge
    assert decoder.encoding == ""
    rest = decoder.decode("志".encode() * SNIFF_BYTES)
    assert decoder.encoding == "utf-8"
    assert rest == "日" + "志" * SNIFF_BYTES


def test_stream_decoder_never_fails_on_bad_bytes() -> None:
    garbage = bytes(range(256)) * 64
    for size in (1, 3, 100, len(garbage)):
        text, encoding = stream(garbage, size)
        assert encoding == "gb18030"
        assert "\ufffd" in text
