r"""The pattern that marks a problem line, and the matcher that runs it within a time budget.

The built-in pattern is the standard library's `re`, behind a keyword search at memory speed; it
cannot backtrack (whole words and fixed Chinese words), so it needs no watch beyond the checks
between blocks of lines.

A user's `triage-pattern` can backtrack for longer than any budget: `re` holds the interpreter
lock while it does, so neither a signal handler nor a deadline check ever runs. It is therefore
compiled with the `regex` package, chosen for three reasons:

- a per-call `timeout`, checked inside the matching loop, so a pattern that backtracks without
  end stops at the budget, on the thread that runs it, with no process to manage;
- `concurrent=True` releases the interpreter lock while it matches, so the signal handler (the
  cancel) and the other sub-jobs' downloads run meanwhile;
- its guards against repeated backtracking make many patterns that `re` would run for ever
  (`(\w+\s?)+FAILED`) end at once, and `.*ERROR.*FAILED` is fast where `re` is 20 times
  slower than the built-in pattern.

It reads Python's syntax (its version 0 is `re`-compatible; `re` still judges what is valid),
so `triage-pattern` keeps its meaning. The price is 3.6 MB in the image. A child process with a
deadline would hold for any engine too, but would copy every line across a pipe and cost a
process per worker; a thread cannot be stopped at all.

A call with a time-out costs about 2 µs more than one without, so a user's pattern is asked only
about the lines that hold every string it requires (`required_literal`), found with `str.find`.

Each call gets `min(budget left, SLICE)` seconds; a call that runs out of its slice is tried again
with the next slice, so a cancel is seen within one slice (the cancel must stop triage within
5 s) and the budget is what ends a pattern that backtracks without end.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import regex

Clock = Callable[[], float]

# Whole words: not preceded or followed by an ASCII letter, digit or underscore. So `Error:`,
# `[ERROR]`, `failed.` and `build-failed` count; `errors`, `ERROR_CODE`, `error_count=0`,
# `failedTests` and `NullPointerException` do not (the line of a Java stack trace that counts is
# the `Exception in thread ...` one, or whichever says error or failed). Non-ASCII letters are
# boundaries too, so `编译error` counts. The Chinese words count anywhere in the line, as Chinese
# has no spaces between words; `无错误` ("no errors") therefore counts, as the contract says.
BUILTIN_RE = re.compile(
    r"(?<![0-9A-Za-z_])(?:error|fatal|exception|traceback|failed|failure|panic)(?![0-9A-Za-z_])"
    r"|错误|失败|异常",
    re.IGNORECASE | re.ASCII,
)
KEYWORDS = ("error", "fatal", "exception", "traceback", "fail", "panic", "错误", "失败", "异常")
"""Every match of the built-in pattern contains one of these, once lowercased."""

# The standard library's parser of `re` syntax, which has no public name (and no type stubs).
_PARSER: Any = importlib.import_module("re._parser")
_CONSTANTS: Any = importlib.import_module("re._constants")

SLICE = 1.0
"""The longest a single call to a user's pattern runs before the cancel is looked at again."""


class PatternError(ValueError):
    """`triage-pattern` is unusable; the message is one line, fit for INVALID_INPUT."""


