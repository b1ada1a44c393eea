"""Metric builders side by side: the former pandas ones (from git) against the SQL ones, on the same marts.

Both run in one process on the same inputs (a benchmark data set staged and built into the marts, not timed);
the outputs are checked equal before the timings are printed: as stored (floats rounded to 12 significant digits,
so a last-bit difference can move the 12th digit), within 1e-9 relative or absolute.

    python -m benchmarks.metrics_sql [--orders 100000] [--days 30] [--commit d677f81]
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.tables import (
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    SERVICE_ITEM_SCORES,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms import metrics, rollups, service_scores
from after_sales.transforms.marts import build_order_feedback, build_problem_orders, build_work_orders
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.windows import DateWindow
from benchmarks.datasets import TZ, Dataset, ensure_landing
from benchmarks.pure_pipeline import stage_all, work_order_as_of

ROOT = Path(__file__).resolve().parent.parent
# The last commit with the pandas metric builders.
PANDAS_COMMIT = "d677f81"
MODULES = ("metrics", "service_scores", "rollups")  # in import order


def pandas_modules(commit: str) -> dict[str, types.ModuleType]:
    """The transforms/<name>.py of commit, loaded under their own names and then put back (so both sides live)."""
    current = {n: sys.modules[f"after_sales.transforms.{n}"] for n in MODULES}
    loaded = {}
    try:
        for name in MODULES:
            qualified = f"after_sales.transforms.{name}"
            source = subprocess.run(
                ["git", "show", f"{commit}:after_sales/transforms/{name}.py"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            module = types.ModuleType(qualified)
            module.__file__ = f"{commit}:{name}.py"
            sys.modules[qualified] = module
            exec(compile(source, module.__file__, "exec"), module.__dict__)
            loaded[name] = module
    finally:
        sys.modules.update({f"after_sales.transforms.{n}": m for n, m in current.items()})
    return loaded


def marts(ds: Dataset, work: Path) -> dict[str, object]:
    """The data set staged and built into the fact, problem issues, work orders and sessions."""
    landing, _ = ensure_landing(ds, work)
    days = [ds.first_day + dt.timedelta(days=i) for i in range(ds.days)]
    staged = stage_all(landing, days, TZ, 2)
    start, end = ds.first_day, ds.last_day + dt.timedelta(days=1)
    rules = load_cause_rules()
    fact = build_order_feedback(staged["orders"].rows, staged["feedback"].rows, start, end, rules.complaint_issue_types)
    problems = build_problem_orders(fact, rules)
    work_orders = build_work_orders(problems, load_service_rules(), work_order_as_of(end, TZ))
    return {
        "fact": fact,
        "problems": problems,
        "work_orders": work_orders,
        "sessions": staged["behaviour"].rows,
        "start": start,
        "end": end,
    }


def typed(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as the warehouse stores it."""
    return arrow_to_frame(spec, frame_to_arrow(spec, frame[spec.column_names]), TZ)


def builders(m: types.ModuleType, s: types.ModuleType, r: types.ModuleType, i: dict[str, object]) -> dict:
    """Each metric table -> (spec, a call building it), for one side."""
    fact, problems, wo, start, end = i["fact"], i["problems"], i["work_orders"], i["start"], i["end"]
    window = DateWindow(start, end)
    daily = typed(METRICS_DAILY, i["daily"])
    by_channel, by_cause = (
        typed(METRICS_DAILY_BY_CHANNEL, i["by_channel"]),
        typed(METRICS_DAILY_BY_CAUSE, i["by_cause"]),
    )
    by_item, stored = typed(METRICS_DAILY_BY_SERVICE_ITEM, i["by_item"]), typed(WORK_ORDERS, wo)
    built = set(daily["business_date"])
    return {
        "metrics_daily": (METRICS_DAILY, lambda: m.build_metrics_daily(fact, problems, wo, i["sessions"], start, end)),
        "metrics_daily_by_channel": (
            METRICS_DAILY_BY_CHANNEL,
            lambda: m.build_metrics_daily_by_channel(fact, problems, wo),
        ),
        "metrics_daily_by_cause": (METRICS_DAILY_BY_CAUSE, lambda: m.build_metrics_daily_by_cause(fact, problems, wo)),
        "metrics_daily_by_service_item": (
            METRICS_DAILY_BY_SERVICE_ITEM,
            lambda: s.build_metrics_daily_by_service_item(wo, fact, start, end),
        ),
        "metrics_rollups": (
            METRICS_ROLLUPS,
            lambda: r.build_metrics_rollups(daily, by_channel, i["tickets"], stored, r.plan_rollups(window, 28), TZ),
        ),
        "metrics_rollups_by_cause": (
            METRICS_ROLLUPS_BY_CAUSE,
            lambda: r.build_cause_rollups(by_cause, built, stored, r.plan_rollups(window)),
        ),
        "service_item_scores": (
            SERVICE_ITEM_SCORES,
            lambda: r.build_service_item_scores(by_item, built, r.plan_rollups(window)),
        ),
    }


def timed(call: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    """Best of repeat wall-clock seconds, and the result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        out = call()
        best = min(best, time.perf_counter() - began)
    return best, out


def main(argv: list[str] | None = None) -> int:
    """Build both sides, check them equal, print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--commit", default=PANDAS_COMMIT)
    parser.add_argument("--work-dir", default=str(ROOT / "data" / "bench"))
    args = parser.parse_args(argv)
    old = pandas_modules(args.commit)
    inputs = marts(Dataset(args.orders, args.days), Path(args.work_dir))
    fact, problems, wo = inputs["fact"], inputs["problems"], inputs["work_orders"]
    inputs["daily"] = metrics.build_metrics_daily(
        fact, problems, wo, inputs["sessions"], inputs["start"], inputs["end"]
    )
    inputs["by_channel"] = metrics.build_metrics_daily_by_channel(fact, problems, wo)
    inputs["by_cause"] = metrics.build_metrics_daily_by_cause(fact, problems, wo)
    inputs["by_item"] = service_scores.build_metrics_daily_by_service_item(wo, fact, inputs["start"], inputs["end"])
    inputs["tickets"] = old["metrics"].ticket_rows(fact)
    sides = {
        "pandas": builders(old["metrics"], old["service_scores"], old["rollups"], inputs),
        "sql": builders(metrics, service_scores, rollups, inputs),
    }
    print(f"{len(fact)} fact rows, {len(problems)} problem issues, {len(wo)} work orders")
    print(f"{'table':32} {'pandas s':>9} {'sql s':>9} {'speed-up':>9}")
    totals = {"pandas": 0.0, "sql": 0.0}
    for name, (spec, _) in sides["sql"].items():
        seconds, frames = {}, {}
        for side in ("pandas", "sql"):
            seconds[side], frames[side] = timed(sides[side][name][1], args.repeat)
            totals[side] += seconds[side]
        pd.testing.assert_frame_equal(
            typed(spec, frames["sql"]), typed(spec, frames["pandas"]), check_exact=False, rtol=1e-9, atol=1e-9
        )
        print(f"{name:32} {seconds['pandas']:9.3f} {seconds['sql']:9.3f} {seconds['pandas'] / seconds['sql']:8.1f}x")
    ratio = totals["pandas"] / totals["sql"]
    print(f"{'all (outputs equal)':32} {totals['pandas']:9.3f} {totals['sql']:9.3f} {ratio:8.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
