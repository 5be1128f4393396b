"""The pattern: the built-in words, a user's pattern refused or compiled, and the matcher's
time budget, which holds whatever the pattern does."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codearts_check_logs.ziplog.pattern import (
    BUILTIN_PATTERN,
    Literal,
    Matcher,
    PatternError,
    Stopped,
    Watch,
    compile_pattern,
    required_literal,
)

# --- the built-in pattern -----------------------------------------------------------------

MATCH = [
    "Error: disk full",
    "[ERROR] build stopped",
    "task failed.",
    "FATAL",
    "Traceback (most recent call last):",
    "panic: runtime error: index out of range",
    "deployment failure",
    "Exception in thread main",
    "(failed)",
    "build-failed",  # hyphens and dots separate words
    "see error.log",  # a known false positive of whole-word matching
    "ErRoR in mixed case",
    "编译error",  # non-ASCII letters separate words
    "错误",
    "编译失败",
    "运行时异常退出",
    "无错误",  # Chinese words count anywhere, even negated
    "\terror\t",
]
NO_MATCH = [
    "0 errors",
    "errors: 0",
    "error_count=0",
    "ERROR_CODE",
    "java.lang.NullPointerException",  # "exception" is not a whole word here
    "failedTests=0",
    "errored",
    "panicked",
    "tracebacks",
    "exceptional",
    "unfailed",
    "error404",
    "E_FATAL",
    "fail",
    "",
    "all good",
]


@pytest.mark.parametrize("line", MATCH)
def test_builtin_pattern_matches(line: str) -> None:
    assert BUILTIN_PATTERN.search(line)


@pytest.mark.parametrize("line", NO_MATCH)
def test_builtin_pattern_does_not_match(line: str) -> None:
    assert not BUILTIN_PATTERN.search(line)


def test_empty_pattern_is_the_builtin() -> None:
    assert compile_pattern("") is BUILTIN_PATTERN


@pytest.mark.parametrize("text", ["(unclosed", "a{2,1}", "*", "(?P<x>a)(?P<x>b)", "\\"])
def test_invalid_pattern_is_a_one_line_value_error(text: str) -> None:
    with pytest.raises(PatternError, match=r"^triage-pattern is not a valid regular expression: "):
        compile_pattern(text)
    with pytest.raises(ValueError, match=r"\A[^\n]+\Z"):
        compile_pattern(text)


@pytest.mark.parametrize("text", ["a*", "error|", ".*", "^", "(?m)$", "^$", "(?=x)?", "x*|y"])
def test_pattern_matching_an_empty_line_is_refused(text: str) -> None:
    with pytest.raises(PatternError, match="matches an empty line"):
        compile_pattern(text)


@pytest.mark.parametrize("text", ["x+", r"\berror\b", "(?i)fatal", "^ERROR", r"\S"])
def test_reasonable_patterns_are_accepted(text: str) -> None:
    assert compile_pattern(text).text == text


def test_user_patterns_read_python_syntax() -> None:
    pattern = compile_pattern(r"(?P<word>\bwarn(?:ing)?\b)(?=:)|(?i:FATAL)")
    assert pattern.search("a warning: here")
    assert pattern.search("fatal")
    assert not pattern.search("forewarned: no")


class Clock:
    """Time that moves only when told (or by a fixed step at every reading)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_budget_is_read_from_the_injected_clock() -> None:
    clock = Clock()
    watch = Watch(10, clock=clock)
    matcher = Matcher(compile_pattern("ERROR"), watch)
    assert matcher("an ERROR here")
    clock.now = 9.5
    assert not matcher("all good")
    clock.now = 10.0
    with pytest.raises(Stopped, match="time budget"):
        matcher("all good")
    with pytest.raises(Stopped, match="time budget"):
        watch.check()


def test_a_cancel_is_seen_between_calls() -> None:
    cancelled = threading.Event()
    watch = Watch(60, cancelled=cancelled.is_set)
    watch.check()
    cancelled.set()
    with pytest.raises(Stopped, match="cancelled"):
        watch.check()


BACKTRACKING = [
    ("(a+)+$", "a" * 499 + "b"),
    ("(a|aa)+$", "a" * 60 + "b"),
    (r"(.*,\s*)+ERROR$", "ERROR in " + "src/net/socket.c, src/core/io.c, " * 12 + "done"),
]


@pytest.mark.parametrize(("text", "line"), BACKTRACKING)
def test_a_backtracking_pattern_stops_at_the_budget(text: str, line: str) -> None:
    matcher = Matcher(compile_pattern(text), Watch(0.05))
    started = time.monotonic()

    def many() -> None:
        for _ in range(1000):
            matcher(line)

    with pytest.raises(Stopped, match="time budget"):
        many()
    assert time.monotonic() - started < 2


def test_a_backtracking_call_sees_a_cancel_within_a_slice() -> None:
    """The slice bounds how long a cancel waits; the budget alone would be a minute."""
    cancelled = threading.Event()
    matcher = Matcher(compile_pattern("(a|aa)+$"), Watch(60, cancelled=cancelled.is_set))
    threading.Timer(0.05, cancelled.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped, match="cancelled"):
        matcher("a" * 80 + "b")
    assert time.monotonic() - started < 5, "the contract: a cancel stops triage within 5 s"


def test_the_builtin_pattern_runs_without_a_clock() -> None:
    def no_clock() -> float:
        raise AssertionError("the built-in pattern must not read the clock per line")

    watch = Watch.__new__(Watch)
    watch.clock, watch.end, watch.cancelled = no_clock, 0.0, lambda: False
    assert Matcher(BUILTIN_PATTERN, watch)("ERROR here")


# --- the literal a user's pattern requires ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        (".*ERROR.*FAILED", Literal("FAILED", folded=False, others=("ERROR",))),
        (r"\bwarn(ing)?\b", Literal("warn", folded=False)),
        ("x?yz", Literal("yz", folded=False)),
        ("(?:ab)+c{2}", Literal("ab", folded=False, others=("c",))),
        ("(?=foo)bar", Literal("foo", folded=False, others=("bar",))),
        ("(?i)Error", Literal("error", folded=True)),  # for ASCII lines only
        ("(?i:E)RROR", Literal("rror", folded=True, others=("e",))),
        ("(?i)错误", None),  # a non-ASCII literal that ignores case: no filter
        ("错误", Literal("错误", folded=False)),
        ("licence|退出码", None),
        ("[ab]+", None),
    ],
)
def test_required_literal(text: str, literal: Literal | None) -> None:
    assert required_literal(text) == literal
    assert compile_pattern(text).literal == literal


PIECES = [
    *("ab", "E", "错", ".", "x?", "(?:ab)+", "[a-c]", "|"),
    *("(?i:a)", "(?=b)", "(?!a)", "a{0,2}", "(?i:k)"),
]


@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
    st.lists(st.text(alphabet="abcxAEe错K\u212a ", max_size=12), max_size=20),
)
def test_a_line_without_the_literal_never_matches(text: str, lines: list[str]) -> None:
    """The reference is the engine itself: the filter may only skip lines it would not mark."""
    try:
        pattern = compile_pattern(text)
    except PatternError:
        return
    literal = pattern.literal
    if literal is None:
        return
    for line in lines:
        if pattern.search(line) and not (literal.folded and not line.isascii()):
            seen = line.lower() if literal.folded else line
            for word in (literal.text, *literal.others):
                assert word in seen, (text, line)
