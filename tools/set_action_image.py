#!/usr/bin/env python3
"""Point action.yml's `runs.image` at a published image, for a release commit.

Used by .github/workflows/release.yml after the image has been pushed:

    tools/set_action_image.py docker://ghcr.io/<owner>/<repo>@sha256:<64 hex digits>

Only the `image:` line under `runs:` changes, so comments and formatting stay as they
are. The reference must be a GHCR image pinned by digest (a tag could be moved later);
anything else is refused, and the file is parsed again afterwards to prove the result
is what was asked for.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

IMAGE_REF = re.compile(
    r"docker://ghcr\.io/[a-z0-9][a-z0-9._-]*/[a-z0-9][a-z0-9._-]*@sha256:[0-9a-f]{64}"
)
_IMAGE_LINE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*\S.*$", re.MULTILINE)


class ImageRefError(ValueError):
    """The reference or the action.yml it should go into is not usable."""


def set_image(text: str, ref: str) -> str:
    """Return action.yml text whose runs.image is `ref`."""
    if not IMAGE_REF.fullmatch(ref):
        raise ImageRefError(
            f"not a digest-pinned GHCR reference (docker://ghcr.io/owner/repo@sha256:...): {ref!r}"
        )
    runs = re.search(r"^runs:[ \t]*$", text, re.MULTILINE)
    if runs is None:
        raise ImageRefError("action.yml has no top-level 'runs:' mapping")
    body_start = runs.end()
    next_top = re.search(r"^\S", text[body_start:], re.MULTILINE)
    body_end = body_start + next_top.start() if next_top else len(text)
    body = text[body_start:body_end]
    lines = list(_IMAGE_LINE.finditer(body))
    if len(lines) != 1:
        raise ImageRefError(f"expected one 'image:' line under 'runs:', found {len(lines)}")
    line = lines[0]
    new_body = body[: line.start()] + f"{line['indent']}image: {ref}" + body[line.end() :]
    result = text[:body_start] + new_body + text[body_end:]
    parsed = yaml.safe_load(result)
    if parsed["runs"]["using"] != "docker" or parsed["runs"]["image"] != ref:
        raise ImageRefError("the rewritten action.yml does not parse to the requested image")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("ref", help="docker://ghcr.io/<owner>/<repo>@sha256:<digest>")
    parser.add_argument("--file", type=Path, default=Path("action.yml"))
    args = parser.parse_args(argv)
    try:
        updated = set_image(args.file.read_text(encoding="utf-8"), args.ref)
    except (ImageRefError, OSError) as exc:
        print(f"set_action_image: {exc}", file=sys.stderr)
        return 1
    args.file.write_text(updated, encoding="utf-8")
    print(f"{args.file}: runs.image = {args.ref}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
