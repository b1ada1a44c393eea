"""Exports for other tools: work orders as one CSV per day for helpdesk import."""

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pandas as pd

from after_sales.assets.common import OWNERS, RETRY_POLICY, SINGLE_RUN
from after_sales.partitions import daily_partitions, date_window
from after_sales.resources import ExportDirectory


def write_daily_csvs(work_orders: pd.DataFrame, days: list[dt.date], out_dir: Path) -> list[Path]:
    """One UTF-8 (with BOM, for Excel) CSV per day, written atomically; a day without work orders gets a header."""
    written = []
    for day in days:
        rows = work_orders.loc[work_orders["business_date"] == day]
        path = out_dir / f"work_orders_{day.isoformat()}.csv"
        tmp = path.with_suffix(".csv.tmp")
        rows.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%dT%H:%M:%S%z")
        os.replace(tmp, path)
        written.append(path)
    return written


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=SINGLE_RUN,
    group_name="exports",
    kinds={"pandas", "csv"},
    owners=OWNERS,
    ins={"work_orders": dg.AssetIn()},
    code_version="1",
    retry_policy=RETRY_POLICY,
)
def work_orders_csv(
    context: dg.AssetExecutionContext, exports: ExportDirectory, work_orders: pd.DataFrame
) -> dg.MaterializeResult:
    """Work orders as `<export dir>/work_orders/work_orders_<day>.csv`, one file per day."""
    window = date_window(context.partition_time_window)
    out_dir = exports.folder("work_orders")
    paths = write_daily_csvs(work_orders, window.days(), out_dir)
    return dg.MaterializeResult(
        metadata={
            "directory": dg.MetadataValue.path(str(out_dir.resolve())),
            "files": len(paths),
            "dagster/row_count": len(work_orders),
        }
    )
