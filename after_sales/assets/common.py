"""What every asset shares: partitions, backfill policy, warehouse kind, table metadata."""

from collections.abc import Iterator

import dagster as dg
import pandas as pd
from sqlalchemy.engine import make_url

from after_sales.checks.quality import CustomCheck, evaluate
from after_sales.partitions import SETTINGS, daily_partitions, date_window
from after_sales.resources import WarehouseOutput, WarehouseResource
from after_sales.tables import DATA_QUALITY_RUNS, TableSpec

WAREHOUSE_KIND = "postgres" if make_url(SETTINGS.warehouse_url).get_backend_name() == "postgresql" else "duckdb"
SINGLE_RUN = dg.BackfillPolicy.single_run()
OWNERS = ["team:data"]


def table_metadata(spec: TableSpec) -> dict[str, object]:
    """Definition metadata shown on the asset page: table name, partition column, column schema."""
    meta: dict[str, object] = {
        "dagster/table_name": f"{SETTINGS.warehouse_schema}.{spec.name}",
        "dagster/column_schema": spec.dagster_schema(),
    }
    if spec.partition_column:
        meta["partition_expr"] = spec.partition_column
    return meta


def partitioned_asset_kwargs(spec: TableSpec, group: str) -> dict[str, object]:
    """Keyword arguments shared by the daily warehouse assets."""
    return {
        "name": spec.name,
        "description": spec.description,
        "partitions_def": daily_partitions,
        "backfill_policy": SINGLE_RUN,
        "group_name": group,
        "kinds": {"pandas", WAREHOUSE_KIND},
        "owners": OWNERS,
        "metadata": table_metadata(spec),
        "io_manager_key": "warehouse_io_manager",
    }


def validated_output(
    context: dg.AssetExecutionContext,
    spec: TableSpec,
    frame: pd.DataFrame,
    warehouse: WarehouseResource,
    custom: list[CustomCheck] | None = None,
    quarantined: pd.DataFrame | None = None,
    metadata: dict[str, object] | None = None,
    output_name: str = "result",
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Validate the rows, then write them (with quarantine and quality rows) or, if a blocking check fails, stop.

    On failure nothing of the asset is written for the window; the failed checks and their
    data_quality_runs rows are recorded, and the step fails with the reasons (no retry: it is a data fault).
    """
    window = date_window(context.partition_time_window)
    run_id = context.run.run_id
    report = evaluate(spec.name, spec, frame, window, run_id, custom)
    if report.passed:
        yield dg.Output(
            WarehouseOutput(rows=frame, quarantined=quarantined, quality=report.rows),
            output_name=output_name,
            metadata=metadata or {},
        )
        yield from report.results
        return
    warehouse.open().replace(DATA_QUALITY_RUNS, report.rows, window, {"run_id": run_id, "asset": spec.name})
    yield from report.results
    raise dg.Failure(
        description=f"{spec.name}: blocking checks failed, nothing written for this window:\n- "
        + "\n- ".join(report.failures),
        allow_retries=False,
    )
