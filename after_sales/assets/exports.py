"""Exports for other tools: work orders as one CSV per day for helpdesk import."""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from after_sales.assets.chunked import warehouse_chunks
from after_sales.assets.common import (
    BACKFILL_POLICY,
    OWNERS,
    RETRY_POLICY,
    WORK_ORDER_INPUTS,
    WORK_ORDERS_IN,
    read_work_orders,
)
from after_sales.assets.faults import classified_faults
from after_sales.partitions import daily_partitions, date_window
from after_sales.resources import ExportDirectory, WarehouseResource
from after_sales.resources.export_directory import neutralize_formulas
from after_sales.transforms.marts import WORK_ORDER_FRAME_COLUMNS


def write_daily_csvs(work_orders: pd.DataFrame, days: list[dt.date], out_dir: Path) -> list[Path]:
    """One UTF-8 (with BOM, for Excel) CSV per day, written atomically; a day without work orders gets a header.

    Text cells a spreadsheet would run as formulas are prefixed with a quote (neutralize_formulas).
    """
    date_format = "%Y-%m-%dT%H:%M:%S%z"
    formatted = {}
    for name in work_orders.columns:
        if isinstance(work_orders[name].dtype, pd.DatetimeTZDtype):
            # Formatted once, by Arrow, as pandas would: whole seconds (Arrow's %S would print fractions), NaT empty.
            # Floored without the zone: in local time an hour of the autumn clock change is ambiguous to Arrow.
            values = pa.array(work_orders[name], from_pandas=True)
            instants = pc.floor_temporal(values.cast(pa.timestamp(values.type.unit)), unit="second")
            seconds = instants.cast(pa.timestamp("s", values.type.tz))
            text = pc.strftime(seconds, format=date_format).to_numpy(zero_copy_only=False)
            formatted[name] = pd.Series(text, index=work_orders.index, dtype=object)
    if "feedback_ids" in work_orders.columns:
        # A list per work order, written as a JSON array: an id containing a comma stays one id.
        formatted["feedback_ids"] = work_orders["feedback_ids"].map(
            lambda ids: json.dumps(list(ids), ensure_ascii=False) if isinstance(ids, list | tuple) else ids
        )
    frame = neutralize_formulas(work_orders.assign(**formatted))
    by_day = dict(list(frame.groupby("business_date", sort=False)))
    written = []
    for day in days:
        rows = by_day.get(day, frame.iloc[:0])
        path = out_dir / f"work_orders_{day.isoformat()}.csv"
        tmp = path.with_suffix(".csv.tmp")
        rows.to_csv(tmp, index=False, encoding="utf-8-sig", date_format=date_format)
        os.replace(tmp, path)
        written.append(path)
    return written


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=BACKFILL_POLICY,
    group_name="exports",
    kinds={"pandas", "csv"},
    owners=OWNERS,
    deps=[WORK_ORDERS_IN.dep],
    code_version="1",
    retry_policy=RETRY_POLICY,
)
@classified_faults
def work_orders_csv(
    context: dg.AssetExecutionContext, exports: ExportDirectory, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Work orders as `<export dir>/work_orders/work_orders_<day>.csv`, one file per day."""
    out_dir = exports.folder("work_orders")
    files = rows = 0
    whole = date_window(context.partition_time_window)
    for window in warehouse_chunks(warehouse, whole, warehouse.sizer(*WORK_ORDER_INPUTS.values())):
        frame = read_work_orders(warehouse, window)[WORK_ORDER_FRAME_COLUMNS]
        files += len(write_daily_csvs(frame, window.days(), out_dir))
        rows += len(frame)
    return dg.MaterializeResult(
        metadata={
            "directory": dg.MetadataValue.path(str(out_dir.resolve())),
            "files": files,
            "dagster/row_count": rows,
        }
    )
