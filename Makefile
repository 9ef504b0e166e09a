# Two commands on a fresh machine: `make run` starts the whole stack, `make test` passes the tests.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install browser apilint pyclient tsclient run demo test test-dates test-all load migrate lint format generate clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

# Most tests wait on the broker or a socket, not the CPU: three processes (pytest-xdist, a file
# each at a time), each with its own embedded PostgreSQL and broker, finish in half the time
# even on two cores. PARALLEL= runs them in one process.
PARALLEL ?= -n 3 --dist loadfile

APILINT := tools/apilint
$(APILINT)/node_modules/.installed: $(APILINT)/package.json $(APILINT)/package-lock.json
	npm ci --prefix $(APILINT) --no-audit --no-fund --silent
	touch $@

apilint: $(APILINT)/node_modules/.installed  ## Redocly and Spectral, pinned, for the documents' lint test

# openapi-python-client pins its own typer, so it lives in a venv of its own.
PYCLIENT := $(TOOLS)/pyclient
$(PYCLIENT)/.installed: $(UV) tools/pyclient/requirements.txt
	$(UV) venv --quiet --allow-existing $(PYCLIENT)
	$(UV) pip sync --quiet --python $(PYCLIENT)/bin/python tools/pyclient/requirements.txt
	touch $@

pyclient: $(PYCLIENT)/.installed  ## openapi-python-client, pinned, for the generated-client test

TSCLIENT := clients/typescript
$(TSCLIENT)/node_modules/.installed: $(TSCLIENT)/package.json $(TSCLIENT)/package-lock.json
	npm ci --prefix $(TSCLIENT) --no-audit --no-fund --silent
	touch $@

tsclient: $(TSCLIENT)/node_modules/.installed  ## the TypeScript SDK's packages, pinned, for its buyer-flow test

run: install  ## start PostgreSQL, the broker, migrations, all services and the gateway
	$(BIN)/b2b run

demo: install  ## play a season of a small distributor into the stack `make run` started
	$(BIN)/python -m demo

browser:  ## Chromium for the analytics report's browser test (Debian's package; skipped if it cannot be had)
	@command -v chromium >/dev/null || { command -v apt-get >/dev/null && \
		{ apt-get install -y -qq chromium >/dev/null 2>&1 || \
		  { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } || \
		echo "Chromium not installed: the report's browser test will be skipped"

test: install browser apilint pyclient tsclient  ## the whole suite against real PostgreSQL and the real broker (fuzz, faults and contracts included)
	$(BIN)/pytest $(PARALLEL)

# The 1st, the 15th and the last day of a month, 29 February and 31 December; early, midday
# and late in the day. The clock starts there and runs on (shared/clock.py).
CLOCK_DAYS := 2027-03-01T00:20:00Z 2027-03-15T12:00:00Z 2027-04-30T21:00:00Z \
	2028-02-29T12:00:00Z 2026-12-31T20:00:00Z

test-dates: install  ## the date-sensitive tests with the clock set to five awkward days
	@for day in $(CLOCK_DAYS); do \
		echo "== the clock reads $$day"; \
		B2B_CLOCK=$$day $(BIN)/pytest $(PARALLEL) -m dates -q || exit 1; \
	done

load: install  ## the load benchmark through the gateway (prints throughput, p50/p99 per endpoint, errors)
	$(BIN)/python -m bench.load --rate 300 --seconds 60

test-all: test load  ## the suite, then the load benchmark

migrate: install
	$(BIN)/b2b migrate

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(TOOLS) .data

generate: install tsclient  ## regenerate openapi/, the TypeScript SDK's types, README's config table, .env.example (tests fail on drift)
	$(BIN)/b2b generate
	npm run --silent --prefix $(TSCLIENT) generate
