"""Warehouse write throughput on one generated frame: DuckDB native, PostgreSQL COPY, pandas to_sql.

    python -m benchmarks.warehouse_writes --rows 100000 [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Every method writes the same stg_orders-shaped frame (text ids, timestamps, dates, money, ints) into an empty
table with the same DDL (types, key, partition index) and is timed from the call to the committed rows; the
row count is checked afterwards. PostgreSQL runs in a database created for the run and dropped after it (the
URL names the server and credentials; its database only serves to connect). DuckDB runs in a temp file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from after_sales.resources.postgres_warehouse import PostgresWarehouse, conninfo_from_url
from after_sales.resources.warehouse import DateWindow, Warehouse, open_warehouse, quote_ident
from after_sales.tables import STG_ORDERS

ENV_PG_URL = "AFTER_SALES_BENCH_PG_URL"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TZ = "Asia/Shanghai"
SCHEMA = "bench"
FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 30
# pandas to_sql through duckdb-engine inserts row by row (about 2k rows/s): only run it on small frames.
DUCKDB_TO_SQL_MAX_ROWS = 20_000

Result = dict[str, object]


def make_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """A deterministic stg_orders frame of `rows` rows over DAYS landing days."""
    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    landing = pd.to_datetime(FIRST_DAY) + pd.to_timedelta(i * DAYS // max(rows, 1), unit="D")
    created = (landing + pd.to_timedelta(rng.integers(0, 86_400, rows), unit="s")).tz_localize(TZ)
    channels = np.array(["web", "app", "taobao", "tmall", "jd"])
    status = np.array(["paid", "shipped", "delivered", "completed", "refunded"])
    products = np.array(["保温杯", "蓝牙耳机", "Running shoes", "手机壳 iPhone 15", "电饭煲 3L"])
    return pd.DataFrame(
        {
            "order_id": [f"{2025_0000_0000_0000 + n:019d}" for n in i],
            "created_at": created,
            "business_date": created.tz_convert(TZ).date,
            "user_id": [f"U{n % 50_000:06d}" for n in i],
            "product": products[i % len(products)],
            "quantity": pd.array(rng.integers(1, 5, rows), dtype="Int64"),
            "amount": np.round(rng.uniform(5, 2000, rows), 2),
            "payment_method": np.array(["alipay", "wechat", "card"])[i % 3],
            "status": status[i % len(status)],
            "status_raw": status[i % len(status)],
            "channel": channels[i % len(channels)],
            "landing_date": landing.date,
            "source": "orders",
            "source_file": [f"orders/{d}/export.csv" for d in landing.strftime("%Y-%m-%d")],
            "source_row": pd.array(i + 1, dtype="Int64"),
        }
    )[STG_ORDERS.column_names]


WINDOW = DateWindow(FIRST_DAY, FIRST_DAY + dt.timedelta(days=DAYS))


def _timed(write: Callable[[], None], count: Callable[[], int], rows: int, method: str, backend: str) -> Result:
    """Time one write, then check it left exactly `rows` rows."""
    began = time.perf_counter()
    write()
    seconds = time.perf_counter() - began
    written = count()
    status = "ok" if written == rows else f"wrote {written} rows, expected {rows}"
    return {
        "method": method,
        "backend": backend,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds) if seconds > 0 else None,
        "status": status,
    }


def _skipped(method: str, backend: str, rows: int, why: str) -> Result:
    """A result row for a method that did not run."""
    return {
        "method": method,
        "backend": backend,
        "rows": rows,
        "seconds": None,
        "rows_per_second": None,
        "status": f"skipped: {why}",
    }


def _count(wh: Warehouse, table: str) -> int:
    """Rows in schema.table."""
    return int(wh.query(f"SELECT count(*) AS n FROM {wh.qualified(table)}")["n"].iloc[0])


@contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A fresh database on the server of `url` (same credentials), dropped afterwards; yields its URL."""
    parsed = make_url(url)
    name = f"after_sales_bench_{uuid.uuid4().hex[:10]}"
    admin_info = conninfo_from_url(parsed)
    with psycopg.connect(admin_info, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_info, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


def _duckdb(frame: pd.DataFrame, work: Path, to_sql_max_rows: int) -> list[Result]:
    """DuckDB native write through the warehouse, and pandas to_sql through duckdb-engine when small enough."""
    rows = len(frame)
    wh = open_warehouse(f"duckdb:///{work / 'writes.duckdb'}", SCHEMA, TZ)
    out = [
        _timed(
            lambda: wh.replace(STG_ORDERS, frame, WINDOW),
            lambda: _count(wh, STG_ORDERS.name),
            rows,
            "duckdb native (Arrow)",
            "duckdb",
        )
    ]
    method = "duckdb pandas to_sql (duckdb-engine)"
    if rows > to_sql_max_rows:
        return [*out, _skipped(method, "duckdb", rows, f"row-by-row inserts; only run up to {to_sql_max_rows} rows")]
    target = STG_ORDERS.renamed("stg_orders_to_sql")
    wh.replace(target, frame.iloc[:0], WINDOW)  # the same DDL, empty
    engine = sa.create_engine(f"duckdb:///{work / 'writes.duckdb'}", poolclass=sa.pool.NullPool)

    def write() -> None:
        frame.to_sql(target.name, engine, schema=SCHEMA, if_exists="append", index=False, chunksize=10_000)

    try:
        out.append(_timed(write, lambda: _count(wh, target.name), rows, method, "duckdb"))
    finally:
        engine.dispose()
    return out


def _postgres(frame: pd.DataFrame, url: str) -> list[Result]:
    """PostgreSQL COPY through the warehouse, and pandas to_sql (SQLAlchemy + psycopg 3) into the same DDL."""
    rows = len(frame)
    wh = open_warehouse(url, SCHEMA, TZ)
    assert isinstance(wh, PostgresWarehouse)
    out = [
        _timed(
            lambda: wh.replace(STG_ORDERS, frame, WINDOW),
            lambda: _count(wh, STG_ORDERS.name),
            rows,
            "postgresql COPY (warehouse)",
            "postgresql",
        )
    ]
    target = STG_ORDERS.renamed("stg_orders_to_sql")
    with wh.transaction() as cur:
        wh.ensure_tables(cur, [target])
    engine = sa.create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=sa.pool.NullPool)

    def write() -> None:
        frame.to_sql(target.name, engine, schema=SCHEMA, if_exists="append", index=False, chunksize=10_000)

    try:
        out.append(_timed(write, lambda: _count(wh, target.name), rows, "postgresql pandas to_sql", "postgresql"))
    finally:
        engine.dispose()
    return out


