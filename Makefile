# ESC Platform — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# requirements/base.txt is what the app needs to run; requirements/dev.txt adds the tools.
# Each stamp's name carries a checksum of the files it installs, so editing either reinstalls.
BASE_REQS := requirements/base.txt
DEV_REQS := requirements/dev.txt
BASE_STAMP := $(VENV)/.installed-base-$(shell cat $(BASE_REQS) | cksum | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cat $(BASE_REQS) $(DEV_REQS) | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint types migrate browser-deps clean

# Runtime set only (`make run`).
$(BASE_STAMP): $(BASE_REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(BASE_REQS)
	@rm -f $(VENV)/.installed-base-*
	@touch $@

# Runtime and development sets (`make setup`, `make test`, `make lint`, `make types`).
$(DEV_STAMP): $(BASE_REQS) $(DEV_REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(DEV_REQS)
	@rm -f $(VENV)/.installed-*
	@touch $@ $(BASE_STAMP)

setup: $(DEV_STAMP)

migrate: $(BASE_STAMP)
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_tutorial --if-empty

run: migrate
	@$(BIN)/python manage.py ensure_demo_admin --base-url http://$(HOST):$(PORT)
	@echo "Serving ESC Platform on http://$(HOST):$(PORT)/ (embedded: SQLite, in-memory channel layer, eager Celery, periodic jobs in the server)"
	EMBEDDED_SCHEDULER=1 $(BIN)/uvicorn esc_platform.asgi:application --host $(HOST) --port $(PORT) --lifespan auto

browser-deps:
	@bash scripts/browser_deps.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: setup
	$(BIN)/mypy .

test: setup browser-deps
	@bash scripts/test.sh

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
