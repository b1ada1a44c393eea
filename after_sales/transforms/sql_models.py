"""SQL models: named SQL files run on an in-process DuckDB over Arrow inputs, parameters bound as values."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import arrow_schema, arrow_to_frame, empty_frame, frame_to_arrow
from after_sales.tables import TableSpec

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PARAM = re.compile(r"\$(\w+)")
# In-process DuckDB memory; past it the SQL spills to disk, so a partition's memory stays bounded.
MEMORY_LIMIT = "1GB"
# The input row's position, for SQL that must keep (or break ties by) the order rows were handed in.
POSITION = "_pos"
UTC_TIME = pa.timestamp("us", tz="UTC")


def open_duckdb(spill_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB in UTC with a bounded memory (spilling to spill_dir when given)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    if spill_dir is not None:
        con.execute(f"SET temp_directory = '{spill_dir.as_posix()}'")
    con.execute("SET preserve_insertion_order = false")
    return con


@cache
def _database(pid: int) -> duckdb.DuckDBPyConnection:
    """This process's in-process DuckDB: cursors on it, without a connect per model."""
    return open_duckdb()


def cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own (temp tables, registered inputs) on this process's in-process DuckDB, in UTC."""
    con = _database(os.getpid()).cursor()
    con.execute("SET TimeZone = 'UTC'")
    return con


def _statements(sql: str) -> list[str]:
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [s for s in code.split(";\n") if s.strip()]


def _named(statement: str, params: Mapping[str, object]) -> dict[str, object]:
    return {k: params[k] for k in dict.fromkeys(_PARAM.findall(statement))}


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object]) -> duckdb.DuckDBPyConnection:
    """Execute each statement of sql with the parameters it names, bound as values."""
    out = con
    for statement in _statements(sql):
        out = con.execute(statement, _named(statement, params))
    return out


@cache
def model_sql(name: str, sql_dir: Path = SQL_DIR) -> str:
    """The text of <sql_dir>/<name>.sql."""
    return (sql_dir / f"{name}.sql").read_text(encoding="utf-8")


def to_arrow(spec: TableSpec, frame: pd.DataFrame, columns: Sequence[str], positions: bool = False) -> pa.Table:
    """The columns of a frame an SQL input needs, typed (absent ones null), with the row positions if asked."""
    # All nullable: the SQL decides what a null means.
    sub = TableSpec(spec.name, spec.description, tuple(replace(spec.column(c), nullable=True) for c in columns))
    if frame.empty:
        frame = empty_frame(sub, "UTC")
    absent = [c for c in columns if c not in frame.columns]
    picked = frame.reindex(columns=list(columns)) if absent else frame[list(columns)]
    table = frame_to_arrow(sub, picked)
    return table.append_column(POSITION, pa.array(np.arange(len(frame)))) if positions else table


def arrow_table(frame: pd.DataFrame, columns: dict[str, pa.DataType]) -> pa.Table:
    """Named columns of a frame as an Arrow table of the given types (timestamps in UTC)."""
    arrays = {}
    for name, kind in columns.items():
        values = frame[name] if name in frame.columns else pd.Series([], dtype=object)
        if pa.types.is_timestamp(kind):
            arrays[name] = pa.array(pd.to_datetime(values, utc=True), kind)
        else:
            arrays[name] = pa.array(values.astype(object).where(values.notna(), None).tolist(), kind)
    return pa.table(arrays)


def run_model(
    names: str | Sequence[str],
    inputs: Mapping[str, pa.Table],
    params: Mapping[str, object],
    sql_dir: Path = SQL_DIR,
    query: str | None = None,
) -> pa.Table:
    """Run <sql_dir>/<name>.sql (each of names, in order) on a fresh DuckDB over the inputs; the last query's rows.

    query, when given, is run last (a projection generated from a registry, over the tables the files made).
    """
    con = cursor()
    try:
        for name, table in inputs.items():
            con.register(name, table)
        names = [names] if isinstance(names, str) else names
        *steps, last = [s for n in names for s in _statements(model_sql(n, sql_dir))] + ([query] if query else [])
        for statement in steps:
            con.execute(statement, _named(statement, params))
        return con.sql(last, params=_named(last, params)).to_arrow_table()
    finally:
        con.close()


def typed_frame(spec: TableSpec, table: pa.Table, tz: str) -> pd.DataFrame:
    """SQL rows as a frame typed by the table spec, timestamps in tz."""
    return arrow_to_frame(spec, table.select(spec.column_names).cast(arrow_schema(spec).remove_metadata()), tz)


def zone_of(series: pd.Series | None) -> str:
    """The time zone of a timestamp column (UTC when it has none)."""
    dtype = None if series is None else series.dtype
    return str(dtype.tz) if isinstance(dtype, pd.DatetimeTZDtype) else "UTC"
