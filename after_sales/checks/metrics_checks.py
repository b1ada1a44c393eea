"""Checks of the metric tables against the marts they summarize, against each other, and of their values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from after_sales.checks.quality import CustomCheck, PartitionCounts
from after_sales.tables import TableSpec
from after_sales.transforms.metrics import ADDITIVE

RANGES_DESCRIPTION = (
    "Counts and sums non-negative, rates and CSAT in 0-1, hours non-negative, scores in 1-5, every part at most "
    "its whole (satisfied <= rated <= tickets, met + breached + pending = work orders, ...)."
)
METRICS_CHECKS = {
    "metrics_conserved": "Daily orders and work orders equal the fact and work-order counts.",
    "metric_ranges": RANGES_DESCRIPTION,
}
BY_CHANNEL_CHECKS = {
    "channels_conserved": "Summed over channels, orders and work orders equal the fact and work-order counts.",
    "metric_ranges": RANGES_DESCRIPTION,
}
BY_CAUSE_CHECKS = {
    "causes_conserved": "Summed over causes, problem issues and work orders equal the problem and work-order rows.",
    "metric_ranges": RANGES_DESCRIPTION,
}
BY_ITEM_CHECKS = {
    "items_conserved": "Every work order used exactly one service item: used counts sum to the work orders.",
    "metric_ranges": RANGES_DESCRIPTION,
}
ROLLUP_CHECKS = {
    "rollups_consistent": "Periods cover 1..length built days with as_of_date inside; channel 'all' equals the sum "
    "of the channels; day rows equal metrics_daily.",
    "metric_ranges": RANGES_DESCRIPTION,
}
PERIOD_LENGTH = {"day": 1, "rolling_7d": 7, "rolling_28d": 28, "week": 7, "month": 31}
# (part, whole): part <= whole on every row where both are columns.
PARTS = (
    ("orders_with_feedback", "orders"),
    ("problem_orders", "orders"),
    ("refund_orders", "orders"),
    ("dispute_orders", "orders"),
    ("effective_after_sales_count", "handled_tickets"),
    ("handled_tickets", "tickets"),
    ("responded_tickets", "tickets"),
    ("rated_tickets", "tickets"),
    ("satisfied_tickets", "rated_tickets"),
    ("reopened_tickets", "handled_tickets"),
    ("resolved_work_orders", "work_orders"),
    ("one_touch_work_orders", "resolved_work_orders"),
    ("satisfied_followups", "followup_ratings"),
    ("followup_ratings", "work_orders"),
    ("used_by_resolution", "work_orders"),
    ("used_by_log", "work_orders"),
    ("backlog_overdue", "backlog_work_orders"),
    ("first_response_hours_median", "first_response_hours_p90"),
    ("resolution_hours_median", "resolution_hours_p90"),
    ("score_ci_low", "score"),
    ("score", "score_ci_high"),
)
UNIT = ("csat", "followup_csat")
SCORES = ("score", "score_ci_low", "score_ci_high", "followup_score")


def _per_day(frame: pd.DataFrame, column: str) -> dict[dt.date, int]:
    return frame[column].value_counts().to_dict() if len(frame) else {}


def metrics_conservation(
    metrics: pd.DataFrame, fact: pd.DataFrame, work_orders: pd.DataFrame, days: list[dt.date]
) -> CustomCheck:
    """metrics_daily counts agree with the marts they summarize."""
    orders = fact.groupby("business_date")["order_id"].nunique().to_dict() if len(fact) else {}
    wos = _per_day(work_orders, "business_date")
    by_day = metrics.set_index("business_date")
    parts = []
    for day in days:
        got_orders = int(by_day.at[day, "orders"]) if day in by_day.index else -1
        got_wos = int(by_day.at[day, "work_orders"]) if day in by_day.index else -1
        wrong = int(got_orders != orders.get(day, 0)) + int(got_wos != wos.get(day, 0))
        parts.append(PartitionCounts(day, wrong == 0, 2, wrong))
    return CustomCheck(
        "metrics_conserved",
        "metrics.orders = fct orders; metrics.work_orders = work orders",
        METRICS_CHECKS["metrics_conserved"],
        parts,
    )


def _sums_match(
    name: str, rule: str, description: str, frame: pd.DataFrame, expected: dict[str, dict[dt.date, int]], days
) -> CustomCheck:
    """Per day: each column of frame summed over its rows equals the expected count."""
    sums = frame.groupby("business_date")[list(expected)].sum() if len(frame) else pd.DataFrame()
    parts = []
    for day in days:
        wrong = 0
        for column, counts in expected.items():
            got = int(sums.at[day, column]) if day in sums.index else 0
            wrong += int(got != counts.get(day, 0))
        parts.append(PartitionCounts(day, wrong == 0, len(expected), wrong))
    return CustomCheck(name, rule, description, parts)


def by_channel_conservation(
    frame: pd.DataFrame, fact: pd.DataFrame, work_orders: pd.DataFrame, days: list[dt.date]
) -> CustomCheck:
    """Orders and work orders summed over channels equal the fact's orders and the work orders."""
    orders = fact.groupby("business_date")["order_id"].nunique().to_dict() if len(fact) else {}
    expected = {"orders": orders, "work_orders": _per_day(work_orders, "business_date")}
    rule = "sum over channels of orders, work_orders = fct orders, work orders"
    return _sums_match("channels_conserved", rule, BY_CHANNEL_CHECKS["channels_conserved"], frame, expected, days)


