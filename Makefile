# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app app

.PHONY: run test test-fast lint bench screens mutate clean

# pip is quiet (its own output is pages of lines), so say what is happening before it starts.
$(STAMP): pyproject.toml
	@echo "Installing Weatherboard and its dependencies into $(VENV) with pip: about 2 minutes"
	@echo "the first time (more on a slow connection), with no output meanwhile. Later runs"
	@echo "skip this until pyproject.toml changes."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)
	@echo "Installed."

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

# Screenshots of the main pages with the demo data into docs/screens/ (README "Look and
# feel"): Debian's Chromium at /usr/bin/chromium, about a minute.
screens: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/screens.py

# Mutation testing of the domain and the card services (README "Mutation testing"). What is
# mutated and which tests run: [tool.mutmut] in pyproject.toml. mutants/ (git-ignored) holds
# the mutated copy and the results; a second run re-tests only what changed (make clean: all).
# PostgreSQL stays out (its tests would only repeat SQLite's, slower); MUTMUT_ARGS e.g.
# "--max-children 1", or mutant names to re-run.
MUTATE_STAMP := $(VENV)/.mutate-installed
MUTMUT_ARGS ?=

$(MUTATE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	env -u TRACKER_TEST_POSTGRES_URL $(BIN)/mutmut run $(MUTMUT_ARGS)
	@echo "mutants by module and outcome:"
	@$(BIN)/mutmut results --all true | sed -E 's/^ *(.*)\.x(_|ǁ)[^:]*: (.*)$$/\1 \3/' | sort | uniq -c

clean:
	rm -rf $(VENV) instance/*.sqlite3* mutants
