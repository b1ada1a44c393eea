"""Closed-loop assets: the helpdesk action log staged, each action's measured effect, the daily effectiveness per
cause and action, and the ranking work orders suggest from (docs/behaviour.md)."""

import datetime as dt

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import WAREHOUSE_KIND, partitioned_asset_kwargs
from after_sales.assets.staging import FileLedger, alert_refused, render_staged, stage_window, staged_chunk
from after_sales.behaviour.accuracy import FEEDBACK_COLUMNS, complaints_of
from after_sales.behaviour.actions import ACTIONS_KIND, SOURCE, load_action_log_config, resolve_work_orders
from after_sales.behaviour.effects import (
    EVENT_COLUMNS,
    measure_effects,
    problems_found,
    rank_actions,
    summarize_effects,
)
from after_sales.checks.conservation import STAGING_CHECKS
from after_sales.checks.quality import check_specs
from after_sales.partitions import FEEDBACK_WINDOW_DAYS, SETTINGS, landing_window
from after_sales.resources import LandingZone, WarehouseResource, upstream
from after_sales.tables import (
    ACTION_EFFECTIVENESS,
    ACTION_EFFECTS,
    ACTION_RANKING,
    ORDER_TABLES,
    STG_ACTIONS,
    TableSpec,
)
from after_sales.transforms.marts import latest_version
from after_sales.transforms.rules import load_service_rules
from after_sales.windows import DateWindow

GROUP = "behaviour"
CONFIG = load_action_log_config()
LATE = SETTINGS.late_arrival_days
W = CONFIG.effect_window_days
# An action is taken on a work order opened within FEEDBACK_WINDOW_DAYS of its order, and up to W days later again.
ORDER_DAYS = FEEDBACK_WINDOW_DAYS + W + LATE
ACTION_COLUMNS = [*STG_ACTIONS.column_names]
EVENT_INPUT = [*EVENT_COLUMNS, "landing_date"]
# What each asset reads of its upstream tables: the days (Dagster's partition mapping too) and the columns.
ORDER_WINDOW = landing_window(-ORDER_DAYS, LATE)
KNOWN_ORDERS = {t: upstream(t, ORDER_WINDOW, ["order_id", "landing_date"]) for t in ORDER_TABLES}
# Windows no longer than a landing file already reaches back through the feedback (docs/behaviour.md).
EFFECT_INPUTS = {
    "actions": upstream("stg_actions", landing_window(-W, LATE), ACTION_COLUMNS),
    "events": upstream("stg_events", landing_window(0, W + LATE), EVENT_INPUT),
    "orders": upstream("stg_orders", ORDER_WINDOW, ["order_id", "user_id"]),
    "feedback": upstream("stg_feedback", landing_window(0, W + LATE), FEEDBACK_COLUMNS),
    "problems": upstream("problem_orders", landing_window(-ORDER_DAYS, 0), ["order_id", "matched_causes", "found_at"]),
    "signals": upstream("behaviour_signals", landing_window(-ORDER_DAYS, 0), ["order_id", "cause", "detected_at"]),
}
EFFECTS_IN = upstream("action_effects")
EFFECTS_BEFORE = upstream("action_effects", landing_window(-CONFIG.ranking_lookback_days, -1))


def _kwargs(spec: TableSpec) -> dict[str, object]:
    kwargs = partitioned_asset_kwargs(spec, GROUP)
    kwargs["kinds"] = {"sql", "duckdb", WAREHOUSE_KIND}
    return kwargs


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]


