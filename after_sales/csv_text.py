"""CSV lines as pandas' to_csv writes them (Python's csv module, minimal quoting), built column-wise in Arrow."""

from __future__ import annotations

import csv
import io
import os
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

LINE_END = os.linesep  # to_csv's default line terminator
ISO_SECONDS = "%Y-%m-%dT%H:%M:%S%z"


def _quote_triggers() -> str:
    """The characters that make Python's csv writer (as pandas configures it) quote a field, found by asking it."""
    found = []
    for char in ',"\n\r\t \x00;':
        out = io.StringIO()
        csv.writer(out, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL).writerow([f"a{char}b", "x"])
        if out.getvalue().startswith('"'):
            found.append(char)
    return "[" + re.escape("".join(found)) + "]"


_NEEDS_QUOTES = _quote_triggers()


def _text_cells(values: pa.Array) -> pa.Array:
    """Text as the csv writer writes it: quoted (inner quotes doubled) when it holds a trigger, null as empty."""
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
    cells = pc.if_else(pc.match_substring_regex(values, _NEEDS_QUOTES), quoted, values)
    return pc.fill_null(cells, "")


def _cells(series: pd.Series) -> pa.Array | None:
    """One column's cells as to_csv writes them; None for a column kind this does not reproduce."""
    dtype = series.dtype
    try:
        if pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype):
            kind = pd.api.types.infer_dtype(series, skipna=True)
            if kind in ("string", "empty"):
                return _text_cells(pa.array(series, type=pa.string(), from_pandas=True))
            if kind == "date":
                return pc.fill_null(pc.cast(pa.array(series, type=pa.date32(), from_pandas=True), pa.string()), "")
            return None
        if pd.api.types.is_bool_dtype(dtype):
            flags = pa.array(series, type=pa.bool_(), from_pandas=True)
            return pc.fill_null(pc.if_else(flags, "True", "False"), "")
        if pd.api.types.is_integer_dtype(dtype):
            return pc.fill_null(pc.cast(pa.array(series, type=pa.int64(), from_pandas=True), pa.string()), "")
    except (pa.ArrowException, ValueError, TypeError):  # e.g. a lone surrogate, which Arrow text cannot hold
        return None
    return None


def csv_lines(frame: pd.DataFrame) -> tuple[str, np.ndarray] | None:
    """The header line and one line per row (no line ends), as frame.to_csv(index=False) writes them.

    None when a column is of a kind this does not reproduce (floats, naive datetimes, mixed objects), or the
    frame has a single column (the csv writer quotes a lone empty field): the caller then uses to_csv.
    """
    if len(frame.columns) < 2 or not frame.columns.map(type).isin([str]).all():
        return None
    cells = []
    for name in frame.columns:
        column = _cells(frame[name])
        if column is None:
            return None
        cells.append(column)
    header = ",".join(_text_cells(pa.array(list(frame.columns), pa.string())).to_pylist())
    lines = pc.binary_join_element_wise(*cells, ",") if len(frame) else pa.array([], pa.string())
    return header, lines.to_numpy(zero_copy_only=False)


def csv_text(header: str, lines: np.ndarray) -> str:
    """A whole CSV file's text from its header and row lines."""
    return LINE_END.join([header, *lines]) + LINE_END


def _utc_offset(offset: np.timedelta64) -> str:
    """A UTC offset as strftime's %z writes it: +HHMM, with seconds only when it has some."""
    seconds = int(offset // np.timedelta64(1, "s"))
    sign, seconds = ("-", -seconds) if seconds < 0 else ("+", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{seconds:02d}" if seconds else "")


def iso_seconds(stamps: pd.Series) -> pd.Series:
    """Zoned timestamps as strftime(ISO_SECONDS) writes them (whole seconds, floored), NaT as None; vectorized."""
    wall = stamps.dt.tz_localize(None)
    offsets = (wall - stamps.dt.tz_convert("UTC").dt.tz_localize(None)).to_numpy()
    codes, kinds = pd.factorize(offsets)  # a zone has few offsets: each formatted once
    zone = np.array([_utc_offset(k) for k in kinds] + [""], dtype=object)[codes]  # code -1 (NaT): the extra ""
    clock = np.datetime_as_string(wall.dt.floor("s").to_numpy().astype("datetime64[s]"))
    text = pc.binary_join_element_wise(pa.array(clock), pa.array(zone, pa.string()), "")
    out = pd.Series(text.to_numpy(zero_copy_only=False), index=stamps.index, dtype=object)
    return out.where(stamps.notna(), None)
