"""Marts, partitioned by business date: fact, problem issues, work orders."""

import datetime as dt

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import partitioned_asset_kwargs
from after_sales.behaviour.effects import apply_ranking
from after_sales.behaviour.proactive import mark_found_by, order_signals, with_proactive
from after_sales.behaviour.rules import load_signal_rules
from after_sales.checks.conservation import (
    FACT_CHECKS,
    FEEDBACK_CONSERVED,
    PROBLEM_CHECKS,
    WORK_ORDER_CHECKS,
    fact_conservation,
    feedback_conservation,
    problem_conservation,
    work_order_coverage,
)
from after_sales.checks.quality import CustomCheck, check_specs
from after_sales.partitions import (
    FEEDBACK_OF_ORDERS,
    FEEDBACK_WINDOW_DAYS,
    LATE_ROWS,
    date_window,
    landing_window,
)
from after_sales.resources import Companion, Upstream, WarehouseResource, upstream
from after_sales.sources import MARKETPLACE_SOURCES
from after_sales.tables import (
    FCT_ORDER_FEEDBACK,
    FEEDBACK_TABLES,
    ORDER_TABLES,
    PROBLEM_ORDERS,
    STG_FEEDBACK,
    STG_ORDERS,
    WORK_ORDER_FEEDBACK,
    WORK_ORDERS,
)
from after_sales.transforms.marts import (
    FEEDBACK_IDS,
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
    with_order_scope,
    work_order_feedback,
)
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.windows import DateWindow

# Each marketplace channel is an order-id namespace of its own; every other channel is the own site's.
MARKETPLACE_CHANNELS = frozenset(s.channel.lower() for s in MARKETPLACE_SOURCES.values())


FACT = FCT_ORDER_FEEDBACK.name
# The fact rows stored for earlier days, that feedback landed now may belong to.
STORED_COLUMNS = ["business_date", "order_scope", "feedback_id"]
STORED_FACT = {FACT: upstream(FACT, columns=STORED_COLUMNS)}


def build_fact_asset(
    order_tables: list[str], feedback_tables: list[str], marketplaces: frozenset[str] = MARKETPLACE_CHANNELS
) -> dg.AssetsDefinition:
    """fct_order_feedback over every order and feedback staging table (own site and each marketplace)."""
    staged = {
        **{t: upstream(t, LATE_ROWS) for t in order_tables},
        **{t: upstream(t, FEEDBACK_OF_ORDERS) for t in feedback_tables},
    }

    @dg.asset(
        **partitioned_asset_kwargs(FCT_ORDER_FEEDBACK, "marts"),
        deps=[u.dep for u in staged.values()],
        check_specs=check_specs("fct_order_feedback", FACT_CHECKS, non_blocking=(FEEDBACK_CONSERVED,)),
        code_version="3",
    )
    def fct_order_feedback(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
        """Orders of the day from every channel (late rows included) left-joined with their feedback."""
        issue_types = load_cause_rules().complaint_issue_types

        def scoped(
            tables: list[str], window: DateWindow, also: dict[str, Upstream] | None = None
        ) -> dict[str, pd.DataFrame]:
            # The own site's files are one id space whatever channel a row names (an ERP export may say tmall);
            # a marketplace source's rows are scoped to their channel.
            read = warehouse.rows_of({t: staged[t] for t in tables} | (also or {}), window)
            own = (STG_ORDERS.name, STG_FEEDBACK.name)
            rows = {t: with_order_scope(read[t], () if t in own else marketplaces) for t in tables}
            return {**read, **rows}

        # Partitions judged by feedback_conserved before a chunk: materialized earlier, or written by this run.
        built = {dt.date.fromisoformat(k) for k in context.instance.get_materialized_partitions(context.asset_key)}

        def feedback_check(
            window: DateWindow, orders: pd.DataFrame, feedback: pd.DataFrame, fact: pd.DataFrame
        ) -> CustomCheck:
            # Feedback landed in the chunk may belong to an earlier business date: judge it against the stored fact.
            before = DateWindow(window.start - dt.timedelta(days=FEEDBACK_OF_ORDERS.end_offset), window.start)
            read = scoped(order_tables, before, STORED_FACT)
            check = feedback_conservation(
                feedback,
                _concat([*(read[t] for t in order_tables), orders]),
                _concat([read[FACT], fact[STORED_COLUMNS]]),
                window.days(),
                FEEDBACK_OF_ORDERS.end_offset,
                built,
            )
            built.update(window.days())
            return check

        def build(window: DateWindow) -> dict[str, Chunk]:
            read = scoped(order_tables + feedback_tables, window)
            orders = _concat([read[t] for t in order_tables])
            feedback = _concat([read[t] for t in feedback_tables])
            fact = build_order_feedback(orders, feedback, window.start, window.end, issue_types, marketplaces)
            checks = [fact_conservation(orders, fact, window.days()), feedback_check(window, orders, feedback, fact)]
            return {FCT_ORDER_FEEDBACK.name: Chunk(fact, checks=checks)}

        sized = warehouse.sizer(*staged.values())
        yield from materialize_in_chunks(context, warehouse, [FCT_ORDER_FEEDBACK], build, sized_by=sized)

    return fct_order_feedback


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]


