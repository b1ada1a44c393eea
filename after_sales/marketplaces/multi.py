"""Sources that span several files: kinds joined by key onto orders or items, per a `join:` in the mapping."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal, InvalidOperation

import pandas as pd

from after_sales.transforms.parsing import parse_money, parse_timestamps

from .config import Aggregate, KindConfig, SourceConfig
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


def _present(values: pd.Series) -> list[str]:
    """The non-empty values, in order."""
    return [v for v in values if isinstance(v, str) and v != ""]


def _typed(value: str, ftype: str) -> object:
    """A cleaned value in a form that orders correctly: exact decimals, whole numbers, else the text."""
    try:
        if ftype == "amount":
            return Decimal(value)
        if ftype == "int":
            return int(value)
    except (InvalidOperation, ValueError):
        pass
    return value


def _extreme(values: pd.Series, ftype: str, pick: type[min] | type[max]) -> str | None:
    """The smallest or largest value (compared typed), as written."""
    present = _present(values)
    typed = [(_typed(v, ftype), v) for v in present]
    if not typed:
        return None
    try:
        return pick(typed, key=lambda t: t[0])[1]
    except TypeError:  # a value of another type among numbers: compare as text
        return pick(present)


def aggregate(values: pd.Series, agg: Aggregate, ftype: str) -> str | None:
    """One aggregate over one key's values (already in order), as text; money stays exact."""
    present = _present(values)
    if agg.op == "sum":
        return _sum_text(values, money=ftype == "amount")
    if agg.op in {"min", "max"}:
        return _extreme(values, ftype, min if agg.op == "min" else max)
    if agg.op == "first":
        return present[0] if present else None
    if agg.op == "last":
        return present[-1] if present else None
    if agg.op == "count":
        return str(len(present))
    if agg.op == "count_distinct":
        return str(len(set(present)))
    return agg.sep.join(dict.fromkeys(present)) or None  # list: distinct values in order


def _ordered(rows: pd.DataFrame, by: str, ftype: str) -> pd.DataFrame:
    """Rows sorted by a field (typed, stable; empty values last)."""
    def sort_key(i: int) -> tuple[int, object]:
        v = rows[by].iloc[i]
        return (1, "") if not isinstance(v, str) or v == "" else (0, _typed(v, ftype))

    try:
        order = sorted(range(len(rows)), key=sort_key)
    except TypeError:
        order = sorted(range(len(rows)), key=lambda i: str(rows[by].iloc[i] or ""))
    return rows.iloc[order]


def _rejection(read: ExportRead, rows: pd.DataFrame, column: str, rule: str, text: pd.Series) -> pd.DataFrame:
    """Reader-shaped rejections of some of a read's rows, with the landed cells."""
    numbers = pd.to_numeric(rows["source_row"]).astype("int64")
    return pd.DataFrame(
        {
            "source_row": numbers.to_numpy(),
            "column": column,
            "rule": rule,
            "reason": (read.file + " row " + numbers.astype(str) + ", column " + column + ": " + text).to_numpy(),
            "raw": [read.landed.get(int(n)) for n in numbers],
        }
    ).astype({c: object for c in ("column", "rule", "reason", "raw")})


