#!/usr/bin/env python3
"""Keep, from a pip-compile lock, only the packages a requirements file names.

tools/lock-requirements.sh resolves requirements/runtime-nodeps.in with pip-compile like
the other locks, so every kept package carries the hashes of all its distribution files,
then keeps only the blocks of the packages named in that .in file: the image installs
them with `--no-deps`, so the dependencies they declare must not be in their lock.

    python tools/lock_subset.py FULL_LOCK REQUIREMENTS_IN > SUBSET_LOCK
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path


class LockSubsetError(Exception):
    """A package named in the requirements file is not in the lock."""


def canonical(name: str) -> str:
    """The PEP 503 normalized form, so `PyYAML` and `pyyaml` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(lines: Iterable[str]) -> set[str]:
    """Normalized names of the requirements in a requirements file (comments ignored)."""
    names: set[str] = set()
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(canonical(re.split(r"[\s<>=!~;\[@]", line, maxsplit=1)[0]))
    return names


def keep_packages(lock: str, names: set[str]) -> str:
    """The lock's leading comment header and the blocks of `names`, in the lock's order.

    A block is a `name==version \\` line and the indented `--hash` and `# via` lines that
    follow it; anything else between blocks is dropped."""
    out: list[str] = []
    seen: set[str] = set()
    in_header, keep = True, False
    for line in lock.splitlines(keepends=True):
        if in_header and line.startswith("#"):
            out.append(line)
            continue
        in_header = False
        if line[:1].isspace():
            if keep and line.strip():
                out.append(line)
            continue
        head = line.split("==", 1)
        keep = len(head) == 2 and canonical(head[0].strip()) in names
        if keep:
            seen.add(canonical(head[0].strip()))
            out.append(line)
    missing = names - seen
    if missing:
        raise LockSubsetError(f"not in the lock: {', '.join(sorted(missing))}")
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    lock, wanted = (Path(arg).read_text(encoding="utf-8") for arg in args)
    try:
        sys.stdout.write(keep_packages(lock, requirement_names(wanted.splitlines())))
    except LockSubsetError as error:
        print(f"lock_subset: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
