"""Lines of one member: split at every line end, decoded per line, cut, and tested.

A line ends at `\\n`, `\\r\\n` or a lone `\\r` (old Mac tools and progress output write the
last). ANSI colour codes (CSI sequences), which a terminal does not show, are removed, so
`\\x1b[31mERROR` reads as the whole word ERROR. The pattern sees a line's first `cap`
characters, the same text a problem line shows, so a problem word further along a very long line
is not seen. Memory stays flat: one partial line is held, cut to what the pattern would see.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator

from .pattern import KEYWORDS, Matcher, Watch
from .text_decoding import BOM, decode_line, decode_lines, encoding_name

_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_CONTINUATION = bytes(range(0x80, 0xC0))


class LineReader:
    """Feed a member's bytes in order, then `close()`; counts, first problems and the tail."""

    def __init__(
        self, matcher: Matcher, watch: Watch, *, cap: int, keep: int, tail_lines: int
    ) -> None:
        self.matcher = matcher
        self.watch = watch
        pattern = matcher.pattern
        literal = pattern.literal
        # What every problem line holds: the built-in words (compared lowercased), or the
        # literal a user's pattern requires. None: every line is asked.
        self.keywords: tuple[str, ...] | None = KEYWORDS
        self.fold = True
        self.ascii_only = False
        """The keywords may judge ASCII text only (a user's pattern that ignores case)."""
        self.others: tuple[str, ...] = ()
        """More strings a user's pattern requires: a line without one is not asked either."""
        if not pattern.builtin:
            self.keywords = None if literal is None else (literal.text,)
            self.fold = literal is not None and literal.folded
            self.ascii_only = self.fold
            self.others = () if literal is None else literal.others
        self.cap = cap
        self.keep = keep
        self.lines = 0
        self.problems = 0
        self.found: list[tuple[int, str]] = []
        self.tail: deque[str] = deque(maxlen=tail_lines)
        self._carry = b""
        self._carry_chars = 0
        self._carry_bytes = cap * 4 + 64  # a character takes at most 4 bytes; CSI codes more
        self._pending_cr = False
        self._start = True
        self._bom = False
        self._used: set[str] = set()

    @property
    def encoding(self) -> str:
        return encoding_name(frozenset(self._used), self._bom)

    def feed(self, data: bytes) -> None:
        """The member's next bytes. Raises Stopped when the budget is spent or on a cancel."""
        self.watch.check()  # the budget triage handed down (the pattern made it)
        if self._start:
            self._start = False
            if data.startswith(BOM):
                self._bom, data = True, data[len(BOM) :]
        if self._pending_cr and data.startswith(b"\n"):
            data = data[1:]
        self._pending_cr = False
        last = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if last < 0:
            self._extend(data)
            return
        first = _first_end(data)
        self._extend(data[:first])
        self._finish_carry()
        start = first + 1
        if data[first] == 0x0D and data[start : start + 1] == b"\n":
            start += 1
        if start <= last:
            self._block(data[start : last + 1])
        if last == len(data) - 1 and data[last] == 0x0D:
            self._pending_cr = True  # a `\n` may open the next piece: `\r\n` is one line end
        self._extend(data[last + 1 :])

    def close(self) -> None:
        """End of the member (or of what was read of it): a last line without an end counts."""
        if self._carry_chars:
            self._finish_carry()

    # -- one line at a time ------------------------------------------------------------------

    def _extend(self, piece: bytes) -> None:
        if not piece:
            return
        if len(self._carry) < self._carry_bytes:
            self._carry += piece[: self._carry_bytes - len(self._carry)]
        if piece.isascii():
            self._carry_chars += len(piece)
        else:  # characters, counted as UTF-8 counts them (continuation bytes are not one)
            self._carry_chars += len(piece.translate(None, _CONTINUATION))

    def _finish_carry(self) -> None:
        raw, chars = self._carry, self._carry_chars
        self._carry, self._carry_chars = b"", 0
        cut = len(raw) >= self._carry_bytes
        text, encoding = decode_line(raw, cut=cut)
        if encoding is not None:
            self._used.add(encoding)
        if "\x1b" in text:
            text = _CSI.sub("", text)
        length = max(len(text), chars) if cut else len(text)
        self.lines += 1
        if text and self.matcher(text[: self.cap]):
            self.problems += 1
            if len(self.found) < self.keep:
                self.found.append((self.lines, self._cut(text, length)))
        self.tail.append(self._cut(text, length))

    # -- whole lines at once -----------------------------------------------------------------

    def _block(self, block: bytes) -> None:
        """Whole lines: `block` ends at a line end and holds no partial line."""
        text, used = decode_lines(block)
        self._used.update(used)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\x1b" in text:
            text = _CSI.sub("", text)
        end = len(text) - 1  # the last line end
        count = text.count("\n", 0, end) + 1
        if self.keywords is None or (self.ascii_only and not text.isascii()):
            self._each_line(text[:end].split("\n"))
            return
        low = text.lower() if self.fold else text
        found = _keywords_at(low, 0, end, self.keywords)
        # Lowercasing that moved characters, or keywords on many lines (where one regex call
        # per line is cheaper): line by line.
        if len(low) != len(text) or len(found) * 4 > count:
            self._each_line(text[:end].split("\n"))
            return
        matcher, cap = self.matcher, self.cap
        hits = []
        others = self.others
        for at, stop, index in _lines_at(low, 0, end, found):
            line = text[at:stop]
            if others and not all(other in low[at:stop][:cap] for other in others):
                continue
            if matcher(line[:cap]):
                hits.append((index, line))
        self._record(hits)
        self.lines += count
        n = self.tail.maxlen or 0
        self.tail.extend(self._cut(line, len(line)) for line in _last_lines(text, 0, end, n))

    def _each_line(self, lines: list[str]) -> None:
        matcher, cap = self.matcher, self.cap
        user = not self.matcher.pattern.builtin
        # A user's pattern: every string it requires, the literal first; the built-in: none.
        words = (self.keywords[0], *self.others) if user and self.keywords is not None else ()
        fold, ascii_only = self.fold, self.ascii_only
        hits = []
        for i, line in enumerate(lines):
            if not line:
                continue
            seen = line[:cap]
            if words and not (ascii_only and not seen.isascii()):
                folded = seen.lower() if fold else seen
                if not all(word in folded for word in words):
                    continue
            if matcher(seen):
                hits.append((i, line))
        self._record(hits)
        self.lines += len(lines)
        keep_tail = lines[max(0, len(lines) - (self.tail.maxlen or 0)) :]
        self.tail.extend(self._cut(line, len(line)) for line in keep_tail)

    def _record(self, hits: list[tuple[int, str]]) -> None:
        """Problem lines given by their index after the last line counted so far."""
        self.problems += len(hits)
        room = max(0, self.keep - len(self.found))
        first = self.lines + 1
        self.found.extend((first + i, self._cut(line, len(line))) for i, line in hits[:room])

    def _cut(self, text: str, length: int) -> str:
        if length <= self.cap:
            return text
        return f"{text[: self.cap]} …[cut: {length} characters in all]"


