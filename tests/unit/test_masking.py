"""The secret registry: every registered value is scrubbed in every spelling a service may echo
(as given, JSON-escaped, URL-encoded, HTML-escaped, and any mix of those); listeners hear of each
spelling once; fixed values in a document are kept."""

from __future__ import annotations

import html
import json
from urllib.parse import quote, quote_plus

from hypothesis import given
from hypothesis import strategies as st

from codearts_check_logs import masking

SECRET = 'Päss"wö\\rd+中文/&<😀 ~'
CHARS = st.one_of(
    st.sampled_from(list("\"\\+&<>'/%=#?;: ~äöß€中文😀𝄞")),
    st.characters(blacklist_categories=("Cs", "Cc")),
)


def test_values_and_their_url_encoded_twins_are_scrubbed() -> None:
    masking.register("a+b/c=")
    assert masking.redact(f"x a+b/c= y {quote('a+b/c=', safe='')} z") == "x *** y *** z"


def test_longer_secrets_are_scrubbed_before_the_secrets_they_contain() -> None:
    masking.register("abcdefgh")
    masking.register("abcdefgh-and-more")
    assert masking.redact("abcdefgh-and-more") == "***"


def test_listeners_hear_each_new_spelling_once_the_value_first() -> None:
    heard: list[str] = []
    masking.on_register(heard.append)
    masking.register("firstsecret")
    masking.register("firstsecret")
    masking.register("")
    masking.register("second+secret")
    assert heard[:2] == ["firstsecret", "second+secret"]
    assert heard[2:] == masking.spellings("second+secret")[1:]
    assert len(heard) == len(set(heard))


def test_the_spellings_a_service_may_echo() -> None:
    forms = set(masking.spellings(SECRET))
    assert (
        forms
        >= {
            SECRET,
            json.dumps(SECRET)[1:-1],  # P\u00e4ss\"w\u00f6\\rd+\u4e2d\u6587/&<\ud83d\ude00 ~
            json.dumps(SECRET)[1:-1]
            .replace("\\u00e4", "\\u00E4")
            .replace("\\u00f6", "\\u00F6")
            .replace("\\u4e2d", "\\u4E2D")
            .replace("\\ud83d\\ude00", "\\uD83D\\uDE00"),
            json.dumps(SECRET, ensure_ascii=False)[1:-1],
            json.dumps(SECRET)[1:-1].replace("/", "\\/"),
            quote(SECRET, safe=""),
            quote(SECRET),
            quote_plus(SECRET),
            quote(SECRET, safe="").lower().replace("p%c3", "P%c3"),
            html.escape(SECRET),
            html.escape(SECRET, quote=False),
            "".join(ch if ch.isascii() and ch.isalnum() else f"&#{ord(ch)};" for ch in SECRET),
        }
    )
    assert "P&auml;ss&quot;w&ouml;\\rd+中文/&amp;&lt;😀 ~" in forms  # HTML 4 names (Spring)
    assert "Päss&#34;wö\\rd+中文/&amp;&lt;😀 ~" in forms  # Go's html.EscapeString, OWASP
    assert len(forms) == len(masking.spellings(SECRET))


def test_a_plain_secret_has_one_spelling() -> None:
    assert masking.spellings("abcDEF0123456789") == ["abcDEF0123456789"]


def test_every_spelling_is_scrubbed_in_service_text() -> None:
    masking.register(SECRET)
    for form in masking.spellings(SECRET):
        assert masking.redact(f"echo <{form}> end") == "echo <***> end", form


def test_go_json_escapes_html_characters() -> None:
    masking.register("tok<en>&more")
    assert masking.redact('{"m": "tok\\u003cen\\u003e\\u0026more"}') == '{"m": "***"}'


@given(secret=st.text(CHARS, min_size=8, max_size=30), data=st.data())
def test_any_mix_of_spellings_is_scrubbed(secret: str, data: st.DataObject) -> None:
    """An encoder that escapes some characters and not others (each character here spelled any
    way at random) is caught by the per-character patterns. A character one of whose spellings
    begins with it (`\\`, `&`, `%`) is escaped by an encoder either always or never."""
    masking.clear()
    masking.register(secret)
    raw = data.draw(st.booleans())
    spelled = "".join(data.draw(st.sampled_from(spellings_of(ch, raw))) for ch in secret)
    assert masking.redact(f"\x00{spelled}\x00") == "\x00***\x00"


def spellings_of(ch: str, raw: bool) -> list[str]:
    """The spellings of one character, worked out with the standard library. No encoder
    escapes an ASCII letter or digit."""
    if ch.isascii() and ch.isalnum():
        return [ch]
    escaped = json.dumps(ch)[1:-1]
    forms = [f"&#{ord(ch)};", f"&#x{ord(ch):x};", f"&#X{ord(ch):X};", quote(ch, safe="")]
    forms += [escaped, escaped.upper().replace("\\U", "\\u")] if escaped != ch else []
    if ch in "\\&%":
        return [ch] if raw else [form for form in forms if form != ch]
    return [ch, *forms]


def test_a_secret_of_backslashes_costs_no_exponential_time() -> None:
    """Every character of this secret has two JSON spellings sharing a prefix; the pattern's
    groups are atomic, so a near miss is rejected at once (this would not return otherwise)."""
    secret = "\\" * 40
    masking.register(secret)
    assert masking.redact("\\" * 79 + "x") == "***" + "\\" * 39 + "x"


def test_a_long_secret_is_scrubbed_in_its_listed_spellings() -> None:
    token = "MIIE" + "Ab+/=" * 2000  # longer than MAX_PATTERN_SECRET
    masking.register(token)
    page = "".join(ch if ch.isalnum() else f"&#{ord(ch)};" for ch in token)
    assert masking.redact(f"<p>{page}</p> {json.dumps(token)}") == '<p>***</p> "***"'


def test_redact_values_keeps_fixed_values() -> None:
    masking.register("failure!")
    masking.register("INTERNAL")
    document = {
        "status": "failure!",
        "code": "INTERNAL_ERROR",
        "nested": [{"message": "x failure! INTERNAL y", "size": 12}],
    }
    kept = masking.redact_values(document, lambda key, _: key in {"status", "code"})
    assert kept == {
        "status": "failure!",
        "code": "INTERNAL_ERROR",
        "nested": [{"message": "x *** *** y", "size": 12}],
    }


def test_a_text_without_the_anchor_is_passed_over_and_others_still_scrubbed() -> None:
    """Each secret is looked for only where its longest run of letters and digits stands; a
    secret without such a run is looked for everywhere."""
    masking.register("abc+DEFGHIJ/kl")
    masking.register("中文密码中文密码")
    assert masking.redact("abc&#43;DEFGHIJ&#47;kl") == "***"
    assert masking.redact("no secret here: DEFGHI") == "no secret here: DEFGHI"
    assert masking.redact("\\u4e2d\\u6587\\u5bc6\\u7801中文密码!") == "***!"
