"""Triage: find what went wrong inside a log ZIP, in bounded time and memory.

Triage is the reading side of verification's one pass over the members (`verify.verify`): the
pass inflates each member once for its CRC and hands the bytes to `Scan`, which splits them into
lines (`lines`), decodes them (`text_decoding`) and tests them (`pattern`). Whatever the archive
holds, triage reads at most `Limits.max_read_bytes` of decompressed data and spends at most
`Limits.max_seconds` (and never more than the caller's budget), holds at most one cut line, the
first problem lines and a short tail, and never raises for anything inside the ZIP: a member it
cannot read becomes a note. Text it returns is raw and untrusted; escaping for Markdown or the
log is the caller's job.

Rules, in the order a member meets them (members in central-directory order):

- directories are ignored; a known binary extension, the encryption flag or a compression
  method other than stored/deflated skips a member without reading it;
- a ZIP bomb (`rules.is_bomb`) is skipped unread: its claimed size is what counts, and inflating
  stops at that size, so a member that understates its size cannot yield more than it claims;
- once the read budget is spent, the members left are not read; once the time budget is spent
  (or the job is cancelled), reading stops where it is, and the summary says triage stopped early;
- a member whose first block holds a NUL byte, or at least 30% control bytes, is binary;
- damaged data (bad CRC, broken deflate stream) ends that member; the lines read before count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import rules
from .findings import MemberTriage, Problem, Triage, counted, nothing, sized
from .lines import LineReader
from .member import MemberReader
from .pattern import BUILTIN_PATTERN, Stopped, TriagePattern, Watch
from .reader import BadZip, Entry
from .verify import TextSink, verify

KiB = 1024
MiB = 1024 * KiB

__all__ = ["BUILTIN_PATTERN", "Limits", "Scan", "triage"]


@dataclass(frozen=True)
class Limits:
    """What one triage may spend, whatever the ZIP holds."""

    max_read_bytes: int = 64 * MiB
    """Decompressed bytes read per ZIP, all members together."""
    max_seconds: float = 60.0
    """Time per ZIP; the caller may give less (a part of `timeout-seconds`)."""
    bomb_ratio: int = rules.BOMB_RATIO
    bomb_floor: int = rules.BOMB_FLOOR
    """A member is a bomb when its size passes both this and ratio times its compressed size."""
    max_line_chars: int = 500
    max_problems: int = 20
    tail_lines: int = 20
    max_members: int = 10_000
    """Members given a row each; the rest are counted as not read."""
    max_notes: int = 20
    """Notes about single members; the rest are summed up in one more note."""


def triage(
    path: Path,
    pattern: TriagePattern = BUILTIN_PATTERN,
    *,
    limits: Limits = Limits(),
    seconds: float | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Triage:
    """Triage the ZIP at `path` on its own (verification's pass, damage noted, not raised)."""
    scan = Scan(pattern, limits, seconds=seconds, cancelled=cancelled)
    try:
        verify(path, None, text=scan, stop_at_damage=False)
    except BadZip as exc:
        return nothing(f"triage could not open the archive: {exc}", truncated=False)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return nothing(f"triage could not read the archive: {why}", truncated=False)
    except Stopped as exc:  # a cancel seen between members
        scan.stop(exc.reason)
    return scan.result()


@dataclass
class _Main:
    """The best main-log candidate so far."""

    key: tuple[bool, int]
    name: str
    tail: tuple[str, ...]
    stopped: str | None


class Scan:
    """One triage: the budgets, counts, first problems, notes and the main log so far. It is the
    `verify.MemberSink` of the pass; `result()` once the pass is over."""

    def __init__(
        self,
        pattern: TriagePattern,
        limits: Limits = Limits(),
        *,
        seconds: float | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        watch: Watch | None = None,
    ) -> None:
        self.pattern = pattern
        self.limits = limits
        budget = limits.max_seconds if seconds is None else min(seconds, limits.max_seconds)
        self.matcher = pattern.matcher(budget, cancelled=cancelled, watch=watch)
        self.watch = self.matcher.watch
        self.budget = limits.max_read_bytes
        self.bytes_read = 0
        self.members: list[MemberTriage] = []
        self.problems: list[Problem] = []
        self.total = 0
        self.member_notes: list[str] = []
        self.binary = 0
        self.unread = 0
        self.over = 0
        self.cut: str | None = None
        self.stopped: str | None = None
        self.stopped_in: str | None = None
        self.main: _Main | None = None

    # -- the pass's side ---------------------------------------------------------------------

    def open(self, entry: Entry, unread: str | None) -> TextSink | None:
        if len(self.members) >= self.limits.max_members:
            self.over += 1
            return None
        reason = self._reason_to_skip(entry, unread)
        if reason is not None:
            self.members.append(MemberTriage(entry.name, 0, 0, "", reason))
            return None
        return MemberReader(self, entry)

    def stop(self, reason: str, member: str | None = None) -> None:
        """Stop reading: `time budget` or `cancelled`."""
        if self.stopped is None:
            self.stopped, self.stopped_in = reason, member

    def _reason_to_skip(self, entry: Entry, unread: str | None) -> str | None:
        name = entry.name
        if rules.has_binary_name(name):
            self.binary += 1
            return "binary"
        if unread is None and entry.flags & rules.ENCRYPTED:
            unread = "encrypted"
        if unread == "encrypted":
            self.member_notes.append(f"{name} skipped: it is encrypted")
            return unread
        if unread == "unsupported compression" or rules.unreadable(entry):
            method = rules.method_name(entry.method)
            self.member_notes.append(f"{name} skipped: triage does not read {method} compression")
            return "unsupported compression"
        limits = self.limits
        if unread == "ZIP bomb" or rules.is_bomb(entry, limits.bomb_ratio, limits.bomb_floor):
            self.member_notes.append(
                f"{name} skipped: it would decompress to {sized(entry.size)}, more than "
                f"{limits.bomb_ratio} times its compressed size (ZIP bomb?)"
            )
            return "ZIP bomb"
        if self.stopped is not None and entry.size > 0:
            self.unread += 1
            return self.stopped
        if self.budget <= 0 and entry.size > 0:
            self.unread += 1
            return "read budget"
        return None

    def add(self, name: str, size: int, reader: LineReader, stopped: str | None) -> None:
        self.total += reader.problems
        self.problems.extend(Problem(name, number, text) for number, text in reader.found)
        key = (name.lower().endswith(".log"), size)
        if self.main is None or key > self.main.key:
            self.main = _Main(key, name, tuple(reader.tail), stopped)
        self.members.append(
            MemberTriage(name, reader.problems, reader.lines, reader.encoding, stopped)
        )

    # -- the result --------------------------------------------------------------------------

    def result(self) -> Triage:
        main = self.main
        return Triage(
            members=tuple(self.members),
            problems=tuple(self.problems),
            total_problems=self.total,
            main_log=None if main is None else main.name,
            tail=() if main is None else main.tail,
            notes=tuple(self._notes()),
            bytes_read=self.bytes_read,
            truncated=(
                self.cut is not None or self.unread > 0 or self.over > 0 or self.stopped is not None
            ),
        )

    def _notes(self) -> Iterable[str]:
        if self.stopped is not None:
            yield self._stop_note()
        shown = self.member_notes[: self.limits.max_notes]
        yield from shown
        if len(self.member_notes) > len(shown):
            yield f"{len(self.member_notes) - len(shown)} more members could not be read"
        if self.binary:
            yield f"{counted(self.binary, 'binary member')} skipped"
        if self.cut is not None or (self.unread and self.stopped is None):
            parts = [f"{self.cut} was read in part"] if self.cut is not None else []
            if self.unread:
                parts.append(f"{counted(self.unread, 'member')} not read")
            yield (
                f"stopped after {sized(self.limits.max_read_bytes)} of decompressed text; "
                + " and ".join(parts)
            )
        if self.over:
            yield (
                f"triage read the first {self.limits.max_members} members; "
                f"{counted(self.over, 'more member')} not read"
            )
        main = self.main
        if main is not None and main.stopped is not None:
            yield (
                f"the last lines of {main.name} are where triage stopped reading it "
                f"({main.stopped}), not the end of the file"
            )

    def _stop_note(self) -> str:
        where = f" while reading {self.stopped_in}" if self.stopped_in is not None else ""
        unread = f"; {counted(self.unread, 'more member')} not read" if self.unread else ""
        if self.stopped == "cancelled":
            return f"triage stopped early: the job was cancelled{where}{unread}"
        return (
            f"triage stopped early: its time budget ran out{where}{unread} (a pattern that "
            "backtracks, or very many lines); the ZIP is saved whole"
        )
