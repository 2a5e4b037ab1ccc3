# Thin wrappers over the real commands. `make run` and `make test` set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test check unit bench lock clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed as $(PYTHON)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || \
		{ rm -rf $(VENV); echo "Cannot create a virtual environment: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

# Set up, migrate, load the demo contracts into an empty database, serve.
run: $(STAMP)
	@$(BIN)/python tools/system_check.py --no-browser
	$(BIN)/tracker db upgrade
	$(BIN)/tracker seed --if-empty
	$(BIN)/tracker serve --host $(HOST) --port $(PORT)

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit -q

test: $(STAMP)
	@$(BIN)/python tools/system_check.py
	$(MAKE) --no-print-directory check
	$(BIN)/pytest -q -n auto

# The model, then the web pages at 5,000 contracts (the database is built once and cached).
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py --write docs/performance.md
	$(BIN)/python benchmarks/bench_web.py --write docs/performance.md
	$(BIN)/python benchmarks/bench_report.py --write docs/performance.md

# Re-pin every dependency after changing pyproject.toml.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install --quiet --upgrade pip
	.lockvenv/bin/python -m pip install --quiet -e '.[dev]'
	.lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
