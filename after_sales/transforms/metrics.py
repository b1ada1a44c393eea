"""Service metrics from the marts: daily additive facts over all channels, per channel and per cause.

Every count is over the orders of the row's business date (the cohort of orders placed that day), so a
count summed over days is the count over the period; rates, means and percentiles are derived from the
counts and the rows, never averaged. docs/metrics.md has the definitions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd
from pandas.api.typing import DataFrameGroupBy

from after_sales.tables import (
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    SERVICE_MEASURES,
    TableSpec,
)
from after_sales.transforms.arrow_ops import isin
from after_sales.transforms.marts import latest_version
from after_sales.transforms.metric_rules import PRIORITIES, MetricRules, load_metric_rules

HOUR = 3600.0

# Rate or mean column -> (numerator, denominator).
RATIOS: dict[str, tuple[str, str]] = {
    "complaint_rate": ("problem_orders", "orders"),
    "csat": ("satisfied_tickets", "rated_tickets"),
    "first_response_hours_mean": ("first_response_hours_sum", "responded_tickets"),
    "handling_time_hours_mean": ("handling_time_hours_sum", "handled_tickets"),
    "reopen_rate": ("reopened_tickets", "handled_tickets"),
    "resolution_hours_mean": ("resolution_hours_sum", "resolved_work_orders"),
    "one_touch_rate": ("one_touch_work_orders", "resolved_work_orders"),
    "refund_rate": ("refund_orders", "orders"),
    "dispute_rate": ("dispute_orders", "orders"),
    "submission_rate": ("sessions_with_submission", "sessions"),
    "followup_score": ("followup_rating_sum", "followup_ratings"),
    "followup_csat": ("satisfied_followups", "followup_ratings"),
}
# SLA achievement column -> (met, breached): met / (met + breached).
SLA_RATES: dict[str, tuple[str, str]] = {
    "sla_achieved_rate": ("sla_met", "sla_breached"),
    **{f"sla_achieved_rate_{p.lower()}": (f"sla_met_{p.lower()}", f"sla_breached_{p.lower()}") for p in PRIORITIES},
}
# Percentile column -> (hours column of the ticket or work-order rows, quantile); linear interpolation.
QUANTILES: dict[str, tuple[str, float]] = {
    "handling_time_hours_median": ("handling_hours", 0.5),
    "first_response_hours_median": ("first_response_hours", 0.5),
    "first_response_hours_p90": ("first_response_hours", 0.9),
    "resolution_hours_median": ("resolution_hours", 0.5),
    "resolution_hours_p90": ("resolution_hours", 0.9),
}
# Service measures that add up over days and channels; every other one is derived from them or from rows.
ADDITIVE: tuple[str, ...] = tuple(
    c.name for c in SERVICE_MEASURES if c.name not in RATIOS and c.name not in SLA_RATES and c.name not in QUANTILES
)
CAUSE_ADDITIVE: tuple[str, ...] = tuple(
    c.name
    for c in METRICS_DAILY_BY_CAUSE.columns[2:]
    if c.name not in RATIOS and c.name not in SLA_RATES and c.name not in QUANTILES
)
TRAFFIC_ADDITIVE = ("visitors", "sessions", "sessions_with_submission")

PY_STRING = pd.StringDtype("python")


def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    """num / den as floats, null where den is not positive."""
    den = den.astype("float64")
    return (num.astype("float64") / den).where(den > 0)


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Every rate, mean and SLA achievement whose inputs are columns of frame, computed from the sums."""
    for name, (num, den) in RATIOS.items():
        if num in frame.columns and den in frame.columns:
            frame[name] = ratio(frame[num], frame[den])
    for name, (met, breached) in SLA_RATES.items():
        if met in frame.columns and breached in frame.columns:
            frame[name] = ratio(frame[met], frame[met].astype("float64") + frame[breached].astype("float64"))
    return frame


