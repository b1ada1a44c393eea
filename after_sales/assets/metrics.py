"""Metric assets, partitioned by business date: daily additive tables, period roll-ups, service-item scores.

The daily tables go through the warehouse IO manager (one partition window per run). The roll-up tables
are written here directly: rebuilding days [a, b] rewrites every period whose window reaches them (period
ends from a to about two months after b, see transforms/rollups.py), so a backfill in any order leaves them right.
"""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs, validated_output
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
from after_sales.checks.quality import CustomCheck, check_specs, evaluate
from after_sales.partitions import SESSIONS_WITH_HISTORY, SETTINGS, date_window
from after_sales.resources import WarehouseResource
from after_sales.resources.warehouse import DateWindow, TableWrite
from after_sales.tables import (
    DATA_QUALITY_RUNS,
    FCT_ORDER_FEEDBACK,
    METRIC_TABLES,
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    SERVICE_ITEM_SCORES,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.metrics import (
    build_metrics_daily,
    build_metrics_daily_by_cause,
    build_metrics_daily_by_channel,
    ticket_rows,
)
from after_sales.transforms.rollups import (
    TRAFFIC_DAYS,
    RollupPlan,
    build_cause_rollups,
    build_metrics_rollups,
    build_service_item_scores,
    plan_rollups,
)
from after_sales.transforms.service_scores import build_metrics_daily_by_service_item

Emitted = Iterator[dg.Output | dg.AssetCheckResult]
Written = Iterator[dg.MaterializeResult | dg.AssetCheckResult]

GROUP = "metrics"
# The fact columns the metrics read (the IO manager reads only these).
FACT_COLUMNS = [
    "business_date",
    "order_id",
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
FACT_IN = dg.AssetIn(metadata={"columns": FACT_COLUMNS})
# metrics_rollups reads history before a period: the traffic comparison week and the backlog lookback.
ROLLUP_LOOKBACK = max(TRAFFIC_DAYS, load_metric_rules().backlog_lookback_days)
# Period ending on D reads business dates back to the start of its month or 28-day window, minus the lookback.
LONGEST_PERIOD_DAYS = 31


def _trailing(lookback: int) -> dg.TimeWindowPartitionMapping:
    return dg.TimeWindowPartitionMapping(
        start_offset=-(LONGEST_PERIOD_DAYS - 1 + lookback), end_offset=0, allow_nonexistent_upstream_partitions=True
    )


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
    context: dg.AssetExecutionContext, frame: pd.DataFrame, days: list[dt.date], figures: list[str], label: str
) -> None:
    """Record figures per partition, one metadata entry per value of the label column (figure/label)."""
    by_day: dict[dt.date, dict[str, object]] = {d: {} for d in days}
    for _, r in frame.iterrows():
        by_day[r["business_date"]].update(_figures(r, figures, f"/{r[label]}"))
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
    ins={"fct_order_feedback": FACT_IN, "stg_behaviour": dg.AssetIn(partition_mapping=SESSIONS_WITH_HISTORY)},
    check_specs=check_specs("metrics_daily", METRICS_CHECKS),
    code_version="2",
)
def metrics_daily(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    fct_order_feedback: pd.DataFrame,
    problem_orders: pd.DataFrame,
    work_orders: pd.DataFrame,
    stg_behaviour: pd.DataFrame,
) -> Emitted:
    """The service measures per business day over all channels, with headline figures per partition."""
    window = date_window(context.partition_time_window)
    metrics = build_metrics_daily(
        fct_order_feedback, problem_orders, work_orders, stg_behaviour, window.start, window.end
    )
    _per_partition(context, {r["business_date"]: _figures(r, HEADLINE) for _, r in metrics.iterrows()})
    metadata = {
        "days": len(metrics),
        "orders_in_window": int(metrics["orders"].sum()),
        "window": dg.MetadataValue.md(metrics[["business_date", *HEADLINE]].round(3).tail(40).to_markdown(index=False)),
    }
    checks = [
        metrics_conservation(metrics, fct_order_feedback, work_orders, window.days()),
        metric_ranges(METRICS_DAILY, metrics, window.days()),
    ]
    yield from validated_output(context, METRICS_DAILY, metrics, warehouse, custom=checks, metadata=metadata)


def _daily_kwargs(spec: TableSpec, checks: dict[str, str], ins: dict[str, dg.AssetIn]) -> dict[str, object]:
    return {
        **partitioned_asset_kwargs(spec, GROUP),
        "ins": ins,
        "check_specs": check_specs(spec.name, checks),
        "code_version": "1",
    }


CHANNEL_FIGURES = ["orders", "complaint_rate", "csat", "refund_rate", "dispute_rate", "sla_achieved_rate"]


