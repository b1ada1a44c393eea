# Two commands on a fresh machine: `make demo` (set up, generate sample data, materialize everything)
# and `make test`. Everything installs into .venv inside the repo.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: setup demo test lint ui bench screenshots clean clean-bench ui-postgres daemon-postgres schedule-postgres bi-role

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(PY) -m after_sales.demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .

ui: setup
	mkdir -p "$(DAGSTER_HOME)"
	$(VENV)/bin/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# Quick scale by default; bigger ones: make bench BENCH_ARGS="--scale 1m" (or "--year"); see docs/benchmarks.md.
bench: setup
	$(PY) -m benchmarks $(BENCH_ARGS)

screenshots: setup
	AFTER_SALES_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -p no:logging -q tests/test_ui_browser.py

# Production-like: Dagster instance on PostgreSQL (deploy/dagster.yaml; see docs/production.md).
ui-postgres: setup
	scripts/dagster_postgres.sh webserver

daemon-postgres: setup
	scripts/dagster_postgres.sh daemon

schedule-postgres: setup
	scripts/dagster_postgres.sh start-schedule

bi-role: setup
	$(PY) scripts/create_bi_role.py

clean:
	rm -rf data/landing data/exports data/warehouse.duckdb data/warehouse.duckdb.wal

# The benchmark data sets and runs (about 11 GB after a 10M-order year).
clean-bench:
	rm -rf data/bench
