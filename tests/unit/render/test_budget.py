"""Byte budgets: sizes measured as written (after escaping), pieces that fit taken in order, texts
cut longest first to one common cap."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from codearts_check_logs.render.budget import CUT, Budget, fit, json_size, shorten, utf8_size
from codearts_check_logs.textsafe import md

# Characters whose size grows most when escaped: entities in Markdown, \u escapes in JSON.
HOSTILE_CHARS = '|<>&@#"\\`😀é a'
texts = st.text(alphabet=HOSTILE_CHARS, max_size=300)


def test_sizes_are_bytes_as_written_not_characters() -> None:
    assert utf8_size("😀é") == 6
    assert utf8_size(md("|")) == 6
    assert json_size('😀"é') == 12 + 2 + 6


def test_budget_takes_whole_pieces_in_order_and_stops_at_the_first_that_does_not_fit() -> None:
    room = Budget(10)
    drawn: list[str] = []

    def pieces() -> Iterator[str]:
        for piece in ("abcd", "efgh", "ijkl", "m"):
            drawn.append(piece)
            yield piece

    assert room.leading(pieces()) == ["abcd", "efgh"]
    assert drawn == ["abcd", "efgh", "ijkl"], "nothing after the first misfit is rendered"
    assert room.left == 2
    assert not room.take("😀")
    assert room.left == 2
    assert room.take("é")
    assert room.left == 0


def test_shorten_keeps_what_fits_and_marks_the_cut() -> None:
    assert shorten("short", 100) == "short"
    cut = shorten("|" * 100, 30, json_size)
    assert cut == "|" * (30 - json_size(CUT)) + CUT
    assert shorten("😀" * 10, 23, json_size) == "😀" + CUT
    assert shorten("anything", 3) == ""


@settings(max_examples=200, deadline=None)
@given(text=texts, limit=st.integers(min_value=0, max_value=2000))
def test_shorten_never_exceeds_its_limit(text: str, limit: int) -> None:
    for measure in (utf8_size, json_size):
        result = shorten(text, limit, measure)
        assert measure(result) <= limit
        if result != text and result:
            assert result.endswith(CUT)
            assert text.startswith(result.removesuffix(CUT))


def test_fit_cuts_the_longest_first_to_one_common_cap() -> None:
    fitted = fit(["a" * 10, "b" * 1000, "c" * 2000, "d" * 40], 600)
    assert fitted is not None
    assert fitted[0] == "a" * 10
    assert fitted[3] == "d" * 40
    assert fitted[1].endswith(CUT)
    assert fitted[2].endswith(CUT)
    assert utf8_size(fitted[1]) == utf8_size(fitted[2]), "one cap for every cut text"
    assert sum(map(utf8_size, fitted)) <= 600


def test_fit_says_so_when_not_even_the_markers_fit() -> None:
    assert fit(["x" * 100] * 10, 10 * utf8_size(CUT) - 1) is None
    assert fit(["x" * 100] * 10, 10 * utf8_size(CUT)) == [CUT] * 10
    assert fit([], 0) == []


@settings(max_examples=200, deadline=None)
@given(
    items=st.lists(texts, max_size=30),
    room=st.integers(min_value=0, max_value=5000),
)
def test_fit_holds_its_room_and_never_cuts_what_is_under_the_cap(
    items: list[str], room: int
) -> None:
    fitted = fit(items, room, json_size)
    floor = json_size(CUT)
    if fitted is None:
        assert sum(min(json_size(t), floor) for t in items) > room
        return
    assert sum(map(json_size, fitted)) <= room
    whole = [json_size(t) for t, f in zip(items, fitted, strict=True) if f == t]
    cut = [json_size(t) for t, f in zip(items, fitted, strict=True) if f != t]
    for original, result in zip(items, fitted, strict=True):
        if result != original:
            assert result.endswith(CUT)
            assert original.startswith(result.removesuffix(CUT))
    if whole and cut:
        assert max(whole) <= min(cut), "only the longest texts are cut"
