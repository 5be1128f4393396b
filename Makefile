# Two entry points for a fresh machine: `make demo` and `make test`. Both set themselves up:
# the demo with only what it runs (the package, its runtime dependencies, the `action` and
# `demo` extras and the npm `dependencies`: the blob-store emulator and GitHub's Markdown
# stylesheet), the tests with everything (linters, type checker, the protocol and signing
# references).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY_STAMP        := $(VENV)/.installed
PY_DEMO_STAMP   := $(VENV)/.demo-installed
NODE_STAMP      := node_modules/.installed
NODE_DEMO_STAMP := node_modules/.demo-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: demo test lint typecheck lint-ci unit bench summary-image clean

# A venv without its own pip, filled by the interpreter's pip (`--python`, pip 22.3+): seeding
# pip into the venv is the slowest part of creating it. Without a usable outer pip, the usual
# way. `make test` later adds pip to the same venv.
$(PY_DEMO_STAMP): pyproject.toml
	($(PYTHON) -m venv --without-pip $(VENV) && \
	  $(PYTHON) -m pip --python $(BIN)/python --disable-pip-version-check \
	    install --quiet -e '.[action,demo]') || \
	($(PYTHON) -m venv $(VENV) && $(PIP) install --quiet -e '.[action,demo]')
	touch $@

$(PY_STAMP): pyproject.toml requirements/oracle.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[action,demo,dev]'
	$(PIP) install --quiet --no-deps -r requirements/oracle.txt
	touch $@ $(PY_DEMO_STAMP)

# `npm ci --omit=dev` removes the test-only tools, so the full stamp goes with it.
$(NODE_DEMO_STAMP): package.json package-lock.json
	rm -f $(NODE_STAMP)
	npm ci --omit=dev --prefer-offline --no-audit --no-fund --loglevel=error
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@ $(NODE_DEMO_STAMP)

# The two installs overlap: pip waits on the network and the CPU, npm mostly on the disk.
demo:
	$(MAKE) --no-print-directory -j2 $(PY_DEMO_STAMP) $(NODE_DEMO_STAMP)
	$(BIN)/python -m devtools.demo

# The README's picture of a job summary: the demo's main run, rendered by headless Chromium
# (Debian's package, with emoji and CJK fonts, installed here when missing) as GitHub's run
# page shows it. Commit both files it writes; tests/e2e/test_demo.py checks that the Markdown
# beside the picture is what the demo makes.
SUMMARY_PNG := docs/images/job-summary.png
summary-image: demo
	command -v chromium >/dev/null && fc-list | grep -q -i emoji || \
	  (apt-get update && apt-get install -y chromium fonts-noto-color-emoji fonts-wqy-microhei)
	mkdir -p docs/images
	cp demo-workspace/main/summary.md docs/images/job-summary.md
	profile=$$(mktemp -d) && chromium --headless --no-sandbox --disable-gpu \
	  --disable-background-networking --disable-component-update --disable-sync \
	  --no-first-run --hide-scrollbars --user-data-dir=$$profile \
	  --screenshot=$(SUMMARY_PNG) --window-size=1280,1400 \
	  file://$(CURDIR)/demo-workspace/main/summary.html; rm -rf $$profile

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
# BENCH_ARGS goes to the main bench, e.g. BENCH_ARGS='--tree before=/tmp/before --tree after=.'
# to measure two checkouts in one sitting (docs/benchmarks.md, "Before and after").
BENCH_ARGS ?=
bench: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.triage_bench

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache build dist demo-workspace
