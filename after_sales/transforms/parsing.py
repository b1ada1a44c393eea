"""Vectorized parsing of landed text values: timestamps, numbers, booleans."""

from __future__ import annotations

import pandas as pd

# Formats tried, in order, for values the ISO 8601 pass could not read.
FALLBACK_TIMESTAMP_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
    "%d/%m/%Y %H:%M:%S",
)
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
TRUE_WORDS = frozenset({"true", "t", "1", "yes", "y", "是", "已重开", "reopened"})
FALSE_WORDS = frozenset({"false", "f", "0", "no", "n", "否", ""})


def blank(series: pd.Series) -> pd.Series:
    """True where a landed value is missing or only whitespace."""
    return series.isna() | (series.astype("string").str.strip().fillna("") == "")


def parse_timestamps(series: pd.Series, tz: str) -> pd.Series:
    """Text to tz-aware timestamps in tz; naive text is local time in tz; unreadable values become NaT."""
    text = series.astype("string").str.strip()
    result = pd.Series(pd.NaT, index=series.index, dtype=f"datetime64[us, {tz}]")
    present = text.notna() & (text != "")
    has_offset = present & text.str.contains(_OFFSET, regex=True).fillna(False)
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        result[has_offset] = aware.dt.tz_convert(tz)
    naive_mask = present & ~has_offset
    if naive_mask.any():
        naive = pd.to_datetime(text[naive_mask], format="ISO8601", errors="coerce")
        for fmt in FALLBACK_TIMESTAMP_FORMATS:
            missing = naive.isna()
            if not missing.any():
                break
            naive[missing] = pd.to_datetime(text[naive_mask][missing], format=fmt, errors="coerce")
        result[naive_mask] = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return result


def parse_numbers(series: pd.Series) -> pd.Series:
    """Text to floats; unreadable values become NaN."""
    text = series.astype("string").str.strip()
    return pd.to_numeric(text.where(text != ""), errors="coerce").astype("float64")


def parse_booleans(series: pd.Series) -> pd.Series:
    """Text to nullable booleans; words outside the known true/false sets become NA."""
    text = series.astype("string").str.strip().str.lower().fillna("")
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE_WORDS)] = True
    out[text.isin(FALSE_WORDS)] = False
    return out
