"""Checks of the metric tables against the marts they summarize."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from after_sales.checks.quality import CustomCheck, PartitionCounts

METRICS_CHECKS = {"metrics_conserved": "Daily orders and work orders equal the fact and work-order counts."}


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
