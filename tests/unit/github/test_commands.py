"""Runner channels: one command line per annotation, outputs as heredocs, unwritable files typed."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from devtools.runner import parse_outputs

from codearts_check_logs import masking
from codearts_check_logs.errors import WriteFailed
from codearts_check_logs.github import commands
from tests.samples import HOSTILE, failed_result


@pytest.mark.parametrize("text", HOSTILE)
def test_annotation_is_one_command_line(text: str) -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        commands.annotate("error", failed_result(text).error_message)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::error title=CodeArts Check logs::")


def test_outputs_round_trip_as_given(tmp_path: Path) -> None:
    """Outputs arrive scrubbed text by text (render.outputs): scrubbing the whole value here
    could let a secret change a fixed value."""
    masking.register("failure-0")
    path = tmp_path / "output"
    path.touch()
    commands.write_outputs(str(path), {"a": "one", "b": "failure-0 x\ny"})
    assert parse_outputs(path.read_text()) == {"a": "one", "b": "failure-0 x\ny"}


def test_an_unwritable_output_file_is_write_failed(tmp_path: Path) -> None:
    with pytest.raises(WriteFailed, match="GITHUB_OUTPUT could not be written"):
        commands.write_outputs(str(tmp_path), {"a": "b"})


def test_an_unwritable_summary_is_write_failed(tmp_path: Path) -> None:
    with pytest.raises(WriteFailed, match="GITHUB_STEP_SUMMARY could not be written"):
        commands.append_summary(str(tmp_path / "missing" / "summary"), "text")


def test_log_lines_break_legacy_commands() -> None:
    stream = io.StringIO()
    with redirect_stdout(stream):
        commands.log("look ##[error]here")
    assert "##[" not in stream.getvalue()
