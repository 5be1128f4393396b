# Two entry points for a fresh machine: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test lint typecheck lint-ci unit bench clean

$(PY_STAMP): pyproject.toml requirements/oracle.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/oracle.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m devtools.demo

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy

# hadolint on the Dockerfile, actionlint and zizmor on every workflow and example.
lint-ci: $(PY_STAMP) $(NODE_STAMP)
	BIN=$(BIN) tools/lint-ci.sh

unit: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/pytest

test: lint typecheck lint-ci unit

# Speed and memory figures (not part of `make test`): curl, our CLI, our entrypoint and the
# curl + @actions/artifact pipeline on loopback; then triage (64 MiB of logs, a 2 GiB ZIP bomb)
# beside the download of the same ZIP. Results are kept in docs/benchmarks.md.
# BENCH_ARGS goes to the main bench, e.g. BENCH_ARGS='--tree before=/tmp/before --tree after=.'
# to measure two checkouts in one sitting (docs/benchmarks.md, "Before and after").
BENCH_ARGS ?=
bench: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.triage_bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build dist demo-workspace
