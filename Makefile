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

# Parallel workers (pytest-xdist). Most tests wait on a subprocess or a socket rather than compute,
# so a 2-core machine keeps four busy; `make unit WORKERS=0` runs in one process. The tests of
# the replayed image share one worker (tests/conftest.py). Bytecode caches are
# written even where PYTHONDONTWRITEBYTECODE is set: each worker would otherwise compile (and
# rewrite the assertions of) every module again, about 2.5 s of CPU per worker.
WORKERS ?= 4

unit: $(PY_STAMP) $(NODE_STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -n $(WORKERS)

# The four checks run side by side, each one's output printed whole when it ends: the suite
# spends part of its time waiting on sockets, subprocesses and budgets, time the linters and
# mypy use. `make lint typecheck lint-ci unit` runs them one after the other.
test: $(PY_STAMP) $(NODE_STAMP)
	@$(MAKE) --no-print-directory -j4 --output-sync=target lint typecheck lint-ci unit

# Speed and memory figures (not part of `make test`): curl, our CLI, our entrypoint and the
# curl + @actions/artifact pipeline on loopback; then triage (64 MiB of logs, a 2 GiB ZIP bomb)
# beside the download of the same ZIP. Results are kept in docs/benchmarks.md.
bench: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m benchmarks.bench
	$(BIN)/python -m benchmarks.triage_bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build dist demo-workspace
