"""The output folder: judged before any request (`parse_directory`) and created before any
download (`OutputFolder.prepare`); where each ZIP goes and how it is shown. The one place that
handles `path`."""

from __future__ import annotations

import errno
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from ..errors import InvalidInput, WriteFailed
from .values import CONTROL
from .values import shown as quoted

NAME_MAX = 255
"""Bytes in one folder name (Linux file systems, and the runner's)."""
PATH_MAX = 4096
"""Bytes in a whole path, the terminating NUL included (Linux)."""
LONGEST_FILE_NAME = len(f".{'0' * 32}.zip.{'0' * 32}.part")
"""The longest name written inside `path`: a download's hidden temporary file."""


def parse_directory(value: str, workspace: Path, *, confined: bool = True) -> Path:
    """The output folder, resolved: a folder that can be created inside the workspace (the
    action's rule: a step writes where the job's later steps look), or anywhere `confined=False`
    (the command line: a laptop or another CI system has no workspace; relative to `workspace`,
    its working directory).

    Judged here, before any request, so that a name the file system refuses (a folder name over
    255 bytes, a loop of symbolic links, a path too long) is INVALID_INPUT rather than a download
    that cannot be saved; control characters are refused too, since the path is shown in logs."""
    shown = quoted(value)
    _check_path_text(value, shown)
    root = workspace.resolve()
    try:
        target = (root / value).resolve()
        if confined and not target.is_relative_to(root):
            raise InvalidInput(f"path must stay inside the workspace, got {shown}")
        if len(os.fsencode(target)) + 1 + LONGEST_FILE_NAME >= PATH_MAX:
            raise InvalidInput(
                f"path {shown} is too long: with the workspace and the file names inside it, it "
                f"would pass the file system's limit of {PATH_MAX} bytes"
            )
        taken = target.exists() and not target.is_dir()
    except RuntimeError:  # Python before 3.13 reports a symlink loop this way
        raise InvalidInput(f"path {shown} runs into a loop of symbolic links") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInput(f"path {shown} runs into a loop of symbolic links") from None
        raise InvalidInput(f"path {shown} cannot be used: {exc.strerror or exc}") from None
    if taken:
        raise InvalidInput(f"path {shown} exists and is not a folder")
    return target


def _check_path_text(value: str, shown: str) -> None:
    """No control characters or line separators, and no folder name over `NAME_MAX` bytes."""
    bad = sorted({f"U+{ord(ch):04X}" for ch in value if unicodedata.category(ch) in CONTROL})
    if bad:
        raise InvalidInput(
            f"path {shown} contains control characters ({', '.join(bad[:5])}); use a plain "
            "folder name"
        )
    for part in value.split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX:
            raise InvalidInput(
                f"path {shown} has a folder name of {size} bytes; file systems allow at most "
                f"{NAME_MAX}"
            )


def workspace_from(workspace: str) -> Path:
    """`GITHUB_WORKSPACE` (`workspace`), else the working directory (the runner makes them the
    same)."""
    return Path(workspace or os.getcwd())


@dataclass(frozen=True)
class OutputFolder:
    """The folder the ZIPs are saved in: inside the workspace, except on the command line."""

    workspace: Path
    directory: Path

    def zip_path(self, sub_job_id: str) -> Path:
        """Where one sub-job's ZIP is saved."""
        return self.directory / f"{sub_job_id}.zip"

    def display_path(self, path: Path) -> str:
        """`path` relative to the workspace, as outputs and the summary show it; absolute when
        it lies outside (only the command line saves there)."""
        if path.is_relative_to(self.workspace):
            return path.relative_to(self.workspace).as_posix()
        return path.as_posix()

    def prepare(self) -> WriteFailed | None:
        """Create the folder before any request, so an unwritable one costs no download."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return WriteFailed(f"cannot create the path folder: {exc.strerror or exc}")
        if not os.access(self.directory, os.W_OK | os.X_OK):
            return WriteFailed("cannot write to the path folder: Permission denied")
        return None
