"""Marts, partitioned by business date: fact, problem issues, work orders, daily metrics."""


import datetime as dt

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs
from after_sales.partitions import (
    FEEDBACK_OF_ORDERS,
    FEEDBACK_WINDOW_DAYS,
    LATE_ROWS,
    SESSIONS_WITH_HISTORY,
    date_window,
)
from after_sales.tables import FCT_ORDER_FEEDBACK, METRICS_DAILY, PROBLEM_ORDERS, WORK_ORDERS
from after_sales.transforms.marts import (
    build_metrics_daily,
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
)
from after_sales.transforms.rules import load_cause_rules, load_service_rules


@dg.asset(
    **partitioned_asset_kwargs(FCT_ORDER_FEEDBACK, "marts"),
    ins={
        "stg_orders": dg.AssetIn(partition_mapping=LATE_ROWS),
        "stg_feedback": dg.AssetIn(partition_mapping=FEEDBACK_OF_ORDERS),
    },
    code_version="1",
)
def fct_order_feedback(
    context: dg.AssetExecutionContext, stg_orders: pd.DataFrame, stg_feedback: pd.DataFrame
) -> pd.DataFrame:
    """Orders of the day (late rows included) left-joined with their feedback."""
    window = date_window(context.partition_time_window)
    return build_order_feedback(
        stg_orders, stg_feedback, window.start, window.end, load_cause_rules().complaint_issue_types
    )


@dg.asset(**partitioned_asset_kwargs(PROBLEM_ORDERS, "marts"), code_version="1")
def problem_orders(fct_order_feedback: pd.DataFrame) -> pd.DataFrame:
    """Feedback rated below 3 or raising a complaint, located to a cause."""
    return build_problem_orders(fct_order_feedback, load_cause_rules())


@dg.asset(**partitioned_asset_kwargs(WORK_ORDERS, "marts"), code_version="1")
def work_orders(context: dg.AssetExecutionContext, problem_orders: pd.DataFrame) -> pd.DataFrame:
    """Helpdesk work orders with suggested service actions, priority and SLA."""
    window = date_window(context.partition_time_window)
    tz = context.partition_time_window.end.tzinfo
    horizon = pd.Timestamp(window.end + dt.timedelta(days=FEEDBACK_WINDOW_DAYS), tz=tz)
    as_of = min(pd.Timestamp.now(tz=horizon.tz), horizon)
    return build_work_orders(problem_orders, load_service_rules(), as_of)


@dg.asset(
    **partitioned_asset_kwargs(METRICS_DAILY, "marts"),
    ins={"stg_behaviour": dg.AssetIn(partition_mapping=SESSIONS_WITH_HISTORY)},
    code_version="1",
)
def metrics_daily(
    context: dg.AssetExecutionContext,
    fct_order_feedback: pd.DataFrame,
    problem_orders: pd.DataFrame,
    work_orders: pd.DataFrame,
    stg_behaviour: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """The five service measures per business day."""
    window = date_window(context.partition_time_window)
    metrics = build_metrics_daily(
        fct_order_feedback, problem_orders, work_orders, stg_behaviour, window.start, window.end
    )
    last = metrics.iloc[-1]
    return dg.Output(
        metrics,
        metadata={
            "days": len(metrics),
            "orders": int(metrics["orders"].sum()),
            "complaint_rate_last_day": float(last["complaint_rate"]) if pd.notna(last["complaint_rate"]) else 0.0,
            "preview": dg.MetadataValue.md(metrics.tail(7).to_markdown(index=False)),
        },
    )
