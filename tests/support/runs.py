"""The Definitions' resources over a temp warehouse, and the daily job run over a range of days."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource
from after_sales.schedules import RANGE_END, RANGE_START

TZ = "Asia/Shanghai"


def resources_for(
    url: str,
    landing: Path,
    exports: Path,
    schema: str = "after_sales",
    chunk_days: int = 14,
    chunk_rows: int = 1_000_000,
) -> dict[str, object]:
    """The Definitions' resources over a warehouse URL, a landing folder and an export folder."""
    warehouse = WarehouseResource(
        url=url, schema_name=schema, timezone=TZ, lock_timeout_seconds=5, chunk_days=chunk_days, chunk_rows=chunk_rows
    )
    return {
        "warehouse": warehouse,
        "landing": LandingZone(base_dir=str(landing)),
        "exports": ExportDirectory(base_dir=str(exports)),
    }


def other_warehouse(
    tmp_path: Path, landing: Path, name: str, chunk_days: int = 14, chunk_rows: int = 1_000_000
) -> dict[str, object]:
    """Resources over a second DuckDB file and export folder, same landing zone."""
    url = f"duckdb:///{tmp_path / (name + '.duckdb')}"
    return resources_for(url, landing, tmp_path / f"{name}_exports", chunk_days=chunk_days, chunk_rows=chunk_rows)


def with_warehouse(resources: dict[str, object], url: str, schema: str) -> dict[str, object]:
    """The resources with the warehouse pointed at url and schema."""
    warehouse = WarehouseResource(url=url, schema_name=schema, timezone=TZ, lock_timeout_seconds=5)
    return {**resources, "warehouse": warehouse}


def run_range(
    resources: dict[str, object],
    first: str,
    last: str,
    selection: str | list[str] | None = None,
    instance: dg.DagsterInstance | None = None,
) -> dg.ExecuteInProcessResult:
    """Run the daily job over [first, last] as one single-run backfill: every asset, or the selection."""
    test_defs = dg.Definitions(
        assets=list(defs.assets or []),  # type: ignore[arg-type]
        jobs=[daily_job],
        resources=resources,
    )
    job = test_defs.resolve_job_def("after_sales_daily")
    return job.execute_in_process(
        tags={RANGE_START: first, RANGE_END: last},
        raise_on_error=False,
        instance=instance,
        asset_selection=[dg.AssetKey(k) for k in ([selection] if isinstance(selection, str) else selection)]
        if selection
        else None,
    )
