"""The daily pipeline as plain function calls: the same pandas transforms and warehouse writes, no Dagster.

This is what the assets do for one single-run partition window, minus the orchestration (steps,
events, run storage, IO-manager round trips through the warehouse between steps). The quality checks
(Great Expectations + conservation rules) are timed as their own phase, `validate`, and left out of
the total: the DuckDB SQL baseline does not validate either.
Quarantine rows are not written (there are none at fault rate 0).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from after_sales.landing import landed_paths, read_landed_file
from after_sales.partitions import FEEDBACK_WINDOW_DAYS
from after_sales.resources.warehouse import TableWrite, open_warehouse
from after_sales.tables import FCT_ORDER_FEEDBACK, METRICS_DAILY, PROBLEM_ORDERS, WORK_ORDER_FEEDBACK, WORK_ORDERS
from after_sales.transforms.marts import (
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
    work_order_feedback,
)
from after_sales.transforms.metrics import build_metrics_daily
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.transforms.staging import KINDS, StagingContext, StagingResult, combine, quarantine_unknown_orders
from after_sales.windows import DateWindow


@dataclass
class Phases:
    """Seconds per named phase, in the order they ran."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - began


def work_order_as_of(end: dt.date, tz: str, now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The reference time the work_orders asset judges open work orders against (see assets/marts.py)."""
    horizon = pd.Timestamp(end + dt.timedelta(days=FEEDBACK_WINDOW_DAYS), tz=tz)
    return min(now if now is not None else pd.Timestamp.now(tz=tz), horizon)


def stage_source(landing: Path, source: str, days: list[dt.date], ctx: StagingContext) -> StagingResult:
    """Read and stage every landed file of one own source for the landing days, as stg_<source> does."""
    kind = KINDS[source]
    results = [
        kind.stage(read_landed_file(landing, source, day, path), ctx)
        for day, path in landed_paths(landing, source, days)
    ]
    return combine(results, kind.spec, kind.id_column)


def stage_all(landing: Path, days: list[dt.date], tz: str, late_days: int) -> dict[str, StagingResult]:
    """Staged orders, feedback (unknown orders quarantined) and behaviour for the landing days."""
    ctx = StagingContext(timezone=tz, late_arrival_days=late_days)
    staged = {s: stage_source(landing, s, days, ctx) for s in ("orders", "feedback", "behaviour")}
    known = staged["orders"].rows[["order_id", "landing_date"]]
    staged["feedback"] = quarantine_unknown_orders(staged["feedback"], known, FEEDBACK_WINDOW_DAYS, late_days)
    return staged


def run_pure(
    landing: Path,
    warehouse_url: str,
    export_dir: Path,
    start: dt.date,
    end: dt.date,
    tz: str,
    late_days: int,
    validate: bool = True,
    write_csvs: Callable[[pd.DataFrame, list[dt.date], Path], Any] | None = None,
) -> dict[str, object]:
    """Landing files of [start, end) to the staging tables, marts and metrics in the warehouse."""
    window = DateWindow(start, end)
    days = window.days()
    p = Phases()
    with p.phase("read+stage"):
        staged = stage_all(landing, days, tz, late_days)
    cause_rules, service_rules = load_cause_rules(), load_service_rules()
    with p.phase("marts"):
        fact = build_order_feedback(
            staged["orders"].rows, staged["feedback"].rows, start, end, cause_rules.complaint_issue_types
        )
        problems = build_problem_orders(fact, cause_rules)
        work_orders = build_work_orders(problems, service_rules, work_order_as_of(end, tz))
    with p.phase("metrics"):
        metrics = build_metrics_daily(fact, problems, work_orders, staged["behaviour"].rows, start, end)
    tables = {
        **{KINDS[s].spec.name: (KINDS[s].spec, staged[s].rows) for s in ("orders", "feedback", "behaviour")},
        FCT_ORDER_FEEDBACK.name: (FCT_ORDER_FEEDBACK, fact),
        PROBLEM_ORDERS.name: (PROBLEM_ORDERS, problems),
        WORK_ORDERS.name: (WORK_ORDERS, work_orders[WORK_ORDERS.column_names]),
        WORK_ORDER_FEEDBACK.name: (WORK_ORDER_FEEDBACK, work_order_feedback(work_orders)),
        METRICS_DAILY.name: (METRICS_DAILY, metrics),
    }
    if validate:
        from after_sales.checks.quality import evaluate

        with p.phase("validate"):
            for name, (spec, frame) in tables.items():
                evaluate(name, spec, frame, window, "benchmark")
    wh = open_warehouse(warehouse_url, "after_sales", tz)
    with p.phase("write"):
        for spec, frame in tables.values():
            wh.replace_all([TableWrite(spec, frame, window, {})])
    if write_csvs is not None:
        with p.phase("export"):
            (export_dir / "work_orders").mkdir(parents=True, exist_ok=True)
            write_csvs(work_orders, days, export_dir / "work_orders")
    total = sum(v for k, v in p.seconds.items() if k != "validate")
    return {
        "seconds": round(total, 3),
        "phases": {k: round(v, 3) for k, v in p.seconds.items()},
        "rows": {name: len(frame) for name, (_, frame) in tables.items()},
        "quarantined": {s: len(staged[s].quarantined) for s in staged},
    }