def hours_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Hours from start to end as floats; NaN where either is missing."""
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.total_seconds() / HOUR


def _flag(series: pd.Series) -> pd.Series:
    """A nullable boolean column as plain bools, missing as False."""
    return series.astype("boolean").fillna(False).astype(bool)


def _text(series: pd.Series) -> pd.Series:
    """A text column with missing values as ''."""
    return series.astype("string").fillna("").astype(str)


def _positive(amounts: pd.Series) -> pd.Series:
    """True where an amount (exact decimals, or floats) is above zero; missing is False."""
    return amounts.gt(0).astype("boolean").fillna(False).astype(bool)


def ticket_rows(fact: pd.DataFrame) -> pd.DataFrame:
    """The tickets of the fact (feedback rows whose issue_type is not review), with their flags and hours."""
    is_ticket = fact["has_feedback"].astype(bool) & (_text(fact["issue_type"]) != "review")
    t = fact.loc[is_ticket]
    rating = pd.to_numeric(t["rating"], errors="coerce").astype("float64")
    handled = t["resolved_at"].notna()
    reopened = _flag(t["reopened"])
    return pd.DataFrame(
        {
            "business_date": t["business_date"],
            "channel": t["channel"],
            "order_id": t["order_id"],
            "feedback_id": t["feedback_id"],
            "created": t["feedback_created_at"],
            "rating": rating,
            "responded": t["first_response_at"].notna(),
            "first_response_hours": hours_between(t["feedback_created_at"], t["first_response_at"]),
            "handled": handled,
            "handling_hours": hours_between(t["feedback_created_at"], t["resolved_at"]).where(handled),
            "reopened": handled & reopened,
            "effective": handled & t["first_response_at"].notna() & (_text(t["resolution"]) != "rejected") & ~reopened,
        }
    ).reset_index(drop=True)


def work_order_rows(
    work_orders: pd.DataFrame, fact: pd.DataFrame, rules: MetricRules, logged: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Work orders with what the measures need: resolution hours, one-touch, SLA outcome, used item, follow-up.

    work_orders carry their feedback_ids lists (build_work_orders, or marts.with_feedback_ids after a read);
    fact must hold the rows of the work orders' orders (same business dates). logged (stg_actions rows: work_order_id,
    action, acted_at, action_id) are the helpdesk's logged actions: a work order's used item is its last logged
    action where there is one, else the one its final resolution names, else its primary suggested action.
    """
    wo = work_orders.reset_index(drop=True).copy()
    resolved = wo["resolved_at"].notna()
    breached = _flag(wo["sla_breached"])
    wo["resolved"] = resolved
    wo["resolution_hours"] = hours_between(wo["opened_at"], wo["resolved_at"]).where(resolved)
    wo["sla_outcome"] = np.select([breached.to_numpy(), resolved.to_numpy()], ["breached", "met"], "pending")
    head = wo[["work_order_id", "order_id", "opened_at"]]

    later = head.merge(ticket_rows(fact)[["order_id", "created"]], on="order_id")
    later_ids = set(later.loc[later["created"] > later["opened_at"], "work_order_id"])
    single = pd.to_numeric(wo["issue_count"]).eq(1).fillna(False).astype(bool)
    wo["one_touch"] = resolved & (wo["status"] == "resolved") & single & ~isin(wo["work_order_id"], later_ids)

    rated = fact.loc[fact["has_feedback"].astype(bool) & fact["rating"].notna()]
    rated = rated[["order_id", "feedback_id", "feedback_created_at", "rating"]]
    follow = head.merge(rated, on="order_id")
    follow = follow.loc[follow["feedback_created_at"] > follow["opened_at"]]
    follow = follow.sort_values(["work_order_id", "feedback_created_at", "feedback_id"], kind="stable")
    latest = follow.drop_duplicates("work_order_id", keep="last").set_index("work_order_id")["rating"]
    wo["followup_rating"] = pd.to_numeric(wo["work_order_id"].map(latest), errors="coerce").astype("float64")

    own = wo[["work_order_id", "feedback_ids"]].explode("feedback_ids").rename(columns={"feedback_ids": "feedback_id"})
    outcomes = fact.loc[fact["resolved_at"].notna(), ["feedback_id", "resolved_at", "resolution"]]
    # Python-backed strings on both sides: an exploded list column is object (float when empty), the fact's Arrow.
    own = own.dropna(subset=["feedback_id"]).astype({"feedback_id": PY_STRING})
    outcomes = outcomes.astype({"feedback_id": PY_STRING})
    own = own.merge(outcomes.drop_duplicates("feedback_id"), on="feedback_id")
    own = own.sort_values(["work_order_id", "resolved_at", "feedback_id"], kind="stable")
    final = own.drop_duplicates("work_order_id", keep="last").set_index("work_order_id")["resolution"]
    wo["final_resolution"] = wo["work_order_id"].map(final).where(resolved)
    used: list[str] = []
    by_resolution: list[bool] = []
    for actions, primary, resolution in zip(
        wo["suggested_actions"], wo["suggested_action"], wo["final_resolution"], strict=True
    ):
        listed = rules.actions_for_resolution.get(resolution, ()) if isinstance(resolution, str) else ()
        hit = next((a for a in str(actions).split(" | ") if a in listed), None)
        used.append(hit or str(primary))
        by_resolution.append(hit is not None)
    wo["used_action"] = pd.Series(used, index=wo.index, dtype=object)
    wo["used_by_resolution"] = pd.Series(by_resolution, index=wo.index, dtype=bool)
    wo["used_by_log"] = False
    if logged is not None and len(logged):
        ordered = logged.sort_values(["work_order_id", "acted_at", "action_id"], kind="stable")
        last = ordered.drop_duplicates("work_order_id", keep="last").set_index("work_order_id")["action"]
        taken = wo["work_order_id"].map(last)
        hit = taken.notna()
        wo.loc[hit, "used_action"] = taken[hit].astype(str)
        wo.loc[hit, "used_by_resolution"] = False
        wo.loc[hit, "used_by_log"] = True
    return wo


