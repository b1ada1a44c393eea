"""Behaviour signals: the YAML rules run as SQL on an in-process DuckDB over Arrow copies of the inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import arrow_to_frame, empty_frame, frame_to_arrow
from after_sales.behaviour.rules import COUNTED_KINDS, SQL_DIR, SignalConfig, SignalRule, query_causes
from after_sales.tables import BEHAVIOUR_FUNNELS, BEHAVIOUR_SIGNALS, EVENT_SESSIONS, STG_EVENTS, STG_ORDERS, TableSpec
from after_sales.transforms.rules import CauseRules, load_cause_rules
from after_sales.transforms.sql_models import model_sql, open_duckdb, run_sql, to_arrow
from after_sales.vocabulary import EVENT_TYPES

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
# The events columns the signal and funnel SQL reads (sessions also need session_id).
RULE_EVENT_INPUT = tuple(c for c in EVENT_INPUT if c != "session_id")
# Columns only ev reads: an export may leave them empty on events of the other types.
TYPED_COLUMNS = ("page", "search_query", "result", "result_count", "reason_code")
ORDER_INPUT = ("order_id", "user_id", "created_at", "channel", "landing_date", "source_file", "source_row")
@dataclass(frozen=True)
class Exported:
    """Rows exported to Parquet files, of which those with partition_column in [start, end) are an input."""

    files: tuple[Path, ...]
    partition_column: str
    start: dt.date
    end: dt.date


# An SQL input: rows in memory, a Parquet file of them, or the window's part of exported files.
Source = pd.DataFrame | Path | Exported


def _register(
    con: duckdb.DuckDBPyConnection, name: str, spec: TableSpec, rows: Source, columns: tuple[str, ...]
) -> None:
    """rows as view name with the given columns and rid, a number unique to each row."""
    cols = ", ".join(f'"{c}"' for c in columns)
    files = (rows,) if isinstance(rows, Path) else rows.files if isinstance(rows, Exported) else ()
    if files:
        where = ""
        if isinstance(rows, Exported):
            col = f'"{rows.partition_column}"'
            where = f" WHERE {col} >= DATE '{rows.start.isoformat()}' AND {col} < DATE '{rows.end.isoformat()}'"
        parts = (
            f"SELECT {cols}, {i} * {1 << 40} + file_row_number AS rid "
            f"FROM read_parquet('{f.as_posix()}', file_row_number = true){where}"
            for i, f in enumerate(files)
        )
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS " + " UNION ALL ".join(parts))
    else:
        rows = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame()
        table = to_arrow(spec, rows, columns, positions=True).rename_columns([*columns, "rid"])
        con.register(f"{name}_rows", table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_rows")


def spill_dir(rows: Source) -> Path | None:
    """The scratch folder of exported inputs, where the SQL may spill too."""
    if isinstance(rows, Exported):
        return rows.files[0].parent if rows.files else None
    return rows.parent if isinstance(rows, Path) else None


def _attribute(con: duckdb.DuckDBPyConnection, name: str, config: SignalConfig) -> None:
    """Table name: the events of view pick attributed to orders (attribute.sql)."""
    run_sql(con, model_sql("attribute", SQL_DIR), {"attribution_days": config.attribution_days})
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(f"ALTER TABLE attributed RENAME TO {name}")


@contextmanager
def connection(
    events: Source,
    orders: Source,
    config: SignalConfig,
    event_types: tuple[str, ...],
    trail_types: tuple[str, ...] = (),
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the inputs, orders_latest, the latest events and ev: those of event_types, attributed.

    Deduplication looks at every event; only the events of event_types are attributed (the SQL that reads ev
    selects nothing else). With trail_types, trail holds every event, of any type, of the subjects of those.
    """
    con = open_duckdb(spill_dir(events))
    try:
        _register(con, "events", STG_EVENTS, events, RULE_EVENT_INPUT)
        _register(con, "orders", STG_ORDERS, orders, ORDER_INPUT)
        run_sql(con, model_sql("prepare", SQL_DIR), {})
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW pick AS SELECT * FROM latest WHERE event_type IN ({_type_list(event_types)})"
        )
        _attribute(con, "ev", config)
        if trail_types:
            run_sql(con, model_sql("trail", SQL_DIR), {"trail_types": list(trail_types)})
            _attribute(con, "trail", config)
        yield con
    finally:
        con.close()


