# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

## make run: create the venv, install, seed the embedded demo on first run, serve on 127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/prism demo seed
	$(BIN)/prism serve --host 127.0.0.1 --port $(PORT)

## make test: install test needs, start the services tests need, lint, type-check, check the
## import layers (import-linter contracts in pyproject.toml), run every test (the JavaScript
## client's in clients/js/ with node --test)
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	@command -v node >/dev/null || { echo "node is missing: the JavaScript client's tests (clients/js/) need Debian's nodejs (apt-get install nodejs)" >&2; exit 1; }
	node --test clients/js/
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports --no-cache

bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