def grouped(frame: pd.DataFrame, keys: list[str], mask: pd.Series | None = None) -> DataFrameGroupBy:
    """frame (or its rows where mask holds) grouped by keys."""
    part = frame if mask is None else frame.loc[mask.to_numpy()]
    return part.groupby(keys, sort=False, dropna=False)


def work_order_measures(wo: pd.DataFrame, keys: list[str]) -> dict[str, pd.Series]:
    """Additive work-order measures (and the rows' percentiles) grouped by keys; wo from work_order_rows."""
    out: dict[str, pd.Series] = {
        "work_orders": grouped(wo, keys).size(),
        "resolved_work_orders": grouped(wo, keys, wo["resolved"]).size(),
        "resolution_hours_sum": grouped(wo, keys)["resolution_hours"].sum(),
        "one_touch_work_orders": grouped(wo, keys, wo["one_touch"]).size(),
        "sla_met": grouped(wo, keys, wo["sla_outcome"] == "met").size(),
        "sla_breached": grouped(wo, keys, wo["sla_outcome"] == "breached").size(),
        "sla_pending": grouped(wo, keys, wo["sla_outcome"] == "pending").size(),
        "resolution_hours_median": grouped(wo, keys)["resolution_hours"].median(),
        "resolution_hours_p90": grouped(wo, keys)["resolution_hours"].quantile(0.9),
    }
    for p in PRIORITIES:
        mine = wo["priority"] == p
        out[f"work_orders_{p.lower()}"] = grouped(wo, keys, mine).size()
        out[f"sla_met_{p.lower()}"] = grouped(wo, keys, mine & (wo["sla_outcome"] == "met")).size()
        out[f"sla_breached_{p.lower()}"] = grouped(wo, keys, mine & (wo["sla_outcome"] == "breached")).size()
    return out


def followup_measures(wo: pd.DataFrame, keys: list[str], rules: MetricRules) -> dict[str, pd.Series]:
    """Follow-up rating counts and sums grouped by keys; wo from work_order_rows."""
    rated = wo["followup_rating"].notna()
    rating = wo["followup_rating"]
    return {
        "followup_ratings": grouped(wo, keys, rated).size(),
        "satisfied_followups": grouped(wo, keys, rated & (rating >= rules.csat_min_rating)).size(),
        "followup_rating_sum": grouped(wo.assign(r=rating), keys, rated)["r"].sum(),
        "followup_rating_sq_sum": grouped(wo.assign(r=rating**2), keys, rated)["r"].sum(),
    }


