"""Process-wide registry of secret values, so every text that leaves the process can be scrubbed.

The runner masks registered values in its log, but outputs, saved files and the CLI's text do
not pass through the runner; `redact` is applied wherever untrusted or composed text is emitted.

A service that echoes a secret back rarely echoes it as given: IAM quotes the JSON request body
(`P\\u00e4ss\\"w`), a gateway's error page HTML-escapes it (`+` as `&#43;`), a URL carries it
percent-encoded. So a secret is known by every spelling an encoder may give it (`spellings`), each
one masked with the runner and scrubbed here, and, for secrets of ordinary length, also by
patterns that accept a mix of those spellings character by character (`_patterns_of`), which
catch encoders that escape some characters and not others.

No encoder escapes ASCII letters and digits, so every spelling keeps the secret's longest run of
them (its anchor): a text without the anchor holds no spelling, and is passed over with one
search. A run with 500 signed upload URLs thus scrubs a 1 MiB summary with 500 searches rather
than 10,000 searches and 1,000 pattern scans.
"""

from __future__ import annotations

import html
import html.entities
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, unquote

_lock = threading.Lock()
_listeners: list[Callable[[str], None]] = []
_announced: set[str] = set()

REPLACEMENT = "***"
MAX_PATTERN_SECRET = 512
"""Longest secret also matched by the per-character patterns: they cost about 0.3 ms per
character to compile, so a 10 KB IAM token would cost 3 s; long tokens are header-safe ASCII,
whose spellings `spellings` lists in full."""

_HTML4_NAMES = html.entities.codepoint2name
_HTML5_ALL: dict[str, list[str]] = {}
"""Each character's HTML 5 names that end in `;` (those without are legacy forms), shortest
first."""
for _name, _text in sorted(
    html.entities.html5.items(), key=lambda item: (len(item[0]), not item[0].islower(), item[0])
):
    if _name.endswith(";") and len(_text) == 1:
        _HTML5_ALL.setdefault(_text, []).append(_name)
_PLAIN = re.compile(r"[A-Za-z0-9]")
_PLAIN_RUN = re.compile(r"[A-Za-z0-9]+")
MIN_ANCHOR = 4
"""An anchor shorter than this would be found in most texts: such a secret is always looked for."""


@dataclass
class _Secret:
    """One registered secret: its spellings, and what finds it."""

    value: str
    literals: tuple[str, ...]
    """Every spelling `redact` replaces as it stands."""
    anchor: str = field(init=False)
    """Its longest run of ASCII letters and digits, which every spelling keeps (see the module
    docstring); empty when too short to tell texts apart."""
    _patterns: tuple[re.Pattern[str], ...] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        longest = max(_PLAIN_RUN.findall(self.value), key=len, default="")
        self.anchor = longest if len(longest) >= MIN_ANCHOR else ""

    def patterns(self) -> tuple[re.Pattern[str], ...]:
        """The per-character patterns, compiled the first time a text holds the anchor (a
        race compiles them twice, harmlessly)."""
        if self._patterns is None:
            fits = len(self.value) <= MAX_PATTERN_SECRET
            self._patterns = _patterns_of(self.value) if fits else ()
        return self._patterns


_secrets: dict[str, _Secret] = {}
_JSON_ESCAPE = re.compile(r"(\\\\)|\\u([0-9a-f]{4})")
_PERCENT = re.compile(r"%[0-9A-F]{2}")


def register(value: str) -> None:
    """Remember `value`, in each of its spellings (and its URL-decoded twin), as a secret to
    scrub; tell the listeners about each spelling the first time it is seen, `value` first."""
    if not value:
        return
    decoded = unquote(value)
    forms = spellings(value) + ([decoded] if decoded and decoded != value else [])
    with _lock:
        if value not in _secrets:
            _secrets[value] = _Secret(value, tuple(spellings(value)))
        if decoded and decoded not in _secrets:
            _secrets[decoded] = _Secret(decoded, (decoded,))
        new = [form for form in dict.fromkeys(forms) if form not in _announced]
        _announced.update(new)
        listeners = list(_listeners) if new else []
    for form in new:
        for listener in listeners:
            listener(form)


def on_register(listener: Callable[[str], None]) -> None:
    """Call `listener` with every spelling of every secret registered from now on (e.g. to mask
    it in the log)."""
    with _lock:
        _listeners.append(listener)


def redact(text: str) -> str:
    """Replace every registered secret in `text`, in any spelling: each listed spelling, longest
    first so overlaps are fully covered, then any mix of spellings. Only the secrets whose
    anchor the text holds are looked for."""
    with _lock:
        present = [secret for secret in _secrets.values() if secret.anchor in text]
    if not present:
        return text
    literals = {form for secret in present for form in secret.literals}
    for form in sorted(literals, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REPLACEMENT)
    for secret in present:
        for pattern in secret.patterns():
            text = pattern.sub(REPLACEMENT, text)
    return text


def clear() -> None:
    """Forget every secret (tests only)."""
    with _lock:
        _secrets.clear()
        _listeners.clear()
        _announced.clear()


# -- spellings ------------------------------------------------------------------------------------