def _join_one(reads: list[ExportRead], kc: KindConfig) -> list[ExportRead]:
    """One joining kind's rows aggregated onto the rows they match; rows that cannot join become rejections."""
    join = kc.join
    assert join is not None
    mine = [i for i, r in enumerate(reads) if r.kind_name == kc.name]
    if not mine:
        return reads
    targets = [i for i, r in enumerate(reads) if r.kind == join.into]
    known = {v for i in targets for v in reads[i].rows[join.match] if isinstance(v, str) and v != ""}
    own_table = kc.kind == "items"  # item lines have a table of their own: an unmatched line is kept there
    out = list(reads)
    joined: list[pd.DataFrame] = []
    first_seen: dict[str, str] = {}
    for i in mine:
        r = reads[i]
        rows = r.rows
        column = r.columns_used.get(join.key, join.key)
        keys = rows[join.key]
        empty = ~keys.map(lambda v: isinstance(v, str) and v != "").astype(bool)
        repeat = pd.Series(False, index=rows.index)
        if join.unique:
            for pos, (k, row) in enumerate(zip(keys, rows["source_row"], strict=True)):
                if isinstance(k, str) and k != "":
                    where = f"row {row} of {r.file}"
                    repeat.iloc[pos] = first_seen.setdefault(k, where) != where
        unknown = ~empty & ~repeat & ~keys.isin(known)
        bad = [
            (repeat, "duplicate_key", join.key + " " + keys.astype(str) + " repeats "
             + keys.map(first_seen).astype(str) + f" (one {kc.name} row per {join.key})"),
        ]
        if not own_table:
            bad += [
                (empty, "missing_key", pd.Series(f"empty {join.key}: nothing to join onto the {join.into}",
                                                 index=rows.index)),
                (unknown, "unknown_key", f"no {join.into} row with {join.match} " + keys.astype(str)
                 + f" read in this window ({kc.name} rows join onto {join.into} by {join.key})"),
            ]
        rejected = [
            _rejection(r, rows[mask], column, rule, text[mask] if isinstance(text, pd.Series) else text)
            for mask, rule, text in bad
            if mask.any()
        ]
        dropped = pd.Series(False, index=rows.index)
        for mask, _, _ in bad:
            dropped |= mask
        notes = []
        if own_table and (unknown | empty).any():
            notes.append(
                f"{int((unknown | empty).sum())} {kc.name} row(s) match no {join.into} row read in this window: "
                f"kept, not joined (e.g. {join.key} {keys[unknown | empty].iloc[0]})"
            )
        usable = rows[~dropped & ~empty & ~unknown]
        notes.append(f"{len(usable)} {kc.name} row(s) joined onto the {join.into} by {join.key}")
        joined.append(usable)
        if rejected:
            allrej = pd.concat([r.rejected, *rejected], ignore_index=True).sort_values("source_row", kind="stable")
            rows = rows[~dropped].reset_index(drop=True)
            out[i] = dataclasses.replace(r, rows=rows, rejected=allrej.reset_index(drop=True))
        out[i] = dataclasses.replace(out[i], warnings=[*r.warnings, *notes])
    frame = pd.concat(joined, ignore_index=True) if joined else pd.DataFrame()
    if frame.empty:
        return out
    results: dict[str, pd.Series] = {}
    for agg in kc.join.fields:
        ordered = _ordered(frame, agg.order_by, kc.field_type(agg.order_by)) if agg.order_by else frame
        ftype = kc.field_type(agg.source)
        results[agg.field] = ordered.groupby(join.key, sort=False)[agg.source].agg(
            lambda s, a=agg, t=ftype: aggregate(s, a, t)
        )
    for t in targets:
        r = out[t]
        if r.rows.empty:
            continue
        rows, details = r.rows.copy(), (r.details.copy() if r.details is not None else pd.DataFrame(index=r.rows.index))
        for name, values in results.items():
            looked = rows[join.match].map(values).astype(object)
            looked = looked.where(looked.notna(), None)
            if name in rows.columns:  # a column of the rows: filled where the file left it empty, never replaced
                empty = rows[name].isna() | (rows[name] == "")
                rows[name] = rows[name].where(~empty, looked).astype(object)
                rows[name] = rows[name].where(rows[name].notna(), None)
            else:
                details[name] = looked
        out[t] = dataclasses.replace(r, rows=rows, details=details if len(details.columns) else r.details)
    return out


def join_files(reads: list[ExportRead], source: SourceConfig) -> list[ExportRead]:
    """Rows of the kinds that declare a `join:` aggregated onto their target rows in the same reads.

    Targets' empty columns are filled (a file's own value is never replaced); other joined fields go to
    `ExportRead.details`. A joined kind's row that cannot join (empty key, no such target row, a repeated key
    where the join is unique) becomes a rejection of its read, so every row is joined or quarantined.
    """
    for kc in source.joins():
        reads = _join_one(reads, kc)
    return reads


fill_from_items = join_files  # the name before payments, customers and products joined too


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


# Logical field types -> warehouse column types of the order details table.
DETAIL_TYPES = {"amount": "money", "int": "int", "rating": "int", "datetime": "timestamptz", "bool": "bool"}


def detail_table_rows(
    read: ExportRead, staged_rows: set[int], attributes: dict[str, str], source: str, landing_date: dt.date
) -> pd.DataFrame:
    """The joined fields of a read's staged orders (`staged_rows` = their source rows), typed for the details table."""
    if read.details is None or read.rows.empty:
        return pd.DataFrame()
    rows = pd.to_numeric(read.rows["source_row"]).astype("int64")
    keep = rows.isin(staged_rows).to_numpy()
    details = read.details.reindex(columns=list(attributes)).loc[keep]
    out = pd.DataFrame({"order_id": read.rows["order_id"].loc[keep].astype("string")}, index=details.index)
    for name, ftype in attributes.items():
        col = details[name].astype(object).where(details[name].notna(), None)
        kind = DETAIL_TYPES.get(ftype, "text")
        if kind == "money":
            out[name] = parse_money(col).values  # exact decimals; a value that cannot be stored exactly stays empty
        elif kind == "int":
            out[name] = pd.to_numeric(col, errors="coerce").astype("Int64")
        elif kind == "timestamptz":
            out[name] = parse_timestamps(col, read.timezone)
        elif kind == "bool":
            out[name] = col.map({"true": True, "false": False}).astype("boolean")
        else:
            out[name] = col.astype("string")
    out["channel"] = read.channel
    out["landing_date"] = landing_date
    out["source"] = source
    out["source_file"] = read.file
    out["source_row"] = rows.loc[keep].to_numpy()
    return out.reset_index(drop=True)
