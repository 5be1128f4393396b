"""Byte budgets for what the runner limits: the job summary and the step outputs.

The runner counts bytes of what the action writes, after escaping: `md` turns a `|` into `&#124;`
(6 bytes), JSON turns an emoji into `\\ud83d\\ude00` (12 bytes). A text capped at 2,000 characters
can therefore take 12,000 bytes, and a limit judged on characters before escaping does not hold.
Everything here measures the final text in bytes.

One mechanism, two ways to stay within a budget:

- `Budget` hands out bytes to whole pieces in the caller's order of importance; a piece that does
  not fit is left out, and the caller counts it (the summary's rows and sections).
- `fit` shortens texts that may be shortened, longest first, to one common cap, so that short
  texts stay whole and long ones all keep the same amount (the `results` output's messages).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

CUT = "…[cut]"
"""Ends a text that had to be shortened to fit its budget."""

Measure = Callable[[str], int]
"""The bytes a text takes where it is written."""


def utf8_size(text: str) -> int:
    """Bytes of `text` in UTF-8 (a lone surrogate, which no cleaned text holds, counts 3)."""
    return len(text.encode("utf-8", "surrogatepass"))


def json_size(text: str) -> int:
    """Bytes of `text` inside a JSON string written with `ensure_ascii` (quotes not counted)."""
    return len(json.dumps(text, ensure_ascii=True)) - 2


@dataclass
class Budget:
    """What is left of a byte allowance, handed out to whole pieces."""

    left: int

    def take(self, text: str, measure: Measure = utf8_size) -> bool:
        """Spend the bytes of `text` if they fit, else spend nothing and say so."""
        size = measure(text)
        if size > self.left:
            return False
        self.left -= size
        return True

    def leading(self, pieces: Iterable[str]) -> list[str]:
        """The first of `pieces` that fit, in order, up to the first that does not: what is left
        out is the rest of the sequence, for the caller to count. Stops drawing from `pieces`
        there, so a generator renders nothing that would not be shown."""
        kept: list[str] = []
        for piece in pieces:
            if not self.take(piece):
                break
            kept.append(piece)
        return kept


def shorten(text: str, limit: int, measure: Measure = utf8_size, mark: str = CUT) -> str:
    """`text` itself if it takes at most `limit` bytes, else its longest start that fits with
    `mark` after it; just `mark`, or nothing, when not even that fits."""
    if measure(text) <= limit:
        return text
    if measure(mark) > limit:
        return ""
    low, high = 0, len(text)  # the longest start that fits lies in [low, high)
    while high - low > 1:
        middle = (low + high) // 2
        if measure(text[:middle] + mark) <= limit:
            low = middle
        else:
            high = middle
    return text[:low].rstrip() + mark


def fit(
    texts: Sequence[str], room: int, measure: Measure = utf8_size, mark: str = CUT
) -> list[str] | None:
    """`texts` shortened to one common cap, as high as `room` allows for all of them together:
    texts under the cap stay whole, longer ones are cut to it with `mark`. None when they do not
    fit even cut to `mark` alone (the cap never goes lower, so a text no longer than `mark` is
    never cut).

    The cap is found on the texts' sizes alone: a text cut to a cap takes at most the cap, so the
    sum of `min(size, cap)` bounds what the shortened texts take.
    """
    sizes = [measure(text) for text in texts]

    def total(cap: int) -> int:
        return sum(min(size, cap) for size in sizes)

    if total(max(sizes, default=0)) <= room:
        return list(texts)
    low = measure(mark)
    if total(low) > room:
        return None
    high = max(sizes)  # total(low) fits, total(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        if total(middle) <= room:
            low = middle
        else:
            high = middle
    return [shorten(text, low, measure, mark) for text in texts]
