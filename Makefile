# MNO Gateway — `make run` starts the whole system with demo data, `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA_DIR ?= ./var
PORT ?= 8000

.PHONY: run test lint typecheck pytest services kafka bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP) kafka
	$(BIN)/mno run --port $(PORT) --data-dir $(DATA_DIR)

services:
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-mariadb.sh
	bash scripts/ensure-test-tools.sh

kafka:
	bash deploy/kafka/fetch.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services kafka
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP) services kafka
	for b in bench/[a-z]*.py; do echo "== $$b"; n=$${b#bench/}; $(BIN)/python -m bench.$${n%.py} || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
