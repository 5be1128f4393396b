"""The job summary as a terminal and as a browser show it."""

from __future__ import annotations

from devtools.summary_view import to_html, to_text, width

SUMMARY = """## ✅ CodeArts Check logs: 1 sub-job fetched

| Sub-job | Result |
|---|---|
| `a777` | ✅ saved a&#58;b |

> **Hint:** read it

<details open><summary>Problem lines</summary>

<pre>
x.log&#58;1&#58; ERROR &#91;a&#93;
</pre>

</details>

<details><summary>Problem lines per file</summary>

| File | Problem lines |
|---|---|
| x.log | 1 |

</details>
"""


def test_text_decodes_entities_aligns_tables_and_keeps_folded_blocks_shut() -> None:
    text = to_text(SUMMARY)
    lines = text.splitlines()
    assert lines[0] == "✅ CodeArts Check logs: 1 sub-job fetched"
    assert set(lines[1]) == {"═"}
    assert "a777     ✅ saved a:b" in text
    assert "│ Hint: read it" in text
    assert "▼ Problem lines" in text
    assert "    x.log:1: ERROR [a]" in text
    assert "▶ Problem lines per file  (folded)" in text
    assert "x.log  1" not in text, "a folded block's content stays hidden"
    assert "&#" not in text


def test_html_is_a_page_with_githubs_markup() -> None:
    page = to_html(SUMMARY, title="logs summary")
    assert page.startswith("<!DOCTYPE html>")
    assert '<article class="markdown-body">' in page
    assert "<table>" in page
    assert "<details open><summary>Problem lines</summary>" in page
    assert "&#58;" in page, "entities are left for the browser"


def test_wide_characters_take_two_columns() -> None:
    assert width("ab") == 2
    assert width("编译") == 4
