"""One member's text as triage reads it: the byte budget, the binary sniff, damage, the stop."""

from __future__ import annotations

import zipfile

from codearts_check_logs.ziplog.member import MemberReader
from codearts_check_logs.ziplog.pattern import Watch
from codearts_check_logs.ziplog.reader import Entry
from codearts_check_logs.ziplog.triage import BUILTIN_PATTERN, Limits, Scan


def entry(name: str, size: int) -> Entry:
    return Entry(
        name=name,
        flags=0,
        method=zipfile.ZIP_DEFLATED,
        crc=0,
        compressed_size=size,
        size=size,
        offset=0,
    )


def test_lines_are_read_and_given_back_to_the_scan() -> None:
    scan = Scan(BUILTIN_PATTERN)
    reader = MemberReader(scan, entry("a.log", 20))
    assert reader.write(b"ok\nERROR one\nend\n")
    reader.close(None)
    [member] = scan.members
    assert (member.name, member.problems, member.lines, member.skipped) == ("a.log", 1, 3, None)


def test_a_binary_first_block_is_not_read() -> None:
    scan = Scan(BUILTIN_PATTERN)
    reader = MemberReader(scan, entry("core", 100))
    assert not reader.write(b"\x00\x01ERROR\x00" * 10)
    reader.close(None)
    assert [(m.skipped, m.lines) for m in scan.members] == [("binary", 0)]
    assert scan.result().notes == ("1 binary member skipped",)


def test_the_read_budget_cuts_the_member_and_says_so() -> None:
    scan = Scan(BUILTIN_PATTERN, Limits(max_read_bytes=10))
    reader = MemberReader(scan, entry("a.log", 40))
    assert not reader.write(b"ERROR 1\nERROR 2\nERROR 3\n")
    reader.close(None)
    assert scan.members[0].skipped == "read budget"
    assert scan.bytes_read == 10
    assert scan.result().truncated


def test_damage_keeps_the_lines_read_before_it() -> None:
    scan = Scan(BUILTIN_PATTERN)
    reader = MemberReader(scan, entry("a.log", 100))
    reader.write(b"ERROR one\nERROR two\n")
    reader.close("its CRC check failed")
    assert scan.members[0].problems == 2
    assert scan.members[0].skipped == "damaged"
    assert scan.result().notes == (
        "a.log is damaged (its CRC check failed); only the 2 lines read before that count",
        "the last lines of a.log are where triage stopped reading it (damaged), not the end of "
        "the file",
    )


def test_a_spent_time_budget_stops_the_member_and_the_scan() -> None:
    scan = Scan(BUILTIN_PATTERN, watch=Watch(0))
    reader = MemberReader(scan, entry("a.log", 10))
    assert not reader.write(b"ERROR one\n")
    assert scan.stopped == "time budget"
    assert not MemberReader(scan, entry("b.log", 10)).write(b"x\n"), "nothing more is read"
