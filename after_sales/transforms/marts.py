"""Marts: the order-feedback fact, problem issues located to causes, work orders; the relational work in sql/."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from after_sales.tables import (
    FCT_ORDER_FEEDBACK,
    PROBLEM_ORDERS,
    STG_FEEDBACK,
    STG_ORDERS,
    WORK_ORDER_FEEDBACK,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms.arrow_ops import has_duplicates, isin
from after_sales.transforms.rules import CauseRules, ServiceRules
from after_sales.transforms.sql_models import run_model, to_arrow, typed_frame, zone_of

# Order ids are unique per shop system, not globally: the own site (every own channel: web, app, mini_program, ...
# and the own helpdesk, whose feedback has no channel) is one namespace, each marketplace channel another. An order
# is (order_scope, order_id); a feedback is (order_scope, feedback_id). docs/data-model.md, "Order keys".
OWN_SCOPE = "own"
ORDER_KEY = ["order_scope", "order_id"]
FEEDBACK_KEY = ["order_scope", "feedback_id"]
# Joins the parts of an in-memory key: staging refuses NUL in text, so no id holds it.
_KEY_SEPARATOR = "\x00"


def with_order_scope(frame: pd.DataFrame, marketplaces: Collection[str]) -> pd.DataFrame:
    """frame with its order_scope column: kept when it has one, else its channel when a marketplace's, else 'own'."""
    if "order_scope" in frame.columns:
        return frame
    channel = frame["channel"] if "channel" in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string")
    lowered = channel.astype("string").str.lower().fillna("")
    hit = isin(lowered, [m.lower() for m in marketplaces])
    return frame.assign(order_scope=pd.Series(np.where(hit, lowered, OWN_SCOPE), index=frame.index, dtype=object))


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


# The columns each model reads (a frame may lack any: it reads as null).
ORDER_INPUT = tuple(c for c in STG_ORDERS.column_names if c not in ("status_raw", "source"))
FEEDBACK_INPUT = tuple(c for c in STG_FEEDBACK.column_names if c not in ("business_date", "source", "refund_status"))
PROBLEM_INPUT = (*(c for c in PROBLEM_ORDERS.column_names if c in FCT_ORDER_FEEDBACK.column_names), "is_problem")
_SCOPE_COLUMN = FCT_ORDER_FEEDBACK.column("order_scope")


def _scoped_input(spec: TableSpec, frame: pd.DataFrame, columns: tuple[str, ...]) -> pa.Table:
    """A staged frame (with its order_scope) as an SQL input with row positions."""
    with_scope = replace(spec, columns=(*spec.columns, _SCOPE_COLUMN))
    return to_arrow(with_scope, frame, (*columns, "order_scope"), positions=True)


def build_order_feedback(
    orders: pd.DataFrame,
    feedback: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    complaint_issue_types: tuple[str, ...],
    marketplaces: Collection[str] = (),
) -> pd.DataFrame:
    """Orders of business dates [start, end) left-joined with their feedback of the same order scope (SQL).

    marketplaces are the marketplace channels (each its own order-id namespace); rows that already carry
    order_scope keep it.
    """
    inputs = {
        "orders": _scoped_input(STG_ORDERS, with_order_scope(orders, marketplaces), ORDER_INPUT),
        "feedback": _scoped_input(STG_FEEDBACK, with_order_scope(feedback, marketplaces), FEEDBACK_INPUT),
    }
    params = {"start": start, "end": end, "complaint_types": list(complaint_issue_types)}
    table = run_model("fct_order_feedback", inputs, params)
    return typed_frame(FCT_ORDER_FEEDBACK, table, zone_of(orders.get("created_at")))


def _cause_params(rules: CauseRules) -> dict[str, object]:
    """The cause rule table as list parameters, in rule order, types and keywords lower-cased."""
    return {
        "fallback": rules.fallback,
        "causes": [r.cause for r in rules.causes],
        "cause_types": [list(r.issue_types) for r in rules.causes],
        "cause_keywords": [[k.lower() for k in r.keywords] for r in rules.causes],
    }


