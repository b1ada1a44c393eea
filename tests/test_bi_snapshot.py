"""BI reads a snapshot of the embedded DuckDB warehouse: a reader holding it open never blocks a run."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.resources.duckdb_warehouse import snapshot_path
from after_sales.resources.warehouse import Warehouse
from after_sales.schedules import RANGE_END, RANGE_START
from tests.support.landing import small_landing

SELECTION = ["stg_orders", "stg_feedback", "fct_order_feedback", "bi_views", "quarantine", "bi_snapshot"]


def run(resources: dict[str, object], first: str, last: str) -> dg.ExecuteInProcessResult:
    """The staging and fact assets, the BI views, quarantine and the snapshot over first..last in one run."""
    test_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)  # type: ignore[arg-type]
    return test_defs.resolve_job_def("after_sales_daily").execute_in_process(
        tags={RANGE_START: first, RANGE_END: last},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in SELECTION],
    )


@pytest.mark.slow
def test_a_reader_holding_the_snapshot_does_not_block_the_next_run(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, duckdb_url: str
) -> None:
    small_landing(landing)
    assert run(resources, "2026-10-01", "2026-10-01").success
    snapshot = snapshot_path(duckdb_url.removeprefix("duckdb:///"))
    assert snapshot.name == "warehouse_snapshot.duckdb" and snapshot.parent.name == "bi"
    reader = duckdb.connect(str(snapshot), read_only=True)  # a BI tool, open through the next run
    try:
        first = reader.execute("SELECT count(*) FROM after_sales.bi_order_feedback").fetchone()[0]
        assert first > 0
        result = run(resources, "2026-10-01", "2026-10-03")  # writes the warehouse and replaces the snapshot
        assert result.success
        # The reader still sees the snapshot it opened, whole; a new connection sees the new one.
        assert reader.execute("SELECT count(*) FROM after_sales.bi_order_feedback").fetchone()[0] == first
    finally:
        reader.close()
    in_warehouse = warehouse.query("SELECT count(*) AS n FROM after_sales.bi_order_feedback")["n"].iloc[0]
    with duckdb.connect(str(snapshot), read_only=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM after_sales.bi_order_feedback").fetchone()[0] == in_warehouse
        tables = {r[0] for r in fresh.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert in_warehouse > first and {"fct_order_feedback", "quarantine", "stg_orders"} <= tables
    assert not list(snapshot.parent.glob(".*.tmp"))  # no half-written file left beside it
    assert not snapshot.stat().st_mode & 0o222  # published read-only
