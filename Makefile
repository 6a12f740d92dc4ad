# Every target sets itself up: the virtual environment is created and filled on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install generate check-generated api-diff lint-spec lint typecheck test demo demo-failures mock contract bench dist clean

help:
	@echo "make demo             start the simulator and sign a hash in both locales (the main job)"
	@echo "make demo-failures    a refused signing and gateway faults, handled by the client"
	@echo "make test             every test and check (lint, types, spec, generator drift, mock, contract)"
	@echo "make generate         regenerate generated_client/ from openapi.yaml"
	@echo "make check-generated  fail if generated_client/ is stale or info.version does not fit the change"
	@echo "make api-diff         what changed in openapi.yaml since BASE (default HEAD), breaking or not"
	@echo "make mock             run the simulator on http://127.0.0.1:8000"
	@echo "make contract         contract-test the embedded simulator, or BASE_URL=... ACCESS_TOKEN=..."
	@echo "make dist             build marksign-client, marksign-mock, marksign-contract into dist/"
	@echo "make bench            benchmarks vs Prism, WireMock, Mockoon; long polls; client overhead (BENCH_ARGS=--quick)"

# The three distributions, editable, and the development tools (pyproject.toml's `dev`
# group; `--group` needs pip 25.1 or newer, hence the upgrade), all pinned by constraints.txt.
$(STAMP): pyproject.toml constraints.txt generated_client/pyproject.toml mock/pyproject.toml contract/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -c constraints.txt --group dev \
		-e ./generated_client -e './mock[redis]' -e ./contract
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
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy
	cd generated_client && ../$(BIN)/mypy --strict marksign_client

test: lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/python examples/demo.py

demo-failures: $(STAMP)
	$(BIN)/python examples/demo.py --failures

mock: $(STAMP)
	$(BIN)/marksign-mock $(MOCK_ARGS)

contract: $(STAMP)
	$(BIN)/marksign-contract $(if $(BASE_URL),--base-url '$(BASE_URL)') $(CONTRACT_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Each wheel is built from its sdist (python -m build's default), so the sdists are proven too.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist generated_client
	$(BIN)/python -m build --outdir dist mock
	$(BIN)/python -m build --outdir dist contract
	$(BIN)/twine check --strict dist/*
	$(BIN)/check-wheel-contents dist/*.whl

clean:
	rm -rf $(VENV) .tools reports bench/results .mypy_cache .ruff_cache .pytest_cache .hypothesis
