"""Conversions between pandas frames and Arrow tables typed by a TableSpec."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from after_sales.tables import TableSpec

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "money": pa.decimal128(18, 2),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
}


# Stored floats (rates, means, hours, scores: the metric tables only) are rounded to this many significant digits,
# so sums taken in another row order (a re-run, another chunk size) store the same bytes: their last-bit
# differences (about 1e-16 relative) are rounded away.
FLOAT_DIGITS = 12


class SchemaMismatchError(ValueError):
    """A frame does not fit the table it is written to."""


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The Arrow schema of a table."""
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type], nullable=c.nullable) for c in spec.columns])


def _via_objects(series: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    """Convert value by value, every pandas null (None, NaN, pd.NA, NaT, ...) as null."""
    return pa.array(series.astype(object).where(series.notna(), None), type=arrow_type)


def _direct_or_via_objects(series: pd.Series, arrow_type: pa.DataType) -> pa.Array:
    """Convert without Python objects; values Arrow cannot read directly (numpy NaT, float32 NaN) go value by value."""
    try:
        array = pa.array(series, type=arrow_type, from_pandas=True)
    except (pa.ArrowException, ValueError, TypeError):
        return _via_objects(series, arrow_type)
    # Arrow-backed strings come back in their chunks; one array keeps the table laid out as before.
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _exact_cents(value: object) -> Decimal | None:
    """One amount as an exact Decimal: Decimal, int and text as they are, floats by their shortest repr."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.01"))  # a float is already rounded; cents were meant
    return Decimal(value)  # type: ignore[arg-type]


def _money_array(series: pd.Series) -> pa.Array:
    """Amounts as decimal128(18,2), exactly: a value with more than two decimals or too large is an error.

    Decimal columns (staging writes decimal128 through pandas' Arrow dtype) go as they are; floats, from callers
    that computed in floats, are taken at their shortest repr rounded to cents, as before.
    """
    money = ARROW_TYPES["money"]
    if isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_decimal(series.dtype.pyarrow_dtype):
        array = pa.array(series.array)
        return (array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array).cast(money)
    if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        floats = pa.array(pd.to_numeric(series).astype("float64"), from_pandas=True)
        return pc.round(floats, 2).cast(money)
    try:  # Decimal and int objects (a Parquet read) convert exactly in Arrow; anything else value by value
        return pa.array(series, type=money, from_pandas=True)
    except (pa.ArrowException, ValueError, TypeError):
        return pa.array([_exact_cents(v) for v in series.astype(object)], type=money)


def _to_arrow_column(series: pd.Series, logical: str) -> pa.Array:
    if logical == "timestamptz":
        values = pd.to_datetime(series, utc=True)
        return pa.array(values, from_pandas=True).cast(ARROW_TYPES[logical])
    if logical == "date":
        if pd.api.types.is_datetime64_any_dtype(series):
            return pa.array(series, from_pandas=True).cast(pa.date32())
        if series.dtype == object:
            return _direct_or_via_objects(series, pa.date32())
        return _via_objects(series, pa.date32())
    if logical == "money":
        return _money_array(series)
    if logical == "text":
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            return _direct_or_via_objects(series, pa.string())
        return _via_objects(series, pa.string())
    if logical == "bool":
        return pa.array(series.astype("boolean"), from_pandas=True)
    if logical == "int":
        return pa.array(pd.to_numeric(series).astype("Int64"), from_pandas=True)
    return pa.array(stable_floats(pd.to_numeric(series).astype("float64").to_numpy()), from_pandas=True)


def stable_floats(values: np.ndarray) -> np.ndarray:
    """Floats rounded to FLOAT_DIGITS significant digits (correctly rounded, half to even); NaN and inf kept."""
    out = values.astype("float64", copy=True)
    finite = np.isfinite(out) & (out != 0)
    out[finite] = [float(f"{v:.{FLOAT_DIGITS}g}") for v in out[finite].tolist()]
    return out


def _first_bad_row(frame: pd.DataFrame, column: str, logical: str) -> str:
    """Where the first value that cannot be cast sits: file and row when the frame carries them, else its index."""
    series = frame[column]
    for position in range(len(series)):
        try:
            _to_arrow_column(series.iloc[position : position + 1], logical)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):
            if {"source_file", "source_row"} <= set(frame.columns):
                return f"{frame['source_file'].iloc[position]} row {frame['source_row'].iloc[position]}, "
            return f"row {position + 1} of the frame, "
    return ""


def frame_to_arrow(spec: TableSpec, frame: pd.DataFrame) -> pa.Table:
    """Cast a frame to the table's exact columns and types; extra columns are an error."""
    missing = [c for c in spec.column_names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in spec.column_names]
    if missing or extra:
        raise SchemaMismatchError(
            f"frame for table {spec.name} does not match its spec: missing {missing}, unexpected {extra}"
        )
    arrays = []
    for col in spec.columns:
        try:
            arrays.append(_to_arrow_column(frame[col.name], col.type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as exc:
            raise SchemaMismatchError(
                f"table {spec.name}, {_first_bad_row(frame, col.name, col.type)}column {col.name}: "
                f"cannot cast to {col.type}: {exc}"
            ) from exc
    table = pa.Table.from_arrays(arrays, schema=arrow_schema(spec).remove_metadata())
    for col in spec.columns:
        if not col.nullable and table.column(col.name).null_count:
            raise SchemaMismatchError(
                f"table {spec.name}, column {col.name}: {table.column(col.name).null_count} null values "
                "in a required column"
            )
    return table


def _decimals_as_arrow(arrow_type: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(arrow_type) if pa.types.is_decimal(arrow_type) else None


def arrow_to_frame(spec: TableSpec, table: pa.Table, tz: str) -> pd.DataFrame:
    """Arrow back to pandas: money as exact decimal128 (pandas Arrow dtype), timestamps in the business time zone,
    dates as date objects."""
    frame = table.to_pandas(types_mapper=_decimals_as_arrow)
    zone = ZoneInfo(tz)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        if col.type == "money":
            frame[col.name] = frame[col.name].astype(pd.ArrowDtype(ARROW_TYPES["money"]))
        elif col.type == "timestamptz":
            frame[col.name] = pd.to_datetime(frame[col.name], utc=True).dt.tz_convert(zone)
        elif col.type == "int":
            frame[col.name] = frame[col.name].astype("Int64")
        elif col.type == "bool":
            frame[col.name] = frame[col.name].astype("boolean")
    return frame


def empty_frame(spec: TableSpec, tz: str) -> pd.DataFrame:
    """A frame with no rows and the table's columns and types."""
    return arrow_to_frame(spec, arrow_schema(spec).empty_table(), tz)
