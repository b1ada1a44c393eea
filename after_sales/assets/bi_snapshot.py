"""A read-only snapshot of an embedded DuckDB warehouse for BI tools, published after every successful run.

A DuckDB file admits one writing process, and a BI tool holding the warehouse file open (even read-only)
blocks the pipeline's writes. BI tools read `<warehouse dir>/bi/<warehouse name>_snapshot.duckdb` instead
(data/bi/warehouse_snapshot.duckdb by default): it is copied from the warehouse at the end of each run
(after every table, quarantine, quality history and the BI views are built), written under a temporary name
and moved into place with os.replace, so a reader holding the old snapshot keeps reading it undisturbed and
the next connection sees the new one. A PostgreSQL warehouse needs none: BI reads the server directly.
"""

import dagster as dg

from after_sales.assets.common import OWNERS, RETRY_POLICY, SINGLE_RUN
from after_sales.resources import WarehouseResource


@dg.asset(
    name="bi_snapshot",
    group_name="bi",
    deps=["bi_views", "quarantine", "data_quality_runs"],
    backfill_policy=SINGLE_RUN,  # so the unpartitioned asset can share a partition-range run
    retry_policy=RETRY_POLICY,
    kinds={"duckdb"},
    owners=OWNERS,
    code_version="1",
    description=(
        "A read-only copy of the embedded DuckDB warehouse for BI tools, replaced atomically after each run: "
        "`<warehouse dir>/bi/<name>_snapshot.duckdb` (data/bi/warehouse_snapshot.duckdb by default). Point "
        "Metabase, Superset or DBeaver at it, not at the warehouse file, whose writer a reader would block. "
        "Nothing to do on PostgreSQL."
    ),
)
def bi_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Publish the snapshot of a DuckDB warehouse (nothing on PostgreSQL)."""
    published = warehouse.open().publish_snapshot()
    if published is None:
        context.log.info("not an embedded DuckDB file: BI tools read the warehouse server directly")
        return dg.MaterializeResult(metadata={"snapshot": "none needed (not an embedded DuckDB file)"})
    target, tables = published
    context.log.info(f"BI snapshot of {len(tables)} tables published at {target}")
    return dg.MaterializeResult(
        metadata={
            "snapshot": dg.MetadataValue.path(str(target.resolve())),
            "tables": len(tables),
            "bytes": target.stat().st_size,
        }
    )
