"""How each problem was found (feedback, behaviour or both) and work orders opened from behaviour, before a complaint.

A behaviour signal on an order opens the work order of that order and the signal's cause (the same stable id
`WO-` + hash of order id and cause as a complaint's), flagged `proactive`, before any complaint. A complaint
that follows on the same order and cause is an issue of that same work order: no second one is opened.
Behaviour is the own site's (its events and orders), so a signal's order is an own-site order (order scope 'own'):
it never marks or opens the work order of a marketplace order that happens to have the same id.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from after_sales.transforms.marts import ORDER_KEY, OWN_SCOPE, work_order_id
from after_sales.transforms.rules import ServiceRules

FOUND_FEEDBACK, FOUND_BEHAVIOUR, FOUND_BOTH = "feedback", "behaviour", "both"


def order_signals(signals: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Signals about orders placed on business days [start, end)."""
    s = signals.loc[signals["order_id"].notna() & signals["order_date"].notna()]
    day = pd.to_datetime(s["order_date"])
    return s.loc[(day >= pd.Timestamp(start)) & (day < pd.Timestamp(end))]


def mark_found_by(problems: pd.DataFrame, signals: pd.DataFrame, window_days: int) -> pd.DataFrame:
    """Problem issues with found_by ('feedback' or 'both'), found_at and signal_rule.

    An issue was found by both when a signal of one of its matched causes was detected on its order in the
    window_days before the feedback; found_at is then the earliest such signal, else the feedback's time.
    """
    p = problems.copy()
    p["found_by"], p["found_at"], p["signal_rule"] = FOUND_FEEDBACK, p["feedback_created_at"], None
    if p.empty or signals.empty:
        return p
    pairs = (
        p.reset_index()[["index", *ORDER_KEY, "matched_causes", "feedback_created_at"]]
        .assign(cause=lambda f: f["matched_causes"].str.split(","))
        .explode("cause")
        .merge(
            signals[["order_id", "cause", "detected_at", "rule"]].assign(order_scope=OWN_SCOPE),
            on=[*ORDER_KEY, "cause"],
        )
    )
    before = pairs["detected_at"] <= pairs["feedback_created_at"]
    recent = pairs["detected_at"] >= pairs["feedback_created_at"] - pd.Timedelta(days=window_days)
    first = pairs.loc[before & recent].sort_values(["detected_at", "rule"]).drop_duplicates("index")
    at = first.set_index("index")
    p.loc[at.index, "found_by"] = FOUND_BOTH
    p.loc[at.index, "found_at"] = at["detected_at"]
    p.loc[at.index, "signal_rule"] = at["rule"]
    return p


def with_proactive(work_orders: pd.DataFrame, signals: pd.DataFrame, rules: ServiceRules) -> pd.DataFrame:
    """Work orders with found_by, proactive and first_signal_at; a signal without a work order opens one.

    signals are those of the work orders' orders (order_signals). A work order whose first signal came before
    its first complaint is proactive and counts as opened at that signal.
    """
    wo = work_orders.copy()
    wo["found_by"], wo["proactive"], wo["signal_rule"] = FOUND_FEEDBACK, False, None
    wo["first_signal_at"] = pd.Series(pd.NaT, index=wo.index, dtype="datetime64[us, UTC]")
    if signals.empty:
        return wo
    first = (
        signals.sort_values(["detected_at", "rule"], kind="stable")
        .drop_duplicates(["order_id", "cause"])
        .assign(work_order_id=lambda f: [work_order_id(o, c) for o, c in zip(f["order_id"], f["cause"], strict=True)])
        .set_index("work_order_id")
    )
    known = wo["work_order_id"].isin(first.index)
    hit = first.reindex(wo.loc[known, "work_order_id"])
    wo.loc[known, "found_by"] = FOUND_BOTH
    wo.loc[known, "first_signal_at"] = hit["detected_at"].to_numpy()
    wo.loc[known, "signal_rule"] = hit["rule"].to_numpy()
    earlier = known & (wo["first_signal_at"] < wo["opened_at"]).fillna(False).astype(bool)
    wo.loc[earlier, "proactive"] = True
    # Opened at the signal; the SLA (due_at, sla_breached) still runs from the first complaint: no promise is made
    # to a customer before they complain.
    wo["opened_at"] = pd.to_datetime(wo["opened_at"], utc=True).where(~earlier, wo["first_signal_at"])
    new = first.loc[~first.index.isin(wo["work_order_id"])].reset_index()
    if new.empty:
        return wo
    actions = new["cause"].map(lambda c: rules.actions.get(c) or rules.actions.get("other") or ("人工回访",))
    priority = np.where(new["cause"].isin(rules.p1_causes), "P1", "P3")
    sla = pd.Series(priority).map(rules.sla_hours).astype("int64").to_numpy()
    opened = new["detected_at"]
    due = opened + pd.to_timedelta(sla, unit="h")
    opened_rows = pd.DataFrame(
        {
            "work_order_id": new["work_order_id"],
            "business_date": new["order_date"],
            "order_id": new["order_id"],
            "order_scope": OWN_SCOPE,
            "channel": new["channel"].fillna("web"),
            "cause": new["cause"],
            "issue_count": 0,
            "min_rating": pd.array([pd.NA] * len(new), dtype="Int64"),
            "suggested_action": actions.map(lambda a: a[0]),
            "suggested_actions": actions.map(" | ".join),
            "priority": priority,
            "sla_hours": sla,
            "status": "open",
            "opened_at": opened,
            "due_at": due,
            "resolved_at": pd.NaT,
            "sla_breached": False,  # no complaint yet, so no SLA promise runs: pending in the SLA measures
            "found_by": FOUND_BEHAVIOUR,
            "proactive": True,
            "first_signal_at": opened,
            "signal_rule": new["rule"],
        }
    )
    out = pd.concat([wo, opened_rows[[c for c in wo.columns if c in opened_rows.columns]]], ignore_index=True)
    return out.sort_values(["business_date", *ORDER_KEY, "cause"], kind="stable").reset_index(drop=True)