def _type_list(event_types: tuple[str, ...]) -> str:
    return ", ".join(f"'{t}'" for t in sorted(set(event_types)) if t in EVENT_TYPES) or "NULL"


def slim_events(event_types: tuple[str, ...]) -> dict[str, str]:
    """SQL for the export of events: TYPED_COLUMNS left empty on events not of event_types (ev never reads those)."""
    listed = _type_list(event_types)
    return {c: f'CASE WHEN event_type IN ({listed}) THEN "{c}" END' for c in TYPED_COLUMNS}


def signal_event_types(config: SignalConfig) -> tuple[str, ...]:
    """The event types the rules of config read (the searches for search_intent)."""
    types = {t for r in config.signals for t in (r.event_type, r.end_event_type) if t is not None}
    if any(r.kind == "search_intent" for r in config.signals):
        types.add("search")
    return tuple(sorted(types))


def trail_event_types(config: SignalConfig) -> tuple[str, ...]:
    """The event types that start an abandoned_flow rule, whose evidence lists all the subject's events."""
    return tuple(sorted({r.event_type for r in config.signals if r.kind == "abandoned_flow" and r.event_type}))


def _bounds(start: dt.date, end: dt.date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(start, tz=tz), pd.Timestamp(end, tz=tz)


def rule_sql(rule: SignalRule) -> str:
    """The SQL of one rule: its kind's qualifying events counted by sliding_count.sql, or its whole query."""
    if rule.kind in COUNTED_KINDS:
        counted = model_sql("sliding_count", SQL_DIR)
        return f"CREATE OR REPLACE TEMP TABLE q AS\n{model_sql(rule.kind, SQL_DIR)};\n{counted}"
    return model_sql(rule.kind, SQL_DIR)


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
    with connection(events, orders, config, signal_event_types(config), trail_event_types(config)) as con:
        queries = con.execute("SELECT DISTINCT search_query FROM ev WHERE event_type = 'search'").fetchall()
        con.register(
            "query_causes",
            pa.Table.from_pandas(query_causes([q for (q,) in queries], cause_rules), preserve_index=False),
        )
        as_of = con.execute("SELECT max(occurred_at) FROM latest").fetchone()[0]
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
    con = open_duckdb(spill_dir(events))
    try:
        _register(con, "events", STG_EVENTS, events, EVENT_INPUT)
        params = {
            "tz": tz,
            "start": first.to_pydatetime(),
            "end": last.to_pydatetime(),
            "gap_minutes": SESSION_GAP_MINUTES,
        }
        found = run_sql(con, model_sql("sessions", SQL_DIR), params).df()
    finally:
        con.close()
    return arrow_to_frame(EVENT_SESSIONS, frame_to_arrow(EVENT_SESSIONS, found[EVENT_SESSIONS.column_names]), tz)


FOLLOW_HOURS = 24
TOP_TERMS = 10
# The event types funnels.sql reads from ev (visitors and contacts are counted over all the latest events).
FUNNEL_EVENT_TYPES = ("checkout_start", "order_track_view", "payment_result", "return_start", "return_submit", "search")


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
    with connection(events, orders, config, FUNNEL_EVENT_TYPES) as con:
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
        found = run_sql(con, model_sql("funnels", SQL_DIR), params).df()
    spec = BEHAVIOUR_FUNNELS
    return arrow_to_frame(spec, frame_to_arrow(spec, found[spec.column_names]), tz)
