# assay — the two commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Local quickstart: let callbacks and imports reach this machine (servers refuse
# loopback/private addresses unless allowed; see docs/settings.md).
export ASSAY_ALLOWED_PRIVATE_NETWORKS ?= 127.0.0.0/8,::1/128

.PHONY: run test bench lint install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(BIN)/assay serve --host 127.0.0.1 --port $${PORT:-8000}

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py

lint: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet "ruff>=0.5"
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) assay-data