def locate_causes(issue_type: pd.Series, description: pd.Series, rules: CauseRules) -> pd.DataFrame:
    """Primary cause and every matched cause per issue, from the rule table (sql/causes.sql).

    The primary cause is the first cause whose keywords appear in the description (the customer's words
    are more specific than the ticket type), else the first whose issue types include the ticket's type.
    """
    issues = pd.DataFrame({"issue_type": issue_type, "issue_description": description})
    columns = ("issue_type", "issue_description")
    table = run_model(("causes", "located_causes"), {"issues": to_arrow(PROBLEM_ORDERS, issues, columns, True)},
                      _cause_params(rules))
    return pd.DataFrame({c: table.column(c).to_pylist() for c in table.column_names}, index=description.index)


def build_problem_orders(fact: pd.DataFrame, rules: CauseRules) -> pd.DataFrame:
    """Problem issues (feedback rated below 3 or a complaint type), each located to a cause (SQL)."""
    issues = to_arrow(FCT_ORDER_FEEDBACK, fact.loc[fact["is_problem"].astype(bool)], PROBLEM_INPUT, positions=True)
    params = {**_cause_params(rules), "complaint_types": list(rules.complaint_issue_types)}
    table = run_model(("causes", "problem_orders"), {"fact": issues, "issues": issues}, params)
    return typed_frame(PROBLEM_ORDERS, table, zone_of(fact.get("feedback_created_at")))


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
    """Work orders read from the warehouse with their feedback_ids lists rebuilt from the bridge rows (sorted)."""
    pairs = pa.table(
        {
            "work_order_id": pa.array(links["work_order_id"].astype("string"), pa.large_string(), from_pandas=True),
            "feedback_id": pa.array(links["feedback_id"].astype("string"), pa.large_string(), from_pandas=True),
        }
    ).sort_by([("work_order_id", "ascending"), ("feedback_id", "ascending")])
    # Unthreaded, Arrow keeps the sorted order inside each group's list.
    grouped = pairs.group_by("work_order_id", use_threads=False).aggregate([("feedback_id", "list")])
    ids = pa.array(work_orders["work_order_id"].astype("string"), pa.large_string(), from_pandas=True)
    found = grouped["feedback_id_list"].take(pc.index_in(ids, grouped["work_order_id"]))
    out = work_orders.copy()
    out[FEEDBACK_IDS] = pd.Series([f or [] for f in found.to_pylist()], index=out.index, dtype=object)
    return out


def build_work_orders(problems: pd.DataFrame, rules: ServiceRules, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """One work order per problem order and matched cause, with actions, priority, status and SLA (SQL).

    as_of is the time open work orders are judged against for SLA breach (the newest timestamp in
    the data, so a rebuild on the same data gives the same rows). feedback_ids is a list per work order.
    """
    if problems.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in WORK_ORDER_FRAME_COLUMNS})
    default = rules.actions.get("other") or ("人工回访",)
    actions = {c: a for c, a in rules.actions.items() if a}
    params = {
        "p1_max_rating": rules.p1_max_rating,
        "p1_causes": list(rules.p1_causes),
        "p2_max_rating": rules.p2_max_rating,
        "p2_issue_types": list(rules.p2_issue_types),
        "priorities": list(rules.sla_hours),
        "sla_hours": list(rules.sla_hours.values()),
        "action_causes": list(actions),
        "first_actions": [a[0] for a in actions.values()],
        "all_actions": [" | ".join(a) for a in actions.values()],
        "default_action": default[0],
        "default_actions": " | ".join(default),
        "as_of": None if as_of is None else as_of.to_pydatetime(),
    }
    inputs = {"problems": to_arrow(PROBLEM_ORDERS, problems, PROBLEM_ORDERS.column_names)}
    table = run_model("work_orders", inputs, params)
    wo = typed_frame(WORK_ORDERS, table, zone_of(problems.get("feedback_created_at")))
    wo.insert(WORK_ORDER_FRAME_COLUMNS.index(FEEDBACK_IDS), FEEDBACK_IDS, table.column(FEEDBACK_IDS).to_pylist())
    return wo
