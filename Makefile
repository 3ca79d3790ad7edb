# fusioncell — `make demo` and `make test` are the two promises; the rest are conveniences.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
COT_PORT ?= 8089
DEMO_DB ?= var/demo.db
T ?= tests
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: help demo test setup static chromium postgres lint fmt typecheck bench i18n clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.stamp: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

static: $(VENV)/.stamp node_modules/.stamp ## Copy the npm libraries and the basemap into the static folder
	$(BIN)/python scripts/build_static.py

setup: $(VENV)/.stamp static ## Create the venv and install Python and npm dependencies

demo: setup ## Create the demo database (if new) and serve it on http://127.0.0.1:8000 (TAK clients: TLS on 8089)
	$(BIN)/fusioncell demo --database-url sqlite:///$(DEMO_DB) --port $(PORT) --cot-port $(COT_PORT)

chromium: ## Install Debian's chromium and Noto fonts for the browser tests, if missing
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-core >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core; \
	fi

postgres: ## Start the local PostgreSQL cluster if it is down
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -p 5432

lint: $(VENV)/.stamp ## ruff: lint and formatting
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

fmt: $(VENV)/.stamp ## Format the code
	$(BIN)/ruff format src tests bench scripts
	$(BIN)/ruff check --fix src tests bench scripts

typecheck: $(VENV)/.stamp ## mypy --strict on src
	$(BIN)/mypy

i18n: $(VENV)/.stamp ## Extract strings and update the ar/he catalogues
	$(BIN)/python scripts/i18n.py extract
	$(BIN)/python scripts/i18n.py update

test: setup chromium postgres lint typecheck ## Everything: lint, types, the whole suite on SQLite and on PostgreSQL
	$(BIN)/pytest $(T) --db sqlite --share-between-databases $(PYTEST_ARGS)
	$(BIN)/pytest $(T) --db postgresql --share-between-databases $(PYTEST_ARGS)

bench: setup ## Run every benchmark; each prints JSON
	$(BIN)/python -m bench

clean: ## Remove the venv, node_modules, built assets and local databases
	rm -rf $(VENV) node_modules src/fusioncell/web/static/vendor var test-artifacts