def service_measures(
    fact: pd.DataFrame, problems: pd.DataFrame, wo: pd.DataFrame, keys: list[str], rules: MetricRules
) -> dict[str, pd.Series]:
    """Every service measure but the ratios, grouped by keys (business_date, maybe channel)."""
    has = fact["has_feedback"].astype(bool)
    kind = _text(fact["issue_type"]).str.lower()
    refund = has & (kind.isin(rules.refund_issue_types) | _positive(fact["refund_amount"]))
    dispute = has & kind.isin(rules.dispute_issue_types)
    t = ticket_rows(fact)
    rated = t["rating"].notna()
    orders = fact.drop_duplicates("order_id")
    return {
        "orders": grouped(fact, keys)["order_id"].nunique(),
        "orders_with_feedback": grouped(fact, keys, has)["order_id"].nunique(),
        "feedback_count": grouped(fact, keys)["feedback_id"].count(),
        "problem_orders": grouped(problems, keys)["order_id"].nunique(),
        "order_amount": grouped(orders, keys)["amount"].sum(),
        "tickets": grouped(t, keys).size(),
        "effective_after_sales_count": grouped(t, keys, t["effective"]).size(),
        "handled_tickets": grouped(t, keys, t["handled"]).size(),
        "handling_time_hours_sum": grouped(t, keys)["handling_hours"].sum(),
        "handling_time_hours_median": grouped(t, keys)["handling_hours"].median(),
        "rated_tickets": grouped(t, keys, rated).size(),
        "satisfied_tickets": grouped(t, keys, rated & (t["rating"] >= rules.csat_min_rating)).size(),
        "responded_tickets": grouped(t, keys, t["responded"]).size(),
        "first_response_hours_sum": grouped(t, keys)["first_response_hours"].sum(),
        "first_response_hours_median": grouped(t, keys)["first_response_hours"].median(),
        "first_response_hours_p90": grouped(t, keys)["first_response_hours"].quantile(0.9),
        "reopened_tickets": grouped(t, keys, t["reopened"]).size(),
        **work_order_measures(wo, keys),
        "refund_orders": grouped(fact, keys, refund)["order_id"].nunique(),
        "refund_amount": grouped(fact, keys, has)["refund_amount"].sum(),
        "dispute_orders": grouped(fact, keys, dispute)["order_id"].nunique(),
    }


def derived(name: str) -> bool:
    """Whether a measure is derived (a ratio, mean, SLA achievement or percentile) rather than additive."""
    return name in RATIOS or name in SLA_RATES or name in QUANTILES


def assemble(measures: dict[str, pd.Series], index: pd.Index, spec: TableSpec) -> pd.DataFrame:
    """The spec's measures over index: additive ones missing from a group are 0; then every ratio is derived."""
    out = pd.DataFrame(index=index)
    wanted = set(spec.column_names)
    for name, series in measures.items():
        if name not in wanted:
            continue
        values = series.reindex(index)
        if not derived(name):
            values = values.fillna(0).astype("int64" if spec.column(name).type == "int" else "float64")
        out[name] = values.astype("float64") if derived(name) else values
    return add_ratios(out)