def _first_end(data: bytes) -> int:
    lf, cr = data.find(b"\n"), data.find(b"\r")
    if lf < 0:
        return cr
    if cr < 0:
        return lf
    return min(lf, cr)


def _keywords_at(low: str, start: int, end: int, keywords: tuple[str, ...]) -> list[int]:
    """Where the keywords occur in `low[start:end]`, in order.

    `str.find` runs at memory speed where the regex engine spends tens of nanoseconds a
    character, so for the built-in pattern only the lines found here are handed to it.
    """
    if low.isascii():
        keywords = tuple(word for word in keywords if word.isascii())
    found: list[int] = []
    for word in keywords:
        at = low.find(word, start, end)
        while at >= 0:
            found.append(at)
            at = low.find(word, at + len(word), end)
    found.sort()
    return found


def _lines_at(low: str, start: int, end: int, found: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, end, index) of each line of `low[start:end]` holding a position in `found`."""
    index, previous, line_end = 0, start, -1
    for at in found:
        if at < line_end:
            continue
        index += low.count("\n", previous, at)
        line_start = low.rfind("\n", start, at) + 1 or start
        line_end = low.find("\n", at, end)
        line_end = end if line_end < 0 else line_end
        previous = line_start
        yield line_start, line_end, index


def _last_lines(text: str, start: int, end: int, n: int) -> list[str]:
    """The last `n` lines of `text[start:end]` (lines separated by newlines), in order."""
    lines: list[str] = []
    stop = end
    while len(lines) < n and stop >= start:
        begin = text.rfind("\n", start, stop) + 1 or start
        lines.append(text[begin:stop])
        stop = begin - 1
    lines.reverse()
    return lines
