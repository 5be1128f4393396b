#!/usr/bin/env bash
# Regenerates requirements/runtime.txt and requirements/build.txt from their .in files
# with pip-compile (pip-tools), pinning every package to one version with SHA-256
# hashes of all of its distribution files, so the same lock installs on amd64 and
# arm64. It resolves with the Python minor version of the image's base (see the
# Dockerfile's FROM line) and ignores any local pip configuration, so only PyPI's
# files end up in the lock.
#
# requirements/runtime-nodeps.txt locks the packages of runtime-nodeps.in, which the
# image installs without the dependencies they declare: pip-compile resolves the file
# as usual (so the hashes cover every distribution file, as above), and only the blocks
# of the packages named in runtime-nodeps.in are kept.
#
#   tools/lock-requirements.sh            # keep current pins where still allowed
#   tools/lock-requirements.sh --upgrade  # move every pin to the newest allowed
set -euo pipefail
cd "$(dirname "$0")/.."

python_minor="$(sed -n 's/^FROM python:\([0-9]*\.[0-9]*\)-slim@sha256:.*/\1/p' Dockerfile | head -n 1)"
if [[ -z "$python_minor" ]]; then
  echo "lock-requirements: cannot read the Python version from the Dockerfile's FROM line" >&2
  exit 1
fi
python="${LOCK_PYTHON:-python$python_minor}"
if ! "$python" -c 'import sys' 2>/dev/null; then
  echo "lock-requirements: $python is not runnable; set LOCK_PYTHON to a Python $python_minor interpreter" >&2
  exit 1
fi

tools_venv="$(mktemp -d)"
trap 'rm -rf "$tools_venv"' EXIT
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT
"$python" -m venv "$tools_venv"
"$tools_venv/bin/python" -m pip install --quiet 'pip-tools>=7.4'

export CUSTOM_COMPILE_COMMAND="tools/lock-requirements.sh"
pip_compile() {
  "$tools_venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
    --resolver=backtracking --no-emit-index-url --no-emit-find-links "$@"
}
for name in runtime build; do
  pip_compile --output-file "requirements/$name.txt" "$@" "requirements/$name.in"
done

# pip-compile keeps existing pins from its output file; start from the current lock.
full="$tools_venv/runtime-nodeps-full.txt"
cp requirements/runtime-nodeps.txt "$full" 2>/dev/null || : > "$full"
pip_compile --output-file "$full" "$@" requirements/runtime-nodeps.in
"$tools_venv/bin/python" tools/lock_subset.py "$full" requirements/runtime-nodeps.in \
  > "$tools_venv/runtime-nodeps.txt"
mv "$tools_venv/runtime-nodeps.txt" requirements/runtime-nodeps.txt
