# caseclock: the two set-up commands are `make demo` and `make test`; both create .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := $(CURDIR)/demo/caseclock-demo.db
DEMO_CONFIG := $(CURDIR)/demo/config.toml
DEMO := CASECLOCK_DB=sqlite:///$(DEMO_DB) CASECLOCK_CONFIG=$(DEMO_CONFIG) $(BIN)/caseclock

.PHONY: install demo test check format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# Byte-compile our own modules too (an editable install does not): start-up stays quick even where
	# PYTHONDONTWRITEBYTECODE is set.
	$(BIN)/python -m compileall -q tracker notifiers tui rules
	touch $(STAMP)

install: $(STAMP)

## demo: a fresh SQLite database of realistic synthetic cases, then the caseworkers' view of it
demo: $(STAMP)
	mkdir -p demo
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm
	printf '[user]\nname = "Jo Smith"\n\n[packs]\nenabled = ["send-mediation", "adoption-support"]\n\n[[webhooks]]\nname = "team"\nurl = "https://example.invalid/hook"\n' > $(DEMO_CONFIG)
	$(DEMO) init
	$(DEMO) demo --cases 400 --seed 7
	$(DEMO) cases --due-within 5
	$(DEMO) check --dry-run
	@echo
	@echo "Demo database: $(DEMO_DB)"
	@echo "Try: CASECLOCK_DB=sqlite:///$(DEMO_DB) CASECLOCK_CONFIG=$(DEMO_CONFIG) $(BIN)/caseclock show M-00002"
	@if [ -t 0 ] && [ -t 1 ]; then $(DEMO) tui; else echo "(no terminal, so no TUI: run it with the variables above and: caseclock tui)"; fi

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
