"""Metric assets, partitioned by business date: daily additive tables, period roll-ups, service-item scores.

The daily tables are built chunk by chunk over the run's partition window. The roll-up tables are windowed
by period end: rebuilding days [a, b] rewrites every period whose window reaches them (period ends from a
to about two months after b, see transforms/rollups.py), so a backfill in any order leaves them right. Every
existing partition rewritten that way gets its own materialization (assets/chunked.py), so the UI's partition
status and row counts stay true after a backfill of earlier days.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import (
    ROLLUP_POOL_PREFIX,
    WORK_ORDER_INPUTS,
    WORK_ORDERS_IN,
    clip_to_backfill,
    partitioned_asset_kwargs,
    work_orders_of,
)
from after_sales.checks.metrics_checks import (
    BY_CAUSE_CHECKS,
    BY_CHANNEL_CHECKS,
    BY_ITEM_CHECKS,
    METRICS_CHECKS,
    ROLLUP_CHECKS,
    by_cause_conservation,
    by_channel_conservation,
    by_item_conservation,
    metric_ranges,
    metrics_conservation,
    rollup_consistency,
)
from after_sales.checks.quality import check_specs
from after_sales.partitions import (
    FEEDBACK_WINDOW_DAYS,
    LATE_ROWS,
    SESSIONS_WITH_HISTORY,
    SETTINGS,
    TRAILING_VISITOR_DAYS,
    DayWindow,
    date_window,
    landing_window,
)
from after_sales.resources import Upstream, WarehouseResource, upstream
from after_sales.sources import CHANNEL_SOURCES
from after_sales.tables import (
    FCT_ORDER_FEEDBACK,
    METRIC_TABLES,
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    QUARANTINE_FILES,
    SERVICE_ITEM_SCORES,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms.marts import latest_version
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.metrics import (
    build_metrics_daily,
    build_metrics_daily_by_cause,
    build_metrics_daily_by_channel,
    ticket_rows,
)
from after_sales.transforms.rollups import (
    TRAFFIC_DAYS,
    PeriodReads,
    RollupPlan,
    build_cause_rollups,
    build_metrics_rollups,
    build_service_item_scores,
)
from after_sales.transforms.service_scores import build_metrics_daily_by_service_item
from after_sales.transforms.sessions import EVENT_SESSION_COLUMNS, SESSION_MEASURE_COLUMNS, metric_sessions
from after_sales.windows import DateWindow

GROUP = "metrics"
# The fact columns the metrics read (only these are read).
FACT_COLUMNS = [
    "business_date",
    "order_id",
    "order_scope",
    "channel",
    "amount",
    "feedback_id",
    "feedback_created_at",
    "rating",
    "issue_type",
    "first_response_at",
    "resolved_at",
    "resolution",
    "reopened",
    "refund_amount",
    "has_feedback",
]
FACT_IN = upstream(FCT_ORDER_FEEDBACK.name, columns=FACT_COLUMNS)
PROBLEMS_IN = upstream("problem_orders")
SESSIONS_IN = upstream("stg_behaviour", SESSIONS_WITH_HISTORY, SESSION_MEASURE_COLUMNS)
EVENT_SESSIONS_IN = upstream("event_sessions", landing_window(-TRAILING_VISITOR_DAYS, 0), EVENT_SESSION_COLUMNS)
# Actions logged on the work orders of day D's orders: those landed within the feedback window of D.
ACTIONS_OF_ORDERS = upstream(
    "stg_actions",
    landing_window(0, FEEDBACK_WINDOW_DAYS),
    ["work_order_id", "action", "acted_at", "action_id", "landing_date", "source_file", "source_row"],
)
# metrics_rollups reads history before a period: the traffic comparison week and the backlog lookback.
ROLLUP_READS = PeriodReads(max(TRAFFIC_DAYS, load_metric_rules().backlog_lookback_days))
# The cause and service-item roll-ups read their periods' days only.
PERIOD_DAYS = PeriodReads()


# Files refused as a whole (quarantine_files) that may hold rows of the window's business dates.
REFUSED_IN = upstream(QUARANTINE_FILES.name, LATE_ROWS, ["landing_date", "source", "source_file"])
# What every daily metric table reads, on one connection per chunk.
DAILY_INPUTS = {"fact": FACT_IN, "problems": PROBLEMS_IN, "refused": REFUSED_IN, **WORK_ORDER_INPUTS}


COUNT_COLUMNS = {c.name for spec in (METRICS_DAILY, *METRIC_TABLES) for c in spec.columns if c.type == "int"}


def _number(value: object) -> float | None:
    """A metadata number, or None for a missing value (Dagster plots skip it)."""
    if value is None or pd.isna(value):
        return None
    return float(value)


def _figures(row: pd.Series, names: list[str], suffix: str = "") -> dict[str, object]:
    """Numeric metadata from one row: ints stay ints, missing figures are left out."""
    out: dict[str, object] = {}
    for name in names:
        value = _number(row.get(name))
        if value is None:
            continue
        out[name + suffix] = int(value) if name in COUNT_COLUMNS else value
    return out


def _markdown(frame: pd.DataFrame, columns: list[str], limit: int = 40) -> dg.MetadataValue:
    """A markdown table of some columns (rates and hours rounded), at most limit rows."""
    shown = frame[columns].tail(limit).copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            shown[c] = shown[c].round(3)
    return dg.MetadataValue.md(shown.to_markdown(index=False) if len(shown) else "_no rows_")


def _per_partition(context: dg.AssetExecutionContext, by_day: dict[dt.date, dict[str, object]]) -> None:
    """Record each day's headline figures on its own partition, so Dagster plots them over partitions."""
    for day, figures in by_day.items():
        if figures:
            context.add_asset_metadata(figures, partition_key=day.isoformat())


