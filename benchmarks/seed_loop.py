"""The seed's work-order script, re-implemented faithfully (this is the baseline, not a model to follow).

The seed merged orders with feedback, kept the rows rated below 3, and then, for every problem
order, filtered the whole merged frame for that order and wrote the rows to one CSV per order:

    merged = orders.merge(feedback, on="order_id")
    problem_ids = merged[merged.rating < 3].order_id.unique()
    for oid in problem_ids:
        rows = merged[merged.order_id == oid]
        rows.to_csv(f"work_orders/{oid}.csv")

Each iteration scans every merged row, so the cost grows with problem orders x merged rows.
`deadline` lets the benchmark cap it at large scales: the loop stops after the order during which
the deadline passed and reports how many of the problem orders it wrote.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass
class SeedResult:
    """What the seed loop did: the merged frame, its low-rating rows, and how far it got."""

    merged: pd.DataFrame
    problems: pd.DataFrame
    problem_ids: list[str]
    written: int
    seconds: float

    @property
    def complete(self) -> bool:
        """Whether every problem order got its CSV."""
        return self.written == len(self.problem_ids)


def seed_work_orders(
    orders: pd.DataFrame, feedback: pd.DataFrame, out_dir: Path, deadline: float | None = None
) -> SeedResult:
    """Run the seed's loop; deadline is a time.perf_counter() value after which it stops."""
    began = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    merged = orders.merge(feedback, on="order_id")
    problems = merged[merged.rating < 3]
    problem_ids = list(problems.order_id.unique())
    written = 0
    for oid in problem_ids:
        rows = merged[merged.order_id == oid]
        rows.to_csv(out_dir / f"{oid}.csv")
        written += 1
        if deadline is not None and time.perf_counter() > deadline:
            break
    return SeedResult(merged, problems, problem_ids, written, time.perf_counter() - began)
