"""Sources that span several files: items files summed into their orders, item lines typed for order_items."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pandas as pd

from .config import SourceConfig
from .reader import ExportRead

ITEM_TABLE_COLUMNS = (
    "order_id",
    "line_no",
    "sku",
    "product",
    "quantity",
    "unit_price",
    "amount",
    "channel",
    "landing_date",
    "source",
    "source_file",
    "source_row",
)


def _sum_text(values: pd.Series, money: bool) -> str | None:
    """Exact sum of numeric text (two decimals for money); None when there is nothing to add."""
    present = [v for v in values if isinstance(v, str) and v != ""]
    if not present:
        return None
    total = sum((Decimal(v) for v in present), Decimal(0))
    return f"{total:.2f}" if money else str(int(total))


def order_totals(reads: list[ExportRead], source: SourceConfig) -> pd.DataFrame:
    """Per order id, the summed amount and quantity of the items files whose kind says `sum_into_orders`."""
    frames = [
        r.rows
        for r in reads
        if r.kind == "items" and source.kinds[r.kind_name].sum_into_orders and len(r.rows)
    ]
    if not frames:
        return pd.DataFrame(columns=["amount", "quantity"], dtype=object)
    items = pd.concat(frames, ignore_index=True)
    grouped = items.groupby("order_id", sort=False)
    out = pd.DataFrame(
        {
            "amount": grouped["amount"].agg(lambda s: _sum_text(s, money=True)),
            "quantity": grouped["quantity"].agg(lambda s: _sum_text(s, money=False)),
        }
    )
    wanted = set().union(*(source.kinds[r.kind_name].sum_into_orders for r in reads if r.kind == "items"))
    return out[[c for c in ("amount", "quantity") if c in wanted]]


def fill_from_items(reads: list[ExportRead], source: SourceConfig) -> list[ExportRead]:
    """Orders whose amount or quantity is empty take the sum over their items (from items files of the same reads)."""
    totals = order_totals(reads, source)
    if totals.empty:
        return reads
    out = []
    for r in reads:
        if r.kind != "orders" or r.rows.empty:
            out.append(r)
            continue
        rows = r.rows.copy()
        for col in totals.columns:
            looked = rows["order_id"].map(totals[col])
            empty = rows[col].isna() | (rows[col] == "")
            rows[col] = rows[col].where(~empty, looked).astype(object)
            rows[col] = rows[col].where(rows[col].notna(), None)
        out.append(dataclasses.replace(r, rows=rows))
    return out


def item_table_rows(items: pd.DataFrame, source: str, landing_date: dt.date, file: str) -> pd.DataFrame:
    """Item rows typed for the stg_<source>_order_items table."""
    out = pd.DataFrame(
        {
            "order_id": items["order_id"].astype("string"),
            "line_no": pd.to_numeric(items["line_no"]).astype("Int64"),
            "sku": items["sku"].astype("string"),
            "product": items["product"].astype("string"),
            "quantity": pd.to_numeric(items["quantity"]).astype("Int64"),
            "unit_price": pd.to_numeric(items["unit_price"]),
            "amount": pd.to_numeric(items["amount"]),
            "channel": items["channel"].astype("string"),
            "landing_date": [landing_date] * len(items),
            "source": source,
            "source_file": file,
            "source_row": pd.to_numeric(items["source_row"]).astype("int64"),
        },
        index=items.index,
    )
    return out[list(ITEM_TABLE_COLUMNS)].reset_index(drop=True)
