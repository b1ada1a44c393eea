#!/usr/bin/env bash
# The Dagster webserver and daemon on an instance stored in PostgreSQL (deploy/dagster.yaml): runs, event
# logs and schedule ticks survive restarts and are shared by every process. See docs/production.md.
#
#   scripts/dagster_postgres.sh init            create the instance database if missing, write $DAGSTER_HOME/dagster.yaml
#   scripts/dagster_postgres.sh webserver       the UI, http://$HOST:$PORT (default 127.0.0.1:3000)
#   scripts/dagster_postgres.sh daemon          scheduler, run queue, run monitoring: schedules fire only while it runs
#   scripts/dagster_postgres.sh dev             webserver and daemon together (dagster dev), for one terminal
#   scripts/dagster_postgres.sh start-schedule  turn daily_schedule on (it ships STOPPED); stays on across restarts
#   scripts/dagster_postgres.sh code-server     a long-running code server for AFTER_SALES_WORKSPACE=deploy/workspace.yaml
#
# Settings (defaults fit the local trust-auth server):
#   DAGSTER_PG_HOST=127.0.0.1 DAGSTER_PG_PORT=5432 DAGSTER_PG_USERNAME=postgres DAGSTER_PG_PASSWORD= DAGSTER_PG_DB=dagster
#   AFTER_SALES_DAGSTER_HOME=data/dagster_home_pg   (kept apart from the SQLite instance in data/dagster_home)
#   AFTER_SALES_WORKSPACE=workspace.yaml            (deploy/workspace.yaml: talk to `code-server` instead)
# The warehouse is configured as always (AFTER_SALES_WAREHOUSE_URL=postgresql+psycopg://...).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${VENV_BIN:-.venv/bin}"
export DAGSTER_PG_HOST="${DAGSTER_PG_HOST:-127.0.0.1}"
export DAGSTER_PG_PORT="${DAGSTER_PG_PORT:-5432}"
export DAGSTER_PG_USERNAME="${DAGSTER_PG_USERNAME:-postgres}"
export DAGSTER_PG_PASSWORD="${DAGSTER_PG_PASSWORD-}"
export DAGSTER_PG_DB="${DAGSTER_PG_DB:-dagster}"
export DAGSTER_HOME="${AFTER_SALES_DAGSTER_HOME:-$PWD/data/dagster_home_pg}"
WORKSPACE="${AFTER_SALES_WORKSPACE:-workspace.yaml}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-3000}"

init() {
    mkdir -p "$DAGSTER_HOME"
    cp deploy/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
    "$BIN/python" - <<'PY'
import os
import sys

import psycopg
from psycopg.conninfo import make_conninfo

from after_sales.resources.postgres_warehouse import create_database_if_missing

env = os.environ
info = make_conninfo(
    "", host=env["DAGSTER_PG_HOST"], port=env["DAGSTER_PG_PORT"], user=env["DAGSTER_PG_USERNAME"],
    password=env["DAGSTER_PG_PASSWORD"] or None, dbname=env["DAGSTER_PG_DB"], connect_timeout=5,
)
create_database_if_missing(info)
try:
    psycopg.connect(info).close()
except psycopg.Error as exc:
    sys.exit(f"cannot reach the Dagster instance database: {exc}")
print(f"Dagster instance: DAGSTER_HOME={env['DAGSTER_HOME']}, PostgreSQL database {env['DAGSTER_PG_DB']} "
      f"on {env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']}", file=sys.stderr)
PY
}

case "${1:-}" in
    init) init ;;
    webserver) init; exec "$BIN/dagster-webserver" -w "$WORKSPACE" -h "$HOST" -p "$PORT" ;;
    daemon) init; exec "$BIN/dagster-daemon" run -w "$WORKSPACE" ;;
    dev) init; exec "$BIN/dagster" dev -w "$WORKSPACE" -h "$HOST" -p "$PORT" ;;
    start-schedule) init; exec "$BIN/dagster" schedule start daily_schedule -w "$WORKSPACE" ;;
    code-server) init; exec "$BIN/dagster" code-server start -m after_sales.definitions -h 127.0.0.1 -p 4266 ;;
    *)
        awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
        exit 2
        ;;
esac
