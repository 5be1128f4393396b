"""Which members are read, and how far: the rules verification and triage share.

One place decides what counts as a ZIP bomb, which methods are inflated and which flags stop a
member from being read, so the check of a member's CRC and the triage of its lines never
disagree about it (a member triage calls a bomb is one verification did not inflate either).
"""

from __future__ import annotations

from .reader import Entry

KiB = 1024
MiB = 1024 * KiB

STORED = 0
DEFLATED = 8
READABLE = (STORED, DEFLATED)
"""The methods inflated (and so verified). Others are refused rather than decompressed: the
standard library decompresses bzip2 and LZMA members without an output limit."""
ENCRYPTED = 0x01 | 0x40  # traditional and strong encryption
PATCHED = 0x20
DATA_DESCRIPTOR = 0x08
METHODS = {12: "bzip2", 14: "LZMA", 9: "Deflate64", 93: "Zstandard", 95: "XZ", 98: "PPMd"}

BOMB_RATIO = 100
BOMB_FLOOR = 1 * MiB


def is_bomb(entry: Entry, ratio: int = BOMB_RATIO, floor: int = BOMB_FLOOR) -> bool:
    """The member claims to decompress to more than `floor` and `ratio` times its compressed
    size. The claim is what counts: inflating stops at the claimed size (more is damage), so a
    member that understates cannot yield more than it claims."""
    return entry.size > max(ratio * entry.compressed_size, floor)


def unreadable(entry: Entry) -> str | None:
    """Why a member's data cannot be inflated here: `encrypted`, `unsupported compression`,
    or None."""
    if entry.flags & ENCRYPTED:
        return "encrypted"
    if entry.method not in READABLE or entry.flags & PATCHED:
        return "unsupported compression"
    return None


def method_name(method: int) -> str:
    return METHODS.get(method, f"method {method}")


_ARCHIVES = {"7z", "apk", "bz2", "ear", "gz", "jar", "lz4", "rar", "tar", "tgz", "war", "whl"}
_COMPRESSED = {"lzma", "xz", "zip", "zst"}
_PROGRAMS = {"a", "bin", "class", "dll", "dylib", "exe", "lib", "o", "obj", "pyc", "so", "sqlite"}
_MEDIA = {"bmp", "gif", "ico", "jpeg", "jpg", "otf", "png", "tif", "tiff", "ttf", "webp", "woff"}
_DOCUMENTS = {"doc", "docx", "pdf", "ppt", "pptx", "woff2", "xls", "xlsx"}
BINARY_EXTENSIONS = frozenset(_ARCHIVES | _COMPRESSED | _PROGRAMS | _MEDIA | _DOCUMENTS)
"""Members with these extensions are not triaged (their CRC is still checked)."""
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\v\f\r\x1b") + b"\x7f"
_CONTROL_SHARE = 0.3


def has_binary_name(name: str) -> bool:
    base = name.rpartition("/")[2]
    return "." in base and base.rpartition(".")[2].lower() in BINARY_EXTENSIONS


def looks_binary(block: bytes) -> bool:
    """A first block with a NUL byte, or at least 30% control bytes, is not text."""
    if b"\x00" in block:
        return True
    controls = len(block) - len(block.translate(None, _CONTROL))
    return controls >= _CONTROL_SHARE * len(block)
