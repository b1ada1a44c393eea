"""Staging assets: one per landing source, partitioned by landing date."""

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs, validated_output
from after_sales.checks.conservation import STAGING_CHECKS, staging_conservation
from after_sales.checks.quality import check_specs
from after_sales.marketplaces import ExportFileError
from after_sales.partitions import FEEDBACK_WINDOW_DAYS, ORDERS_FOR_FEEDBACK, SETTINGS, date_window
from after_sales.resources import LandingZone, WarehouseResource
from after_sales.tables import TableSpec
from after_sales.transforms.staging import (
    KINDS,
    LandingFileError,
    SourceKind,
    StagingContext,
    StagingResult,
    combine,
    quarantine_unknown_orders,
)

Emitted = Iterator[dg.Output | dg.AssetCheckResult]


def stage_window(
    context: dg.AssetExecutionContext, landing: LandingZone, source: str, kind: SourceKind
) -> StagingResult:
    """Read and stage every file of the source in the partition window."""
    window = date_window(context.partition_time_window)
    ctx = StagingContext(timezone=SETTINGS.timezone, late_arrival_days=SETTINGS.late_arrival_days)
    files = landing.files(source, window.days())
    context.log.info(f"{source}: {len(files)} file(s) for landing days {window.start} .. {window.end}")
    with whole_file_faults_fail():
        results = [kind.stage(landing.read(source, day, path), ctx) for day, path in files]
    return combine(results, kind.spec, kind.id_column)


@contextmanager
def whole_file_faults_fail() -> Iterator[None]:
    """A file that cannot be read fails the partition at once, without retries: it is a data fault."""
    try:
        yield
    except (LandingFileError, ExportFileError) as exc:
        raise dg.Failure(
            description=f"{exc} (nothing was staged or quarantined for this window; fix or remove the file "
            "and re-materialize)",
            allow_retries=False,
        ) from exc


def emit_staged(
    context: dg.AssetExecutionContext,
    spec: TableSpec,
    result: StagingResult,
    warehouse: WarehouseResource,
    output_name: str = "result",
    extra_metadata: dict[str, object] | None = None,
) -> Emitted:
    """Validate staged rows and write them with their quarantine rows; counts as metadata."""
    by_rule = result.quarantined.groupby("rule").size().sort_values(ascending=False)
    rules = "\n".join(f"| {rule} | {n} |" for rule, n in by_rule.items())
    metadata = {
        "files": len(set(result.rows["source_file"]) | set(result.quarantined["source_file"])),
        "rows_read": result.rows_read,
        "rows_staged": len(result.rows),
        "rows_quarantined": len(result.quarantined),
        "duplicates_removed": result.duplicates_removed,
        "quarantine_by_rule": dg.MetadataValue.md("| rule | rows |\n|---|---|\n" + rules if rules else "none"),
        "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings) or "none"),
        **(extra_metadata or {}),
    }
    days = date_window(context.partition_time_window).days()
    yield from validated_output(
        context,
        spec,
        result.rows,
        warehouse,
        custom=[staging_conservation(result, days)],
        quarantined=result.quarantined,
        metadata=metadata,
        output_name=output_name,
    )


@dg.asset(
    **partitioned_asset_kwargs(KINDS["orders"].spec, "staging"),
    check_specs=check_specs("stg_orders", STAGING_CHECKS),
    code_version="1",
)
def stg_orders(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site orders, typed; bad rows quarantined."""
    kind = KINDS["orders"]
    yield from emit_staged(context, kind.spec, stage_window(context, landing, "orders", kind), warehouse)


@dg.asset(
    **partitioned_asset_kwargs(KINDS["feedback"].spec, "staging"),
    ins={
        "known_orders": dg.AssetIn(
            key="stg_orders", partition_mapping=ORDERS_FOR_FEEDBACK, metadata={"columns": ["order_id", "landing_date"]}
        )
    },
    check_specs=check_specs("stg_feedback", STAGING_CHECKS),
    code_version="1",
)
def stg_feedback(
    context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource, known_orders: pd.DataFrame
) -> Emitted:
    """Own helpdesk tickets and reviews, typed; bad rows and feedback for unknown orders quarantined."""
    kind = KINDS["feedback"]
    result = stage_window(context, landing, "feedback", kind)
    result = quarantine_unknown_orders(result, known_orders, FEEDBACK_WINDOW_DAYS, SETTINGS.late_arrival_days)
    yield from emit_staged(context, kind.spec, result, warehouse)


@dg.asset(
    **partitioned_asset_kwargs(KINDS["behaviour"].spec, "staging"),
    check_specs=check_specs("stg_behaviour", STAGING_CHECKS),
    code_version="1",
)
def stg_behaviour(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site sessions, typed; bad rows quarantined."""
    kind = KINDS["behaviour"]
    yield from emit_staged(context, kind.spec, stage_window(context, landing, "behaviour", kind), warehouse)
