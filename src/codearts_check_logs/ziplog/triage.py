"""Triage: find what went wrong inside a verified log ZIP, in bounded time and memory.

Whatever the archive holds, triage reads at most `Limits.max_read_bytes` of decompressed data,
holds at most one cut line, the first problem lines and a short tail, and never raises for
anything inside the ZIP: a member it cannot read becomes a note. Text it returns is raw and
untrusted; escaping for Markdown or the log is the caller's job.

Rules, in the order a member meets them (members in central-directory order):

- directories are ignored; a known binary extension, the encryption flag or a compression
  method other than stored/deflated skips a member without reading it (bzip2 and LZMA are
  refused because `zipfile` decompresses them without an output limit);
- a member whose size passes both `bomb_ratio` times its compressed size and `bomb_floor` is
  a ZIP bomb, skipped unread. The central directory's size is what counts: `zipfile` stops
  each member at that size (the CRC check then fails), so a member that understates its size
  cannot yield more than it claims, and one that states it truthfully is caught before any
  byte is decompressed;
- once the read budget is spent, the members left are not read;
- a member whose first block holds a NUL byte, or at least 30% control bytes, is binary;
- damaged data (bad CRC, broken deflate stream, bad local header) stops reading that member;
  the lines read before it still count.

A line is what lies between `\\n` characters, with every `\\r` and every ANSI colour code (CSI
sequence) removed; the pattern sees only its first `max_line_chars` characters (the same text a
problem line shows), so a problem word further along a very long line is not seen.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .names import UTF8_FLAG, TextDecoder, decode_name

KiB = 1024
MiB = 1024 * KiB

# Whole words: not preceded or followed by an ASCII letter, digit or underscore. So `Error:`,
# `[ERROR]`, `failed.` and `build-failed` count; `errors`, `ERROR_CODE`, `error_count=0`,
# `failedTests` and `NullPointerException` do not (the line of a Java stack trace that counts is
# the `Exception in thread ...` one, or whichever says error or failed). Non-ASCII letters are
# boundaries too, so `编译error` counts. The Chinese words count anywhere in the line, as Chinese
# has no spaces between words; `无错误` ("no errors") therefore counts, as the contract says.
BUILTIN_PATTERN = re.compile(
    r"(?<![0-9A-Za-z_])(?:error|fatal|exception|traceback|failed|failure|panic)(?![0-9A-Za-z_])"
    r"|错误|失败|异常",
    re.IGNORECASE | re.ASCII,
)


# ANSI colour codes and other CSI sequences, which a terminal does not show. `\x1b[31mERROR`
# reads as ERROR, a whole word, once they are gone.
_CSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_CSI_START = re.compile(r"\x1b(?:\[[0-?]*[ -/]*)?\Z")
# Every match of the built-in pattern contains one of these, once lowercased.
_KEYWORDS = ("error", "fatal", "exception", "traceback", "fail", "panic", "错误", "失败", "异常")


class PatternError(ValueError):
    """`triage-pattern` is unusable; the message is one line, fit for INVALID_INPUT."""


def compile_pattern(text: str) -> re.Pattern[str]:
    """The pattern that marks a problem line: the built-in one for `""`, else `text` as Python `re`.

    A pattern that matches an empty line is refused: `a*`, `error|` or `.*` match every line
    (the empty match is found anywhere), which would make every line a problem; and empty lines
    are never problems, which lets triage skip them without asking the pattern.
    """
    if not text:
        return BUILTIN_PATTERN
    try:
        pattern = re.compile(text)
    except (re.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"triage-pattern is not a valid regular expression: {exc}") from None
    if pattern.search("") is not None:
        raise PatternError(
            "triage-pattern matches an empty line, so it would mark every line as a problem; "
            "make it require at least one character"
        )
    return pattern


@dataclass(frozen=True)
class Limits:
    """What one triage may spend, whatever the ZIP holds."""

    max_read_bytes: int = 64 * MiB
    """Decompressed bytes read per ZIP, all members together."""
    bomb_ratio: int = 100
    bomb_floor: int = 1 * MiB
    """A member is a bomb when its size passes both this and ratio times its compressed size."""
    max_line_chars: int = 500
    max_problems: int = 20
    tail_lines: int = 20
    max_members: int = 10_000
    max_directory_bytes: int = 4 * MiB
    """`zipfile` loads the whole central directory: archives that claim more are not opened."""
    max_notes: int = 20
    """Notes about single members; the rest are summed up in one more note."""
    chunk_bytes: int = 64 * KiB


@dataclass(frozen=True)
class Problem:
    """One problem line: member name, 1-based line number, the line (cut, raw)."""

    member: str
    line: int
    text: str


@dataclass(frozen=True)
class MemberTriage:
    """What triage made of one file in the ZIP.

    `skipped` is None when the member was read to its end, else why it was read in part or not
    at all: `binary`, `encrypted`, `unsupported compression`, `ZIP bomb`, `damaged` or `read
    budget`. `encoding` is `utf-8`, `utf-8-sig` (with BOM), `gb18030`, or `""` if not decoded.
    """

    name: str
    problems: int
    lines: int
    encoding: str
    skipped: str | None


@dataclass(frozen=True)
class Triage:
    """The result for one ZIP.

    `problems` are the first problem lines in member order, `total_problems` all of them.
    `main_log` is, among the members triage read (fully or in part), the largest whose name
    ends in `.log`, else the largest; `tail` holds its last lines as far as triage read it.
    `truncated` is True when triage stopped before the end of the archive (the read budget ran
    out, or the archive lists too many members to open), so counts are lower bounds.
    """

    members: tuple[MemberTriage, ...]
    problems: tuple[Problem, ...]
    total_problems: int
    main_log: str | None
    tail: tuple[str, ...]
    notes: tuple[str, ...]
    bytes_read: int
    truncated: bool


_ARCHIVES = {"7z", "apk", "bz2", "ear", "gz", "jar", "lz4", "rar", "tar", "tgz", "war", "whl"}
_COMPRESSED = {"lzma", "xz", "zip", "zst"}
_PROGRAMS = {"a", "bin", "class", "dll", "dylib", "exe", "lib", "o", "obj", "pyc", "so", "sqlite"}
_MEDIA = {"bmp", "gif", "ico", "jpeg", "jpg", "otf", "png", "tif", "tiff", "ttf", "webp", "woff"}
_DOCUMENTS = {"doc", "docx", "pdf", "ppt", "pptx", "woff2", "xls", "xlsx"}
BINARY_EXTENSIONS = frozenset(_ARCHIVES | _COMPRESSED | _PROGRAMS | _MEDIA | _DOCUMENTS)
"""Members with these extensions are skipped unread."""
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b") + b"\x7f"
_CONTROL_SHARE = 0.3
_READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_ENCRYPTED = 0x01 | 0x40  # traditional and strong encryption
_PATCHED = 0x20
# What zipfile raises for a damaged or unusual member (or archive); anything else is a bug.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    UnicodeDecodeError,
    struct.error,
)
_METHODS = {12: "bzip2", 14: "LZMA", 9: "Deflate64", 93: "Zstandard", 95: "XZ", 98: "PPMd"}


def triage(path: Path, pattern: re.Pattern[str], *, limits: Limits = Limits()) -> Triage:
    """Count the problem lines of every text member of the ZIP at `path`; see the module doc."""
    refusal = _refusal(path, limits)
    if refusal is not None:
        return _nothing(refusal, truncated=True)
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        return _nothing(f"triage could not open the archive: {_why(exc)}", truncated=False)
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            # The end record may understate the count; zipfile walks the whole directory.
            return _nothing(_too_many(len(infos), limits), truncated=True)
        scan = _Scan(pattern, limits)
        for info in infos:
            if not info.is_dir():
                scan.member(archive, info)
    return scan.result()


def _nothing(note: str, *, truncated: bool) -> Triage:
    return Triage((), (), 0, None, (), (note,), 0, truncated)


class _Lines:
    """Split decoded text into lines and test each, holding at most one (cut) partial line."""

    def __init__(self, pattern: re.Pattern[str], limits: Limits, keep: int) -> None:
        self.search = pattern.search
        self.keywords = _KEYWORDS if pattern is BUILTIN_PATTERN else None
        self.cap = limits.max_line_chars
        self.keep = keep
        self.lines = 0
        self.problems = 0
        self.found: list[tuple[int, str]] = []
        self.tail: deque[str] = deque(maxlen=limits.tail_lines)
        self._carry = ""
        self._carry_len = 0
        self._escape = ""

    def feed(self, text: str) -> None:
        text = self._escape + text.replace("\r", "")
        self._escape = ""
        if "\x1b" in text:
            text = _CSI.sub("", text)
            # A colour code split between two pieces is finished by the next one.
            split = _CSI_START.search(text, max(0, len(text) - 32))
            if split is not None:
                self._escape, text = split.group(), text[: split.start()]
        first = text.find("\n")
        if first < 0:
            self._extend(text)
            return
        self._extend(text[:first])
        self._finish(self._carry, self._carry_len)
        self._carry, self._carry_len = "", 0
        last = text.rfind("\n")
        if last > first:
            self._complete(text, first + 1, last)
        self._extend(text[last + 1 :])

    def _complete(self, text: str, start: int, end: int) -> None:
        """The whole lines in `text[start:end]`, which holds no partial line."""
        count = text.count("\n", start, end) + 1
        low = "" if self.keywords is None else text.lower()
        found = _keywords_at(low, start, end, self.keywords or ())
        # A user's pattern, lowercasing that moved characters, or keywords on many lines (where
        # one regex call per line is cheaper): line by line.
        if len(low) != len(text) or len(found) * 4 > count:
            self._each_line(text[start:end].split("\n"))
            return
        search, cap = self.search, self.cap
        hits = []
        for at, stop, index in _lines_at(low, start, end, found):
            line = text[at:stop]
            if search(line, 0, cap):
                hits.append((index, line))
        self._record(hits)
        self.lines += count
        n = self.tail.maxlen or 0
        self.tail.extend(self._cut(line, len(line)) for line in _last_lines(text, start, end, n))

    def _each_line(self, lines: list[str]) -> None:
        search, cap = self.search, self.cap
        self._record([(i, line) for i, line in enumerate(lines) if line and search(line, 0, cap)])
        self.lines += len(lines)
        keep_tail = lines[max(0, len(lines) - (self.tail.maxlen or 0)) :]
        self.tail.extend(self._cut(line, len(line)) for line in keep_tail)

    def _record(self, hits: list[tuple[int, str]]) -> None:
        """Problem lines given by their index after the last line counted so far."""
        self.problems += len(hits)
        room = max(0, self.keep - len(self.found))
        first = self.lines + 1
        self.found.extend((first + i, self._cut(line, len(line))) for i, line in hits[:room])

    def close(self) -> None:
        """End of the member: a last line without a newline is still a line."""
        self._extend(self._escape)
        if self._carry_len:
            self._finish(self._carry, self._carry_len)
            self._carry, self._carry_len = "", 0

    def _extend(self, piece: str) -> None:
        if len(self._carry) < self.cap:
            self._carry += piece[: self.cap - len(self._carry)]
        self._carry_len += len(piece)

    def _finish(self, text: str, length: int) -> None:
        self.lines += 1
        if text and self.search(text, 0, self.cap):
            self._problem(self.lines, text, length)
        self.tail.append(self._cut(text, length))

    def _problem(self, line: int, text: str, length: int) -> None:
        self.problems += 1
        if len(self.found) < self.keep:
            self.found.append((line, self._cut(text, length)))

    def _cut(self, text: str, length: int) -> str:
        if length <= self.cap:
            return text
        return f"{text[: self.cap]} …[cut: {length} characters in all]"


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


@dataclass
class _Main:
    """The best main-log candidate so far."""

    key: tuple[bool, int]
    name: str
    tail: tuple[str, ...]
    stopped: str | None


class _Scan:
    """State of one triage: the budget, counts, first problems, notes and the main log so far."""

    def __init__(self, pattern: re.Pattern[str], limits: Limits) -> None:
        self.pattern = pattern
        self.limits = limits
        self.budget = limits.max_read_bytes
        self.bytes_read = 0
        self.members: list[MemberTriage] = []
        self.problems: list[Problem] = []
        self.total = 0
        self.member_notes: list[str] = []
        self.binary = 0
        self.unread = 0
        self.cut: str | None = None
        self.main: _Main | None = None

    def member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        name = decode_name(_raw_name(info), bool(info.flag_bits & UTF8_FLAG))
        reason = self._reason_to_skip(info, name)
        if reason is not None:
            self.members.append(MemberTriage(name, 0, 0, "", reason))
            return
        self.members.append(self._read(archive, info, name))

    def _reason_to_skip(self, info: zipfile.ZipInfo, name: str) -> str | None:
        base = name.rpartition("/")[2]
        if "." in base and base.rpartition(".")[2].lower() in BINARY_EXTENSIONS:
            self.binary += 1
            return "binary"
        if info.flag_bits & _ENCRYPTED:
            self.member_notes.append(f"{name} skipped: it is encrypted")
            return "encrypted"
        if info.compress_type not in _READABLE or info.flag_bits & _PATCHED:
            method = _METHODS.get(info.compress_type, f"method {info.compress_type}")
            self.member_notes.append(f"{name} skipped: triage does not read {method} compression")
            return "unsupported compression"
        limits = self.limits
        if info.file_size > max(limits.bomb_ratio * info.compress_size, limits.bomb_floor):
            self.member_notes.append(
                f"{name} skipped: it would decompress to {_size(info.file_size)}, more than "
                f"{limits.bomb_ratio} times its compressed size (ZIP bomb?)"
            )
            return "ZIP bomb"
        if self.budget <= 0 and info.file_size > 0:
            self.unread += 1
            return "read budget"
        return None

    def _read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> MemberTriage:
        limits = self.limits
        lines = _Lines(self.pattern, limits, limits.max_problems - len(self.problems))
        decoder = TextDecoder()
        size = 0
        stopped: str | None = None
        damage: str | None = None
        pieces = _pieces(archive, info, lambda: min(limits.chunk_bytes, self.budget))
        with closing(pieces):
            for data in pieces:
                if isinstance(data, BaseException):
                    stopped, damage = "damaged", _why(data)
                    break
                first = size == 0
                size += len(data)
                self.bytes_read += len(data)
                self.budget -= len(data)
                if first and _looks_binary(data):
                    self.binary += 1
                    return MemberTriage(name, 0, 0, "", "binary")
                lines.feed(decoder.decode(data))
        if stopped is None and size < info.file_size and self.budget <= 0:
            stopped = "read budget"
            self.cut = name
        lines.feed(decoder.decode(b"", final=True))
        lines.close()
        if damage is not None:
            self.member_notes.append(
                f"{name} is damaged ({damage}); only the {_count(lines.lines, 'line')} "
                "read before that count"
            )
        self._add(name, lines)
        self._consider_main(name, info.file_size, lines, stopped)
        return MemberTriage(name, lines.problems, lines.lines, decoder.encoding, stopped)

    def _add(self, name: str, lines: _Lines) -> None:
        self.total += lines.problems
        self.problems.extend(Problem(name, number, text) for number, text in lines.found)

    def _consider_main(self, name: str, size: int, lines: _Lines, stopped: str | None) -> None:
        key = (name.lower().endswith(".log"), size)
        if self.main is None or key > self.main.key:
            self.main = _Main(key, name, tuple(lines.tail), stopped)

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
            truncated=self.cut is not None or self.unread > 0,
        )

    def _notes(self) -> Iterable[str]:
        shown = self.member_notes[: self.limits.max_notes]
        yield from shown
        if len(self.member_notes) > len(shown):
            yield f"{len(self.member_notes) - len(shown)} more members could not be read"
        if self.binary:
            yield f"{_count(self.binary, 'binary member')} skipped"
        if self.cut is not None or self.unread:
            parts = [f"{self.cut} was read in part"] if self.cut is not None else []
            if self.unread:
                parts.append(f"{_count(self.unread, 'member')} not read")
            yield (
                f"stopped after {_size(self.limits.max_read_bytes)} of decompressed text; "
                + " and ".join(parts)
            )
        main = self.main
        if main is not None and main.stopped is not None:
            yield (
                f"the last lines of {main.name} are where triage stopped reading it "
                f"({main.stopped}), not the end of the file"
            )


def _pieces(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, want: Callable[[], int]
) -> Generator[bytes | BaseException, None, None]:
    """The member's decompressed bytes, `want()` at a time, until its end or `want()` is 0.

    What zipfile raises for damaged data ends the pieces as a value, not an exception, so the
    caller's own code runs outside any `try` and a bug in it still surfaces. zipfile finds the
    member by its `ZipInfo`, not by name, so duplicate names or names with NUL are no problem.
    """
    try:
        with archive.open(info) as stream:
            while (n := want()) > 0:
                data = stream.read(n)
                if not data:
                    return
                yield data
    except _ZIP_ERRORS as exc:
        yield exc


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    """The name's bytes as stored: zipfile decoded them as UTF-8 (flag set) or else CP437,
    which maps every byte, so encoding back gives them exactly."""
    encoding = "utf-8" if info.flag_bits & UTF8_FLAG else "cp437"
    return info.orig_filename.encode(encoding)


def _looks_binary(block: bytes) -> bool:
    if b"\x00" in block:
        return True
    controls = len(block) - len(block.translate(None, _CONTROL))
    return controls >= _CONTROL_SHARE * len(block)


def _why(exc: BaseException) -> str:
    """A fixed phrase per failure, so notes never carry zipfile's repr of a hostile name."""
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in str(exc):
        return "its CRC check failed"
    if isinstance(exc, zipfile.BadZipFile):
        return "a ZIP structure is damaged"
    if isinstance(exc, zlib.error):
        return "its compressed data is corrupt"
    if isinstance(exc, EOFError):
        return "its compressed data ends early"
    if isinstance(exc, UnicodeDecodeError):
        return "a name marked as UTF-8 is not valid UTF-8"
    if isinstance(exc, NotImplementedError):
        return "it uses a ZIP feature zipfile does not support"
    if isinstance(exc, OSError):
        return f"a read failed: {exc.strerror or type(exc).__name__}"
    return "a ZIP structure is invalid"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _size(n: int) -> str:
    for unit, name in ((1024 * MiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit:
            return f"{n / unit:.1f}".removesuffix(".0") + f" {name}"
    return f"{n} bytes"


# The end record tells, before zipfile loads anything, how big the central directory is.
_EOCD = struct.Struct("<4s4H2LH")
_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


def _refusal(path: Path, limits: Limits) -> str | None:
    """Why triage will not open the archive (a note), or None."""
    try:
        with path.open("rb") as handle:
            figures = _directory_figures(handle)
    except OSError as exc:
        return f"triage could not read the archive: {exc.strerror or type(exc).__name__}"
    if figures is None:
        return None  # zipfile will say what is wrong
    entries, size = figures
    if entries > limits.max_members:
        return _too_many(entries, limits)
    if size > limits.max_directory_bytes:
        return (
            f"triage skipped: the archive's central directory is {_size(size)}, "
            f"more than the {_size(limits.max_directory_bytes)} it opens"
        )
    return None


def _too_many(entries: int, limits: Limits) -> str:
    return (
        f"triage skipped: the archive lists {entries} members, "
        f"more than the {limits.max_members} it opens"
    )


def _directory_figures(handle: BinaryIO) -> tuple[int, int] | None:
    """Entry count and byte size of the central directory, as zipfile will find them: the last
    end record in the file's last 64 KiB, and the ZIP64 record right before it if present."""
    size = handle.seek(0, 2)
    tail_size = min(size, _EOCD.size + 0xFFFF)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + _EOCD.size > len(tail):
        return None
    fields = _EOCD.unpack_from(tail, at)
    entries, cd_size = int(fields[4]), int(fields[5])
    locator_at = size - tail_size + at - _LOCATOR.size
    if locator_at >= _EOCD64.size:
        handle.seek(locator_at - _EOCD64.size)
        record = handle.read(_EOCD64.size + _LOCATOR.size)
        if record[_EOCD64.size :].startswith(b"PK\x06\x07") and record.startswith(b"PK\x06\x06"):
            fields64 = _EOCD64.unpack_from(record)
            entries, cd_size = int(fields64[7]), int(fields64[8])
    return entries, cd_size
