"""Marts: the order-feedback fact, problem issues located to causes, work orders."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection

import numpy as np
import pandas as pd

from after_sales.tables import FCT_ORDER_FEEDBACK, PROBLEM_ORDERS, WORK_ORDER_FEEDBACK, WORK_ORDERS
from after_sales.transforms.arrow_ops import has_duplicates, isin
from after_sales.transforms.rules import CauseRules, ServiceRules

# Order ids are unique per shop system, not globally: the own site (every own channel: web, app, mini_program, ...
# and the own helpdesk, whose feedback has no channel) is one namespace, each marketplace channel another. An order
# is (order_scope, order_id); a feedback is (order_scope, feedback_id). docs/data-model.md, "Order keys".
OWN_SCOPE = "own"
ORDER_KEY = ["order_scope", "order_id"]
FEEDBACK_KEY = ["order_scope", "feedback_id"]
# Joins the parts of an in-memory key: staging refuses NUL in text, so no id holds it.
_KEY_SEPARATOR = "\x00"


def order_scope(channel: pd.Series, marketplaces: Collection[str]) -> pd.Series:
    """The order-id namespace of each row: its channel when that is a marketplace's, else the own site's."""
    lowered = channel.astype("string").str.lower()
    hit = isin(lowered.fillna(""), [m.lower() for m in marketplaces])
    return pd.Series(np.where(hit, lowered.fillna(""), OWN_SCOPE), index=channel.index, dtype=object)


def with_order_scope(frame: pd.DataFrame, marketplaces: Collection[str]) -> pd.DataFrame:
    """frame with its order_scope column (kept when it has one, else derived from channel)."""
    if "order_scope" in frame.columns:
        return frame
    return frame.assign(order_scope=order_scope(frame["channel"], marketplaces))


def key_of(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """One text value per row for a key of several text columns (for set and duplicate tests)."""
    out = frame[columns[0]].astype("string")
    for c in columns[1:]:
        out = out + _KEY_SEPARATOR + frame[c].astype("string")
    return out


def latest_version(frame: pd.DataFrame, key: str | list[str]) -> pd.DataFrame:
    """One row per key: the one that landed last (re-exports carry updated status)."""
    columns = [key] if isinstance(key, str) else key
    if frame.empty or not has_duplicates(key_of(frame, columns)):
        return frame
    ordered = frame.sort_values(["landing_date", "source_file", "source_row"], kind="stable")
    return ordered.drop_duplicates(columns, keep="last")


def in_window(dates: pd.Series, start: dt.date, end: dt.date) -> pd.Series:
    """True where a date column falls in [start, end)."""
    as_ts = pd.to_datetime(dates)
    return (as_ts >= pd.Timestamp(start)) & (as_ts < pd.Timestamp(end))


def build_order_feedback(
    orders: pd.DataFrame,
    feedback: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    complaint_issue_types: tuple[str, ...],
    marketplaces: Collection[str] = (),
) -> pd.DataFrame:
    """Orders of business dates [start, end) left-joined with their feedback of the same order scope.

    marketplaces are the marketplace channels (each its own order-id namespace); rows that already carry
    order_scope keep it.
    """
    o = latest_version(with_order_scope(orders, marketplaces), ORDER_KEY)
    o = o.loc[in_window(o["business_date"], start, end)]
    f = latest_version(with_order_scope(feedback, marketplaces), FEEDBACK_KEY)
    f = f.loc[isin(key_of(f, ORDER_KEY), key_of(o, ORDER_KEY))]
    o = o.rename(columns={"created_at": "order_created_at", "status": "order_status"})
    f = f.rename(columns={"created_at": "feedback_created_at"})
    fact = o.merge(
        f[
            [
                *ORDER_KEY,
                "feedback_id",
                "feedback_created_at",
                "rating",
                "issue_type",
                "issue_description",
                "first_response_at",
                "resolved_at",
                "resolution",
                "reopened",
                "refund_amount",
            ]
        ],
        on=ORDER_KEY,
        how="left",
    )
    fact["has_feedback"] = fact["feedback_id"].notna()
    low = fact["rating"].astype("Float64").lt(3).fillna(False).astype(bool)
    complaint = fact["issue_type"].isin(complaint_issue_types).fillna(False).astype(bool)
    fact["is_problem"] = fact["has_feedback"] & (low | complaint)
    fact = fact.sort_values(
        ["business_date", *ORDER_KEY, "feedback_id"], kind="stable", na_position="first"
    )
    return fact[FCT_ORDER_FEEDBACK.column_names].reset_index(drop=True)


def locate_causes(issue_type: pd.Series, description: pd.Series, rules: CauseRules) -> pd.DataFrame:
    """Primary cause and every matched cause per issue, from the rule table.

    The primary cause is the first cause whose keywords appear in the description (the customer's words
    are more specific than the ticket type), else the first whose issue types include the ticket's type.
    """
    text = description.astype("string").fillna("").str.lower()
    kind = issue_type.astype("string").fillna("").str.lower()
    names = np.array([r.cause for r in rules.causes] + [rules.fallback], dtype=object)
    by_word = np.column_stack(
        [text.str.contains(r.pattern, regex=True).to_numpy(dtype=bool) for r in rules.causes]
        + [np.zeros(len(text), dtype=bool)]
    )
    by_type = np.column_stack(
        [kind.isin(r.issue_types).to_numpy(dtype=bool) for r in rules.causes] + [np.ones(len(text), dtype=bool)]
    )
    first_word = np.where(by_word.any(axis=1), by_word.argmax(axis=1), len(names) - 1)
    cause = np.where(by_word[:, :-1].any(axis=1), names[first_word], names[by_type.argmax(axis=1)])
    matched = by_word[:, :-1] | by_type[:, :-1]
    joined = pd.Series("", index=description.index, dtype=object)
    for i, r in enumerate(rules.causes):
        hit = pd.Series(matched[:, i], index=description.index)
        joined = joined.where(~hit, joined.where(joined == "", joined + ",") + r.cause)
    return pd.DataFrame(
        {"cause": cause, "matched_causes": joined.where(joined != "", rules.fallback)}, index=description.index
    )


def build_problem_orders(fact: pd.DataFrame, rules: CauseRules) -> pd.DataFrame:
    """Problem issues (feedback rated below 3 or a complaint type), each located to a cause."""
    p = fact.loc[fact["is_problem"].astype(bool)].copy()
    p["is_low_rating"] = p["rating"].astype("Float64").lt(3).fillna(False).astype(bool)
    p["is_complaint"] = p["issue_type"].isin(rules.complaint_issue_types).fillna(False).astype(bool)
    located = locate_causes(p["issue_type"], p["issue_description"], rules)
    p["cause"] = located["cause"]
    p["matched_causes"] = located["matched_causes"]
    # Found by the feedback itself; behaviour signals may date it earlier (after_sales/behaviour/proactive.py).
    p["found_by"], p["found_at"], p["signal_rule"] = "feedback", p["feedback_created_at"], None
    return p[PROBLEM_ORDERS.column_names].reset_index(drop=True)


def work_order_id(order_id: str, cause: str, scope: str = OWN_SCOPE) -> str:
    """Stable work-order id for an order (of an order scope) and cause."""
    # Own-site ids hash as they always did; a marketplace's hash its scope too, behind a NUL no own id can hold.
    key = f"{order_id}|{cause}" if scope == OWN_SCOPE else f"{scope}{_KEY_SEPARATOR}{order_id}|{cause}"
    return "WO-" + hashlib.sha1(key.encode()).hexdigest()[:12].upper()


# The work orders as built: the table's columns plus feedback_ids, the list (a Python list of ids, sorted) of
# the feedback behind each; it is stored as rows of the work_order_feedback bridge table, never joined into text.
FEEDBACK_IDS = "feedback_ids"
WORK_ORDER_FRAME_COLUMNS = [*WORK_ORDERS.column_names[:6], FEEDBACK_IDS, *WORK_ORDERS.column_names[6:]]


def work_order_feedback(work_orders: pd.DataFrame) -> pd.DataFrame:
    """The bridge rows (business_date, work_order_id, order_scope, feedback_id) of work orders with feedback_ids."""
    if work_orders.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WORK_ORDER_FEEDBACK.column_names})
    links = work_orders[["business_date", "work_order_id", "order_scope", FEEDBACK_IDS]].explode(FEEDBACK_IDS)
    links = links.rename(columns={FEEDBACK_IDS: "feedback_id"}).dropna(subset=["feedback_id"])
    return links.sort_values(["business_date", "work_order_id", "feedback_id"], kind="stable")[
        WORK_ORDER_FEEDBACK.column_names
    ].reset_index(drop=True)


def with_feedback_ids(work_orders: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Work orders read from the warehouse with their feedback_ids lists rebuilt from the bridge rows."""
    lists: dict[str, list[str]] = {}
    for work_order, feedback in zip(links["work_order_id"].tolist(), links["feedback_id"].tolist(), strict=True):
        lists.setdefault(work_order, []).append(feedback)
    out = work_orders.copy()
    ids = [sorted(lists.get(w, [])) for w in out["work_order_id"]]
    out[FEEDBACK_IDS] = pd.Series(ids, index=out.index, dtype=object)
    return out


