"""Behaviour assets: the events source staged, sessions derived from it, signals and their measured accuracy."""

import datetime as dt
import math
from collections import Counter

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import WAREHOUSE_KIND, partitioned_asset_kwargs
from after_sales.assets.staging import stage_source
from after_sales.assets.window_exports import sql_inputs, window_exports
from after_sales.behaviour.accuracy import FEEDBACK_COLUMNS, complaints_of, measure_accuracy
from after_sales.behaviour.checks import (
    ACCURACY_CHECKS,
    FUNNEL_CHECKS,
    SIGNAL_CHECKS,
    accuracy_check,
    evidence_check,
    funnel_check,
)
from after_sales.behaviour.figures import accuracy_figures, funnel_figures, signal_figures
from after_sales.behaviour.rules import load_signal_rules
from after_sales.behaviour.signals import (
    EVENT_INPUT,
    FUNNEL_EVENT_TYPES,
    ORDER_INPUT,
    RULE_EVENT_INPUT,
    derive_sessions,
    detect_signals,
    measure_funnels,
    signal_event_types,
    slim_events,
)
from after_sales.checks.conservation import STAGING_CHECKS
from after_sales.checks.quality import check_specs
from after_sales.partitions import SETTINGS, landing_window
from after_sales.resources import LandingZone, WarehouseResource, upstream
from after_sales.tables import (
    BEHAVIOUR_FUNNELS,
    BEHAVIOUR_SIGNALS,
    EVENT_SESSIONS,
    SIGNAL_ACCURACY,
    STG_EVENTS,
    TableSpec,
)
from after_sales.windows import DateWindow

GROUP = "behaviour"
CONFIG = load_signal_rules()
LATE = SETTINGS.late_arrival_days
# Days of events before a signal day a rule can look back over (its longest window).
LOOKBACK_DAYS = math.ceil(CONFIG.lookback_hours / 24)
# Orders a signal day needs: the promised time of tracked orders and the latest order of a searching user.
ORDER_DAYS = LOOKBACK_DAYS + max(CONFIG.attribution_days, CONFIG.promised_delivery_days + LOOKBACK_DAYS) + LATE
WINDOW = CONFIG.accuracy_window_days
# The exports of events leave out what the SQL does not read: the typed columns of other event types.
SIGNAL_EXPORT = {"events": slim_events(signal_event_types(CONFIG))}
FUNNEL_EXPORT = {"events": slim_events(FUNNEL_EVENT_TYPES)}

# What each asset reads of its upstream tables: the days (Dagster's partition mapping too) and the columns.
SESSION_EVENTS = upstream("stg_events", landing_window(-1, LATE), EVENT_INPUT)
RULE_EVENTS = upstream("stg_events", landing_window(-LOOKBACK_DAYS, LATE), RULE_EVENT_INPUT)
SIGNAL_ORDERS = upstream("stg_orders", landing_window(-ORDER_DAYS, LATE), ORDER_INPUT)
SIGNALS_JUDGED = upstream("behaviour_signals", landing_window(-WINDOW, 0))
COMPLAINTS = upstream("stg_feedback", landing_window(-WINDOW, WINDOW + 1 + LATE), FEEDBACK_COLUMNS)
FUNNEL_EVENTS = upstream("stg_events", landing_window(0, LATE + 1), RULE_EVENT_INPUT)
# The event SQL runs in DuckDB over Parquet copies, within DuckDB's own memory limit (spilling past it); its chunks
# stay the 14 days the events benchmark measured (30 days of 1M events a day: 1.29x the SQL script, 1.5 GiB).
SQL_CHUNK_DAYS = 14


def _kwargs(spec: TableSpec, group: str) -> dict[str, object]:
    """The shared asset arguments; these assets compute in SQL on DuckDB."""
    kwargs = partitioned_asset_kwargs(spec, group)
    kwargs["kinds"] = {"sql", "duckdb", WAREHOUSE_KIND}
    return kwargs


