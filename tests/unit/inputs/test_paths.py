"""The output folder: inside the workspace, of a name the file system takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from codearts_check_logs.errors import InvalidInput
from codearts_check_logs.inputs.paths import OutputFolder, parse_directory
from tests.conftest import ID1


def test_path_stays_in_the_workspace(tmp_path: Path) -> None:
    assert parse_directory("out/logs", tmp_path) == tmp_path.resolve() / "out/logs"
    assert parse_directory(".", tmp_path) == tmp_path.resolve()
    for outside in ("..", "../x", "/tmp", "a/../../b"):
        with pytest.raises(InvalidInput, match="inside the workspace"):
            parse_directory(outside, tmp_path)


def test_unconfined_the_folder_may_be_anywhere(tmp_path: Path) -> None:
    """The command line's rule: a laptop has no workspace, only a working directory."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert parse_directory("../x", cwd, confined=False) == tmp_path.resolve() / "x"
    assert parse_directory(str(tmp_path / "y"), cwd, confined=False) == tmp_path.resolve() / "y"
    folder = OutputFolder(cwd.resolve(), tmp_path.resolve() / "x")
    assert folder.display_path(folder.zip_path(ID1)) == str(tmp_path.resolve() / "x" / f"{ID1}.zip")
    (tmp_path / "file").write_text("")
    with pytest.raises(InvalidInput, match="exists and is not a folder"):
        parse_directory(str(tmp_path / "file"), cwd, confined=False)


def test_path_through_a_symlink_out_of_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "link").symlink_to(tmp_path)
    with pytest.raises(InvalidInput, match="inside the workspace"):
        parse_directory("link/elsewhere", workspace)


def test_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    with pytest.raises(InvalidInput, match="not a folder"):
        parse_directory("taken", tmp_path)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a" * 256, "a folder name of 256 bytes"),
        ("logs/" + "é" * 128, "a folder name of 256 bytes"),
        ("/".join(["d" * 250] * 17), "too long"),
        ("logs\n::error::injected", "control characters (U+000A)"),
        ("logs\r##[warning]x", "control characters (U+000D)"),
        ("a\x00b", "control characters (U+0000)"),
        ("\x1b[31mred", "control characters (U+001B)"),
        ("line\u2028separator", "control characters (U+2028)"),
        ("taken", "exists and is not a folder"),
        ("loop/logs", "loop of symbolic links"),
    ],
)
def test_paths_that_cannot_be_created(tmp_path: Path, value: str, reason: str) -> None:
    """Refused while reading inputs, not found out when the first ZIP is written (or as a
    traceback: a symlink loop raised RuntimeError, a long name OSError)."""
    (tmp_path / "taken").write_text("x")
    (tmp_path / "loop").symlink_to("loop")
    with pytest.raises(InvalidInput) as caught:
        parse_directory(value, tmp_path)
    assert reason in caught.value.message
    assert "\n" not in caught.value.message
    assert "\r" not in caught.value.message
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loop", "taken"], "nothing made"


def test_a_path_with_odd_but_harmless_characters_is_kept(tmp_path: Path) -> None:
    value = "logs::error::x/##[group]y/ü 日志"
    assert parse_directory(value, tmp_path) == tmp_path.resolve() / value


def test_the_output_folder_names_and_shows_each_zip(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path, tmp_path / "logs")
    assert folder.zip_path(ID1) == tmp_path / "logs" / f"{ID1}.zip"
    assert folder.display_path(folder.zip_path(ID1)) == f"logs/{ID1}.zip"


def test_the_output_folder_is_created_before_any_request(tmp_path: Path) -> None:
    folder = OutputFolder(tmp_path, tmp_path / "a" / "b")
    assert folder.prepare() is None
    assert folder.directory.is_dir()


def test_a_folder_that_cannot_be_created_is_a_write_failure(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    failed = OutputFolder(tmp_path, tmp_path / "file" / "logs").prepare()
    assert failed is not None
    assert failed.code == "WRITE_FAILED"
    assert "cannot create the path folder" in failed.message
