"""What every asset shares: partitions, backfill policy, warehouse kind, table metadata."""

from __future__ import annotations

import dagster as dg
from sqlalchemy.engine import make_url

from after_sales.partitions import SETTINGS, daily_partitions
from after_sales.tables import TableSpec

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