@dg.asset(
    **partitioned_asset_kwargs(STG_EVENTS, "staging"),
    check_specs=check_specs("stg_events", STAGING_CHECKS),
    code_version="1",
)
def stg_events(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site behaviour events, typed; bad rows quarantined."""
    yield from stage_source(context, landing, warehouse, "events")


@dg.asset(
    **_kwargs(EVENT_SESSIONS, GROUP),
    deps=[SESSION_EVENTS.dep],
    check_specs=check_specs("event_sessions"),
    code_version="1",
)
def event_sessions(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Sessions derived from events (30 minutes without an event end a session), by the day they start."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        with sql_inputs(warehouse, window, events=SESSION_EVENTS) as i:
            rows = derive_sessions(i["events"], window.start, window.end, SETTINGS.timezone)
        return {EVENT_SESSIONS.name: Chunk(rows, metadata={"sessions": len(rows)})}

    yield from materialize_in_chunks(context, warehouse, [EVENT_SESSIONS], build, max_days=SQL_CHUNK_DAYS)


@dg.asset(
    **_kwargs(BEHAVIOUR_SIGNALS, GROUP),
    deps=[RULE_EVENTS.dep, SIGNAL_ORDERS.dep],
    check_specs=check_specs("behaviour_signals", SIGNAL_CHECKS),
    code_version="1",
)
def behaviour_signals(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Problems located from what customers do: the rules of behaviour_signals.yaml, run as SQL on DuckDB."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        i = exports.inputs(window, events=RULE_EVENTS, orders=SIGNAL_ORDERS)
        rows = detect_signals(i["events"], i["orders"], CONFIG, window.start, window.end, SETTINGS.timezone)
        by_rule = rows["rule"].value_counts().to_dict()
        metadata = {"signals": len(rows), **{f"signals/{r.name}": int(by_rule.get(r.name, 0)) for r in CONFIG.signals}}
        per_day = signal_figures(rows, [r.name for r in CONFIG.signals], window.days())
        checks = [evidence_check(rows, window.days())]
        return {BEHAVIOUR_SIGNALS.name: Chunk(rows, checks=checks, metadata=metadata, per_day=per_day)}

    with window_exports(warehouse, SIGNAL_EXPORT) as exports:
        yield from materialize_in_chunks(context, warehouse, [BEHAVIOUR_SIGNALS], build, max_days=SQL_CHUNK_DAYS)


@dg.asset(
    **_kwargs(SIGNAL_ACCURACY, GROUP),
    deps=[SIGNALS_JUDGED.dep, COMPLAINTS.dep],
    check_specs=check_specs("signal_accuracy", ACCURACY_CHECKS),
    code_version="1",
)
def signal_accuracy(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Each signal rule's precision, recall and lead time against the complaints within 7 days (SQL on DuckDB)."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of({"feedback": COMPLAINTS, "signals": SIGNALS_JUDGED}, window)
        feedback = read["feedback"]
        seen = max(feedback["landing_date"]) if len(feedback) else window.start - dt.timedelta(days=1)
        seen = seen if isinstance(seen, dt.date) else pd.Timestamp(seen).date()
        rows = measure_accuracy(
            read["signals"],
            complaints_of(feedback),
            CONFIG,
            window.start,
            window.end,
            SETTINGS.timezone,
            seen,
        )
        check = accuracy_check(rows, len(CONFIG.signals), window.days())
        chunk = Chunk(rows, checks=[check], metadata=_accuracy_metadata(rows), per_day=accuracy_figures(rows))
        return {SIGNAL_ACCURACY.name: chunk}

    sized = warehouse.sizer(COMPLAINTS, SIGNALS_JUDGED)
    yield from materialize_in_chunks(
        context, warehouse, [SIGNAL_ACCURACY], build, render=_render_accuracy, sized_by=sized
    )


COUNTS = ("signals", "confirmed_signals", "complaints", "anticipated_complaints")


def _accuracy_metadata(rows: pd.DataFrame) -> dict[str, object]:
    sums = rows.groupby("rule")[list(COUNTS)].sum()
    return {f"by_rule/{c}": Counter({rule: int(n) for rule, n in sums[c].items()}) for c in COUNTS}


def _render_accuracy(_: str, totals: dict[str, object]) -> dict[str, object]:
    """The window's precision and recall per rule (counts summed over the chunks) as a markdown table."""
    out = dict(totals)
    c = {name: out.pop(f"by_rule/{name}", Counter()) for name in COUNTS}
    lines = ["| rule | signals | precision | complaints | recall |", "|---|---|---|---|---|"]
    for rule in sorted(c["signals"] | c["complaints"]):
        n, k = c["signals"][rule], c["complaints"][rule]
        p = f"{c['confirmed_signals'][rule] / n:.2f}" if n else "-"
        r = f"{c['anticipated_complaints'][rule] / k:.2f}" if k else "-"
        lines.append(f"| {rule} | {n} | {p} | {k} | {r} |")
    out["accuracy"] = dg.MetadataValue.md("\n".join(lines))
    return out


@dg.asset(
    **_kwargs(BEHAVIOUR_FUNNELS, GROUP),
    deps=[FUNNEL_EVENTS.dep, SIGNAL_ORDERS.dep],
    check_specs=check_specs("behaviour_funnels", FUNNEL_CHECKS),
    code_version="1",
)
def behaviour_funnels(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Checkout to payment, tracking after the promise, return completion, contact rate and search analytics."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        i = exports.inputs(window, events=FUNNEL_EVENTS, orders=SIGNAL_ORDERS)
        rows = measure_funnels(i["events"], i["orders"], CONFIG, window.start, window.end, SETTINGS.timezone)
        checks = [funnel_check(rows, window.days())]
        return {BEHAVIOUR_FUNNELS.name: Chunk(rows, checks=checks, per_day=funnel_figures(rows))}

    with window_exports(warehouse, FUNNEL_EXPORT) as exports:
        yield from materialize_in_chunks(context, warehouse, [BEHAVIOUR_FUNNELS], build, max_days=SQL_CHUNK_DAYS)
