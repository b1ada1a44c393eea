"""Great Expectations 1.x, used directly: one ephemeral context per process, pandas frames in, outcomes out."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Rule:
    """One expectation, the Dagster check it belongs to, and the column it is about."""

    check_name: str
    expectation: Any
    column: str | None = None

    @property
    def label(self) -> str:
        """Readable name: expectation type and its column(s)."""
        cfg = self.expectation.configuration.kwargs
        target = (
            cfg.get("column")
            or ",".join(cfg.get("column_list") or [])
            or (f"{cfg.get('column_A')}>={cfg.get('column_B')}" if cfg.get("column_A") else "")
        )
        kind = self.expectation.expectation_type
        return f"{kind}({target})" if target else kind


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

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("after_sales_frames")
    return source.add_dataframe_asset(name="frame").add_batch_definition_whole_dataframe("whole_frame")


def _text(value: object) -> str:
    if isinstance(value, dict):
        return json.dumps({k: _text(v) for k, v in value.items()}, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return json.dumps([_text(v) for v in value], ensure_ascii=False)
    return "null" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def validate(frame: pd.DataFrame, rules: list[Rule], partition_column: str | None) -> list[Outcome]:
    """Run every rule on the frame; failed rules are re-run in COMPLETE mode to count unexpected rows per partition."""
    if not rules:
        return []
    import great_expectations as gx

    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    for i, rule in enumerate(rules):
        rule.expectation.meta = {**(rule.expectation.meta or {}), "after_sales_rule": i}
    suite = gx.ExpectationSuite(name="after_sales_suite", expectations=[r.expectation for r in rules])
    summary = batch.validate(suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5})
    # Suite results do not come back in suite order: match them by the index put in meta.
    by_index = {res.expectation_config.meta["after_sales_rule"]: res for res in summary.results}
    outcomes = []
    for i, rule in enumerate(rules):
        res = by_index[i]
        result = res.result or {}
        exc = res.exception_info or {}
        error = exc.get("exception_message") if exc.get("raised_exception") else None
        observed = result.get("observed_value")
        outcomes.append(
            Outcome(
                rule=rule,
                success=bool(res.success),
                element_count=result.get("element_count"),
                unexpected_count=result.get("unexpected_count"),
                sample=[_text(v) for v in (result.get("partial_unexpected_list") or [])][:5],
                observed=None if observed is None else _text(observed),
                error=error,
            )
        )
    if partition_column is not None and partition_column in frame.columns:
        for outcome in outcomes:
            if not outcome.success and outcome.unexpected_count:
                outcome.unexpected_by_partition = _unexpected_by_partition(batch, outcome.rule, partition_column)
    return outcomes


def _unexpected_by_partition(batch: Any, rule: Rule, partition_column: str) -> dict[dt.date, int]:
    full = batch.validate(
        rule.expectation,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [partition_column]},
    )
    rows = (full.result or {}).get("unexpected_index_list") or []
    return dict(Counter(r[partition_column] for r in rows if isinstance(r, dict) and partition_column in r))
