"""Staging assets: one per landing source, partitioned by landing date."""


from collections.abc import Callable, Iterator

import dagster as dg
import pandas as pd

from after_sales.assets.common import partitioned_asset_kwargs
from after_sales.checks.conservation import conservation_result, conservation_spec
from after_sales.partitions import FEEDBACK_WINDOW_DAYS, ORDERS_FOR_FEEDBACK, SETTINGS, date_window
from after_sales.resources import LandingZone, StagedOutput
from after_sales.tables import STG_BEHAVIOUR, STG_FEEDBACK, STG_ORDERS, TableSpec
from after_sales.transforms.staging import (
    STAGERS,
    LandedFile,
    StagingContext,
    StagingResult,
    combine,
    quarantine_unknown_orders,
)

Stager = Callable[[LandedFile, StagingContext], StagingResult]


def stage_window(
    context: dg.AssetExecutionContext, landing: LandingZone, source: str, spec: TableSpec, stager: Stager
) -> StagingResult:
    """Read and stage every file of the source in the partition window."""
    window = date_window(context.partition_time_window)
    ctx = StagingContext(timezone=SETTINGS.timezone, late_arrival_days=SETTINGS.late_arrival_days)
    files = landing.files(source, window.days())
    context.log.info(f"{source}: {len(files)} file(s) for landing days {window.start} .. {window.end}")
    return combine([stager(landing.read(source, day, path), ctx) for day, path in files], spec)


def staged_output(
    asset: str, source: str, result: StagingResult, files: int
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """The Output (rows plus quarantine) with counts as metadata, then the conservation check."""
    by_rule = result.quarantined.groupby("rule").size().sort_values(ascending=False)
    table = "\n".join(f"| {rule} | {n} |" for rule, n in by_rule.items())
    yield dg.Output(
        StagedOutput(source=source, rows=result.rows, quarantined=result.quarantined),
        metadata={
            "files": files,
            "rows_read": result.rows_read,
            "rows_staged": len(result.rows),
            "rows_quarantined": len(result.quarantined),
            "duplicates_removed": result.duplicates_removed,
            "quarantine_by_rule": dg.MetadataValue.md("| rule | rows |\n|---|---|\n" + table if table else "none"),
            "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in result.warnings) or "none"),
        },
    )
    yield conservation_result(asset, result)


def _files_count(result: StagingResult) -> int:
    names = set(result.rows["source_file"]) | set(result.quarantined["source_file"])
    return len(names)


@dg.asset(**partitioned_asset_kwargs(STG_ORDERS, "staging"), check_specs=[conservation_spec("stg_orders")])
def stg_orders(context: dg.AssetExecutionContext, landing: LandingZone) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Own-site orders, typed; bad rows quarantined."""
    result = stage_window(context, landing, "orders", STG_ORDERS, STAGERS["orders"])
    yield from staged_output("stg_orders", "orders", result, _files_count(result))


@dg.asset(
    **partitioned_asset_kwargs(STG_FEEDBACK, "staging"),
    ins={
        "known_orders": dg.AssetIn(
            key="stg_orders", partition_mapping=ORDERS_FOR_FEEDBACK, metadata={"columns": ["order_id", "landing_date"]}
        )
    },
    check_specs=[conservation_spec("stg_feedback")],
)
def stg_feedback(
    context: dg.AssetExecutionContext, landing: LandingZone, known_orders: pd.DataFrame
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Own helpdesk tickets and reviews, typed; bad rows and feedback for unknown orders quarantined."""
    result = stage_window(context, landing, "feedback", STG_FEEDBACK, STAGERS["feedback"])
    result = quarantine_unknown_orders(result, known_orders, FEEDBACK_WINDOW_DAYS, SETTINGS.late_arrival_days)
    yield from staged_output("stg_feedback", "feedback", result, _files_count(result))


@dg.asset(**partitioned_asset_kwargs(STG_BEHAVIOUR, "staging"), check_specs=[conservation_spec("stg_behaviour")])
def stg_behaviour(
    context: dg.AssetExecutionContext, landing: LandingZone
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Own-site sessions, typed; bad rows quarantined."""
    result = stage_window(context, landing, "behaviour", STG_BEHAVIOUR, STAGERS["behaviour"])
    yield from staged_output("stg_behaviour", "behaviour", result, _files_count(result))
