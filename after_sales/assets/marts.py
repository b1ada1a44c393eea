"""Marts, partitioned by business date: fact, problem issues, work orders."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs, validated_output
from after_sales.assets.marketplaces import FEEDBACK_TABLES, ORDER_TABLES
from after_sales.checks.conservation import (
    FACT_CHECKS,
    PROBLEM_CHECKS,
    WORK_ORDER_CHECKS,
    fact_conservation,
    problem_conservation,
    work_order_coverage,
)
from after_sales.checks.quality import check_specs
from after_sales.partitions import (
    FEEDBACK_OF_ORDERS,
    FEEDBACK_WINDOW_DAYS,
    LATE_ROWS,
    date_window,
)
from after_sales.resources import WarehouseResource
from after_sales.tables import FCT_ORDER_FEEDBACK, PROBLEM_ORDERS, WORK_ORDERS
from after_sales.transforms.marts import (
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
)
from after_sales.transforms.rules import load_cause_rules, load_service_rules

Emitted = Iterator[dg.Output | dg.AssetCheckResult]


def build_fact_asset(order_tables: list[str], feedback_tables: list[str]) -> dg.AssetsDefinition:
    """fct_order_feedback over every order and feedback staging table (own site and each marketplace)."""
    ins = {
        **{t: dg.AssetIn(key=t, partition_mapping=LATE_ROWS) for t in order_tables},
        **{t: dg.AssetIn(key=t, partition_mapping=FEEDBACK_OF_ORDERS) for t in feedback_tables},
    }

    @dg.asset(
        **partitioned_asset_kwargs(FCT_ORDER_FEEDBACK, "marts"),
        ins=ins,
        check_specs=check_specs("fct_order_feedback", FACT_CHECKS),
        code_version="2",
    )
    def fct_order_feedback(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource, **staged: pd.DataFrame
    ) -> Emitted:
        """Orders of the day from every channel (late rows included) left-joined with their feedback."""
        window = date_window(context.partition_time_window)
        orders = _concat([staged[t] for t in order_tables])
        feedback = _concat([staged[t] for t in feedback_tables])
        fact = build_order_feedback(
            orders, feedback, window.start, window.end, load_cause_rules().complaint_issue_types
        )
        check = fact_conservation(orders, fact, window.days())
        yield from validated_output(context, FCT_ORDER_FEEDBACK, fact, warehouse, custom=[check])

    return fct_order_feedback


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]


fct_order_feedback = build_fact_asset(ORDER_TABLES, FEEDBACK_TABLES)


@dg.asset(
    **partitioned_asset_kwargs(PROBLEM_ORDERS, "marts"),
    check_specs=check_specs("problem_orders", PROBLEM_CHECKS),
    code_version="1",
)
def problem_orders(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, fct_order_feedback: pd.DataFrame
) -> Emitted:
    """Feedback rated below 3 or raising a complaint, located to a cause."""
    problems = build_problem_orders(fct_order_feedback, load_cause_rules())
    days = date_window(context.partition_time_window).days()
    check = problem_conservation(fct_order_feedback, problems, days)
    yield from validated_output(context, PROBLEM_ORDERS, problems, warehouse, custom=[check])


@dg.asset(
    **partitioned_asset_kwargs(WORK_ORDERS, "marts"),
    check_specs=check_specs("work_orders", WORK_ORDER_CHECKS),
    code_version="1",
)
def work_orders(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, problem_orders: pd.DataFrame
) -> Emitted:
    """Helpdesk work orders with suggested service actions, priority and SLA."""
    window = date_window(context.partition_time_window)
    horizon = pd.Timestamp(
        window.end + dt.timedelta(days=FEEDBACK_WINDOW_DAYS), tz=context.partition_time_window.end.tzinfo
    )
    as_of = min(pd.Timestamp.now(tz=horizon.tz), horizon)
    orders = build_work_orders(problem_orders, load_service_rules(), as_of)
    check = work_order_coverage(problem_orders, orders, window.days())
    yield from validated_output(context, WORK_ORDERS, orders, warehouse, custom=[check])
