"""The BI surface: stable bi_ views over the marts, (re)created after them in the configured warehouse."""

import dagster as dg

from after_sales.assets.common import OWNERS, RETRY_POLICY, SINGLE_RUN, WAREHOUSE_KIND
from after_sales.assets.faults import classified_faults
from after_sales.bi.views import BI_VIEWS, apply_views, source_tables, views_version
from after_sales.resources import WarehouseResource

# Tables written in the same transaction as an asset's rows (not assets themselves): no dependency of their own.
WRITTEN_WITH_OTHERS = {"quarantine", "quarantine_files", "landing_files", "work_order_feedback"}
_VIEW_LIST = "\n".join(f"- `{v.name}`: {v.spec.description}" for v in BI_VIEWS)


@dg.asset(
    name="bi_views",
    group_name="bi",
    deps=[t.name for t in source_tables(BI_VIEWS) if t.name not in WRITTEN_WITH_OTHERS],
    backfill_policy=SINGLE_RUN,  # so the unpartitioned asset can share a partition-range run with the marts
    retry_policy=RETRY_POLICY,
    kinds={"sql", WAREHOUSE_KIND},
    owners=OWNERS,
    code_version=views_version(),
    metadata={f"columns: {v.name}": dg.MetadataValue.table_schema(v.spec.dagster_schema()) for v in BI_VIEWS},
    description=(
        "Create or replace the BI views (idempotent; the tables are never dropped, so views and grants "
        "survive every re-materialization). Connect BI tools to these, not to the tables:\n\n" + _VIEW_LIST
    ),
)
@classified_faults
def bi_views(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """(Re)create every bi_ view and its comments in one transaction."""
    wh = warehouse.open()
    names = apply_views(wh)
    context.log.info(f"BI views ready in {wh.schema}: {', '.join(names)}")
    return dg.MaterializeResult(
        metadata={
            "schema": wh.schema,
            "views": dg.MetadataValue.md(
                "| view | columns | description |\n|---|---|---|\n"
                + "\n".join(f"| {v.name} | {len(v.spec.columns)} | {v.spec.description} |" for v in BI_VIEWS)
            ),
            "view_count": len(names),
        }
    )
