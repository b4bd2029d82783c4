# The same verbs everywhere: make run, make test, make demo, make lint.
# Needs only Python 3.11+ and make; everything else is installed into .venv from exact pins.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKAGES := contracts libs/platform services/intake services/assessment services/services-directory services/warrants services/console deploy/local
POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
# Pins apply to build environments too (PIP_CONSTRAINT reaches pip's isolated builds).
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run demo bench test test-unit test-integration test-e2e test-postgres test-faults lint lint-openapi typecheck format contracts lock clean

$(STAMP): constraints.txt requirements.in $(addsuffix /pyproject.toml,$(PACKAGES))
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Divert needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.in $(addprefix -e ,$(PACKAGES))
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with every package and tool, pinned by constraints.txt

RUN_ARGS ?=
run: install ## Start the whole system on its embedded default; Ctrl-C stops it. RUN_ARGS: see `divert run --help`
	$(BIN)/divert run $(RUN_ARGS)

demo: install ## Walk two demo referrals through a running `make run`
	$(BIN)/divert demo

bench: install ## Benchmarks against the embedded stack on SQLite, then PostgreSQL (~16 min each; BENCH_QUICK=1 for 3 on SQLite); writes docs/performance.{md,json}
	$(BIN)/python -m bench

test: install ## Unit, integration (SQLite, real broker, real Temporal) and end-to-end tiers
	$(BIN)/python -m divert_contracts.schemas --check
	$(BIN)/pytest -q

test-unit: install
	$(BIN)/pytest -q contracts/tests libs/platform/tests/unit services/*/tests/unit deploy/local/tests bench/tests

test-integration: install
	$(BIN)/pytest -q libs/platform/tests/integration services/*/tests/integration

test-e2e: install
	$(BIN)/pytest -q tests/e2e

test-postgres: install ## The integration tier again, on PostgreSQL
	DIVERT_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest -q -k postgres libs/platform/tests/integration services/*/tests/integration bench/tests

test-faults: install ## Fault injection over the whole stack: ~1,000 referrals, kills, restarts (docs/reliability.md)
	$(BIN)/pytest -q -s tests/faults

OPENAPI_LINT := tools/openapi-lint
SPECTRAL := $(OPENAPI_LINT)/node_modules/.bin/spectral

$(SPECTRAL): $(OPENAPI_LINT)/package.json $(OPENAPI_LINT)/package-lock.json
	cd $(OPENAPI_LINT) && npm ci --no-audit --no-fund
	@touch $(SPECTRAL)

lint-openapi: install $(SPECTRAL) ## Every service's OpenAPI document through Spectral's OWASP rules; any warning fails
	rm -rf build/openapi
	$(BIN)/python $(OPENAPI_LINT)/export_openapi.py build/openapi
	cd $(OPENAPI_LINT) && node_modules/.bin/spectral lint --ruleset .spectral.yaml --fail-severity warn ../../build/openapi/*.openapi.json

lint: install lint-openapi ## ruff, formatting, contract documents in sync with the models, mypy, and the OWASP OpenAPI rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m divert_contracts.schemas --check
	$(BIN)/mypy

typecheck: install ## mypy over every package's source (configured in pyproject.toml)
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

contracts: install ## Regenerate JSON Schemas and asyncapi.json from the event models
	$(BIN)/python -m divert_contracts.schemas

lock: ## Re-resolve requirements.in into constraints.txt (exact pins, no URLs)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	PIP_CONSTRAINT= .lock-venv/bin/pip install -q -r requirements.in setuptools
	.lock-venv/bin/pip freeze --all | grep -v '^pip==' > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .divert