def spellings(value: str) -> list[str]:
    """`value` as given, then every other form in which a service may echo it, each once.

    JSON: Python's escaping with and without `ensure_ascii` (non-BMP characters as surrogate
    pairs), the upper-case hex other encoders write (`\\u00E4`), `/` as `\\/`, and Go's HTML-safe
    escaping of `<`, `>`, `&`. URL: `quote` and `quote_plus`, with upper- and lower-case hex, and
    Java's `URLEncoder` (which also encodes `~`). HTML: `html.escape` with and without quotes,
    the `&#34;`/`&#39;` of Go and OWASP, HTML 4 names (Spring's `htmlEscape`), and every
    character but letters and digits as a decimal or hex reference or, where HTML 5 has one, by
    name (`&plus;`).
    """
    forms: list[str] = [value]
    for ascii_only in (True, False):
        body = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        for variant in (body, _upper_json_hex(body)):
            forms += [variant, variant.replace("/", "\\/"), _go_html_safe(variant)]
    for encoded in (quote(value, safe=""), quote(value), quote_plus(value)):
        forms += [encoded, _PERCENT.sub(lambda m: m.group(0).lower(), encoded)]
    forms.append(quote_plus(value, safe="*").replace("~", "%7E"))
    forms += [
        html.escape(value, quote=True),
        html.escape(value, quote=False),
        _per_char(value, _go_html),
        _per_char(value, _html4_named),
        _per_char(value, lambda ch: f"&#{ord(ch)};"),
        _per_char(value, lambda ch: f"&#{ord(ch)};" if ch.isascii() else ch),
        _per_char(value, lambda ch: f"&#x{ord(ch):x};"),
        _per_char(value, lambda ch: f"&#x{ord(ch):X};"),
        _per_char(value, _html5_named),
    ]
    return list(dict.fromkeys(form for form in forms if form))


def _upper_json_hex(body: str) -> str:
    return _JSON_ESCAPE.sub(lambda m: m.group(1) or "\\u" + m.group(2).upper(), body)


def _go_html_safe(body: str) -> str:
    """Go's `encoding/json`, which also escapes `<`, `>`, `&`, U+2028 and U+2029."""
    for ch, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        body = body.replace(ch, escaped)
    return body.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _per_char(value: str, form: Callable[[str], str]) -> str:
    """`value` with every character but ASCII letters and digits spelled by `form`."""
    return "".join(ch if _PLAIN.fullmatch(ch) else form(ch) for ch in value)


def _go_html(ch: str) -> str:
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}.get(ch, ch)


def _html4_named(ch: str) -> str:
    name = _HTML4_NAMES.get(ord(ch))
    if name is not None:
        return f"&{name};"
    return "&#39;" if ch == "'" else ch


def _html5_named(ch: str) -> str:
    names = _HTML5_ALL.get(ch)
    return f"&{names[0]}" if names else f"&#{ord(ch)};"


# -- any mix of spellings -------------------------------------------------------------------------


def _patterns_of(secret: str) -> tuple[re.Pattern[str], ...]:
    """Patterns for `secret` with each character in any of its spellings.

    Each character's group is atomic (nothing backtracks into it), so a text of many backslashes
    cannot make a match take exponential time. The cost: where one spelling of a character
    begins another (`\\` and its JSON `\\\\`, `&` and `&amp;`), a group keeps the one it
    tried first. So there are two patterns, one trying the escaped spellings first and one the
    character as given: an echo that escapes such characters all alike is found by one of them
    (a text that escapes one backslash and not the next is no encoder's output)."""
    return (
        re.compile("".join(_char_group(ch, escaped_first=True) for ch in secret)),
        re.compile("".join(_char_group(ch, escaped_first=False) for ch in secret)),
    )


def _char_group(ch: str, *, escaped_first: bool) -> str:
    if _PLAIN.fullmatch(ch):
        return ch  # no encoder escapes an ASCII letter or digit (the anchor relies on it)
    point = ord(ch)
    forms: list[str] = []
    if point > 0xFFFF:
        high, low = 0xD800 + ((point - 0x10000) >> 10), 0xDC00 + ((point - 0x10000) & 0x3FF)
        forms.append(f"(?i:\\\\u{high:04x}\\\\u{low:04x})")
    else:
        forms.append(f"(?i:\\\\u{point:04x})")
    short = {'"': '\\\\"', "\\": "\\\\\\\\", "/": "\\\\/"}.get(ch)
    if short is not None:
        forms.append(short)
    forms.append("(?i:" + "".join(f"%{byte:02x}" for byte in ch.encode("utf-8")) + ")")
    if ch == " ":
        forms.append(r"\+")
    forms.append(f"&#0*{point};")
    forms.append(f"&#(?i:x0*{point:x});")
    forms += [re.escape(f"&{name}") for name in reversed(_HTML5_ALL.get(ch, []))]
    forms = [*forms, re.escape(ch)] if escaped_first else [re.escape(ch), *forms]
    return "(?>" + "|".join(forms) + ")"


def redact_values(document: Any, keep: Callable[[str, str], bool]) -> Any:
    """`document` (JSON-like: dicts, lists, scalars) with every text scrubbed but those `keep`
    accepts, given the key the text stands under ("" in a list) and the text.

    Fixed values (`status`, sizes, digests, local codes) are kept as they are: scrubbing the
    encoded document instead would let a secret that happens to be such a value, or a part of
    one, change it."""
    if isinstance(document, dict):
        return {key: _redact_under(str(key), value, keep) for key, value in document.items()}
    if isinstance(document, list):
        return [_redact_under("", value, keep) for value in document]
    return document


def _redact_under(key: str, value: Any, keep: Callable[[str, str], bool]) -> Any:
    if isinstance(value, str):
        return value if keep(key, value) else redact(value)
    return redact_values(value, keep)