def run(rows: int, pg_url: str | None = None, to_sql_max_rows: int = DUCKDB_TO_SQL_MAX_ROWS) -> list[Result]:
    """Time every method on one generated frame of `rows` rows; one result row per method."""
    frame = make_frame(rows)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="after_sales_bench_") as tmp:
        results += _duckdb(frame, Path(tmp), to_sql_max_rows)
    url = pg_url or os.environ.get(ENV_PG_URL) or DEFAULT_PG_URL
    try:
        with scratch_database(url) as scratch:
            results += _postgres(frame, scratch)
    except psycopg.OperationalError as exc:
        why = f"PostgreSQL not reachable ({str(exc).strip().splitlines()[0]})"
        results += [
            _skipped(m, "postgresql", rows, why) for m in ("postgresql COPY (warehouse)", "postgresql pandas to_sql")
        ]
    return results


def to_markdown(results: list[Result]) -> str:
    """The results as a markdown table."""
    lines = ["| method | rows | seconds | rows/s | status |", "|---|---:|---:|---:|---|"]
    for r in results:
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.3f}"
        rate = "" if r["rows_per_second"] is None else f"{r['rows_per_second']:,}"
        lines.append(f"| {r['method']} | {r['rows']:,} | {seconds} | {rate} | {r['status']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the comparison and print a markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.warehouse_writes", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pg-url", default=None, help=f"server to use (default ${ENV_PG_URL} or {DEFAULT_PG_URL})")
    parser.add_argument("--duckdb-to-sql-max-rows", type=int, default=DUCKDB_TO_SQL_MAX_ROWS)
    args = parser.parse_args(argv)
    results = run(args.rows, args.pg_url, args.duckdb_to_sql_max_rows)
    print(to_markdown(results))
    return 0 if all(r["status"] == "ok" or str(r["status"]).startswith("skipped") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