def _per_partition_by(
    context: dg.AssetExecutionContext,
    frame: pd.DataFrame,
    days: list[dt.date],
    figures: list[str],
    label: str,
    date_column: str = "business_date",
    suffix: str = "",
) -> None:
    """Record figures on the partitions of days, one metadata entry per value of the label column (figure/label)."""
    by_day: dict[dt.date, dict[str, object]] = {d: {} for d in days}
    for _, r in frame.loc[frame[date_column].isin(days)].iterrows():
        by_day[r[date_column]].update(_figures(r, figures, f"{suffix}/{r[label]}"))
    _per_partition(context, by_day)


HEADLINE = [
    "orders",
    "problem_orders",
    "complaint_rate",
    "tickets",
    "effective_after_sales_count",
    "handling_time_hours_mean",
    "csat",
    "first_response_hours_median",
    "resolution_hours_median",
    "resolution_hours_p90",
    "one_touch_rate",
    "reopen_rate",
    "sla_achieved_rate",
    "sla_breached",
    "refund_rate",
    "dispute_rate",
    "work_orders",
    "submission_rate",
    "rolling_visitor_rate",
]


@dg.asset(
    **partitioned_asset_kwargs(METRICS_DAILY, GROUP),
    deps=[u.dep for u in (FACT_IN, PROBLEMS_IN, WORK_ORDERS_IN, SESSIONS_IN, EVENT_SESSIONS_IN)],
    check_specs=check_specs("metrics_daily", METRICS_CHECKS),
    code_version="4",
)
def metrics_daily(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """The service measures per business day over all channels, with headline figures per partition."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of({**DAILY_INPUTS, "sessions": SESSIONS_IN, "events": EVENT_SESSIONS_IN}, window)
        fact, orders = read["fact"], work_orders_of(read)
        metrics = build_metrics_daily(
            fact,
            read["problems"],
            orders,
            metric_sessions(read["sessions"], read["events"]),
            window.start,
            window.end,
            refused=read["refused"],
            late_days=SETTINGS.late_arrival_days,
        )
        _per_partition(context, {r["business_date"]: _figures(r, HEADLINE) for _, r in metrics.iterrows()})
        metadata = {
            "days": len(metrics),
            "orders_in_window": int(metrics["orders"].sum()),
            "window_figures": dg.MetadataValue.md(
                metrics[["business_date", *HEADLINE]].round(3).tail(40).to_markdown(index=False)
            ),
        }
        checks = [
            metrics_conservation(metrics, fact, orders, window.days()),
            metric_ranges(METRICS_DAILY, metrics, window.days()),
        ]
        return {METRICS_DAILY.name: Chunk(metrics, checks=checks, metadata=metadata)}

    sized = warehouse.sizer(*DAILY_INPUTS.values(), SESSIONS_IN, EVENT_SESSIONS_IN)
    yield from materialize_in_chunks(context, warehouse, [METRICS_DAILY], build, sized_by=sized)


DAILY_INS = (FACT_IN, PROBLEMS_IN, WORK_ORDERS_IN)


def _daily_kwargs(
    spec: TableSpec, checks: dict[str, str], ins: tuple[Upstream, ...], code_version: str = "1"
) -> dict[str, object]:
    return {
        **partitioned_asset_kwargs(spec, GROUP),
        "deps": [u.dep for u in ins],
        "check_specs": check_specs(spec.name, checks),
        "code_version": code_version,
    }


CHANNEL_FIGURES = ["orders", "complaint_rate", "csat", "refund_rate", "dispute_rate", "sla_achieved_rate"]


@dg.asset(**_daily_kwargs(METRICS_DAILY_BY_CHANNEL, BY_CHANNEL_CHECKS, DAILY_INS, code_version="2"))
def metrics_daily_by_channel(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """The service measures per business day and channel (own site and each marketplace)."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of(DAILY_INPUTS, window)
        fact, orders = read["fact"], work_orders_of(read)
        frame = build_metrics_daily_by_channel(
            fact,
            read["problems"],
            orders,
            refused=read["refused"],
            late_days=SETTINGS.late_arrival_days,
            channel_sources=CHANNEL_SOURCES,
        )
        _per_partition_by(context, frame, window.days(), CHANNEL_FIGURES, "channel")
        metadata = {
            "channels": sorted(frame["channel"].unique()),
            "window_figures": _markdown(frame, ["business_date", "channel", *CHANNEL_FIGURES]),
        }
        checks = [
            by_channel_conservation(frame, fact, orders, window.days()),
            metric_ranges(METRICS_DAILY_BY_CHANNEL, frame, window.days()),
        ]
        return {METRICS_DAILY_BY_CHANNEL.name: Chunk(frame, checks=checks, metadata=metadata)}

    sized = warehouse.sizer(*DAILY_INPUTS.values())
    yield from materialize_in_chunks(
        context, warehouse, [METRICS_DAILY_BY_CHANNEL], build, render=_channels, sized_by=sized
    )


def _channels(_: str, totals: dict[str, object]) -> dict[str, object]:
    out = dict(totals)
    out["channels"] = dg.MetadataValue.text(", ".join(sorted(set(out.get("channels") or []))))
    return out


CAUSE_FIGURES = ["problem_issues", "work_orders", "sla_achieved_rate", "resolution_hours_median", "followup_score"]


@dg.asset(**_daily_kwargs(METRICS_DAILY_BY_CAUSE, BY_CAUSE_CHECKS, DAILY_INS))
def metrics_daily_by_cause(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Problem issues and work-order measures per business day and located cause."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of(DAILY_INPUTS, window)
        problems, orders = read["problems"], work_orders_of(read)
        frame = build_metrics_daily_by_cause(read["fact"], problems, orders)
        _per_partition_by(context, frame, window.days(), ["problem_issues", "work_orders"], "cause")
        metadata = {"window_figures": _markdown(frame, ["business_date", "cause", *CAUSE_FIGURES])}
        checks = [
            by_cause_conservation(frame, problems, orders, window.days()),
            metric_ranges(METRICS_DAILY_BY_CAUSE, frame, window.days()),
        ]
        return {METRICS_DAILY_BY_CAUSE.name: Chunk(frame, checks=checks, metadata=metadata)}

    sized = warehouse.sizer(*DAILY_INPUTS.values())
    yield from materialize_in_chunks(context, warehouse, [METRICS_DAILY_BY_CAUSE], build, sized_by=sized)


@dg.asset(
    **_daily_kwargs(
        METRICS_DAILY_BY_SERVICE_ITEM,
        BY_ITEM_CHECKS,
        (FACT_IN, WORK_ORDERS_IN, ACTIONS_OF_ORDERS),
    )
)
def metrics_daily_by_service_item(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Per business day and service item: work orders that suggested and used it, follow-up rating sums."""

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of({"fact": FACT_IN, "actions": ACTIONS_OF_ORDERS, **WORK_ORDER_INPUTS}, window)
        orders = work_orders_of(read)
        logged = latest_version(read["actions"], "action_id")
        frame = build_metrics_daily_by_service_item(orders, read["fact"], window.start, window.end, actions=logged)
        _per_partition_by(context, frame, window.days(), ["work_orders"], "service_action")
        totals = frame.groupby("service_action", sort=False)[["work_orders", "followup_ratings"]].sum()
        checks = [
            by_item_conservation(frame, orders, window.days()),
            metric_ranges(METRICS_DAILY_BY_SERVICE_ITEM, frame, window.days()),
        ]
        metadata = {f"{c} by item": Counter(totals[c].to_dict()) for c in ("work_orders", "followup_ratings")}
        return {METRICS_DAILY_BY_SERVICE_ITEM.name: Chunk(frame, checks=checks, metadata=metadata)}

    sized = warehouse.sizer(FACT_IN, ACTIONS_OF_ORDERS, *WORK_ORDER_INPUTS.values())
    yield from materialize_in_chunks(
        context, warehouse, [METRICS_DAILY_BY_SERVICE_ITEM], build, render=_service_item_totals, sized_by=sized
    )


def _service_item_totals(_: str, totals: dict[str, object]) -> dict[str, object]:
    out = dict(totals)
    sums = {c: out.pop(f"{c} by item", Counter()) for c in ("work_orders", "followup_ratings")}
    table = pd.DataFrame(sums).rename_axis("service_action").reset_index()
    out["window_totals"] = _markdown(table, list(table.columns))
    return out


# --- Roll-ups: written directly, over the period ends a rebuilt window reaches ------------------------------


def _rollup_kwargs(spec: TableSpec, deps: list[str], reads: PeriodReads) -> dict[str, object]:
    return {
        **partitioned_asset_kwargs(spec, GROUP),
        "deps": [upstream(d, DayWindow(-reads.days_before, 0)).dep for d in deps],
        "check_specs": check_specs(spec.name, ROLLUP_CHECKS),
        "code_version": "1",
        "pool": ROLLUP_POOL_PREFIX + spec.name,
    }


def rollups_in_chunks(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    spec: TableSpec,
    reads: PeriodReads,
    build: Callable[[RollupPlan, DateWindow], Chunk],
    inputs: Sequence[Upstream],
) -> Emitted:
    """Rewrite every period end the rebuilt days reach, in chunks of period ends, each validated and written alone
    (chunks sized by the rows of inputs their periods read)."""
    changed = date_window(context.partition_time_window)
    plan = reads.after_change(changed)

    def build_ends(ends: DateWindow) -> dict[str, Chunk]:
        return {spec.name: build(reads.of_ends(ends), changed)}

    # Within a backfill split into runs, the period ends of its later runs are theirs to write.
    write = clip_to_backfill(context, plan.write)
    sized = warehouse.sizer(*inputs, reads=lambda ends: reads.of_ends(ends).read)
    yield from materialize_in_chunks(context, warehouse, [spec], build_ends, window=write, sized_by=sized)


# What the roll-ups read over a plan's days (plan.read).
DAILY_IN = upstream(METRICS_DAILY.name)
DAYS_BUILT = upstream(METRICS_DAILY.name, columns=["business_date"])
BY_CHANNEL_IN = upstream(METRICS_DAILY_BY_CHANNEL.name)
BY_CAUSE_IN = upstream(METRICS_DAILY_BY_CAUSE.name)
BY_ITEM_IN = upstream(METRICS_DAILY_BY_SERVICE_ITEM.name)
WO = {"work_orders": WORK_ORDERS_IN}

ROLLUP_FIGURES = [
    "orders",
    "complaint_rate",
    "csat",
    "first_response_hours_median",
    "resolution_hours_median",
    "resolution_hours_p90",
    "one_touch_rate",
    "reopen_rate",
    "sla_achieved_rate",
    "refund_rate",
    "dispute_rate",
    "backlog_work_orders",
    "backlog_overdue",
    "backlog_age_hours_median",
]


@dg.asset(
    **_rollup_kwargs(
        METRICS_ROLLUPS,
        [METRICS_DAILY.name, METRICS_DAILY_BY_CHANNEL.name, FCT_ORDER_FEEDBACK.name, WORK_ORDERS.name],
        ROLLUP_READS,
    )
)
def metrics_rollups(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Day, rolling 7/28-day, week and month figures per channel and 'all', backlog at each period's end."""

    inputs = {"daily": DAILY_IN, "by_channel": BY_CHANNEL_IN, "fact": FACT_IN, **WO}

    def build(plan: RollupPlan, changed: DateWindow) -> Chunk:
        read = warehouse.rows_of(inputs, plan.read)
        daily, tickets = read["daily"], ticket_rows(read["fact"])
        frame = build_metrics_rollups(daily, read["by_channel"], tickets, read["work_orders"], plan, SETTINGS.timezone)
        rolling = frame.loc[(frame["period"] == "rolling_28d") & (frame["channel"] == "all")]
        by_day = {
            r["period_end"]: {**_figures(r, ROLLUP_FIGURES[:-3], "_28d"), **_figures(r, ROLLUP_FIGURES[-3:])}
            for _, r in rolling.iterrows()
        }
        _per_partition(context, {d: by_day[d] for d in changed.days() if d in by_day})
        shown = rolling.loc[rolling["period_end"] < changed.end]
        metadata = {"last_28_days": _markdown(shown, ["period_end", *ROLLUP_FIGURES], limit=31)} if len(shown) else {}
        checks = [rollup_consistency(frame, daily), metric_ranges(METRICS_ROLLUPS, frame, None)]
        return Chunk(frame, checks=checks, metadata=metadata)

    yield from rollups_in_chunks(context, warehouse, METRICS_ROLLUPS, ROLLUP_READS, build, list(inputs.values()))


@dg.asset(
    **_rollup_kwargs(
        METRICS_ROLLUPS_BY_CAUSE, [METRICS_DAILY.name, METRICS_DAILY_BY_CAUSE.name, WORK_ORDERS.name], PERIOD_DAYS
    )
)
def metrics_rollups_by_cause(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Day, rolling 7/28-day, week and month figures per located cause."""

    inputs = {"days": DAYS_BUILT, "by_cause": BY_CAUSE_IN, **WO}

    def build(plan: RollupPlan, changed: DateWindow) -> Chunk:
        read = warehouse.rows_of(inputs, plan.read)
        built = set(read["days"]["business_date"])
        frame = build_cause_rollups(read["by_cause"], built, read["work_orders"], plan)
        rolling = frame.loc[frame["period"] == "rolling_28d"]
        figures = ["problem_issues", "followup_score"]
        _per_partition_by(context, rolling, changed.days(), figures, "cause", "period_end", "_28d")
        last = rolling.loc[rolling["period_end"] == changed.end - dt.timedelta(days=1)]
        metadata = {"last_day_28_days": _markdown(last, ["cause", *CAUSE_FIGURES])} if len(last) else {}
        checks = [rollup_consistency(frame, None), metric_ranges(METRICS_ROLLUPS_BY_CAUSE, frame, None)]
        return Chunk(frame, checks=checks, metadata=metadata)

    yield from rollups_in_chunks(
        context, warehouse, METRICS_ROLLUPS_BY_CAUSE, PERIOD_DAYS, build, list(inputs.values())
    )


SCORE_COLUMNS = ["service_action", "work_orders", "followup_ratings", "score", "score_ci_low", "score_ci_high", "grade"]


@dg.asset(**_rollup_kwargs(SERVICE_ITEM_SCORES, [METRICS_DAILY.name, METRICS_DAILY_BY_SERVICE_ITEM.name], PERIOD_DAYS))
def service_item_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """A 5-point score, confidence interval and grade per service item and period."""

    inputs = {"days": DAYS_BUILT, "by_item": BY_ITEM_IN}

    def build(plan: RollupPlan, changed: DateWindow) -> Chunk:
        read = warehouse.rows_of(inputs, plan.read)
        frame = build_service_item_scores(read["by_item"], set(read["days"]["business_date"]), plan)
        rolling = frame.loc[frame["period"] == "rolling_28d"]
        figures = ["score", "followup_ratings"]
        _per_partition_by(context, rolling, changed.days(), figures, "service_action", "period_end", "_28d")
        latest = rolling.loc[rolling["period_end"] == changed.end - dt.timedelta(days=1)]
        latest = latest.assign(grade=latest["grade"].fillna("too few ratings"))
        metadata: dict[str, object] = {"rules": load_metric_rules().scale_text()}
        if len(latest):
            metadata["grades_28_days"] = _markdown(latest, SCORE_COLUMNS)
        checks = [rollup_consistency(frame, None), metric_ranges(SERVICE_ITEM_SCORES, frame, None)]
        return Chunk(frame, checks=checks, metadata=metadata)

    yield from rollups_in_chunks(context, warehouse, SERVICE_ITEM_SCORES, PERIOD_DAYS, build, list(inputs.values()))