@dg.asset(**_daily_kwargs(METRICS_DAILY_BY_CHANNEL, BY_CHANNEL_CHECKS, {"fct_order_feedback": FACT_IN}))
def metrics_daily_by_channel(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    fct_order_feedback: pd.DataFrame,
    problem_orders: pd.DataFrame,
    work_orders: pd.DataFrame,
) -> Emitted:
    """The service measures per business day and channel (own site and each marketplace)."""
    days = date_window(context.partition_time_window).days()
    frame = build_metrics_daily_by_channel(fct_order_feedback, problem_orders, work_orders)
    _per_partition_by(context, frame, days, CHANNEL_FIGURES, "channel")
    metadata = {
        "channels": dg.MetadataValue.text(", ".join(sorted(frame["channel"].unique()))),
        "window": _markdown(frame, ["business_date", "channel", *CHANNEL_FIGURES]),
    }
    checks = [
        by_channel_conservation(frame, fct_order_feedback, work_orders, days),
        metric_ranges(METRICS_DAILY_BY_CHANNEL, frame, days),
    ]
    yield from validated_output(context, METRICS_DAILY_BY_CHANNEL, frame, warehouse, custom=checks, metadata=metadata)


CAUSE_FIGURES = ["problem_issues", "work_orders", "sla_achieved_rate", "resolution_hours_median", "followup_score"]


@dg.asset(**_daily_kwargs(METRICS_DAILY_BY_CAUSE, BY_CAUSE_CHECKS, {"fct_order_feedback": FACT_IN}))
def metrics_daily_by_cause(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    fct_order_feedback: pd.DataFrame,
    problem_orders: pd.DataFrame,
    work_orders: pd.DataFrame,
) -> Emitted:
    """Problem issues and work-order measures per business day and located cause."""
    days = date_window(context.partition_time_window).days()
    frame = build_metrics_daily_by_cause(fct_order_feedback, problem_orders, work_orders)
    _per_partition_by(context, frame, days, ["problem_issues", "work_orders"], "cause")
    metadata = {"window": _markdown(frame, ["business_date", "cause", *CAUSE_FIGURES])}
    checks = [
        by_cause_conservation(frame, problem_orders, work_orders, days),
        metric_ranges(METRICS_DAILY_BY_CAUSE, frame, days),
    ]
    yield from validated_output(context, METRICS_DAILY_BY_CAUSE, frame, warehouse, custom=checks, metadata=metadata)


@dg.asset(**_daily_kwargs(METRICS_DAILY_BY_SERVICE_ITEM, BY_ITEM_CHECKS, {"fct_order_feedback": FACT_IN}))
def metrics_daily_by_service_item(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    fct_order_feedback: pd.DataFrame,
    work_orders: pd.DataFrame,
) -> Emitted:
    """Per business day and service item: work orders that suggested and used it, follow-up rating sums."""
    window = date_window(context.partition_time_window)
    frame = build_metrics_daily_by_service_item(work_orders, fct_order_feedback, window.start, window.end)
    _per_partition_by(context, frame, window.days(), ["work_orders"], "service_action")
    totals = frame.groupby("service_action", sort=False)[["work_orders", "followup_ratings"]].sum().reset_index()
    metadata = {"window_totals": _markdown(totals, list(totals.columns))}
    checks = [
        by_item_conservation(frame, work_orders, window.days()),
        metric_ranges(METRICS_DAILY_BY_SERVICE_ITEM, frame, window.days()),
    ]
    yield from validated_output(
        context, METRICS_DAILY_BY_SERVICE_ITEM, frame, warehouse, custom=checks, metadata=metadata
    )


# --- Roll-ups: written directly, over the period ends a rebuilt window reaches ------------------------------


def _rollup_kwargs(spec: TableSpec, deps: list[str], lookback: int) -> dict[str, object]:
    return {
        **partitioned_asset_kwargs(spec, GROUP),
        "deps": [dg.AssetDep(d, partition_mapping=_trailing(lookback)) for d in deps],
        "check_specs": check_specs(spec.name, ROLLUP_CHECKS),
        "code_version": "1",
    }


def write_validated(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    spec: TableSpec,
    frame: pd.DataFrame,
    plan: RollupPlan,
    checks: list[CustomCheck],
    metadata: dict[str, object],
) -> Written:
    """Validate the roll-up rows, then replace plan.write (with the quality rows) in one transaction, or stop."""
    run_id = context.run.run_id
    report = evaluate(spec.name, spec, frame, plan.write, run_id, checks)
    wh = warehouse.open()
    scope = {"run_id": run_id, "asset": spec.name}
    if not report.passed:
        wh.replace(DATA_QUALITY_RUNS, report.rows, plan.write, scope)
        yield from report.results
        raise dg.Failure(
            description=f"{spec.name}: blocking checks failed, nothing written:\n- " + "\n- ".join(report.failures),
            allow_retries=False,
        )
    counts = wh.replace_all(
        [TableWrite(spec, frame, plan.write, {}), TableWrite(DATA_QUALITY_RUNS, report.rows, plan.write, scope)]
    )
    last = plan.write.end - dt.timedelta(days=1)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts[0],
            "table": f"{wh.schema}.{spec.name}",
            "rewritten_period_ends": f"{plan.write.start} .. {last}",
            **metadata,
        },
        check_results=report.results,
    )


