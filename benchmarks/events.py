"""The events scenario: behaviour_signals and behaviour_funnels over 30 days of events vs hand-written DuckDB SQL."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

if TYPE_CHECKING:
    from after_sales.resources.duckdb_warehouse import DuckDBWarehouse

DATA_SQL = Path(__file__).with_name("events_data.sql")
BASELINE_SQL = Path(__file__).with_name("events_baseline.sql")
TABLES = ("behaviour_signals", "behaviour_funnels")
ORDERS_PER_EVENT = 0.03  # 30,000 orders a day at 1M events a day
_PARAM = re.compile(r"\$(\w+)")


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], timings: dict[str, float]) -> None:
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    for i, statement in enumerate(s for s in code.split(";\n") if s.strip()):
        began = time.perf_counter()
        con.execute(statement, {k: params[k] for k in dict.fromkeys(_PARAM.findall(statement))})
        head = re.search(r"(?:TABLE|INTO)\s+([\w.]+)", statement)
        name = head.group(1) if head else f"statement {i}"
        timings[name] = round(timings.get(name, 0.0) + time.perf_counter() - began, 3)


def _warehouse(db: Path, tz: str) -> DuckDBWarehouse:
    """The project's DuckDB warehouse on db."""
    from sqlalchemy.engine import make_url

    from after_sales.resources.duckdb_warehouse import DuckDBWarehouse

    return DuckDBWarehouse(make_url(f"duckdb:///{db}"), "after_sales", tz)


def generate(db: Path, start: dt.date, days: int, events_per_day: int, tz: str) -> dict[str, object]:
    """stg_orders and stg_events rows written into a new warehouse file (events_data.sql)."""
    from after_sales.tables import STG_EVENTS, STG_ORDERS

    if db.exists():
        db.unlink()
    wh = _warehouse(db, tz)
    timings: dict[str, float] = {}
    with wh.connect() as con:
        wh.ensure_tables(con, [STG_EVENTS, STG_ORDERS])
        params = {
            "start": start,
            "days": days,
            "tz": tz,
            "events_per_day": events_per_day,
            "orders_per_day": max(1, round(events_per_day * ORDERS_PER_EVENT)),
        }
        _run(con, DATA_SQL.read_text(encoding="utf-8"), params, timings)
        rows = {
            t: con.execute(f"SELECT count(*) FROM after_sales.{t}").fetchone()[0]  # type: ignore[index]
            for t in ("stg_events", "stg_orders")
        }
        types = dict(
            con.execute("SELECT event_type, count(*) FROM after_sales.stg_events GROUP BY ALL ORDER BY 1").fetchall()
        )
    return {"rows": rows, "event_types": types, "seconds": timings, "mb": round(db.stat().st_size / 2**20)}


def run_baseline(src: Path, db: Path, first: dt.date, last: dt.date, tz: str) -> dict[str, object]:
    """The hand-written SQL (events_baseline.sql) from src's staged tables into db's two tables; timed inside."""
    from after_sales.behaviour.rules import query_causes
    from after_sales.tables import BEHAVIOUR_FUNNELS, BEHAVIOUR_SIGNALS

    if db.exists():
        db.unlink()
    wh = _warehouse(db, tz)
    timings: dict[str, float] = {}
    with wh.connect() as con:
        wh.ensure_tables(con, [BEHAVIOUR_SIGNALS, BEHAVIOUR_FUNNELS])
        began = time.perf_counter()
        con.execute(f"ATTACH '{src.as_posix()}' AS src (READ_ONLY)")
        queries = con.execute(
            "SELECT DISTINCT search_query FROM src.after_sales.stg_events WHERE event_type = 'search'"
        ).fetchall()
        located = query_causes([q for (q,) in queries])
        con.register("query_causes", located)
        days = pd.DataFrame({"business_date": pd.date_range(first, last, freq="D").date})
        con.register("days", days)
        timings["query_causes (jieba)"] = round(time.perf_counter() - began, 3)
        _run(con, BASELINE_SQL.read_text(encoding="utf-8"), {"tz": tz, "first_day": first, "last_day": last}, timings)
        seconds = time.perf_counter() - began
        rows = {t: con.execute(f"SELECT count(*) FROM after_sales.{t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
    return {"seconds": round(seconds, 3), "phases": timings, "rows": rows}


def run_assets(db: Path, first: dt.date, last: dt.date, tz: str) -> dict[str, object]:
    """behaviour_signals and behaviour_funnels materialized over [first, last] in one execute_in_process run."""
    import dagster as dg

    from after_sales.definitions import defs
    from after_sales.jobs import daily_job
    from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource
    from after_sales.schedules import RANGE_END, RANGE_START

    warehouse = WarehouseResource(url=f"duckdb:///{db}", schema_name="after_sales", timezone=tz)
    resources = {
        "warehouse": warehouse,
        "landing": LandingZone(base_dir=str(db.parent / "landing")),
        "exports": ExportDirectory(base_dir=str(db.parent / "exports")),
    }
    run_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)
    job = run_defs.resolve_job_def(daily_job.name)
    began = time.perf_counter()
    result = job.execute_in_process(
        tags={RANGE_START: first.isoformat(), RANGE_END: last.isoformat()},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(t) for t in TABLES],
    )
    seconds = time.perf_counter() - began
    steps: dict[str, float] = {}
    for event in result.all_events:
        if event.event_type_value == "STEP_SUCCESS" and event.step_key:
            steps[event.step_key] = round(event.event_specific_data.duration_ms / 1000, 3)  # type: ignore[union-attr]
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = {t: con.execute(f"SELECT count(*) FROM after_sales.{t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
    finally:
        con.close()
    return {
        "seconds": round(seconds, 3),
        "success": result.success,
        "steps": steps,
        "failed_steps": failed,
        "rows": rows,
    }
