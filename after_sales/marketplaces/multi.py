"""Sources that span several files: items files summed into their orders, item lines typed for order_items."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation

import pandas as pd

from after_sales.transforms.parsing import parse_money

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
    try:
        total = sum((Decimal(v) for v in present), Decimal(0))
    except InvalidOperation:
        return None
    if not money:
        return str(int(total)) if total.is_finite() else None
    # Never rounded: a sum that is not whole cents (or not finite) goes to staging as is, which quarantines it.
    return f"{total:.2f}" if total.is_finite() and total == total.quantize(Decimal("0.01")) else str(total)


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
            # Exact decimals; a line price or amount that cannot be stored exactly is left empty (the order's
            # own amount is where the money rules quarantine).
            "unit_price": parse_money(items["unit_price"]).values,
            "amount": parse_money(items["amount"]).values,
            "channel": items["channel"].astype("string"),
            "landing_date": [landing_date] * len(items),
            "source": source,
            "source_file": file,
            "source_row": pd.to_numeric(items["source_row"]).astype("int64"),
        },
        index=items.index,
    )
    return out[list(ITEM_TABLE_COLUMNS)].reset_index(drop=True)
