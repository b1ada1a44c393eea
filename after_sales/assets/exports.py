"""Exports for other tools: work orders as one CSV per day for helpdesk import."""

import datetime as dt
import json
import os
from pathlib import Path

import dagster as dg
import numpy as np
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
from after_sales.csv_text import ISO_SECONDS, csv_lines, csv_text, iso_seconds
from after_sales.partitions import daily_partitions, date_window
from after_sales.resources import ExportDirectory, WarehouseResource
from after_sales.resources.export_directory import neutralize_formulas
from after_sales.transforms.marts import WORK_ORDER_FRAME_COLUMNS

# Characters json.dumps(ensure_ascii=False) escapes: an id holding none is written between plain quotes.
_JSON_ESCAPED = '[\\x00-\\x1f"\\\\]'


def _json_dumps(ids: object) -> object:
    return json.dumps(list(ids), ensure_ascii=False) if isinstance(ids, list | tuple) else ids


def json_arrays(lists: pd.Series) -> pd.Series:
    """Each list of ids as json.dumps(ids, ensure_ascii=False) writes it; anything but a list as it is."""
    try:
        ids = pa.array(lists, type=pa.list_(pa.string()), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return lists.map(_json_dumps)
    flat = pc.list_flatten(ids)
    if pc.any(pc.match_substring_regex(flat, _JSON_ESCAPED)).as_py() or flat.null_count:
        return lists.map(_json_dumps)
    inner = pc.binary_join(ids, '", "')
    text = pc.if_else(pc.equal(pc.list_value_length(ids), 0), "[]", pc.binary_join_element_wise('["', inner, '"]', ""))
    kept = ids.is_null().to_numpy(zero_copy_only=False)  # None or NaN: as it is
    return pd.Series(np.where(kept, lists.to_numpy(dtype=object), text.to_numpy(zero_copy_only=False)), lists.index)


def write_daily_csvs(work_orders: pd.DataFrame, days: list[dt.date], out_dir: Path) -> list[Path]:
    """One UTF-8 (with BOM, for Excel) CSV per day, written atomically; a day without work orders gets a header.

    Text cells a spreadsheet would run as formulas are prefixed with a quote (neutralize_formulas).
    """
    formatted = {
        name: iso_seconds(work_orders[name])
        for name in work_orders.columns
        if isinstance(work_orders[name].dtype, pd.DatetimeTZDtype)
    }
    if "feedback_ids" in work_orders.columns:
        # A list per work order, written as a JSON array: an id containing a comma stays one id.
        formatted["feedback_ids"] = json_arrays(work_orders["feedback_ids"])
    frame = neutralize_formulas(work_orders.assign(**formatted))
    positions = frame.groupby("business_date", sort=False).indices  # each day's rows, in frame order
    text = csv_lines(frame)
    written = []
    for day in days:
        path = out_dir / f"work_orders_{day.isoformat()}.csv"
        tmp = path.with_suffix(".csv.tmp")
        at = positions.get(day, np.arange(0))
        if text is not None:
            tmp.write_text(csv_text(text[0], text[1][at]), encoding="utf-8-sig", newline="")
        else:  # a column kind csv_lines does not reproduce
            frame.iloc[at].to_csv(tmp, index=False, encoding="utf-8-sig", date_format=ISO_SECONDS)
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
