"""The member rules verification and triage share: bombs, methods, flags, binary members."""

from __future__ import annotations

import pytest

from codearts_check_logs.ziplog import rules
from codearts_check_logs.ziplog.reader import Entry

MiB = 1024 * 1024


def entry(size: int, compressed: int, *, method: int = 8, flags: int = 0) -> Entry:
    return Entry("a.log", flags, method, 0, compressed, size, 0)


@pytest.mark.parametrize(
    ("size", "compressed", "bomb"),
    [
        (MiB, 1, False),  # at the floor: never a bomb
        (MiB + 1, 1, True),
        (200 * MiB, 2 * MiB, False),  # a ratio of 100
        (200 * MiB + 1, 2 * MiB, True),
    ],
)
def test_a_bomb_passes_both_the_floor_and_the_ratio(size: int, compressed: int, bomb: bool) -> None:
    assert rules.is_bomb(entry(size, compressed)) is bomb


@pytest.mark.parametrize(
    ("method", "flags", "reason"),
    [
        (8, 0, None),
        (0, 0, None),
        (8, 0x1, "encrypted"),
        (8, 0x40, "encrypted"),
        (12, 0, "unsupported compression"),
        (14, 0, "unsupported compression"),
        (8, 0x20, "unsupported compression"),
    ],
)
def test_unreadable(method: int, flags: int, reason: str | None) -> None:
    assert rules.unreadable(entry(1, 1, method=method, flags=flags)) == reason


def test_method_names() -> None:
    assert rules.method_name(12) == "bzip2"
    assert rules.method_name(77) == "method 77"


@pytest.mark.parametrize(
    ("name", "binary"),
    [("lib/x.so", True), ("report.PDF", True), ("a.log", False), ("Makefile", False)],
)
def test_binary_names(name: str, binary: bool) -> None:
    assert rules.has_binary_name(name) is binary


def test_looks_binary() -> None:
    assert rules.looks_binary(b"error\n\x00")
    assert rules.looks_binary(bytes(range(1, 9)) * 100 + b"error\n")
    assert not rules.looks_binary(b"\x1b[31mERROR\x1b[0m red\n" * 50)
