"""Retries: a warehouse file locked by another process is retried by the step's policy; data faults are not."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

import after_sales.assets.staging as staging_assets
from after_sales.assets.common import RETRY_POLICY
from after_sales.definitions import defs
from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import WarehouseLockedError
from tests.support.landing import ORDERS_HEADER, write_landing
from tests.support.runs import run_range

DAY = "2026-10-05"
HOLDER = """
import pathlib, sys, time
import duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
deadline = time.monotonic() + 30
while not pathlib.Path(sys.argv[2]).exists() and time.monotonic() < deadline:
    time.sleep(0.05)
con.close()
"""


def events_of(result: dg.ExecuteInProcessResult, kind: str) -> list[dg.DagsterEvent]:
    """The run's events of one type."""
    return [e for e in result.all_events if e.event_type_value == kind]


def test_operational_assets_carry_the_retry_policy() -> None:
    graph = defs.get_repository_def().asset_graph
    for assets_def in graph.assets_defs:
        groups = {graph.get(k).group_name for k in assets_def.keys}
        if groups & {"staging", "marts", "exports"}:
            assert assets_def.op.retry_policy == RETRY_POLICY, assets_def.keys
    assert RETRY_POLICY.max_retries == 3 and RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL


@pytest.mark.slow
def test_locked_warehouse_is_retried_then_succeeds(
    tmp_path: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    path, release = tmp_path / "locked.duckdb", tmp_path / "release"
    # The warehouse gives up on the lock after 0.3 s (instead of 60 s): the step fails, the policy retries it.
    warehouse = WarehouseResource(
        url=f"duckdb:///{path}", schema_name="after_sales", timezone="Asia/Shanghai", lock_timeout_seconds=0.3
    )
    resources = {
        "warehouse": warehouse,
        "landing": LandingZone(base_dir=str(landing)),
        "exports": ExportDirectory(base_dir=str(tmp_path / "exports")),
    }
    original = DuckDBWarehouse.connect

    @contextmanager
    def connect(self: DuckDBWarehouse) -> Iterator[object]:
        try:
            with original(self) as con:
                yield con
        except WarehouseLockedError:
            release.touch()  # the other process lets go once the first attempt has failed on its lock
            raise

    monkeypatch.setattr(DuckDBWarehouse, "connect", connect)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(release)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = run_range(resources, DAY, DAY, "stg_orders")
    finally:
        release.touch()
        holder.wait(timeout=30)
    assert result.success
    retries = events_of(result, "STEP_UP_FOR_RETRY")
    assert len(retries) == 1 and "WarehouseLockedError" in retries[0].event_specific_data.error.to_string()
    assert len(events_of(result, "STEP_RESTARTED")) == 1 and not events_of(result, "STEP_FAILURE")
    rows = warehouse.open().query("SELECT order_id FROM after_sales.stg_orders")
    assert rows["order_id"].tolist() == ["O1"]


@pytest.mark.slow
def test_a_data_fault_fails_at_once_without_retries(
    resources: dict[str, object], landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An empty file is now refused alone (issue 13); any error that is not transient is a data fault.
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)

    def fault(*_: object) -> object:
        raise ValueError(f"orders/{DAY}/export.csv row 1, column amount: cannot be stored")

    monkeypatch.setattr(staging_assets, "stage_window", fault)
    result = run_range(resources, DAY, DAY, "stg_orders")
    assert not result.success
    assert not events_of(result, "STEP_UP_FOR_RETRY")
    assert len(events_of(result, "STEP_FAILURE")) == 1
