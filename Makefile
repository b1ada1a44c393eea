# Two commands on a fresh machine: `make demo` (set up, generate sample data, backfill everything)
# and `make test`. Everything installs into .venv inside the repo.
# Python 3.11 or 3.12 (pyproject.toml): python3.11 if installed, else python3.12, else python3 if it is one
# of them. Override with `make PYTHON=/path/to/python3.11 ...`.
SUPPORTED := import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))
PYTHON ?= $(shell for p in python3.11 python3.12 python3; do command -v $$p >/dev/null 2>&1 && $$p -c '$(SUPPORTED)' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# The UI listens on this address; UI_HOST=0.0.0.0 serves other machines (no login: see README).
UI_HOST ?= 127.0.0.1
UI_PORT ?= 3000

.PHONY: setup fonts demo test test-quick lint ui bench screenshots clean clean-bench ui-postgres daemon-postgres schedule-postgres bi-role

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ] || ! $(PYTHON) -c '$(SUPPORTED)' 2>/dev/null; then \
	  echo "after_sales needs Python 3.11 or 3.12; PYTHON='$(PYTHON)' is $$($(or $(PYTHON),python3) --version 2>&1 || echo 'not found')." >&2; \
	  echo "Debian/Ubuntu: apt-get install python3.11 python3.11-venv (or run make PYTHON=/path/to/python3.11)" >&2; \
	  exit 1; fi
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "$(PYTHON) -m venv failed. Debian/Ubuntu: apt-get install python3-venv (or python3.11-venv)" >&2; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed fonts

# The report draws service items in Chinese with a CJK font: install Debian's fonts-wqy-microhei (1.6 MB) when none is
# found and this is a root shell with apt-get; else say so (the chart then falls back to English names).
fonts:
	@if ls /usr/share/fonts/truetype/wqy/*.ttc /usr/share/fonts/opentype/noto/NotoSansCJK*.ttc >/dev/null 2>&1 \
	  || (command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q .); then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing fonts-wqy-microhei (a CJK font for the report's charts)"; \
	  (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null) || echo "could not install fonts-wqy-microhei"; \
	else echo "note: no CJK font found; apt-get install fonts-wqy-microhei (or fonts-noto-cjk) for Chinese labels in the report's charts"; fi

demo: setup
	$(PY) -m after_sales.demo

test: setup
	$(PY) -m pytest

# The quick loop while editing: every test not marked slow (under a minute on an idle 2-core machine).
test-quick: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .

# exec through scripts/foreground.py: the UI replaces the recipe's shell and stops on SIGINT and SIGTERM,
# also when `make ui &` runs in the background.
ui: setup
	mkdir -p "$(DAGSTER_HOME)"
	exec $(PY) scripts/foreground.py $(VENV)/bin/dagster dev -w workspace.yaml -h $(UI_HOST) -p $(UI_PORT)

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
	rm -rf data/landing data/exports data/bi data/warehouse.duckdb data/warehouse.duckdb.wal

# The benchmark data sets and runs (about 11 GB after a 10M-order year).
clean-bench:
	rm -rf data/bench
