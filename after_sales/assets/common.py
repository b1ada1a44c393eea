"""What every asset shares: partitions, backfill policy, retries, freshness, warehouse kind, table metadata."""

import datetime as dt
import os

import dagster as dg
import pandas as pd
from dagster._core.storage.tags import BACKFILL_ID_TAG

from after_sales.partitions import SETTINGS, daily_partitions
from after_sales.resources import Upstream, WarehouseResource, upstream
from after_sales.resources.warehouse import warehouse_class
from after_sales.tables import WORK_ORDER_FEEDBACK, WORK_ORDERS, TableSpec
from after_sales.transforms.marts import with_feedback_ids
from after_sales.windows import DateWindow

WAREHOUSE_KIND = warehouse_class(SETTINGS.warehouse_url).kind
# Unpartitioned assets keep a single-run policy, so they can share a partition-range run with the marts.
SINGLE_RUN = dg.BackfillPolicy.single_run()


def backfill_policy(days_per_run: int) -> dg.BackfillPolicy:
    """One run per backfill (0), or runs of at most days_per_run partitions that the run queue runs side by side."""
    return dg.BackfillPolicy.multi_run(days_per_run) if days_per_run > 0 else SINGLE_RUN


# The daily assets' policy: AFTER_SALES_BACKFILL_DAYS_PER_RUN (default 0, one run) (docs/production.md, scaling out).
BACKFILL_POLICY = backfill_policy(SETTINGS.backfill_days_per_run)
# The roll-ups rewrite period ends past their run's range: each roll-up table is its own pool, so with the
# instance's `concurrency: pools: default_limit: 1` two runs never rewrite the same roll-up table at once.
ROLLUP_POOL_PREFIX = "after_sales_rollups_"
OWNERS = ["team:data"]
# Transient faults (DuckDB file locked past its own wait, connection refused or lost, disk full) are retried after
# 2, 6 and 14 s; every other failure is turned into dg.Failure(allow_retries=False) by assets/faults.py
# (classified_faults, one classification function: is_transient) and fails at once.
RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)
# Yesterday's marts and metrics are expected by this local hour (business time zone); the policy is attached to
# the marts and metrics groups in definitions.py, and the metrics_daily_freshness sensor alerts on it.
FRESHNESS_GROUPS = ("marts", "metrics")
ENV_FRESH_BY_HOUR = "AFTER_SALES_FRESH_BY_HOUR"


def fresh_by_hour() -> int:
    """The local hour (0-23) by which yesterday's marts must be materialized: AFTER_SALES_FRESH_BY_HOUR, default 9."""
    hour = int(os.environ.get(ENV_FRESH_BY_HOUR, "").strip() or 9)
    if not 0 <= hour <= 23:
        raise ValueError(f"{ENV_FRESH_BY_HOUR}={hour}: expected an hour from 0 to 23")
    return hour


FRESH_BY_HOUR = fresh_by_hour()
MARTS_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron=f"0 {FRESH_BY_HOUR} * * *",
    lower_bound_delta=dt.timedelta(hours=FRESH_BY_HOUR or 24),
    timezone=SETTINGS.timezone,
)


# Which ready step the multiprocess executor starts first (dagster/priority, higher first). A long backfill's
# critical path is the orders chain: orders -> feedback -> fact -> problems -> work orders -> metrics_daily;
# the marketplace staging the fact also waits for goes beside it, the sessions (needed only by metrics_daily)
# last. Unnamed assets keep Dagster's default 0.
STEP_PRIORITY = {
    "stg_orders": 10,
    "stg_feedback": 9,
    "marketplace_staging": 8,
    "fct_order_feedback": 7,
    "problem_orders": 6,
    "work_orders": 5,
    "metrics_daily": 4,
    "stg_behaviour": 3,
}


def priority_tags(step: str) -> dict[str, str]:
    """The op tags giving a step its place in STEP_PRIORITY."""
    return {"dagster/priority": str(STEP_PRIORITY[step])} if step in STEP_PRIORITY else {}


def table_metadata(spec: TableSpec) -> dict[str, object]:
    """Definition metadata shown on the asset page: table name, partition column, column schema."""
    meta: dict[str, object] = {
        "dagster/table_name": f"{SETTINGS.warehouse_schema}.{spec.name}",
        "dagster/column_schema": spec.dagster_schema(),
    }
    if spec.partition_column:
        meta["partition_expr"] = spec.partition_column
    return meta


def partitioned_asset_kwargs(spec: TableSpec, group: str) -> dict[str, object]:
    """Keyword arguments shared by the daily warehouse assets."""
    return {
        "name": spec.name,
        "description": spec.description,
        "partitions_def": daily_partitions,
        "backfill_policy": BACKFILL_POLICY,
        "group_name": group,
        "kinds": {"pandas", WAREHOUSE_KIND},
        "owners": OWNERS,
        "metadata": table_metadata(spec),
        "retry_policy": RETRY_POLICY,
        "op_tags": priority_tags(spec.name),
    }


def clip_to_backfill(context: dg.AssetExecutionContext, write: DateWindow) -> DateWindow:
    """write, ended before the next partition that the run's own backfill targets after the run's range.

    In a backfill split into runs, the later runs rewrite their own partitions once their upstream days are
    built; a run writing them earlier would race them with incomplete inputs (and record them as done).
    """
    backfill_id = context.run.tags.get(BACKFILL_ID_TAG)
    if not backfill_id:
        return write
    backfill = context.instance.get_backfill(backfill_id)
    if backfill is None or not backfill.is_asset_backfill:
        return write
    target = backfill.get_asset_backfill_data(context.repository_def.asset_graph).target_subset
    if context.asset_key not in target.partitions_subsets_by_asset_key:
        return write
    own_end = context.partition_time_window.end.date().isoformat()
    later = [k for k in target.get_partitions_subset(context.asset_key).get_partition_keys() if k >= own_end]
    if not later:
        return write
    return DateWindow(write.start, min(write.end, dt.date.fromisoformat(min(later))))


WORK_ORDERS_IN: Upstream = upstream(WORK_ORDERS.name)
# The work orders and their feedback_ids bridge rows, read together (with other inputs: rows_of).
WORK_ORDER_INPUTS = {"work_orders": WORK_ORDERS_IN, "work_order_links": upstream(WORK_ORDER_FEEDBACK.name)}


def work_orders_of(read: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The work orders read with WORK_ORDER_INPUTS, with their feedback_ids lists."""
    return with_feedback_ids(read["work_orders"], read["work_order_links"])


def read_work_orders(warehouse: WarehouseResource, window: DateWindow) -> pd.DataFrame:
    """The work orders of the window's days with their feedback_ids lists (from the work_order_feedback bridge)."""
    return work_orders_of(warehouse.rows_of(WORK_ORDER_INPUTS, window))