def by_cause_conservation(
    frame: pd.DataFrame, problems: pd.DataFrame, work_orders: pd.DataFrame, days: list[dt.date]
) -> CustomCheck:
    """Problem issues and work orders summed over causes equal the problem rows and the work orders."""
    expected = {
        "problem_issues": _per_day(problems, "business_date"),
        "work_orders": _per_day(work_orders, "business_date"),
    }
    rule = "sum over causes of problem_issues, work_orders = problem_orders rows, work orders"
    return _sums_match("causes_conserved", rule, BY_CAUSE_CHECKS["causes_conserved"], frame, expected, days)


def by_item_conservation(frame: pd.DataFrame, work_orders: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """Work orders using an item, summed over items, equal the work orders."""
    expected = {"work_orders": _per_day(work_orders, "business_date")}
    rule = "sum over service items of work_orders = work orders"
    return _sums_match("items_conserved", rule, BY_ITEM_CHECKS["items_conserved"], frame, expected, days)


def _floats(series: pd.Series) -> pd.Series:
    """A numeric column as float64 for range checks (money columns hold exact decimals: Arrow dtype)."""
    if isinstance(series.dtype, pd.ArrowDtype):
        return series.astype("float64")
    return pd.to_numeric(series, errors="coerce").astype("float64")


def _bad_rows(spec: TableSpec, frame: pd.DataFrame) -> pd.Series:
    """True on each row breaking a range or part-of-whole rule."""
    bad = pd.Series(False, index=frame.index)
    for c in spec.columns:
        if c.name not in frame.columns or c.type not in ("int", "float", "money"):
            continue
        values = _floats(frame[c.name])
        low, high = 0.0, None
        if (c.name.endswith("_rate") and c.name != "rolling_visitor_rate") or c.name in UNIT:
            high = 1.0
        if c.name in SCORES:
            low, high = 1.0, 5.0
        broken = values.lt(low - 1e-9) | (values.gt(high + 1e-9) if high is not None else False)
        bad |= broken.fillna(False).astype(bool)
    for part, whole in PARTS:
        if part in frame.columns and whole in frame.columns:
            p = _floats(frame[part])
            w = _floats(frame[whole])
            bad |= (p > w + 1e-9).fillna(False).astype(bool)
    if {"sla_met", "sla_breached", "sla_pending", "work_orders"} <= set(frame.columns):
        total = frame[["sla_met", "sla_breached", "sla_pending"]].astype("float64").sum(axis=1)
        bad |= total != frame["work_orders"].astype("float64")
    return bad


def metric_ranges(spec: TableSpec, frame: pd.DataFrame, days: list[dt.date] | None) -> CustomCheck:
    """Every metric value within its range and every part within its whole, per partition."""
    day_column = spec.partition_column or "business_date"
    bad = _bad_rows(spec, frame) if len(frame) else pd.Series(dtype=bool)
    counts = frame.groupby(day_column).size().to_dict() if len(frame) else {}
    broken = frame.loc[bad.to_numpy(), day_column].value_counts().to_dict() if len(frame) else {}
    wanted = days if days is not None else sorted(counts)
    parts = [PartitionCounts(d, broken.get(d, 0) == 0, counts.get(d, 0), broken.get(d, 0)) for d in wanted]
    return CustomCheck("metric_ranges", "metric values in range, parts <= wholes", RANGES_DESCRIPTION, parts)


def rollup_consistency(frame: pd.DataFrame, daily: pd.DataFrame | None) -> CustomCheck:
    """Roll-up rows: coverage inside the period, 'all' = sum of the channels, day rows = metrics_daily."""
    bad = pd.Series(False, index=frame.index)
    if len(frame):
        length = frame["period"].map(PERIOD_LENGTH).astype("int64")
        covered = pd.to_numeric(frame["days_with_data"]).astype("int64")
        bad |= (covered < 1) | (covered > length)
        bad |= (frame["as_of_date"] < frame["period_start"]) | (frame["as_of_date"] > frame["period_end"])
    if len(frame) and "channel" in frame.columns:
        keys = ["period", "period_end"]
        columns = [c for c in ADDITIVE if c in frame.columns]
        values = frame[columns].astype("float64")
        is_all = frame["channel"] == "all"
        channel_sums = values.loc[~is_all].groupby([frame.loc[~is_all, k] for k in keys]).sum()
        totals = values.loc[is_all].set_axis(pd.MultiIndex.from_frame(frame.loc[is_all, keys]))
        expected = channel_sums.reindex(totals.index).fillna(0)
        mismatch = (~np.isclose(totals.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-6)).any(axis=1)
        bad.loc[is_all[is_all].index] |= mismatch
        if daily is not None and len(daily):
            day_rows = is_all & (frame["period"] == "day")
            mine = values.loc[day_rows].set_axis(frame.loc[day_rows, "period_end"])
            theirs = daily.set_index("business_date")[columns].astype("float64").reindex(mine.index)
            off = (~np.isclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=1e-6)).any(axis=1)
            bad.loc[day_rows[day_rows].index] |= off
    counts = frame.groupby("period_end").size().to_dict() if len(frame) else {}
    broken = frame.loc[bad.to_numpy(), "period_end"].value_counts().to_dict() if len(frame) else {}
    parts = [PartitionCounts(d, broken.get(d, 0) == 0, counts.get(d, 0), broken.get(d, 0)) for d in sorted(counts)]
    return CustomCheck(
        "rollups_consistent",
        "days_with_data in 1..length, as_of in period, all = sum of channels, day = metrics_daily",
        ROLLUP_CHECKS["rollups_consistent"],
        parts,
    )
