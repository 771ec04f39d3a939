# ESC Platform — two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup lint types migrate browser-deps clean

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

setup: $(STAMP)

migrate: setup
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_tutorial --if-empty

run: migrate
	@$(BIN)/python manage.py ensure_demo_admin --base-url http://$(HOST):$(PORT)
	@echo "Serving ESC Platform on http://$(HOST):$(PORT)/ (embedded: SQLite, in-memory channel layer, eager Celery)"
	$(BIN)/uvicorn esc_platform.asgi:application --host $(HOST) --port $(PORT) --lifespan off

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