def build_work_orders(problems: pd.DataFrame, rules: ServiceRules, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """One work order per problem order and matched cause, with actions, priority, status and SLA.

    as_of is the time open work orders are judged against for SLA breach (the newest timestamp in
    the data, so a rebuild on the same data gives the same rows). feedback_ids is a list per work order.
    """
    if problems.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WORK_ORDER_FRAME_COLUMNS})
    # An issue that matched several causes opens a work order for each of them.
    p = problems.drop(columns="cause").assign(cause=problems["matched_causes"].str.split(",")).explode("cause")
    p = p.sort_values([*ORDER_KEY, "cause", "feedback_created_at", "feedback_id"], kind="stable")
    p = p.assign(
        p2_type=p["issue_type"].isin(rules.p2_issue_types).fillna(False),
        unresolved=p["resolved_at"].isna(),
        reopened_flag=p["reopened"].fillna(False).astype(bool),
    )
    keys = ["business_date", *ORDER_KEY, "cause"]
    g = p.groupby(keys, sort=False, dropna=False)
    wo = g.agg(
        channel=("channel", "first"),
        first_feedback=("feedback_id", "first"),
        issue_count=("feedback_id", "size"),
        min_rating=("rating", "min"),
        opened_at=("feedback_created_at", "min"),
        last_resolved=("resolved_at", "max"),
        any_unresolved=("unresolved", "any"),
        any_reopened=("reopened_flag", "any"),
        any_p2_type=("p2_type", "any"),
    ).reset_index()
    ids = pd.Series([[f] for f in wo["first_feedback"].tolist()], index=wo.index, dtype=object)
    several = p.loc[p.duplicated(keys, keep=False)]
    if len(several):  # build longer lists only where a work order has more than one issue (Python per group)
        lists = {k: sorted(str(f) for f in g.tolist()) for k, g in several.groupby(keys, sort=False)["feedback_id"]}
        at = wo[keys].itertuples(index=False, name=None)
        ids = pd.Series([lists.get(k, i) for k, i in zip(at, ids, strict=True)], index=wo.index, dtype=object)
    wo[FEEDBACK_IDS] = ids
    wo["work_order_id"] = [
        work_order_id(o, c, s)
        for o, c, s in zip(wo["order_id"].tolist(), wo["cause"].tolist(), wo["order_scope"].tolist(), strict=True)
    ]
    actions = wo["cause"].map(lambda c: rules.actions.get(c) or rules.actions.get("other") or ("人工回访",))
    wo["suggested_action"] = actions.map(lambda a: a[0])
    wo["suggested_actions"] = actions.map(" | ".join)
    rating = wo["min_rating"].astype("Float64")
    p1 = rating.le(rules.p1_max_rating).fillna(False) | wo["cause"].isin(rules.p1_causes)
    p2 = rating.le(rules.p2_max_rating).fillna(False) | wo["any_p2_type"]
    wo["priority"] = np.where(p1, "P1", np.where(p2, "P2", "P3"))
    wo["sla_hours"] = wo["priority"].map(rules.sla_hours).astype("int64")
    wo["due_at"] = wo["opened_at"] + pd.to_timedelta(wo["sla_hours"], unit="h")
    wo["status"] = np.where(wo["any_unresolved"], "open", np.where(wo["any_reopened"], "reopened", "resolved"))
    wo["resolved_at"] = wo["last_resolved"].where(~wo["any_unresolved"])
    late_resolution = wo["resolved_at"].notna() & (wo["resolved_at"] > wo["due_at"])
    overdue_open = wo["resolved_at"].isna() & (wo["due_at"] < as_of) if as_of is not None else False
    wo["sla_breached"] = (late_resolution | overdue_open).astype(bool)
    # Opened by feedback; behaviour signals may open one earlier (after_sales/behaviour/proactive.py).
    wo["found_by"], wo["proactive"], wo["first_signal_at"], wo["signal_rule"] = "feedback", False, pd.NaT, None
    wo = wo.sort_values(keys, kind="stable")
    return wo[WORK_ORDER_FRAME_COLUMNS].reset_index(drop=True)
