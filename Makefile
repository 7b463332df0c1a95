# caseclock: the two set-up commands are `make demo` and `make test`; both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := $(CURDIR)/demo/caseclock-demo.db
DEMO := CASECLOCK_DB=sqlite:///$(DEMO_DB) $(BIN)/caseclock

.PHONY: install demo test check format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## demo: a fresh SQLite database of realistic synthetic cases, then the caseworkers' view of it
demo: $(STAMP)
	mkdir -p demo
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	$(DEMO) init
	$(DEMO) demo --cases 400 --seed 7
	$(DEMO) cases --due-within 5
	@echo
	@echo "Demo database: $(DEMO_DB)"
	@echo "Try: CASECLOCK_DB=sqlite:///$(DEMO_DB) $(BIN)/caseclock show M-00001"

## test: the whole suite (PostgreSQL tests run when CASECLOCK_TEST_DATABASE_URL is set, as in CI)
test: $(STAMP)
	$(BIN)/python -m pytest

## check: format, lint, types, import layers, tests
check: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## bench: the benchmarks of bench/ (figures printed, nothing asserted)
bench: $(STAMP)
	for script in bench/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) demo .pytest_cache .mypy_cache .ruff_cache