def _read(
    warehouse: WarehouseResource, spec: TableSpec, window: DateWindow, columns: list[str] | None = None
) -> pd.DataFrame:
    return warehouse.open().read(spec, window, columns)


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
        ROLLUP_LOOKBACK,
    )
)
def metrics_rollups(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Written:
    """Day, rolling 7/28-day, week and month figures per channel and 'all', backlog at each period's end."""
    changed = date_window(context.partition_time_window)
    plan = plan_rollups(changed, ROLLUP_LOOKBACK)
    daily = _read(warehouse, METRICS_DAILY, plan.read)
    by_channel = _read(warehouse, METRICS_DAILY_BY_CHANNEL, plan.read)
    tickets = ticket_rows(_read(warehouse, FCT_ORDER_FEEDBACK, plan.read, FACT_COLUMNS))
    work_orders = _read(warehouse, WORK_ORDERS, plan.read)
    frame = build_metrics_rollups(daily, by_channel, tickets, work_orders, plan, SETTINGS.timezone)
    rolling = frame.loc[(frame["period"] == "rolling_28d") & (frame["channel"] == "all")]
    by_day = {
        r["period_end"]: {**_figures(r, ROLLUP_FIGURES[:-3], "_28d"), **_figures(r, ROLLUP_FIGURES[-3:])}
        for _, r in rolling.iterrows()
    }
    _per_partition(context, {d: by_day.get(d, {}) for d in changed.days()})
    metadata = {
        "last_28_days": _markdown(
            rolling.loc[rolling["period_end"] < changed.end], ["period_end", *ROLLUP_FIGURES], limit=31
        )
    }
    checks = [rollup_consistency(frame, daily), metric_ranges(METRICS_ROLLUPS, frame, None)]
    yield from write_validated(context, warehouse, METRICS_ROLLUPS, frame, plan, checks, metadata)


@dg.asset(
    **_rollup_kwargs(METRICS_ROLLUPS_BY_CAUSE, [METRICS_DAILY.name, METRICS_DAILY_BY_CAUSE.name, WORK_ORDERS.name], 0)
)
def metrics_rollups_by_cause(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Written:
    """Day, rolling 7/28-day, week and month figures per located cause."""
    changed = date_window(context.partition_time_window)
    plan = plan_rollups(changed, 0)
    built = set(_read(warehouse, METRICS_DAILY, plan.read, ["business_date"])["business_date"])
    by_cause = _read(warehouse, METRICS_DAILY_BY_CAUSE, plan.read)
    work_orders = _read(warehouse, WORK_ORDERS, plan.read)
    frame = build_cause_rollups(by_cause, built, work_orders, plan)
    rolling = frame.loc[frame["period"] == "rolling_28d"]
    by_day: dict[dt.date, dict[str, object]] = {d: {} for d in changed.days()}
    for _, r in rolling.loc[rolling["period_end"].isin(changed.days())].iterrows():
        by_day[r["period_end"]].update(_figures(r, ["problem_issues", "followup_score"], f"_28d/{r['cause']}"))
    _per_partition(context, by_day)
    last = changed.end - dt.timedelta(days=1)
    metadata = {"last_day_28_days": _markdown(rolling.loc[rolling["period_end"] == last], ["cause", *CAUSE_FIGURES])}
    checks = [rollup_consistency(frame, None), metric_ranges(METRICS_ROLLUPS_BY_CAUSE, frame, None)]
    yield from write_validated(context, warehouse, METRICS_ROLLUPS_BY_CAUSE, frame, plan, checks, metadata)


SCORE_COLUMNS = ["service_action", "work_orders", "followup_ratings", "score", "score_ci_low", "score_ci_high", "grade"]


@dg.asset(**_rollup_kwargs(SERVICE_ITEM_SCORES, [METRICS_DAILY.name, METRICS_DAILY_BY_SERVICE_ITEM.name], 0))
def service_item_scores(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Written:
    """A 5-point score, confidence interval and grade per service item and period."""
    changed = date_window(context.partition_time_window)
    plan = plan_rollups(changed, 0)
    built = set(_read(warehouse, METRICS_DAILY, plan.read, ["business_date"])["business_date"])
    by_item = _read(warehouse, METRICS_DAILY_BY_SERVICE_ITEM, plan.read)
    frame = build_service_item_scores(by_item, built, plan)
    rolling = frame.loc[frame["period"] == "rolling_28d"]
    by_day: dict[dt.date, dict[str, object]] = {d: {} for d in changed.days()}
    for _, r in rolling.loc[rolling["period_end"].isin(changed.days())].iterrows():
        by_day[r["period_end"]].update(_figures(r, ["score", "followup_ratings"], f"_28d/{r['service_action']}"))
    _per_partition(context, by_day)
    last = changed.end - dt.timedelta(days=1)
    latest = rolling.loc[rolling["period_end"] == last].assign(grade=lambda f: f["grade"].fillna("too few ratings"))
    metadata = {"grades_28_days": _markdown(latest, SCORE_COLUMNS), "rules": load_metric_rules().scale_text()}
    checks = [rollup_consistency(frame, None), metric_ranges(SERVICE_ITEM_SCORES, frame, None)]
    yield from write_validated(context, warehouse, SERVICE_ITEM_SCORES, frame, plan, checks, metadata)
