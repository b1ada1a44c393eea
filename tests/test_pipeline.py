"""Dagster wiring: real materializations into a real DuckDB file."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from after_sales.definitions import defs
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import DateWindow, Warehouse, WarehouseLockedError
from after_sales.schedules import RANGE_END, RANGE_START, daily_schedule
from after_sales.tables import STG_ORDERS
from tests.support.landing import small_landing
from tests.support.runs import run_range
from tests.support.shared import SharedWarehouse

MARTS = ["fct_order_feedback", "problem_orders", "work_orders", "metrics_daily"]
TABLES = ["stg_orders", "stg_feedback", "stg_behaviour", "quarantine", *MARTS]


def snapshot(wh: Warehouse) -> dict[str, pd.DataFrame]:
    """Every table, sorted, for comparisons."""
    out = {}
    for t in TABLES:
        frame = wh.query(f'SELECT * FROM after_sales."{t}"')
        out[t] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def test_definitions_load_with_assets_checks_jobs_schedules() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"stg_orders", "stg_feedback", "stg_behaviour", *MARTS, "work_orders_csv"} <= keys
    checks: dict[str, set[str]] = {}
    for check in repo.asset_graph.asset_check_keys:
        checks.setdefault(check.asset_key.to_user_string(), set()).add(check.name)
    common = {"schema", "keys", "values", "window"}
    for asset, conserved in {
        "stg_orders": "rows_conserved",
        "stg_feedback": "rows_conserved",
        "stg_behaviour": "rows_conserved",
        "fct_order_feedback": "orders_conserved",
        "problem_orders": "problems_conserved",
        "work_orders": "issues_covered",
        "metrics_daily": "metrics_conserved",
    }.items():
        assert common | {conserved} <= checks.get(asset, set()), asset
    daily_job = repo.get_job("after_sales_daily")
    assert {"stg_orders", *MARTS} <= {k.to_user_string() for k in daily_job.asset_layer.executable_asset_keys}
    assert [s.name for s in repo.schedule_defs] == ["daily_schedule"]
    for key in keys:
        node = repo.asset_graph.get(dg.AssetKey(key))
        # BI views, the BI snapshot and the report are one unpartitioned object each, built with the range's run.
        assert node.backfill_policy is not None, key
        if node.group_name not in ("bi", "reports"):
            assert node.partitions_def is not None, key


@pytest.mark.slow
def test_two_days_materialize_and_late_row_and_quarantine(two_days: SharedWarehouse) -> None:
    result, warehouse = two_days.result, two_days.open()  # small_landing, every asset, 2026-10-01..02
    assert result.success
    fact = warehouse.query("SELECT business_date, order_id FROM after_sales.fct_order_feedback ORDER BY 2")
    # O5 landed on 10-02 but was placed on 10-01: it belongs to 10-01.
    assert fact.groupby("business_date")["order_id"].nunique().to_dict() == {
        dt.date(2026, 10, 1): 4,
        dt.date(2026, 10, 2): 1,
    }
    q = warehouse.query("SELECT source, source_row, rule FROM after_sales.quarantine")
    assert q.values.tolist() == [["feedback", 4, "unknown_order"]]
    wo = warehouse.query("SELECT order_id, cause, suggested_action FROM after_sales.work_orders ORDER BY 1, 2")
    assert wo.values.tolist() == [
        ["O1", "not_delivered", "查看物流进度"],
        ["O3", "cumbersome_return", "上门取件"],
        ["O3", "quality", "立即维修"],
    ]
    metrics = warehouse.query("SELECT business_date, orders, problem_orders FROM after_sales.metrics_daily ORDER BY 1")
    assert metrics.values.tolist() == [[dt.date(2026, 10, 1), 4, 2], [dt.date(2026, 10, 2), 1, 0]]
    assert (two_days.exports / "work_orders" / "work_orders_2026-10-01.csv").exists()
    checks = [e for e in result.get_asset_check_evaluations()]
    assert checks and all(c.passed for c in checks)


@pytest.mark.slow
def test_late_row_reaches_its_partition_when_rebuilt(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    small_landing(landing)
    fact = ["stg_orders", "stg_feedback", "fct_order_feedback"]  # what the fact is built from
    assert run_range(resources, "2026-10-01", "2026-10-01", fact).success
    before = set(warehouse.query("SELECT order_id FROM after_sales.fct_order_feedback")["order_id"])
    assert "O5" not in before  # its landing day has not been staged yet
    assert run_range(resources, "2026-10-02", "2026-10-02", fact).success
    assert run_range(resources, "2026-10-01", "2026-10-01", fact).success  # the trailing-window rebuild
    rows = warehouse.query("SELECT business_date FROM after_sales.fct_order_feedback WHERE order_id = 'O5'")
    assert rows["business_date"].tolist() == [dt.date(2026, 10, 1)]


@pytest.mark.slow
def test_rematerializing_leaves_identical_tables(two_days: SharedWarehouse, tmp_path: Path) -> None:
    assert two_days.result.success  # the first run: small_landing, every asset, 2026-10-01..02
    resources = two_days.copy_to(tmp_path)  # re-run on a copy of its warehouse
    warehouse = resources["warehouse"].open()  # type: ignore[attr-defined]
    first = snapshot(warehouse)
    assert run_range(resources, "2026-10-01", "2026-10-02").success
    assert run_range(resources, "2026-10-02", "2026-10-02").success
    second = snapshot(warehouse)
    for table in TABLES:
        pd.testing.assert_frame_equal(first[table], second[table], obj=table)


@pytest.mark.slow
def test_failure_mid_write_keeps_previous_rows(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_landing(landing)
    assert run_range(resources, "2026-10-01", "2026-10-01", selection="stg_orders").success
    before = warehouse.read(STG_ORDERS, DateWindow.single(dt.date(2026, 10, 1)))
    (landing / "orders" / "2026-10-01" / "export.csv").write_text(
        "order_id,created_at,user,product,quantity,amount,payment_method,status,channel\n"
        "N1,2026-10-01 10:00:00,U1,杯,1,1,alipay,paid,web\n",
        encoding="utf-8",
    )
    original = DuckDBWarehouse._insert
    calls = {"n": 0}

    def failing_insert(self: DuckDBWarehouse, con: object, write: object, view: str) -> None:
        calls["n"] += 1
        original(self, con, write, view)  # the staging rows are inserted ...
        if calls["n"] % 2 == 0:
            raise RuntimeError("disk full (injected)")  # ... then the quarantine write fails, on every retry too

    monkeypatch.setattr(DuckDBWarehouse, "_insert", failing_insert)
    result = run_range(resources, "2026-10-01", "2026-10-01", selection="stg_orders")
    assert not result.success
    monkeypatch.undo()
    after = warehouse.read(STG_ORDERS, DateWindow.single(dt.date(2026, 10, 1)))
    pd.testing.assert_frame_equal(before, after)


def test_schedule_requests_yesterday_and_trailing_window() -> None:
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 10, 10, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    )
    request = daily_schedule(context)
    # Landing days 10-07 .. 10-09 and the business dates they feed: feedback reaches 14 days back (issue 13).
    assert request.tags[RANGE_START] == "2026-09-23" and request.tags[RANGE_END] == "2026-10-09"


@pytest.mark.slow
def test_locked_duckdb_file_is_retried_then_reported(tmp_path: Path) -> None:
    path = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ok', flush=True); time.sleep(2.5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
    quick = DuckDBWarehouse(dg_url(path), "after_sales", "Asia/Shanghai", lock_timeout_seconds=0.3)
    with pytest.raises(WarehouseLockedError, match="locked by another process"):
        quick.table_exists("x")
    patient = DuckDBWarehouse(dg_url(path), "after_sales", "Asia/Shanghai", lock_timeout_seconds=20)
    start = time.monotonic()
    assert patient.table_exists("x") is False
    assert time.monotonic() - start > 0.5  # it waited for the other process, then went through
    holder.wait(timeout=10)


def dg_url(path: Path):
    """A SQLAlchemy URL object for a DuckDB file."""
    from sqlalchemy.engine import make_url

    return make_url(f"duckdb:///{path}")
