"""Work-order generation, side by side: our transforms against the seed's loop, on the same staged frames.

Both sides start from the same typed orders and feedback (the staging output, loaded from Parquet
before the clock starts) and end with work orders on disk:

- ours: build_order_feedback -> build_problem_orders -> build_work_orders -> one CSV per day
  (write_daily_csvs, the helpdesk export);
- seed: merge -> rating < 3 -> for each problem order, filter the merged frame, one CSV per order.

"Identical" is judged on the seed's own definition (`check`), since ours also opens work orders for
complaint types without a low rating and splits an order by cause:

1. the (order_id, feedback_id) pairs rated below 3 are the same as our problem issues with
   is_low_rating;
2. the orders the seed wrote a CSV for are exactly our work orders' orders with min_rating < 3
   (a subset of them when the seed loop was capped);
3. the union of the rows the seed wrote, as (order_id, feedback_id), equals our fact rows of those
   orders;
4. every low-rated feedback is listed in a work order of its order (feedback_ids).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import duckdb
import pandas as pd

from after_sales.transforms.marts import build_order_feedback, build_problem_orders, build_work_orders
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from benchmarks.pure_pipeline import Phases
from benchmarks.seed_loop import seed_work_orders


def load_staged(staged_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The staged orders and feedback frames the two sides share."""
    return pd.read_parquet(staged_dir / "orders.parquet"), pd.read_parquet(staged_dir / "feedback.parquet")


def run_ours(
    orders: pd.DataFrame, feedback: pd.DataFrame, start: dt.date, end: dt.date, as_of: pd.Timestamp, out_dir: Path
) -> dict[str, object]:
    """Our transforms and daily CSV export; outputs for the check saved after the clock stops."""
    from after_sales.assets.exports import write_daily_csvs

    cause_rules, service_rules = load_cause_rules(), load_service_rules()
    csv_dir = out_dir / "csv"
    csv_dir.mkdir(parents=True, exist_ok=True)
    days = [start + dt.timedelta(days=i) for i in range((end - start).days)]
    p = Phases()
    began = time.perf_counter()
    with p.phase("fact"):
        fact = build_order_feedback(orders, feedback, start, end, cause_rules.complaint_issue_types)
    with p.phase("problems"):
        problems = build_problem_orders(fact, cause_rules)
    with p.phase("work_orders"):
        work_orders = build_work_orders(problems, service_rules, as_of)
    with p.phase("csv"):
        write_daily_csvs(work_orders, days, csv_dir)
    seconds = time.perf_counter() - began
    fact.loc[fact["has_feedback"].astype(bool), ["order_id", "feedback_id"]].to_parquet(out_dir / "fact_pairs.parquet")
    problems.loc[problems["is_low_rating"].astype(bool), ["order_id", "feedback_id"]].to_parquet(
        out_dir / "low_pairs.parquet"
    )
    work_orders[["order_id", "cause", "feedback_ids", "min_rating"]].to_parquet(out_dir / "work_orders.parquet")
    return {
        "seconds": round(seconds, 4),
        "phases": {k: round(v, 4) for k, v in p.seconds.items()},
        "fact_rows": len(fact),
        "problem_issues": len(problems),
        "work_orders": len(work_orders),
    }


def run_seed(orders: pd.DataFrame, feedback: pd.DataFrame, out_dir: Path, budget: float | None) -> dict[str, object]:
    """The seed loop, stopped after budget seconds if given; the extrapolated full time when capped."""
    csv_dir = out_dir / "csv"
    began = time.perf_counter()
    res = seed_work_orders(orders, feedback, csv_dir, deadline=None if budget is None else began + budget)
    res.problems[["order_id", "feedback_id"]].to_parquet(out_dir / "low_pairs.parquet")
    total = len(res.problem_ids)
    estimate = res.seconds if res.complete else res.seconds * total / max(res.written, 1)
    return {
        "seconds": round(res.seconds, 4),
        "complete": res.complete,
        "orders_written": res.written,
        "problem_orders": total,
        "merged_rows": len(res.merged),
        "estimated_full_seconds": round(estimate, 2),
    }


def _pairs(frame: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(frame["order_id"].astype(str), frame["feedback_id"].astype(str), strict=True))


def check(ours_dir: Path, seed_dir: Path, seed_complete: bool) -> dict[str, object]:
    """Compare the two sides' outputs on the seed's definition of a work order (module docstring)."""
    ours_low = _pairs(pd.read_parquet(ours_dir / "low_pairs.parquet"))
    seed_low = _pairs(pd.read_parquet(seed_dir / "low_pairs.parquet"))
    wo = pd.read_parquet(ours_dir / "work_orders.parquet")
    fact_pairs = pd.read_parquet(ours_dir / "fact_pairs.parquet")
    ours_orders = set(wo.loc[wo["min_rating"].astype("Float64").lt(3).fillna(False).astype(bool), "order_id"])
    files = sorted((seed_dir / "csv").glob("*.csv"))
    seed_orders = {f.stem for f in files}
    parts = [pd.DataFrame({"order_id": pd.Series(dtype=str), "feedback_id": pd.Series(dtype=str)})]
    for i in range(0, len(files), 1000):  # batches: one read_csv over 100k files runs out of file handles
        batch = [str(f) for f in files[i : i + 1000]]
        parts.append(
            duckdb.read_csv(batch, all_varchar=True, header=True, sep=",", quotechar='"', escapechar='"')
            .select("order_id, feedback_id")
            .df()
        )
    written = pd.concat(parts, ignore_index=True)
    seed_rows = _pairs(written)
    expected_rows = _pairs(fact_pairs.loc[fact_pairs["order_id"].isin(seed_orders)])
    exploded = wo.assign(feedback_id=wo["feedback_ids"]).explode("feedback_id")  # a list per work order
    covered = _pairs(exploded)
    checks = {
        "low_rated_pairs_equal": ours_low == seed_low,
        "orders_written_match": seed_orders == ours_orders if seed_complete else seed_orders <= ours_orders,
        "rows_written_equal": seed_rows == expected_rows,
        "low_rated_feedback_in_work_orders": seed_low <= covered,
    }
    return {
        "equal": all(checks.values()),
        "checks": checks,
        "low_rated_pairs": len(seed_low),
        "seed_orders_written": len(seed_orders),
        "our_low_rated_orders": len(ours_orders),
        "rows_written": len(seed_rows),
        "seed_complete": seed_complete,
    }


def save(path: Path, payload: dict[str, object]) -> None:
    """Write a JSON result next to the outputs."""
    path.write_text(json.dumps(payload, indent=2, default=str))
