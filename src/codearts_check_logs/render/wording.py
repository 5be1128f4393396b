"""Counted nouns for every rendered sentence: `1 file`, `2 files`, never `1 files` or `file(s)`.

Pure. Each renderer (summary, terminal text, log lines) builds its counts with these, so a
count of one reads as English wherever it appears.
"""

from __future__ import annotations


def plural(count: int, singular: str, many: str | None = None) -> str:
    """The noun (or phrase) that goes with `count`: `singular` for exactly one, else `many`
    (the singular with an `s` unless given)."""
    if count == 1:
        return singular
    return many if many is not None else f"{singular}s"


def counted(count: int, singular: str, many: str | None = None) -> str:
    """`count` followed by its noun: `1 sub-job`, `3 sub-jobs`, `1 match`, `2 matches`."""
    return f"{count} {plural(count, singular, many)}"
