"""Service metrics computed from the marts."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from after_sales.tables import METRICS_DAILY
from after_sales.transforms.marts import latest_version


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype("float64")
    return (num.astype("float64") / den).where(den > 0)


def build_metrics_daily(
    fact: pd.DataFrame,
    problems: pd.DataFrame,
    work_orders: pd.DataFrame,
    sessions: pd.DataFrame,
    start: dt.date,
    end: dt.date,
) -> pd.DataFrame:
    """The daily service measures for business dates [start, end); sessions must reach 7 days back."""
    days = pd.Index([start + dt.timedelta(days=i) for i in range((end - start).days)], name="business_date")
    orders = fact.groupby("business_date")["order_id"].nunique()
    with_fb = fact.loc[fact["has_feedback"].astype(bool)].groupby("business_date")["order_id"].nunique()
    fb_count = fact.groupby("business_date")["feedback_id"].count()
    prob = problems.groupby("business_date")["order_id"].nunique()
    tickets = fact.loc[fact["has_feedback"].astype(bool) & (fact["issue_type"] != "review")]
    handled = tickets.loc[tickets["resolved_at"].notna()]
    effective = handled.loc[
        handled["first_response_at"].notna()
        & (handled["resolution"].fillna("") != "rejected")
        & ~handled["reopened"].fillna(False).astype(bool)
    ]
    hours = (handled["resolved_at"] - handled["feedback_created_at"]).dt.total_seconds() / 3600.0
    handling = hours.groupby(handled["business_date"]).agg(["mean", "median"])
    wo_count = work_orders.groupby("business_date")["work_order_id"].count()

    s = latest_version(sessions, "session_id")
    visitors_all = s.groupby("business_date")["visitor_id"].nunique()
    visitors_all.index = pd.Index(visitors_all.index, name="business_date")
    sess = s.groupby("business_date")["session_id"].count()
    subm = s.loc[s["submitted_after_sales_form"].astype(bool)].groupby("business_date")["session_id"].count()

    def per_day(series: pd.Series) -> pd.Series:
        return series.reindex(days).fillna(0).astype("int64")

    out = pd.DataFrame(index=days)
    out["orders"] = per_day(orders)
    out["orders_with_feedback"] = per_day(with_fb)
    out["feedback_count"] = per_day(fb_count)
    out["problem_orders"] = per_day(prob)
    out["complaint_rate"] = _ratio(out["problem_orders"], out["orders"])
    out["visitors"] = per_day(visitors_all)
    trailing = []
    for day in days:
        prior = [day - dt.timedelta(days=k) for k in range(1, 8)]
        seen = visitors_all.reindex(prior).dropna()
        trailing.append(float(seen.mean()) if len(seen) else np.nan)
    out["visitors_trailing_7d_mean"] = trailing
    out["rolling_visitor_rate"] = _ratio(out["visitors"], out["visitors_trailing_7d_mean"])
    out["sessions"] = per_day(sess)
    out["sessions_with_submission"] = per_day(subm)
    out["submission_rate"] = _ratio(out["sessions_with_submission"], out["sessions"])
    out["effective_after_sales_count"] = per_day(effective.groupby("business_date")["feedback_id"].count())
    out["handled_tickets"] = per_day(handled.groupby("business_date")["feedback_id"].count())
    out["handling_time_hours_mean"] = handling["mean"].reindex(days) if len(handling) else np.nan
    out["handling_time_hours_median"] = handling["median"].reindex(days) if len(handling) else np.nan
    out["work_orders"] = per_day(wo_count)
    out = out.reset_index()
    return out[METRICS_DAILY.column_names]
