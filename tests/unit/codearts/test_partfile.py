"""The download on disk: a hidden part file, renamed only when told; every local failure typed."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path

import pytest

from codearts_check_logs.codearts.partfile import PartFile
from codearts_check_logs.errors import WriteFailed


def test_a_committed_file_gets_its_final_name(tmp_path: Path) -> None:
    dest = tmp_path / "logs" / "x.zip"
    with PartFile(dest) as part:
        assert part.path.parent == dest.parent
        assert part.path.name.startswith(".x.zip.")
        assert part.path.name.endswith(".part")
        part.write(b"abc")
        part.commit()
    assert dest.read_bytes() == b"abc"
    assert [p.name for p in dest.parent.iterdir()] == ["x.zip"]


def failing_download(dest: Path) -> None:
    with PartFile(dest) as part:
        part.write(b"abc")
        raise RuntimeError("the download failed")


def test_anything_but_a_commit_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "x.zip"
    with pytest.raises(RuntimeError):
        failing_download(dest)
    with PartFile(dest) as part:
        part.write(b"abc")
        part.close()
    assert list(tmp_path.iterdir()) == []


def test_a_commit_replaces_an_older_download(tmp_path: Path) -> None:
    dest = tmp_path / "x.zip"
    dest.write_bytes(b"old")
    with PartFile(dest) as part:
        part.write(b"new")
        part.commit()
    assert dest.read_bytes() == b"new"


def test_a_folder_that_cannot_be_created_is_write_failed(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(WriteFailed, match="cannot write to"), PartFile(tmp_path / "file" / "x.zip"):
        pass


def test_a_final_name_taken_by_a_folder_is_write_failed(tmp_path: Path) -> None:
    dest = tmp_path / "x.zip"
    (dest / "inside").mkdir(parents=True)
    with PartFile(dest) as part:
        part.write(b"abc")
        with pytest.raises(WriteFailed, match=r"cannot save x\.zip"):
            part.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.zip"]


class FullDisk:
    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def close(self) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_or_closing_is_write_failed(tmp_path: Path) -> None:
    steps: list[tuple[str, Callable[[PartFile], None]]] = [
        ("x.zip", lambda part: part.write(b"abc")),
        ("y.zip", PartFile.close),
    ]
    for name, step in steps:
        with PartFile(tmp_path / name) as part:
            part._handle.close()  # type: ignore[union-attr]
            part._handle = FullDisk()  # type: ignore[assignment]
            with pytest.raises(WriteFailed, match="No space left"):
                step(part)
    assert list(tmp_path.iterdir()) == []