fct_order_feedback = build_fact_asset(ORDER_TABLES, FEEDBACK_TABLES)


# Behaviour signals about the orders of a business date are detected on that date or later (docs/behaviour.md).
SIGNALS_OF_ORDERS = upstream("behaviour_signals", landing_window(0, FEEDBACK_WINDOW_DAYS))
FACT_IN = upstream(FCT_ORDER_FEEDBACK.name)
PROBLEMS_IN = upstream(PROBLEM_ORDERS.name)
# The action ranking of day D (built from the work orders of the days before D).
RANKING_IN = upstream("action_ranking")


@dg.asset(
    **partitioned_asset_kwargs(PROBLEM_ORDERS, "marts"),
    deps=[FACT_IN.dep, SIGNALS_OF_ORDERS.dep],
    check_specs=check_specs("problem_orders", PROBLEM_CHECKS),
    code_version="3",
)
def problem_orders(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Feedback rated below 3 or raising a complaint, located to a cause; found by feedback or by both."""
    rules = load_cause_rules()

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of({"fact": FACT_IN, "signals": SIGNALS_OF_ORDERS}, window)
        fact, signals = read["fact"], order_signals(read["signals"], window.start, window.end)
        problems = mark_found_by(build_problem_orders(fact, rules), signals, load_signal_rules().accuracy_window_days)
        problems = problems[PROBLEM_ORDERS.column_names]
        return {PROBLEM_ORDERS.name: Chunk(problems, checks=[problem_conservation(fact, problems, window.days())])}

    sized = warehouse.sizer(FACT_IN, SIGNALS_OF_ORDERS)
    yield from materialize_in_chunks(context, warehouse, [PROBLEM_ORDERS], build, sized_by=sized)


@dg.asset(
    **partitioned_asset_kwargs(WORK_ORDERS, "marts"),
    deps=[PROBLEMS_IN.dep, SIGNALS_OF_ORDERS.dep, RANKING_IN.dep],
    check_specs=check_specs("work_orders", WORK_ORDER_CHECKS),
    code_version="4",
)
def work_orders(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> Emitted:
    """Helpdesk work orders with suggested service actions, priority and SLA; opened proactively from behaviour."""
    rules = load_service_rules()
    # Open work orders are judged as of the end of the run's whole range (not of a chunk), as in one pass.
    horizon = pd.Timestamp(
        date_window(context.partition_time_window).end + dt.timedelta(days=FEEDBACK_WINDOW_DAYS),
        tz=context.partition_time_window.end.tzinfo,
    )
    as_of = min(pd.Timestamp.now(tz=horizon.tz), horizon)

    def build(window: DateWindow) -> dict[str, Chunk]:
        read = warehouse.rows_of({"problems": PROBLEMS_IN, "signals": SIGNALS_OF_ORDERS, "ranking": RANKING_IN}, window)
        problems, signals = read["problems"], order_signals(read["signals"], window.start, window.end)
        orders = with_proactive(build_work_orders(problems, rules, as_of), signals, rules)
        # Suggested actions in the order measured effectiveness ranks them for the day (docs/behaviour.md).
        orders = apply_ranking(orders, read["ranking"])
        # A work order opened proactively has no feedback yet: an empty list.
        orders[FEEDBACK_IDS] = [ids if isinstance(ids, list) else [] for ids in orders[FEEDBACK_IDS]]
        # The feedback_ids lists are stored as bridge rows, in the same transaction as the work orders.
        links = Companion(WORK_ORDER_FEEDBACK, work_order_feedback(orders))
        checks = [work_order_coverage(problems, orders, window.days())]
        return {WORK_ORDERS.name: Chunk(orders[WORK_ORDERS.column_names], checks=checks, companions=[links])}

    sized = warehouse.sizer(PROBLEMS_IN, SIGNALS_OF_ORDERS, RANKING_IN)
    yield from materialize_in_chunks(context, warehouse, [WORK_ORDERS], build, sized_by=sized)
