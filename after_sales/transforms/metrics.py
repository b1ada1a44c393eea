"""Service metrics from the marts: daily additive facts over all channels, per channel and per cause.

Every count is over the orders of the row's business date (the cohort of orders placed that day), so a
count summed over days is the count over the period; rates, means and percentiles are derived from the
counts and the rows, never averaged. docs/metrics.md has the definitions. The relational work is in sql/
(metric_tickets and metric_work_orders give the rows every measure model reads); the ratios are generated
here from the measure registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence

import pandas as pd
import pyarrow as pa

from after_sales.measures import MEASURE, MEASURES
from after_sales.tables import (
    FCT_ORDER_FEEDBACK,
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    PROBLEM_ORDERS,
    QUARANTINE_FILES,
    SERVICE_MEASURES,
    STG_ACTIONS,
    STG_BEHAVIOUR,
    WORK_ORDERS,
    Column,
    TableSpec,
)
from after_sales.transforms.marts import FEEDBACK_IDS
from after_sales.transforms.metric_rules import MetricRules, load_metric_rules
from after_sales.transforms.sql_models import run_model, to_arrow, typed_frame

# Rate or mean column -> (numerator, denominator), from the measure registry.
RATIOS: dict[str, tuple[str, str]] = {
    m.name: (m.numerator, m.denominator)
    for m in MEASURES
    if m.kind in ("rate", "mean") and m.numerator and m.denominator
}
# SLA achievement column -> (met, breached): met / (met + breached).
SLA_RATES: dict[str, tuple[str, str]] = {
    m.name: (m.numerator, m.denominator) for m in MEASURES if m.kind == "sla_rate" and m.numerator and m.denominator
}
# Percentile column -> (hours column of the ticket or work-order rows, quantile); linear interpolation.
QUANTILES: dict[str, tuple[str, float]] = {
    m.name: (m.rows, m.quantile) for m in MEASURES if m.kind == "quantile" and m.rows and m.quantile is not None
}
# Service measures that add up over days and channels; every other one is derived from them or from rows.
ADDITIVE: tuple[str, ...] = tuple(c.name for c in SERVICE_MEASURES if MEASURE[c.name].additive)
CAUSE_ADDITIVE: tuple[str, ...] = tuple(c.name for c in METRICS_DAILY_BY_CAUSE.columns[2:] if MEASURE[c.name].additive)
TRAFFIC_ADDITIVE = ("visitors", "sessions", "sessions_with_submission")

_SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE"}


def _measure_sql(column: Column) -> str:
    """A spec column over an SQL table of sums: additive measures missing as 0, ratios from the sums."""
    name, m = column.name, MEASURE.get(column.name)
    if m is not None and m.additive:
        kind = _SQL_TYPES.get(column.type)
        return f"CAST(coalesce({name}, 0) AS {kind}) AS {name}" if kind else f"coalesce({name}, 0) AS {name}"
    if name in RATIOS or name in SLA_RATES:
        num, den = RATIOS.get(name) or SLA_RATES[name]
        total = f"coalesce({den}, 0)" if name in RATIOS else f"(coalesce({num}, 0) + coalesce({den}, 0))"
        return f"CASE WHEN {total} > 0 THEN CAST(coalesce({num}, 0) AS DOUBLE) / {total} END AS {name}"
    return name


def measures_query(spec: TableSpec, source: str, order: Sequence[str], as_is: Collection[str] = ()) -> str:
    """SELECT of a metric table's columns from an SQL table of its sums, ratios generated from the registry.

    as_is: columns taken as the source has them (an additive one that is null on purpose).
    """
    columns = ", ".join(c.name if c.name in as_is else _measure_sql(c) for c in spec.columns)
    return f"SELECT {columns} FROM {source} ORDER BY {', '.join(order)}"


# The columns each SQL model reads (a frame may lack any: it reads as null).
FACT_INPUT = (
    "business_date", "channel", "order_scope", "order_id", "amount", "feedback_id", "feedback_created_at", "rating",
    "issue_type", "first_response_at", "resolved_at", "resolution", "reopened", "refund_amount", "has_feedback",
)
PROBLEM_INPUT = ("business_date", "channel", "order_scope", "order_id", "cause")
SESSION_INPUT = (
    "session_id", "visitor_id", "business_date", "submitted_after_sales_form", "landing_date", "source_file",
    "source_row",
)
LOGGED_INPUT = ("work_order_id", "action", "acted_at", "action_id")
# The SQL files that give the ticket rows and the work-order rows (temp views read by the measure models).
ROW_MODELS = ("metric_macros", "metric_tickets", "metric_work_orders", "work_order_measures")


def _work_orders_input(work_orders: pd.DataFrame) -> pa.Table:
    """Work orders (with their feedback_ids lists when they have them) as an SQL input."""
    table = to_arrow(WORK_ORDERS, work_orders, WORK_ORDERS.column_names)
    ids = work_orders[FEEDBACK_IDS].tolist() if FEEDBACK_IDS in work_orders.columns else [None] * len(work_orders)
    return table.append_column(FEEDBACK_IDS, pa.array(ids, pa.list_(pa.string())))


def metric_inputs(
    fact: pd.DataFrame,
    work_orders: pd.DataFrame | None = None,
    problems: pd.DataFrame | None = None,
    logged: pd.DataFrame | None = None,
) -> dict[str, pa.Table]:
    """The SQL inputs of the metric models: absent frames are empty tables."""
    none = pd.DataFrame()
    return {
        "fact": to_arrow(FCT_ORDER_FEEDBACK, fact, FACT_INPUT),
        "work_orders": _work_orders_input(none if work_orders is None else work_orders),
        "problems": to_arrow(PROBLEM_ORDERS, none if problems is None else problems, PROBLEM_INPUT),
        "logged": to_arrow(STG_ACTIONS, none if logged is None or logged.empty else logged, LOGGED_INPUT, True),
    }


def metric_params(rules: MetricRules, member: str) -> dict[str, object]:
    """The metric settings as SQL parameters; member: the column rows are split by (channel, cause, ...)."""
    return {
        "member": member,
        "csat_min_rating": rules.csat_min_rating,
        "refund_types": list(rules.refund_issue_types),
        "dispute_types": list(rules.dispute_issue_types),
        "resolutions": list(rules.actions_for_resolution),
        "resolution_actions": [list(a) for a in rules.actions_for_resolution.values()],
    }


def ticket_rows(fact: pd.DataFrame) -> pd.DataFrame:
    """The tickets of the fact (feedback rows whose issue_type is not review), with their flags and hours (SQL)."""
    table = run_model(ROW_MODELS[:2], metric_inputs(fact), {}, query="SELECT * FROM tickets")
    return table.to_pandas()


def _refused_input(refused: pd.DataFrame | None) -> pa.Table:
    return to_arrow(QUARANTINE_FILES, pd.DataFrame() if refused is None else refused, ("landing_date", "source"))


# Own-site landing sources whose files carry the rows of the own channels (web, app, ...).
OWN_ORDER_SOURCES = ("orders", "feedback")


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
    inputs = metric_inputs(fact, work_orders, problems)
    inputs["sessions"] = to_arrow(STG_BEHAVIOUR, sessions, SESSION_INPUT, positions=True)
    inputs["refused"] = _refused_input(refused)
    params = {**metric_params(rules, ""), "start": start, "end": end, "late_days": late_days}
    query = measures_query(METRICS_DAILY, "daily_sums", ["business_date"])
    table = run_model([*ROW_MODELS, "service_measures", "metrics_daily"], inputs, params, query=query)
    return typed_frame(METRICS_DAILY, table, "UTC")


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
    fed = dict(channel_sources or {})
    inputs = {**metric_inputs(fact, work_orders, problems), "refused": _refused_input(refused)}
    params = {
        **metric_params(rules, "channel"),
        "late_days": late_days,
        "source_channels": list(fed),
        "channel_sources": [list(s) for s in fed.values()],
        "own_sources": list(OWN_ORDER_SOURCES),
    }
    query = measures_query(METRICS_DAILY_BY_CHANNEL, "by_channel_sums", ["business_date", "channel"])
    table = run_model([*ROW_MODELS, "service_measures", "metrics_daily_by_channel"], inputs, params, query=query)
    return typed_frame(METRICS_DAILY_BY_CHANNEL, table, "UTC")


def build_metrics_daily_by_cause(
    fact: pd.DataFrame,
    problems: pd.DataFrame,
    work_orders: pd.DataFrame,
    rules: MetricRules | None = None,
) -> pd.DataFrame:
    """Problem issues by primary cause and work orders by cause, per business date."""
    rules = rules or load_metric_rules()
    query = measures_query(METRICS_DAILY_BY_CAUSE, "by_cause_sums", ["business_date", "cause"])
    inputs = metric_inputs(fact, work_orders, problems)
    table = run_model([*ROW_MODELS, "metrics_daily_by_cause"], inputs, metric_params(rules, "cause"), query=query)
    return typed_frame(METRICS_DAILY_BY_CAUSE, table, "UTC")