@dg.asset(
    **partitioned_asset_kwargs(STG_ACTIONS, "staging"),
    deps=[u.dep for u in KNOWN_ORDERS.values()],
    check_specs=check_specs("stg_actions", STAGING_CHECKS),
    code_version="1",
)
def stg_actions(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """The helpdesk action log mapped by helpdesk_actions.yaml; rows naming unknown work orders/orders quarantined."""
    days = ORDER_WINDOW
    searched = f"from {-days.start_offset} days before to {days.end_offset} days after its landing day"

    def build(window: DateWindow) -> dict[str, Chunk]:
        ledger = FileLedger(SOURCE, window.days())
        result = stage_window(context, landing, SOURCE, ACTIONS_KIND, window, ledger)
        known = _concat(list(warehouse.rows_of(KNOWN_ORDERS, window).values()))
        result = resolve_work_orders(result, known, searched)
        alert_refused(context, STG_ACTIONS.name, ledger.refused)
        return {STG_ACTIONS.name: staged_chunk(result, window, ledger=ledger)}

    sized = landing.sizer(SOURCE)
    yield from materialize_in_chunks(context, warehouse, [STG_ACTIONS], build, render=render_staged, sized_by=sized)


def _in_days(frame: pd.DataFrame, column: str, window: DateWindow) -> pd.DataFrame:
    day = pd.to_datetime(frame[column])
    return frame.loc[(day >= pd.Timestamp(window.start)) & (day < pd.Timestamp(window.end))]


@dg.asset(
    **_kwargs(ACTION_EFFECTS),
    deps=[u.dep for u in EFFECT_INPUTS.values()],
    check_specs=check_specs("action_effects"),
    code_version="1",
)
def action_effects(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """What each logged action did: the customer's events and feedback in the 7 days after it (SQL on DuckDB)."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of(EFFECT_INPUTS, window)
        around = latest_version(read["actions"], "action_id")
        actions = _in_days(around, "business_date", window)
        events = read["events"]
        feedback = latest_version(read["feedback"], "feedback_id")
        seen = _seen_until(events, feedback, window)
        rows = measure_effects(
            actions,
            around,
            events,
            read["orders"],
            complaints_of(feedback),
            feedback,
            problems_found(read["problems"], read["signals"]),
            CONFIG,
            seen,
            SETTINGS.timezone,
        )
        measured = int(rows["window_closed"].sum())
        metadata = {"actions": len(rows), "measured_actions": measured, "resolved_actions": int(rows["resolved"].sum())}
        return {ACTION_EFFECTS.name: Chunk(rows, metadata=metadata)}

    yield from materialize_in_chunks(
        context, warehouse, [ACTION_EFFECTS], build, sized_by=warehouse.sizer(*EFFECT_INPUTS.values())
    )


def _seen_until(events: pd.DataFrame, feedback: pd.DataFrame, window: DateWindow) -> pd.Timestamp:
    """The end of the last day both events and feedback have landed for (midnight after it, business time zone)."""
    days = [pd.Timestamp(max(f["landing_date"])).date() for f in (events, feedback) if len(f)]
    last = min(days) if len(days) == 2 else window.start - dt.timedelta(days=1)
    return pd.Timestamp(last + dt.timedelta(days=1)).tz_localize(SETTINGS.timezone)


@dg.asset(
    **_kwargs(ACTION_EFFECTIVENESS),
    deps=[EFFECTS_IN.dep],
    check_specs=check_specs("action_effectiveness"),
    code_version="1",
)
def action_effectiveness(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Per action day, cause and action: resolution rate, re-contact rate, follow-up score, time to resolve."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        rows = summarize_effects(warehouse.rows(EFFECTS_IN, window), SETTINGS.timezone)
        return {ACTION_EFFECTIVENESS.name: Chunk(rows, metadata={"rows": len(rows)})}

    yield from materialize_in_chunks(
        context, warehouse, [ACTION_EFFECTIVENESS], build, sized_by=warehouse.sizer(EFFECTS_IN)
    )


@dg.asset(
    **_kwargs(ACTION_RANKING),
    deps=[EFFECTS_BEFORE.dep],
    check_specs=check_specs("action_ranking"),
    code_version="1",
)
def action_ranking(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Each cause's actions ranked by the Wilson lower bound of their measured resolution rate, as of each day."""
    rules = load_service_rules()

    def build(window: DateWindow) -> dict[str, Chunk]:
        effects = warehouse.rows(EFFECTS_BEFORE, window)
        rows = rank_actions(effects, rules, CONFIG, window.start, window.end, SETTINGS.timezone)
        first = rows.loc[rows["rank"] == 1]
        moved = first.loc[first["prior_rank"] != 1]
        metadata = {"rows": len(rows), "days_first_choice_moved": int(moved["business_date"].nunique())}
        return {ACTION_RANKING.name: Chunk(rows, metadata=metadata)}

    sized = warehouse.sizer(EFFECTS_BEFORE)
    yield from materialize_in_chunks(context, warehouse, [ACTION_RANKING], build, sized_by=sized)
