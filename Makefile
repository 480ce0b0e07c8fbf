# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app app

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	TRACKER_DEMO=1 $(FLASK) db upgrade
	TRACKER_DEMO=1 $(FLASK) seed-demo
	TRACKER_DEMO=1 $(FLASK) run --host 127.0.0.1 --port 5000

# The suite runs in parallel (pytest-xdist), each worker with databases and ports of its own.
# WORKERS=auto is one per core; `make test WORKERS=0` runs it in this one process.
WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -n $(WORKERS)

test: $(STAMP)
	$(PYTEST) $(PYTEST_ARGS)

# Everything but the tests marked slow (over 10 s each on a 2-core machine).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/board.py

clean:
	rm -rf $(VENV) instance/*.sqlite3*
