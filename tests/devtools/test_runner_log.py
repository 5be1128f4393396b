"""The demo's log viewer reads workflow commands as the runner does."""

from __future__ import annotations

from devtools.runner_log import displayed, unescape_data


def test_masks_hide_their_line_and_every_later_occurrence() -> None:
    view = displayed("::add-mask::s3cr3t-value\nusing s3cr3t-value now\nplain line\n")
    assert view.lines == ["using *** now", "plain line"]


def test_groups_become_headings_with_their_lines_under_them() -> None:
    view = displayed("::group::Fetching 2 packages\none\ntwo\n::endgroup::\nafter\n")
    assert view.lines == ["▼ Fetching 2 packages", "  one", "  two", "after"]


def test_annotations_show_as_the_run_page_prints_them() -> None:
    log = (
        "::add-mask::tok-123456\n"
        "::error title=CodeArts Check logs::sub-job x: tok-123456 refused%0Asecond line\n"
        "::notice::8 problem lines\n::debug::hidden\n"
    )
    view = displayed(log)
    assert view.lines == ["Error: sub-job x: *** refused", "second line", "Notice: 8 problem lines"]
    assert view.annotations == [
        ("error", "sub-job x: *** refused\nsecond line"),
        ("notice", "8 problem lines"),
    ]


def test_stop_commands_print_verbatim_until_the_token() -> None:
    view = displayed("::stop-commands::t0k\n::error::not a command\n::t0k::\n::notice::again\n")
    assert view.lines == ["::error::not a command", "Notice: again"]


def test_data_escapes() -> None:
    assert unescape_data("100%25%0Anext%0D") == "100%\nnext\r"
