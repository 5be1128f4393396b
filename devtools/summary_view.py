"""A job summary (GitHub-flavoured Markdown) as a terminal shows it and as a browser shows it.

`to_text` is for the demo's terminal: headings underlined, tables as aligned columns, a folded
`<details>` block as its `▶` title alone (as GitHub shows it until clicked), an open one as `▼`
and its content, `<pre>` blocks indented, entities decoded, links as
`text <url>`. `to_html` is a page that looks like the summary panel of a GitHub run: the
Markdown rendered by markdown-it-py (CommonMark with GitHub's tables, inline HTML allowed as
GitHub allows `<details>` and `<pre>`) inside GitHub's own stylesheet (`github-markdown-css`,
from npm). Both use a maintained Markdown parser rather than our own: the point is to show what
GitHub would make of the summary, not what the action meant.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parents[1]
STYLESHEET = ROOT / "node_modules" / "github-markdown-css" / "github-markdown-light.css"
_TAG = re.compile(r"<[^>]+>")
_SUMMARY = re.compile(r"<details(?P<open> open)?>\s*<summary>(?P<title>.*?)</summary>", re.S)
_PRE = re.compile(r"<pre>\n?(?P<body>.*?)</pre>", re.S)


def parser() -> MarkdownIt:
    """CommonMark plus GitHub's tables and strikethrough, raw HTML kept."""
    return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def width(text: str) -> int:
    """Columns a terminal gives `text`: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * (columns - width(text))


def _inline(token: Token) -> str:
    """Plain text of an inline token: code in backticks, links as `text <url>`, tags dropped."""
    out: list[str] = []
    href = ""
    for child in token.children or []:
        if child.type in {"text", "html_inline"}:
            out.append(
                _TAG.sub("", child.content) if child.type == "html_inline" else child.content
            )
        elif child.type == "code_inline":
            out.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            out.append(" ")
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
        elif child.type == "link_close" and href and href != "#":
            out.append(f" <{href}>")
    return "".join(out)


def _table(rows: list[list[str]]) -> list[str]:
    columns = max(len(row) for row in rows)
    rows = [row + [""] * (columns - len(row)) for row in rows]
    widths = [max(width(row[i]) for row in rows) for i in range(columns)]
    lines = [
        "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows
    ]
    if any(rows[0]):
        lines.insert(1, "  ".join("─" * w for w in widths))
    else:
        lines.pop(0)  # a header row with no text (`| | |`): GitHub shows an empty row
    return lines


def _html_block(content: str) -> tuple[list[str], bool | None]:
    """The lines a block shows, and whether it opens a folded (True) or an open (False)
    `<details>`, or neither (None)."""
    lines: list[str] = []
    folded: bool | None = None
    for found in _SUMMARY.finditer(content):
        folded = not found["open"]
        mark, note = ("▶", "  (folded)") if folded else ("▼", "")
        lines.append(f"{mark} {html.unescape(_TAG.sub('', found['title']))}{note}")
    for found in _PRE.finditer(content):
        lines += ["    " + html.unescape(line) for line in found["body"].rstrip("\n").split("\n")]
    return lines, folded


def to_text(markdown: str) -> str:
    """The summary as a terminal can show it."""
    tokens = parser().parse(markdown)
    lines: list[str] = []
    quote = 0
    table: list[list[str]] | None = None
    bullet = False
    folded = False
    for index, token in enumerate(tokens):
        prefix = "│ " * quote
        if folded:
            # GitHub shows a folded block's title only, until it is clicked open.
            folded = not (token.type == "html_block" and "</details>" in token.content)
        elif token.type == "blockquote_open":
            quote += 1
        elif token.type == "blockquote_close":
            quote -= 1
        elif token.type == "table_open":
            table = []
        elif token.type == "tr_open" and table is not None:
            table.append([])
        elif token.type == "inline" and table is not None and table:
            table[-1].append(_inline(token))
        elif token.type == "table_close" and table is not None:
            lines += [prefix + row for row in _table(table)] + [""]
            table = None
        elif token.type == "bullet_list_open":
            bullet = True
        elif token.type == "bullet_list_close":
            bullet = False
            lines.append("")
        elif token.type == "inline":
            opener = tokens[index - 1]
            text = _inline(token)
            if opener.type == "heading_open":
                rule = "═" if opener.tag in {"h1", "h2"} else "─"
                lines += [prefix + text, prefix + rule * width(text), ""]
            elif bullet:
                lines.append(f"{prefix}• {text}")
            else:
                lines += [prefix + text, ""]
        elif token.type == "html_block":
            shown, opens = _html_block(token.content)
            lines += [prefix + line for line in shown] + ([""] if shown else [])
            folded = bool(opens) and "</details>" not in token.content
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
{stylesheet}
body {{ margin: 0; padding: 24px; background: #f6f8fa; }}
.panel {{ margin: 0 auto; background: #fff; border: 1px solid #d1d9e0;
  border-radius: 6px; }}
.panel > header {{ padding: 12px 16px; border-bottom: 1px solid #d1d9e0;
  font: 600 14px -apple-system, BlinkMacSystemFont, "Segoe UI", "Noto Sans", Helvetica, Arial,
  sans-serif; color: #1f2328; }}
.markdown-body {{ padding: 16px 24px 24px; }}
</style>
</head>
<body>
<div class="panel">
<header>{title}</header>
<article class="markdown-body">
{body}
</article>
</div>
</body>
</html>
"""


def to_html(markdown: str, *, title: str = "logs summary") -> str:
    """A standalone page with the summary as GitHub's run page frames it (`<job> summary`)."""
    stylesheet = STYLESHEET.read_text(encoding="utf-8") if STYLESHEET.is_file() else ""
    return PAGE.format(
        title=html.escape(title), stylesheet=stylesheet, body=parser().render(markdown)
    )
