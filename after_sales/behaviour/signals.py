"""Behaviour signals: the YAML rules run as SQL on an in-process DuckDB over Arrow copies of the inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import arrow_to_frame, empty_frame, frame_to_arrow
from after_sales.behaviour.rules import COUNTED_KINDS, SignalConfig, SignalRule, query_causes, sql_text
from after_sales.tables import BEHAVIOUR_FUNNELS, BEHAVIOUR_SIGNALS, EVENT_SESSIONS, STG_EVENTS, STG_ORDERS, TableSpec
from after_sales.transforms.rules import CauseRules, load_cause_rules
from after_sales.transforms.sql_models import open_duckdb, run_sql, to_arrow

EVENT_INPUT = (
    "event_id",
    "session_id",
    "visitor_id",
    "user_id",
    "order_id",
    "occurred_at",
    "event_type",
    "page",
    "search_query",
    "result",
    "result_count",
    "reason_code",
    "landing_date",
    "source_file",
    "source_row",
)
ORDER_INPUT = ("order_id", "user_id", "created_at", "channel", "landing_date", "source_file", "source_row")
# An SQL input: rows in memory, or a Parquet file of them (a window exported from a DuckDB warehouse).
Source = pd.DataFrame | Path


def _register(
    con: duckdb.DuckDBPyConnection, name: str, spec: TableSpec, rows: Source, columns: tuple[str, ...]
) -> None:
    if isinstance(rows, Path):
        cols = ", ".join(f'"{c}"' for c in columns)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} FROM read_parquet('{rows.as_posix()}')")
    else:
        con.register(name, to_arrow(spec, rows, columns))


@contextmanager
def connection(events: Source, orders: Source, config: SignalConfig) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB holding the inputs and the prepared ev and orders_latest tables."""
    con = open_duckdb(events.parent if isinstance(events, Path) else None)
    try:
        _register(con, "events", STG_EVENTS, events, EVENT_INPUT)
        _register(con, "orders", STG_ORDERS, orders, ORDER_INPUT)
        run_sql(con, sql_text("prepare"), {"attribution_days": config.attribution_days})
        yield con
    finally:
        con.close()


def _bounds(start: dt.date, end: dt.date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start, tz=tz), pd.Timestamp(end, tz=tz)


def rule_sql(rule: SignalRule) -> str:
    """The SQL of one rule: its kind's qualifying events counted by sliding_count.sql, or its whole query."""
    if rule.kind in COUNTED_KINDS:
        return f"CREATE OR REPLACE TEMP TABLE q AS\n{sql_text(rule.kind)};\n{sql_text('sliding_count')}"
    return sql_text(rule.kind)


def detect_signals(
    events: Source,
    orders: Source,
    config: SignalConfig,
    start: dt.date,
    end: dt.date,
    tz: str,
    cause_rules: CauseRules | None = None,
) -> pd.DataFrame:
    """behaviour_signals rows detected in business days [start, end) from the events and orders handed in."""
    cause_rules = cause_rules or load_cause_rules()
    first, last = _bounds(start, end, tz)
    parts = []
    with connection(events, orders, config) as con:
        queries = con.execute("SELECT DISTINCT search_query FROM ev WHERE event_type = 'search'").fetchall()
        con.register(
            "query_causes",
            pa.Table.from_pandas(query_causes([q for (q,) in queries], cause_rules), preserve_index=False),
        )
        as_of = con.execute("SELECT max(occurred_at) FROM ev").fetchone()[0]
        for rule in config.signals:
            params: dict[str, object] = {
                "tz": tz,
                "start": first.to_pydatetime(),
                "end": last.to_pydatetime(),
                "as_of": as_of or first.to_pydatetime(),
                "window_us": int(rule.window_hours * 3_600_000_000),
                "min_count": rule.min_count,
                "event_type": rule.event_type,
                "end_event_type": rule.end_event_type,
                "cause": rule.cause,
                "promised_days": config.promised_delivery_days,
            }
            frame = run_sql(con, rule_sql(rule), params).df()
            frame["rule"] = rule.name
            frame["cause"] = rule.cause
            frame["suggested_action"] = rule.action
            parts.append(frame)
        of_order = con.execute(
            "SELECT order_id, CAST(timezone($tz, created_at) AS DATE) AS order_date, channel FROM orders_latest",
            {"tz": tz},
        ).df()
    rows = pd.concat([p for p in parts if len(p)] or [empty_frame(BEHAVIOUR_SIGNALS, tz)], ignore_index=True)
    rows = rows.drop(columns=["order_date", "channel"], errors="ignore").merge(of_order, on="order_id", how="left")
    rows = rows[BEHAVIOUR_SIGNALS.column_names]
    rows = arrow_to_frame(BEHAVIOUR_SIGNALS, frame_to_arrow(BEHAVIOUR_SIGNALS, rows), tz)
    return rows.sort_values(["signal_date", "rule", "subject_id"], kind="stable").reset_index(drop=True)


SESSION_GAP_MINUTES = 30


def derive_sessions(events: Source, start: dt.date, end: dt.date, tz: str) -> pd.DataFrame:
    """event_sessions rows starting in business days [start, end): 30 minutes without an event ends a session."""
    first, last = _bounds(start, end, tz)
    con = open_duckdb(events.parent if isinstance(events, Path) else None)
    try:
        _register(con, "events", STG_EVENTS, events, EVENT_INPUT)
        params = {
            "tz": tz,
            "start": first.to_pydatetime(),
            "end": last.to_pydatetime(),
            "gap_minutes": SESSION_GAP_MINUTES,
        }
        found = run_sql(con, sql_text("sessions"), params).df()
    finally:
        con.close()
    return arrow_to_frame(EVENT_SESSIONS, frame_to_arrow(EVENT_SESSIONS, found[EVENT_SESSIONS.column_names]), tz)


FOLLOW_HOURS = 24
TOP_TERMS = 10


def measure_funnels(
    events: Source,
    orders: Source,
    config: SignalConfig,
    start: dt.date,
    end: dt.date,
    tz: str,
    cause_rules: CauseRules | None = None,
) -> pd.DataFrame:
    """behaviour_funnels rows for business days [start, end): funnels and search analytics, in DuckDB."""
    cause_rules = cause_rules or load_cause_rules()
    days = pd.DataFrame({"business_date": pd.date_range(start, end - dt.timedelta(days=1), freq="D").date})
    with connection(events, orders, config) as con:
        queries = con.execute("SELECT DISTINCT search_query FROM ev WHERE event_type = 'search'").fetchall()
        located = query_causes([q for (q,) in queries], cause_rules)
        con.register("query_causes", pa.Table.from_pandas(located, preserve_index=False))
        con.register("days", pa.Table.from_pandas(days, preserve_index=False))
        params = {
            "tz": tz,
            "follow_hours": FOLLOW_HOURS,
            "promised_days": config.promised_delivery_days,
            "top_terms": TOP_TERMS,
        }
        found = run_sql(con, sql_text("funnels"), params).df()
    spec = BEHAVIOUR_FUNNELS
    return arrow_to_frame(spec, frame_to_arrow(spec, found[spec.column_names]), tz)
