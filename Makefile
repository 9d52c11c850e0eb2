# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DOCS_PORT ?= 8001

# MkDocs 1.6 prints a banner about MkDocs 2.0 on every run; the site is pinned to 1.x
export NO_MKDOCS_2_WARNING = 1

.PHONY: run test lint lock docs docs-serve bench clean

# The venv installs exactly the pins of requirements.lock (hashes checked), then Prism itself;
# a lock older than pyproject.toml's dependencies stops here: `make lock`. Installing Prism
# compiles its Cython kernels (hatch_build.py), so a change to them installs again
$(STAMP): pyproject.toml requirements.lock hatch_build.py sdk/prism_sdk/_kernels.pyx
	$(PYTHON) scripts/lock.py --check
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

## make lock: re-resolve requirements.lock after a change to pyproject.toml's dependencies
## (pins that still fit are kept; ARGS=--upgrade takes the newest releases, ARGS='--upgrade-package
## NAME' one package), then commit it
lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q uv; }
	$(BIN)/python scripts/lock.py $(ARGS)

## make run: create the venv, install, seed the embedded demo on first run, serve on 127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/prism demo seed
	$(BIN)/prism serve --host 127.0.0.1 --port $(PORT)

## make test: install test needs, start the services tests need, lint, type-check, check the
## import layers (import-linter contracts in pyproject.toml), audit requirements.lock for known
## vulnerabilities (pip-audit; allow-list: pip-audit-allow.toml), build the docs site in strict mode
## (a broken link or anchor fails), run every test (the JavaScript client's in clients/js/ with
## node --test)
test: $(STAMP)
	bash scripts/test-services.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/audit.py
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
