"""The download on disk: a hidden temporary file beside the final name, renamed only when told.

Every local failure (folder not writable, disk full, a failing close or rename) is WriteFailed,
never an OSError escaping, and a failed or abandoned download leaves no partial file behind.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

from ..errors import WriteFailed


class PartFile:
    """`with PartFile(dest) as part:` write, `close()`, `commit()`; anything else removes it."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        self.path = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
        self._handle: BinaryIO | None = None
        self._committed = False

    def __enter__(self) -> Self:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("xb")
        except OSError as exc:
            raise WriteFailed(
                f"cannot write to {self.path.parent.name}/: {exc.strerror or exc}"
            ) from None
        return self

    def write(self, chunk: bytes) -> None:
        if self._handle is None:
            raise WriteFailed("the download file is already closed")
        try:
            self._handle.write(chunk)
        except OSError as exc:
            raise WriteFailed(f"writing the ZIP failed: {exc.strerror or exc}") from None

    def close(self) -> None:
        """Flush and close; the last buffered bytes can still hit a full disk here."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.close()
        except OSError as exc:
            raise WriteFailed(f"writing the ZIP failed: {exc.strerror or exc}") from None

    def commit(self) -> None:
        """Give the verified file its final name (replacing an older download of the same ID)."""
        self.close()
        try:
            os.replace(self.path, self.dest)
        except OSError as exc:
            raise WriteFailed(f"cannot save {self.dest.name}: {exc.strerror or exc}") from None
        self._committed = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        if not self._committed:
            # Not unlink(missing_ok=True): below a file that raises NotADirectoryError, which
            # would replace the error already on its way out.
            with contextlib.suppress(OSError):
                self.path.unlink()