class Stopped(Exception):
    """Triage must stop now: `reason` is `time budget` or `cancelled`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TriagePattern:
    """A compiled `triage-pattern`: the built-in one (`re`) or a user's (`regex`).

    `literal` is a string every match of a user's pattern contains (the longest that its
    syntax tree shows), or None: a line without it cannot match, so triage finds the lines that
    hold it with `str.find`, at memory speed, and asks the engine (and pays its time-out's
    cost) only about those.
    """

    text: str
    compiled: re.Pattern[str] | regex.Pattern[str]
    literal: Literal | None = None

    @property
    def builtin(self) -> bool:
        return not self.text

    def search(self, line: str) -> bool:
        """Whether the pattern marks `line`, with no budget (for tests and the input check)."""
        return self.compiled.search(line) is not None

    def matcher(
        self,
        seconds: float,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        watch: Watch | None = None,
    ) -> Matcher:
        """The line test for one triage, within `seconds` (or `watch`, which tests pass). Asked
        of the pattern itself: it was compiled when the inputs were read and is handed down in
        the settings, so triage uses it like any value it was given."""
        return Matcher(self, watch or Watch(max(0.0, seconds), cancelled=cancelled))


BUILTIN_PATTERN = TriagePattern("", BUILTIN_RE)


def compile_pattern(text: str) -> TriagePattern:
    """The pattern that marks a problem line: the built-in one for `""`, else `text` in Python
    syntax. A pattern that matches an empty line is refused: `a*`, `error|` or `.*` match every
    line (the empty match is found anywhere), which would make every line a problem; and empty
    lines are never problems, which lets triage skip them without asking the pattern.
    """
    if not text:
        return BUILTIN_PATTERN
    # `re` judges the syntax, so what Python calls a valid pattern is what is accepted, and
    # `regex`, which reads that syntax, compiles the one that runs. Imported here: a run with
    # the built-in pattern never needs it, and it is a few milliseconds before the first request.
    import regex

    try:
        re.compile(text)
        compiled = regex.compile(text, regex.VERSION0)
    except (re.error, regex.error, OverflowError, RecursionError) as exc:
        raise PatternError(f"triage-pattern is not a valid regular expression: {exc}") from None
    try:
        empty = compiled.search("", timeout=SLICE) is not None
    except TimeoutError:
        empty = False
    if empty:
        raise PatternError(
            "triage-pattern matches an empty line, so it would mark every line as a problem; "
            "make it require at least one character"
        )
    return TriagePattern(text, compiled, required_literal(text))


@dataclass(frozen=True)
class Literal:
    """A string every match contains; `folded` when the pattern ignores case (somewhere): then
    `text` is lowercased ASCII and only an ASCII line may be judged by it, where lowercasing is
    exact (Unicode case folding maps some non-ASCII letters onto ASCII ones, such as the Kelvin
    sign onto `k`)."""

    text: str
    folded: bool
    others: tuple[str, ...] = ()
    """The other strings every match contains (folded alike), longest first."""


def required_literal(text: str) -> Literal | None:
    """The longest string that every match of the pattern `text` contains, or None.

    Read from the standard library's own parse of the pattern (`re._parser`, the tree `re`
    compiles; private, so anything unexpected means no filter rather than a wrong one). Only
    runs of plain characters count that every match must pass: not inside an alternation, an
    optional or zero-repeat part, a negative look-around or a conditional.
    """
    try:
        tree = _PARSER.parse(text)
        folded = [bool(tree.state.flags & re.IGNORECASE)]
        found = _literals(tree, folded)
    except Exception:  # see the doc: no filter is always correct
        return None
    if folded[0]:
        found = [word.lower() for word in found if word.isascii()]
    ranked = sorted(dict.fromkeys(found), key=len, reverse=True)  # ties: the first in the pattern
    if not ranked:
        return None
    return Literal(ranked[0], folded=folded[0], others=tuple(ranked[1:]))


def _literals(sequence: Iterable[tuple[Any, Any]], folded: list[bool]) -> list[str]:
    c = _CONSTANTS
    found: list[str] = []
    run: list[str] = []
    for op, value in sequence:
        if op is c.LITERAL:
            run.append(chr(value))
            continue
        if run:
            found.append("".join(run))
            run = []
        if op is c.SUBPATTERN:
            _group, add_flags, _del_flags, body = value
            folded[0] = folded[0] or bool(add_flags & re.IGNORECASE)
            found += _literals(body, folded)
        elif op is c.ATOMIC_GROUP:
            found += _literals(value, folded)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, _high, body = value
            if low >= 1:
                found += _literals(body, folded)
        elif op is c.ASSERT:  # a look-ahead or -behind looks at the line too
            _direction, body = value
            found += _literals(body, folded)
    if run:
        found.append("".join(run))
    return found


class Watch:
    """The time budget and the cancel, as triage looks at them: between blocks, and inside every
    call of a user's pattern."""

    def __init__(
        self,
        seconds: float,
        *,
        cancelled: Callable[[], bool] = lambda: False,
        clock: Clock = time.monotonic,
    ) -> None:
        self.clock = clock
        self.end = clock() + seconds
        self.cancelled = cancelled

    def left(self) -> float:
        return self.end - self.clock()

    def check(self) -> None:
        """Raise Stopped when the budget is spent or the job was cancelled."""
        if self.cancelled():
            raise Stopped("cancelled")
        if self.left() <= 0:
            raise Stopped("time budget")


class Matcher:
    """Tests one line (already cut to the length the pattern sees) against the pattern."""

    def __init__(self, pattern: TriagePattern, watch: Watch) -> None:
        self.pattern = pattern
        self.watch = watch
        compiled = pattern.compiled
        self._plain = compiled if isinstance(compiled, re.Pattern) else None
        self._timed = None if isinstance(compiled, re.Pattern) else compiled

    def __call__(self, line: str) -> bool:
        if self._plain is not None:
            return self._plain.search(line) is not None
        assert self._timed is not None  # noqa: S101 - one of the two is set
        search = self._timed.search
        watch = self.watch
        while True:
            watch.check()
            left = watch.left()
            try:
                return search(line, timeout=min(left, SLICE), concurrent=True) is not None
            except TimeoutError:
                watch.check()
