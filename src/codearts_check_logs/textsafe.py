"""Make untrusted text (service messages, ZIP member names) safe for each place it is shown.

Pure functions. Every service string passes `clean` first: secrets scrubbed, escapes and control
characters gone, one line, capped. Then `md` for the job summary, or `for_log` for stdout/stderr.
A log line shown as preformatted text passes `clean_layout` instead, which keeps its indentation.

Beside `errors` and `secrets`, not in `render/`: the outcome, the pipeline's log lines, the
workflow commands and the entry points clean text long before anything renders, and calling
into `render` for it sent control back into the last phase ahead of time.
"""

from __future__ import annotations

import re

from .masking import redact

MAX_TEXT = 2000
"""Longest service text shown anywhere (summary, outputs, annotations, logs)."""

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x85\u2028\u2029]+")
# C0/C1 controls, zero-width and bidirectional overrides (they can disguise what a reader sees).
_INVISIBLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r" {2,}")
# Lone surrogates (JSON `"\ud800"` decodes to one) cannot be written as UTF-8 at all.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Characters with a meaning in GitHub-flavoured Markdown or HTML, shown literally as entities.
_MD_SPECIAL = re.compile(r"[&<>\"'`|*_~\[\]()#@!\\{}:$]")


def to_text(data: bytes | str) -> str:
    """Decode service bytes as UTF-8, replacing what is not valid instead of failing."""
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")
    return data


def cap(text: str, limit: int = MAX_TEXT) -> str:
    """Cut `text` to at most `limit` characters, saying that it was cut and how long it was."""
    if len(text) <= limit:
        return text
    mark = f" …[cut: {len(text)} characters in all]"
    return text[: max(0, limit - len(mark))].rstrip() + mark


def clean(text: bytes | str | None, limit: int = MAX_TEXT) -> str:
    """One line of plain text: secrets scrubbed, ANSI/control characters removed, capped.

    Secrets are scrubbed again once the invisible characters are gone: a log line can hold a
    secret split by a colour code or a zero-width space, which removing them joins up.
    """
    if text is None:
        return ""
    value = redact(_SURROGATES.sub("\ufffd", to_text(text)))
    value = _ANSI.sub("", value)
    value = _LINE_BREAKS.sub(" ", value)
    value = _INVISIBLE.sub("", value)
    value = redact(_SPACES.sub(" ", value).strip())
    return cap(value, limit)


def clean_layout(text: str, limit: int = MAX_TEXT) -> str:
    """One log line for preformatted display: as `clean`, but tabs become spaces and runs of
    spaces (indentation, aligned columns) are kept; only trailing spaces go.

    Secrets are scrubbed before and after the invisible characters are removed, so a secret
    that a colour code or a zero-width space split in two is still found.
    """
    value = redact(_SURROGATES.sub("\ufffd", text))
    value = _ANSI.sub("", value).expandtabs(4)
    value = _LINE_BREAKS.sub(" ", value)
    value = redact(_INVISIBLE.sub("", value)).rstrip()
    return cap(value, limit)


def md(text: str) -> str:
    """Escape already-cleaned text for a Markdown table cell or paragraph.

    Every character that could open emphasis, code, a link, HTML, a table break, a mention
    (`@user`), an issue reference (`#1`), math or an emoji short code becomes an entity, so the
    text renders literally and cannot change the summary's structure.
    """
    return _MD_SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", text)


def for_log(text: str) -> str:
    """Cleaned text for a log line: also break the legacy `##[command]` form, read mid-line."""
    return text.replace("##[", "# #[")
