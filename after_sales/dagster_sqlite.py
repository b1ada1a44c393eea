"""Dagster's default local instance keeps runs and events in SQLite files under DAGSTER_HOME, opening a
connection per operation and committing each event. Every commit and close then waits for the disk (4-9 ms
here), and a 30-day range run writes over a thousand events: synchronous=OFF took the 10k-order benchmark
run from 57 s to 51 s wall (docs/production.md, "The local Dagster instance").

The trade: an application crash loses nothing, but an operating-system crash or power loss may damage the
run history under DAGSTER_HOME (never the warehouse, whose tables Dagster does not store). Production
instances keep runs and events in PostgreSQL (deploy/dagster.yaml), which this does not touch.
AFTER_SALES_DAGSTER_SQLITE_SYNC=NORMAL or FULL chooses SQLite's safer settings (FULL: its defaults).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

ENV_SYNC = "AFTER_SALES_DAGSTER_SQLITE_SYNC"
SYNC_LEVELS = ("OFF", "NORMAL", "FULL")


def sync_level() -> str:
    """synchronous for Dagster's SQLite files: AFTER_SALES_DAGSTER_SQLITE_SYNC, OFF by default."""
    value = os.environ.get(ENV_SYNC, "").strip().upper() or "OFF"
    if value not in SYNC_LEVELS:
        raise ValueError(f"{ENV_SYNC}={value}: expected one of {', '.join(SYNC_LEVELS)}")
    return value


def _in_dagster_home(path: str) -> bool:
    home = os.environ.get("DAGSTER_HOME", "").strip()
    return bool(home and path) and Path(path).resolve().is_relative_to(Path(home).resolve())


def _tune(dbapi_connection: object, _record: object) -> None:
    """On each new SQLite connection to a file under DAGSTER_HOME: the chosen synchronous level."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    row = dbapi_connection.execute("PRAGMA database_list").fetchone()
    if row and _in_dagster_home(row[2]):
        dbapi_connection.execute(f"PRAGMA synchronous={sync_level()}")


def install() -> None:
    """Apply the synchronous level to every SQLite connection opened under DAGSTER_HOME (once per process)."""
    if sync_level() != "FULL" and not event.contains(Engine, "connect", _tune):
        event.listen(Engine, "connect", _tune)
