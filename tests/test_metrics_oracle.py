"""The metric builders against the oracle captured from the former pandas builders (fixtures/metrics_oracle)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.tables import (
    FCT_ORDER_FEEDBACK,
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    PROBLEM_ORDERS,
    SERVICE_ITEM_SCORES,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.metrics import (
    QUANTILES,
    build_metrics_daily,
    build_metrics_daily_by_cause,
    build_metrics_daily_by_channel,
    ticket_rows,
)
from after_sales.transforms.rollups import (
    build_cause_rollups,
    build_metrics_rollups,
    build_service_item_scores,
    plan_rollups,
)
from after_sales.transforms.service_scores import build_metrics_daily_by_service_item
from after_sales.transforms.sql_models import SQL_DIR
from after_sales.windows import DateWindow

ORACLE = Path(__file__).parent / "fixtures" / "metrics_oracle"
TZ = "Asia/Shanghai"
START = dt.date(2026, 10, 1)
LATE_DAYS = 2
CHANNEL_SOURCES = {"tmall": ("tmall",), "jd": ("jd", "jd_pop")}
# case -> (end of the window, channel_sources)
CASES = {
    "sample": (dt.date(2026, 10, 6), None),
    "nulls": (dt.date(2026, 10, 6), None),
    "marketplaces": (dt.date(2026, 10, 6), CHANNEL_SOURCES),
    "empty": (dt.date(2026, 10, 3), None),
}


def read(case: str, spec: TableSpec, name: str | None = None) -> pd.DataFrame:
    """Rows of one fixture file, typed by its table spec."""
    table = pq.read_table(ORACLE / case / f"{name or spec.name}.parquet")
    return arrow_to_frame(spec, table.select(spec.column_names), TZ)


def typed(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """A built frame after the round trip through its table spec (as the warehouse stores it)."""
    return arrow_to_frame(spec, frame_to_arrow(spec, frame[spec.column_names]), TZ)


def assert_oracle(case: str, spec: TableSpec, built: pd.DataFrame, name: str | None = None) -> None:
    """Same rows, order and types as the oracle; floats within 1e-9."""
    want = read(case, spec, name)
    pd.testing.assert_frame_equal(typed(spec, built), want, check_exact=False, rtol=0, atol=1e-9)


def inputs(case: str) -> dict[str, object]:
    """The marts, sessions, refused files and logged actions the case hands in."""
    wo_table = pq.read_table(ORACLE / case / "work_orders.parquet")
    work_orders = arrow_to_frame(WORK_ORDERS, wo_table.select(WORK_ORDERS.column_names), TZ)
    work_orders.insert(6, "feedback_ids", [list(ids) for ids in wo_table.column("feedback_ids").to_pylist()])
    refused = ORACLE / case / "refused.parquet"
    return {
        "fact": read(case, FCT_ORDER_FEEDBACK),
        "problems": read(case, PROBLEM_ORDERS),
        "work_orders": work_orders,
        "sessions": pd.read_parquet(ORACLE / case / "sessions.parquet"),
        "refused": pd.read_parquet(refused) if refused.exists() else None,
        "actions": pd.read_parquet(ORACLE / case / "actions.parquet"),
    }


@pytest.mark.parametrize("case", sorted(CASES))
def test_daily_metrics_equal_the_oracle(case: str) -> None:
    end, channel_sources = CASES[case]
    i = inputs(case)
    fact, problems, wo, refused = i["fact"], i["problems"], i["work_orders"], i["refused"]
    daily = build_metrics_daily(fact, problems, wo, i["sessions"], START, end, refused=refused, late_days=LATE_DAYS)
    assert_oracle(case, METRICS_DAILY, daily)
    by_channel = build_metrics_daily_by_channel(
        fact, problems, wo, refused=refused, late_days=LATE_DAYS, channel_sources=channel_sources
    )
    assert_oracle(case, METRICS_DAILY_BY_CHANNEL, by_channel)
    assert_oracle(case, METRICS_DAILY_BY_CAUSE, build_metrics_daily_by_cause(fact, problems, wo))
    by_item = build_metrics_daily_by_service_item(wo, fact, START, end, actions=i["actions"])
    assert_oracle(case, METRICS_DAILY_BY_SERVICE_ITEM, by_item)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rollups_equal_the_oracle(case: str) -> None:
    end, _ = CASES[case]
    i = inputs(case)
    # The roll-ups read the daily tables and work orders as stored: the oracle's daily rows.
    daily, by_channel = read(case, METRICS_DAILY), read(case, METRICS_DAILY_BY_CHANNEL)
    by_cause, by_item = read(case, METRICS_DAILY_BY_CAUSE), read(case, METRICS_DAILY_BY_SERVICE_ITEM)
    stored = typed(WORK_ORDERS, i["work_orders"])
    window = DateWindow(START, end)
    rollups = build_metrics_rollups(daily, by_channel, ticket_rows(i["fact"]), stored, plan_rollups(window, 28), TZ)
    assert_oracle(case, METRICS_ROLLUPS, rollups)
    built = set(daily["business_date"])
    assert_oracle(case, METRICS_ROLLUPS_BY_CAUSE, build_cause_rollups(by_cause, built, stored, plan_rollups(window)))
    assert_oracle(case, SERVICE_ITEM_SCORES, build_service_item_scores(by_item, built, plan_rollups(window)))
    lenient = replace(load_metric_rules(), min_ratings=2)
    scores = build_service_item_scores(by_item, built, plan_rollups(window), lenient)
    assert_oracle(case, SERVICE_ITEM_SCORES, scores, "service_item_scores_lenient")


def test_sql_percentiles_are_the_registry_s() -> None:
    """Every percentile the SQL files compute under a measure's name uses that measure's quantile."""
    found = 0
    for path in SQL_DIR.glob("*.sql"):
        for q, name in re.findall(r"quantile_cont\(.*?, ([0-9.]+)\)\s+AS (\w+)", path.read_text(encoding="utf-8")):
            if name in QUANTILES:
                assert float(q) == QUANTILES[name][1], f"{path.name}: {name} at {q}"
                found += 1
    assert found >= len(QUANTILES)
