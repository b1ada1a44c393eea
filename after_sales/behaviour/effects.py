"""The closed loop: each logged action's measured effect, the daily effectiveness per cause and action, and the
ranking of the actions per cause that work orders suggest from (SQL on DuckDB, docs/behaviour.md)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.behaviour.actions import ActionLogConfig
from after_sales.behaviour.rules import sql_text
from after_sales.behaviour.signals import run_sql, to_arrow
from after_sales.tables import (
    ACTION_EFFECTIVENESS,
    ACTION_EFFECTS,
    ACTION_RANKING,
    STG_ACTIONS,
    STG_EVENTS,
    STG_ORDERS,
    TableSpec,
)
from after_sales.transforms.rules import ServiceRules

ACTION_INPUT = ("action_id", "work_order_id", "order_id", "cause", "action", "agent", "acted_at", "business_date",
                "outcome")
EVENT_COLUMNS = ("order_id", "user_id", "event_type", "result", "occurred_at")
ORDER_COLUMNS = ("order_id", "user_id")


def _normal_quantile(p: float) -> float:
    """The standard normal quantile (scipy is imported here, not with the definitions: it costs 0.8 s)."""
    from scipy import stats

    return float(stats.norm.ppf(p))


def _table(frame: pd.DataFrame, columns: dict[str, pa.DataType]) -> pa.Table:
    """Named columns of a frame as an Arrow table of the given types (timestamps in UTC)."""
    arrays = {}
    for name, kind in columns.items():
        values = frame[name] if name in frame.columns else pd.Series([], dtype=object)
        if pa.types.is_timestamp(kind):
            arrays[name] = pa.array(pd.to_datetime(values, utc=True), kind)
        else:
            arrays[name] = pa.array(values.astype(object).where(values.notna(), None).tolist(), kind)
    return pa.table(arrays)


def _result(
    con: duckdb.DuckDBPyConnection, name: str, params: dict[str, object], spec: TableSpec, tz: str
) -> pd.DataFrame:
    found = run_sql(con, sql_text(name), params).df()
    return arrow_to_frame(spec, frame_to_arrow(spec, found[spec.column_names]), tz)


def problems_found(problems: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """(order_id, cause, found_at): when each problem issue was found per matched cause, and each signal."""
    issues = problems[["order_id", "matched_causes", "found_at"]]
    issues = issues.assign(cause=issues["matched_causes"].str.split(","))
    issues = issues.explode("cause")[["order_id", "cause", "found_at"]]
    detected = signals.loc[signals["order_id"].notna(), ["order_id", "cause", "detected_at"]]
    detected = detected.rename(columns={"detected_at": "found_at"})
    both = [f for f in (issues, detected) if len(f)]
    return pd.concat(both, ignore_index=True) if both else issues


def measure_effects(
    actions: pd.DataFrame,
    all_actions: pd.DataFrame,
    events: pd.DataFrame,
    orders: pd.DataFrame,
    complaints: pd.DataFrame,
    ratings: pd.DataFrame,
    found: pd.DataFrame,
    config: ActionLogConfig,
    seen_until: pd.Timestamp,
    tz: str,
) -> pd.DataFrame:
    """action_effects rows of the given actions: what the customer did in the window after each (action_effects.sql)."""
    text, when, whole = pa.string(), pa.timestamp("us", tz="UTC"), pa.int64()
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("actions", to_arrow(STG_ACTIONS, actions, ACTION_INPUT))
        con.register("all_actions", to_arrow(STG_ACTIONS, all_actions, ACTION_INPUT))
        con.register("events", to_arrow(STG_EVENTS, events, EVENT_COLUMNS))
        con.register("orders", to_arrow(STG_ORDERS, orders, ORDER_COLUMNS))
        con.register("complaints", _table(complaints, {"feedback_id": text, "order_id": text, "created_at": when}))
        ratings = ratings.loc[ratings["rating"].notna()] if len(ratings) else ratings
        con.register(
            "ratings", _table(ratings, {"feedback_id": text, "order_id": text, "created_at": when, "rating": whole})
        )
        con.register("found", _table(found, {"order_id": text, "cause": text, "found_at": when}))
        params = {"window_days": config.effect_window_days, "seen_until": seen_until.tz_convert("UTC")}
        return _result(con, "action_effects", params, ACTION_EFFECTS, tz)
    finally:
        con.close()


def summarize_effects(effects: pd.DataFrame, tz: str) -> pd.DataFrame:
    """action_effectiveness rows: the effects counted per action day, cause and action (action_effectiveness.sql)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("effects", frame_to_arrow(ACTION_EFFECTS, effects[ACTION_EFFECTS.column_names]))
        return _result(con, "action_effectiveness", {}, ACTION_EFFECTIVENESS, tz)
    finally:
        con.close()


def prior_order(rules: ServiceRules) -> pd.DataFrame:
    """(cause, action, prior_rank): the actions of service_actions.yaml per cause, in file order."""
    rows = [(c, a, i + 1) for c, actions in rules.actions.items() for i, a in enumerate(actions)]
    return pd.DataFrame(rows, columns=["cause", "action", "prior_rank"])


def rank_actions(
    effects: pd.DataFrame,
    rules: ServiceRules,
    config: ActionLogConfig,
    start: dt.date,
    end: dt.date,
    tz: str,
) -> pd.DataFrame:
    """action_ranking rows for days [start, end): each cause's actions ranked by measured effectiveness that day."""
    days = pd.DataFrame({"business_date": pd.date_range(start, end - dt.timedelta(days=1), freq="D").date})
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("effects", frame_to_arrow(ACTION_EFFECTS, effects[ACTION_EFFECTS.column_names]))
        con.register("prior", pa.Table.from_pandas(prior_order(rules), preserve_index=False))
        con.register("days", pa.Table.from_pandas(days, preserve_index=False))
        params = {
            "lookback_days": config.ranking_lookback_days,
            "window_days": config.effect_window_days,
            "min_evidence": config.min_evidence,
            "z": _normal_quantile(1 - (1 - config.confidence) / 2),
            "tz": tz,
        }
        return _result(con, "action_ranking", params, ACTION_RANKING, tz)
    finally:
        con.close()


def apply_ranking(work_orders: pd.DataFrame, ranking: pd.DataFrame) -> pd.DataFrame:
    """Work orders whose suggested actions follow the ranking of their business date and cause.

    The suggested list is the ranked actions that service_actions.yaml lists for the cause or that have evidence;
    a day or cause without a ranking keeps the order of service_actions.yaml.
    """
    if work_orders.empty or ranking.empty:
        return work_orders
    shown = ranking.loc[ranking["listed"].astype(bool) | ranking["has_evidence"].astype(bool)]
    shown = shown.sort_values(["business_date", "cause", "rank"], kind="stable")
    lists = {
        (pd.Timestamp(day).date(), cause): list(g["action"])
        for (day, cause), g in shown.groupby(["business_date", "cause"], sort=False)
    }
    out = work_orders.copy()
    keys = zip((pd.Timestamp(d).date() for d in out["business_date"]), out["cause"], strict=True)
    ranked = [lists.get(k) for k in keys]
    found = pd.Series([r is not None for r in ranked], index=out.index)
    out.loc[found, "suggested_action"] = [r[0] for r in ranked if r is not None]
    out.loc[found, "suggested_actions"] = [" | ".join(r) for r in ranked if r is not None]
    return out
