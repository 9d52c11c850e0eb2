# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DOCS_PORT ?= 8001

# MkDocs 1.6 prints a banner about MkDocs 2.0 on every run; the site is pinned to 1.x
export NO_MKDOCS_2_WARNING = 1

.PHONY: run test lint docs docs-serve bench clean

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
## import layers (import-linter contracts in pyproject.toml), build the docs site in strict mode
## (a broken link or anchor fails), run every test (the JavaScript client's in clients/js/ with
## node --test)
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && $(BIN)/mkdocs build --strict -d "$$d"
	@command -v node >/dev/null || { echo "node is missing: the JavaScript client's tests (clients/js/) need Debian's nodejs (apt-get install nodejs)" >&2; exit 1; }
	node --test clients/js/
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports --no-cache

## make docs: build the documentation site (mkdocs.yml, pages in docs/) into site/, strict
docs: $(STAMP)
	$(BIN)/mkdocs build --strict -d site

## make docs-serve: serve the documentation on 127.0.0.1:$(DOCS_PORT), rebuilt on every edit
docs-serve: $(STAMP)
	$(BIN)/mkdocs serve -a 127.0.0.1:$(DOCS_PORT)

bench: $(STAMP)
	bash bench/run.sh

clean:
	rm -rf $(VENV) var site .mypy_cache .pytest_cache .ruff_cache
