"""Great Expectations 1.x, used directly: one ephemeral context per process, pandas frames in, outcomes out."""

from __future__ import annotations

import datetime as dt
import json
import os
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Rule:
    """One expectation as data (its GX type name and arguments), the Dagster check it belongs to, its column.

    Plain data, so the SQL evaluator runs it without importing GX (about 3.5 s of every process start).
    """

    check_name: str
    kind: str
    kwargs: dict[str, Any]
    column: str | None = None

    @property
    def label(self) -> str:
        """Readable name: expectation type and its column(s)."""
        cfg = self.kwargs
        target = (
            cfg.get("column")
            or ",".join(cfg.get("column_list") or [])
            or (f"{cfg.get('column_A')}>={cfg.get('column_B')}" if cfg.get("column_A") else "")
        )
        return f"{self.kind}({target})" if target else self.kind

    @property
    def columns(self) -> list[str]:
        """The columns the expectation reads, in the order GX reports their values."""
        cfg = self.kwargs
        if cfg.get("column"):
            return [cfg["column"]]
        if cfg.get("column_A"):
            return [cfg["column_A"], cfg["column_B"]]
        return list(cfg.get("column_list") or [])


@dataclass
class Outcome:
    """What one rule found: totals, a sample, and unexpected counts per partition."""

    rule: Rule
    success: bool
    element_count: int | None
    unexpected_count: int | None
    sample: list[str]
    observed: str | None = None
    error: str | None = None
    unexpected_by_partition: dict[dt.date, int] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every batch by hashing the whole frame (only frames under this many bytes): a second per
    # million rows, for every validation, and the fingerprint is only result metadata.
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("after_sales_frames")
    return source.add_dataframe_asset(name="frame").add_batch_definition_whole_dataframe("whole_frame")


def value_text(value: object) -> str:
    """A reported value as the text data_quality_runs keeps (JSON for lists and dicts, null for missing)."""
    if isinstance(value, dict):
        return json.dumps({k: value_text(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return json.dumps([value_text(v) for v in value], ensure_ascii=False)
    return "null" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _same(value: object) -> object:
    return value


def _date(value: object) -> object:
    if isinstance(value, np.datetime64):  # GX reports column pairs as numpy values
        value = pd.Timestamp(value)
    return value.date() if isinstance(value, pd.Timestamp) else value


def _integer(value: object) -> object:
    return int(value) if isinstance(value, float) and value == value else value


def decimals_as_floats(series: pd.Series) -> pd.Series:
    """Arrow decimals as the nearest floats, as float(Decimal) gives them, without a Python object per value.

    An unscaled integer below 2^53 over 10^scale is one correctly rounded division; the rest go by Decimal.
    """
    array = pa.array(series.array)
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    words = np.frombuffer(array.buffers()[1], dtype=np.int64)[2 * array.offset : 2 * (array.offset + len(array))]
    low, high = words[0::2], words[1::2]  # little-endian 128-bit two's complement
    exact = (high == (low >> 63)) & (np.abs(low) < 2**53)
    values = low / 10.0 ** array.type.scale
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    slow = np.flatnonzero(valid & ~exact)
    if len(slow):
        values[slow] = [float(d) for d in array.take(pa.array(slow)).to_pylist()]
    values[~valid] = np.nan
    return pd.Series(values, index=series.index, dtype="float64")


def _for_gx(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Callable[[object], object]]]:
    """The frame with numpy dtypes GX checks vectorized, and per changed column how to give back a value as it was.

    GX compares values one by one in Python unless a column is int64, float64 or a datetime: nullable integers
    become int64 (float64 where NA, if exact), decimals float64, date objects midnight UTC timestamps (the suites
    bound dates so).
    """
    changed: dict[str, pd.Series] = {}
    back: dict[str, Callable[[object], object]] = {}
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and series.dtype.kind == "i":
            if not series.hasnans:
                changed[name], back[name] = series.astype("int64"), _same
            elif ((series > -(2**53)) & (series < 2**53)).all():  # NA is skipped; float64 holds these exactly
                changed[name], back[name] = series.astype("float64"), _integer
        elif isinstance(series.dtype, pd.ArrowDtype) and pa.types.is_decimal(series.dtype.pyarrow_dtype):
            # Money: exact decimals; the suites only bound amounts at 0 and test nulls, which float64 keeps.
            changed[name], back[name] = decimals_as_floats(series), _same
        elif series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "date":
            stamps = pd.to_datetime(series, utc=True)
            days = stamps.dropna()
            if (days.dt.normalize() == days).all():  # no datetime objects among the dates
                changed[name], back[name] = stamps, _date
    return (frame.assign(**changed) if changed else frame), back


def _as_before(value: object, columns: list[str], back: dict[str, Callable[[object], object]]) -> object:
    """A reported value (one value, a tuple of a column pair, or a dict by column) as the caller's frame held it."""
    if isinstance(value, dict):
        return {k: back.get(k, _same)(v) for k, v in value.items()}
    if isinstance(value, tuple) and len(value) == len(columns) > 1:
        return tuple(back.get(c, _same)(v) for c, v in zip(columns, value, strict=True))
    return back.get(columns[0], _same)(value) if len(columns) == 1 else value


def validate(frame: pd.DataFrame, rules: list[Rule], partition_column: str | None) -> list[Outcome]:
    """Run every rule on the frame; the unexpected rows of a failed rule are also counted per partition."""
    if not rules:
        return []
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    # Row positions as the index: GX reports every unexpected row by its index (COMPLETE), here its position.
    checked, back = _for_gx(frame.reset_index(drop=True))
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": checked})
    expectations = [get_expectation_impl(r.kind)(**r.kwargs, meta={"after_sales_rule": i}) for i, r in enumerate(rules)]
    suite = gx.ExpectationSuite(name="after_sales_suite", expectations=expectations)
    by_partition = partition_column is not None and partition_column in frame.columns
    # COMPLETE costs about what SUMMARY does, and saves a second pass over the frame for every failed rule.
    result_format = {"result_format": "COMPLETE" if by_partition else "SUMMARY", "partial_unexpected_count": 5}
    with warnings.catch_warnings():
        # GX reads a column pair through Series.values, which pandas 3.1 deprecates for zoned columns (dates here).
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops timezone")
        summary = batch.validate(suite, result_format=result_format)
    # Suite results do not come back in suite order: match them by the index put in meta.
    by_index = {res.expectation_config.meta["after_sales_rule"]: res for res in summary.results}
    outcomes = []
    for i, rule in enumerate(rules):
        res = by_index[i]
        result = res.result or {}
        exc = res.exception_info or {}
        error = exc.get("exception_message") if exc.get("raised_exception") else None
        observed = result.get("observed_value")
        unexpected = result.get("partial_unexpected_list") or []
        outcome = Outcome(
            rule=rule,
            success=bool(res.success),
            element_count=result.get("element_count"),
            unexpected_count=result.get("unexpected_count"),
            sample=[value_text(_as_before(v, rule.columns, back)) for v in unexpected[:5]],
            observed=None if observed is None else value_text(observed),
            error=error,
        )
        if by_partition and not outcome.success and outcome.unexpected_count:
            positions = result.get("unexpected_index_list") or []
            outcome.unexpected_by_partition = dict(Counter(frame[partition_column].iloc[positions]))
        outcomes.append(outcome)
    return outcomes
