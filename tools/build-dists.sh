#!/usr/bin/env bash
# Builds what the release publishes to PyPI: the sdist, then the wheel from the unpacked
# sdist (as `python -m build` does, so a wheel that builds only from a checkout fails
# here), both into DIR (default: dist/ of the repository). The build backend comes from
# requirements/build.txt (hash-checked) and pip builds without isolation, so nothing
# unpinned is downloaded; with BUILD_PYTHON it runs offline.
#
#   tools/build-dists.sh [DIR]
#   BUILD_PYTHON=/some/venv/bin/python tools/build-dists.sh DIR  # build.txt already installed
#
# Used by .github/workflows/release.yml; tests/packaging/test_image.py runs it too.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$repo/dist}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$repo"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${BUILD_PYTHON:-}"
if [[ -z "$python" ]]; then
  python3 -m venv "$work/backend"
  "$work/backend/bin/python" -m pip install --quiet --require-hashes --no-deps \
    -r requirements/build.txt
  python="$work/backend/bin/python"
fi

if ! log="$("$python" -m hatchling build --target sdist --directory "$work/sdist" 2>&1)"; then
  printf '%s\n' "$log" >&2
  exit 1
fi
sdists=("$work"/sdist/*.tar.gz)
if ((${#sdists[@]} != 1)); then
  echo "build-dists: expected one sdist, got: ${sdists[*]}" >&2
  exit 1
fi
mkdir "$work/unpacked"
tar -xzf "${sdists[0]}" -C "$work/unpacked"
trees=("$work"/unpacked/*/)
"$python" -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir "$out" "${trees[0]}"
cp "${sdists[0]}" "$out/"
ls -l "$out"
