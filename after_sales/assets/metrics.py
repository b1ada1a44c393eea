"""Metric assets, partitioned by business date."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs, validated_output
from after_sales.checks.metrics_checks import METRICS_CHECKS, metrics_conservation
from after_sales.checks.quality import check_specs
from after_sales.partitions import SESSIONS_WITH_HISTORY, date_window
from after_sales.resources import WarehouseResource
from after_sales.tables import METRICS_DAILY
from after_sales.transforms.metrics import build_metrics_daily

Emitted = Iterator[dg.Output | dg.AssetCheckResult]


@dg.asset(
    **partitioned_asset_kwargs(METRICS_DAILY, "marts"),
    ins={"stg_behaviour": dg.AssetIn(partition_mapping=SESSIONS_WITH_HISTORY)},
    check_specs=check_specs("metrics_daily", METRICS_CHECKS),
    code_version="1",
)
def metrics_daily(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    fct_order_feedback: pd.DataFrame,
    problem_orders: pd.DataFrame,
    work_orders: pd.DataFrame,
    stg_behaviour: pd.DataFrame,
) -> Emitted:
    """The five service measures per business day."""
    window = date_window(context.partition_time_window)
    metrics = build_metrics_daily(
        fct_order_feedback, problem_orders, work_orders, stg_behaviour, window.start, window.end
    )
    last = metrics.iloc[-1]
    metadata = {
        "days": len(metrics),
        "orders": int(metrics["orders"].sum()),
        "complaint_rate_last_day": float(last["complaint_rate"]) if pd.notna(last["complaint_rate"]) else 0.0,
        "preview": dg.MetadataValue.md(metrics.tail(7).to_markdown(index=False)),
    }
    check = metrics_conservation(metrics, fct_order_feedback, work_orders, window.days())
    yield from validated_output(context, METRICS_DAILY, metrics, warehouse, custom=[check], metadata=metadata)
