"""Log text: UTF-8 where a line is valid UTF-8, else GB18030, line by line, never an error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codearts_check_logs.ziplog.text_decoding import decode_line, decode_lines, encoding_name


@pytest.mark.parametrize(
    ("raw", "text", "encoding"),
    [
        (b"plain ascii\n", "plain ascii\n", None),
        ("错误 error\n".encode(), "错误 error\n", "utf-8"),
        ("失败 €𠀀\n".encode("gb18030"), "失败 €𠀀\n", "gb18030"),
        # Invalid in both: GB18030 is chosen and the bad byte replaced.
        (b"ok \xff error\n", "ok \ufffd error\n", "gb18030"),
        (b"", "", None),
    ],
)
def test_decode_line(raw: bytes, text: str, encoding: str | None) -> None:
    assert decode_line(raw) == (text, encoding)


def test_a_cut_line_may_end_inside_a_character() -> None:
    raw = "日志".encode()[:-1]
    assert decode_line(raw, cut=True) == ("日", "utf-8")
    assert decode_line(raw)[1] == "gb18030"


def test_a_block_falls_back_line_by_line() -> None:
    block = "错误 一\n".encode() + "错误 二\r\n".encode("gbk") + "失败 三\r".encode()
    text, used = decode_lines(block)
    assert text == "错误 一\n错误 二\r\n失败 三\r"
    assert used == {"utf-8", "gb18030"}
    assert encoding_name(used, bom=False) == "utf-8+gb18030"


@pytest.mark.parametrize(
    ("used", "bom", "name"),
    [
        (set(), False, "utf-8"),
        ({"utf-8"}, True, "utf-8-sig"),
        ({"gb18030"}, False, "gb18030"),
        ({"gb18030", "utf-8"}, False, "utf-8+gb18030"),
    ],
)
def test_encoding_name(used: set[str], bom: bool, name: str) -> None:
    assert encoding_name(frozenset(used), bom) == name


@given(
    st.lists(
        st.tuples(
            st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t),
            st.sampled_from(["utf-8", "gb18030"]),
        )
    )
)
def test_each_line_reads_back_in_its_own_encoding(lines: list[tuple[str, str]]) -> None:
    """The reference: each line encoded on its own; a GB18030 line that happens to be valid
    UTF-8 is the one ambiguity, and then UTF-8 wins, as for a whole file."""
    block = b"".join(text.encode(codec) + b"\n" for text, codec in lines)
    decoded, _used = decode_lines(block)
    expected = []
    for text, codec in lines:
        raw = text.encode(codec)
        try:
            expected.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            expected.append(text)
    assert decoded.split("\n")[:-1] == expected


def test_every_byte_string_decodes() -> None:
    garbage = bytes(range(256)) * 4
    text, used = decode_lines(garbage)
    assert "\ufffd" in text
    assert "gb18030" in used