def days_of(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day of [start, end)."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


# Own-site landing sources whose files carry the rows of the own channels (web, app, ...).
OWN_ORDER_SOURCES = ("orders", "feedback")


def refused_files_per_day(
    refused: pd.DataFrame | None, days: pd.Index, late_days: int, sources: Collection[str] | None = None
) -> pd.Series:
    """Per business date D: refused files (quarantine_files rows) of sources (all when None) landed D .. D+late_days."""
    counts = pd.Series(0, index=days, dtype="int64")
    if refused is None or refused.empty:
        return counts
    mine = refused if sources is None else refused.loc[refused["source"].isin(list(sources))]
    landed = pd.to_datetime(mine["landing_date"])
    for day in days:
        first = pd.Timestamp(day)
        counts[day] = int(((landed >= first) & (landed <= first + pd.Timedelta(days=late_days))).sum())
    return counts


def add_completeness(
    out: pd.DataFrame, refused: pd.DataFrame | None, late_days: int, sources: Collection[str] | None = None
) -> pd.DataFrame:
    """files_refused and complete for frame rows indexed by business_date (first index level)."""
    days = out.index.get_level_values(0)
    per_day = refused_files_per_day(refused, pd.Index(sorted(set(days))), late_days, sources)
    out["files_refused"] = per_day.reindex(days).fillna(0).astype("int64").to_numpy()
    out["complete"] = out["files_refused"] == 0
    return out


def build_metrics_daily(
    fact: pd.DataFrame,
    problems: pd.DataFrame,
    work_orders: pd.DataFrame,
    sessions: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    rules: MetricRules | None = None,
    refused: pd.DataFrame | None = None,
    late_days: int = 0,
) -> pd.DataFrame:
    """The daily service measures for business dates [start, end); sessions must reach 7 days back.

    refused (quarantine_files rows landed start .. end + late_days) flags the days they may hold rows of.
    """
    rules = rules or load_metric_rules()
    days = pd.Index(days_of(start, end), name="business_date")
    wo = work_order_rows(work_orders, fact, rules)
    out = assemble(service_measures(fact, problems, wo, ["business_date"], rules), days, METRICS_DAILY)

    s = latest_version(sessions, "session_id")
    visitors_all = s.groupby("business_date")["visitor_id"].nunique()
    visitors_all.index = pd.Index(visitors_all.index, name="business_date")
    sess = s.groupby("business_date")["session_id"].count()
    subm = s.loc[s["submitted_after_sales_form"].astype(bool)].groupby("business_date")["session_id"].count()

    def per_day(series: pd.Series) -> pd.Series:
        return series.reindex(days).fillna(0).astype("int64")

    out["visitors"] = per_day(visitors_all)
    trailing = []
    for day in days:
        prior = [day - dt.timedelta(days=k) for k in range(1, 8)]
        seen = visitors_all.reindex(prior).dropna()
        trailing.append(float(seen.mean()) if len(seen) else np.nan)
    out["visitors_trailing_7d_mean"] = trailing
    out["rolling_visitor_rate"] = ratio(out["visitors"], out["visitors_trailing_7d_mean"])
    out["sessions"] = per_day(sess)
    out["sessions_with_submission"] = per_day(subm)
    out["submission_rate"] = ratio(out["sessions_with_submission"], out["sessions"])
    out = add_completeness(out, refused, late_days)
    return out.reset_index()[METRICS_DAILY.column_names]


def build_metrics_daily_by_channel(
    fact: pd.DataFrame,
    problems: pd.DataFrame,
    work_orders: pd.DataFrame,
    rules: MetricRules | None = None,
    refused: pd.DataFrame | None = None,
    late_days: int = 0,
    channel_sources: Mapping[str, Collection[str]] | None = None,
) -> pd.DataFrame:
    """The daily service measures per business date and channel, for every channel with orders that day.

    A channel's files_refused counts the refused files of its sources: channel_sources (a marketplace's
    channel: its source), else the own sources (orders, feedback).
    """
    rules = rules or load_metric_rules()
    keys = ["business_date", "channel"]
    pairs = fact[keys].drop_duplicates().sort_values(keys)
    index = pd.MultiIndex.from_frame(pairs) if len(pairs) else pd.MultiIndex.from_arrays([[], []], names=keys)
    wo = work_order_rows(work_orders, fact, rules)
    out = assemble(service_measures(fact, problems, wo, keys, rules), index, METRICS_DAILY_BY_CHANNEL)
    out["files_refused"], out["complete"] = 0, True
    channels = out.index.get_level_values("channel") if len(out) else pd.Index([])
    for channel in channels.unique():
        sources = (channel_sources or {}).get(channel, OWN_ORDER_SOURCES)
        mine = channels == channel
        part = add_completeness(out.loc[mine, []].copy(), refused, late_days, sources)
        out.loc[mine, "files_refused"] = part["files_refused"].to_numpy()
        out.loc[mine, "complete"] = part["complete"].to_numpy()
    out = out.astype({"files_refused": "int64", "complete": bool})
    return out.reset_index()[METRICS_DAILY_BY_CHANNEL.column_names]


def build_metrics_daily_by_cause(
    fact: pd.DataFrame,
    problems: pd.DataFrame,
    work_orders: pd.DataFrame,
    rules: MetricRules | None = None,
) -> pd.DataFrame:
    """Problem issues by primary cause and work orders by cause, per business date."""
    rules = rules or load_metric_rules()
    keys = ["business_date", "cause"]
    wo = work_order_rows(work_orders, fact, rules)
    pairs = pd.concat([problems[keys], wo[keys]]).drop_duplicates().sort_values(keys)
    index = pd.MultiIndex.from_frame(pairs) if len(pairs) else pd.MultiIndex.from_arrays([[], []], names=keys)
    measures = {
        "problem_issues": grouped(problems, keys).size(),
        "problem_orders": grouped(problems, keys)["order_id"].nunique(),
        **work_order_measures(wo, keys),
        "reopened_work_orders": grouped(wo, keys, wo["status"] == "reopened").size(),
        **followup_measures(wo, keys, rules),
    }
    out = assemble(measures, index, METRICS_DAILY_BY_CAUSE)
    return out.reset_index()[METRICS_DAILY_BY_CAUSE.column_names]
