# Every target sets itself up: the virtual environment is created and filled on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install generate check-generated api-diff lint-spec lint typecheck test demo mock contract bench clean

help:
	@echo "make demo             start the simulator and sign a hash in both locales (the main job)"
	@echo "make test             every test and check (lint, types, spec, generator drift, mock, contract)"
	@echo "make generate         regenerate generated_client/ from openapi.yaml"
	@echo "make check-generated  fail if generated_client/ is stale or info.version does not fit the change"
	@echo "make api-diff         what changed in openapi.yaml since BASE (default HEAD), breaking or not"
	@echo "make mock             run the simulator on http://127.0.0.1:8000"
	@echo "make contract         contract-test the embedded simulator, or BASE_URL=... ACCESS_TOKEN=..."
	@echo "make bench            benchmarks vs Prism, long polls, client overhead (BENCH_ARGS=--quick)"

$(STAMP): pyproject.toml constraints.txt generated_client/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./generated_client
	@touch $@

install: $(STAMP)

generate: $(STAMP)
	$(BIN)/python -m generator

check-generated: $(STAMP)
	$(BIN)/python -m generator --check

api-diff: $(STAMP)
	$(BIN)/python -m generator.changes --base '$(or $(BASE),HEAD)'

lint-spec: $(STAMP)
	$(BIN)/python -m tools.redocly

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	cd generated_client && ../$(BIN)/mypy --strict marksign_client

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

mock: $(STAMP)
	$(BIN)/marksign-mock $(MOCK_ARGS)

contract: $(STAMP)
	$(BIN)/marksign-contract $(if $(BASE_URL),--base-url '$(BASE_URL)') $(CONTRACT_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools reports bench/results .mypy_cache .ruff_cache .pytest_cache .hypothesis
