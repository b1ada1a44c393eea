"""Staging assets: one per landing source, partitioned by landing date."""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import partitioned_asset_kwargs
from after_sales.checks.conservation import STAGING_CHECKS, staging_conservation
from after_sales.checks.quality import check_specs
from after_sales.marketplaces import ExportFileError
from after_sales.partitions import FEEDBACK_WINDOW_DAYS, ORDERS_FOR_FEEDBACK, SETTINGS
from after_sales.resources import LandingZone, UpstreamRows, WarehouseResource, upstream_in
from after_sales.resources.warehouse import DateWindow
from after_sales.transforms.staging import (
    KINDS,
    LandingFileError,
    SourceKind,
    StagingContext,
    StagingResult,
    combine,
    quarantine_unknown_orders,
)


def staging_context() -> StagingContext:
    """The settings the staging transforms need."""
    return StagingContext(timezone=SETTINGS.timezone, late_arrival_days=SETTINGS.late_arrival_days)


def stage_window(
    context: dg.AssetExecutionContext, landing: LandingZone, source: str, kind: SourceKind, window: DateWindow
) -> StagingResult:
    """Read and stage every file of the source landed in the window."""
    files = landing.files(source, window.days())
    context.log.info(f"{source}: {len(files)} file(s) for landing days {window.start} .. {window.end}")
    not_loaded = not_loaded_notes(context, landing, source, window)
    with whole_file_faults_fail():
        results = [kind.stage(landing.read(source, day, path), staging_context()) for day, path in files]
    result = combine(results, kind.spec, kind.id_column)
    result.warnings[:0] = not_loaded
    return result


def not_loaded_notes(
    context: dg.AssetExecutionContext, landing: LandingZone, source: str, window: DateWindow
) -> list[str]:
    """Links leading outside the landing zone and misplaced files under the source's folder, logged as warnings."""
    notes = [f"not loaded: {m}" for m in landing.problems(source, window.days())]
    for note in notes:
        context.log.warning(note)
    return notes


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


def staged_chunk(result: StagingResult, window: DateWindow, extra: dict[str, object] | None = None) -> Chunk:
    """Staged rows and their quarantine rows for one chunk, with the counts shown on the asset."""
    files = set(result.rows["source_file"].unique()) | set(result.quarantined["source_file"].unique())
    return Chunk(
        rows=result.rows,
        quarantined=result.quarantined,
        checks=[staging_conservation(result, window.days())],
        metadata={
            "files": len(files),
            "rows_read": result.rows_read,
            "rows_staged": len(result.rows),
            "rows_quarantined": len(result.quarantined),
            "duplicates_removed": result.duplicates_removed,
            "quarantine_by_rule": Counter(result.quarantined["rule"].value_counts().to_dict()),
            "warnings": list(result.warnings),
            **(extra or {}),
        },
        per_day=staged_per_day(result, window),
    )


def staged_per_day(result: StagingResult, window: DateWindow) -> dict[dt.date, dict[str, object]]:
    """Rows read, files and warnings of each landing day (warnings name their file, whose folder is the day)."""
    files: dict[dt.date, set[str]] = {}
    for frame in (result.rows, result.quarantined):
        for (day, path), _ in frame.groupby(["landing_date", "source_file"]).size().items():
            files.setdefault(pd.Timestamp(day).date(), set()).add(path)
    out: dict[dt.date, dict[str, object]] = {}
    for day in window.days():
        mine = [w for w in result.warnings if f"/{day.isoformat()}/" in w]
        out[day] = {
            "rows_read": int(result.rows_read_by_day.get(day, 0)),
            "files": len(files.get(day, ())),
            "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in mine[:200]) or "none"),
        }
    return out


def render_staged(_: str, totals: dict[str, object]) -> dict[str, object]:
    """The merged staging counts as asset metadata: rules and warnings as markdown."""
    out = dict(totals)
    by_rule = out.pop("quarantine_by_rule", Counter())
    rules = "\n".join(f"| {rule} | {n} |" for rule, n in by_rule.most_common())
    out["quarantine_by_rule"] = dg.MetadataValue.md("| rule | rows |\n|---|---|\n" + rules if rules else "none")
    warnings = out.pop("warnings", [])
    shown = "\n".join(f"- {w}" for w in warnings[:200])
    more = f"\n- ... and {len(warnings) - 200} more" if len(warnings) > 200 else ""
    out["warnings"] = dg.MetadataValue.md(shown + more or "none")
    return out


def stage_source(
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    warehouse: WarehouseResource,
    source: str,
    known_orders: UpstreamRows | None = None,
) -> Emitted:
    """Stage an own source chunk by chunk; feedback for orders not landed around it goes to quarantine."""
    kind = KINDS[source]

    def build(window: DateWindow) -> dict[str, Chunk]:
        result = stage_window(context, landing, source, kind, window)
        if known_orders is not None:
            orders = known_orders.read(window)
            result = quarantine_unknown_orders(result, orders, FEEDBACK_WINDOW_DAYS, SETTINGS.late_arrival_days)
        return {kind.spec.name: staged_chunk(result, window)}

    yield from materialize_in_chunks(context, warehouse, [kind.spec], build, render=render_staged)


@dg.asset(
    **partitioned_asset_kwargs(KINDS["orders"].spec, "staging"),
    check_specs=check_specs("stg_orders", STAGING_CHECKS),
    code_version="1",
)
def stg_orders(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site orders, typed; bad rows quarantined."""
    yield from stage_source(context, landing, warehouse, "orders")


@dg.asset(
    **partitioned_asset_kwargs(KINDS["feedback"].spec, "staging"),
    ins={"known_orders": upstream_in("stg_orders", ORDERS_FOR_FEEDBACK, ["order_id", "landing_date"])},
    check_specs=check_specs("stg_feedback", STAGING_CHECKS),
    code_version="1",
)
def stg_feedback(
    context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource, known_orders: UpstreamRows
) -> Emitted:
    """Own helpdesk tickets and reviews, typed; bad rows and feedback for unknown orders quarantined."""
    yield from stage_source(context, landing, warehouse, "feedback", known_orders)


@dg.asset(
    **partitioned_asset_kwargs(KINDS["behaviour"].spec, "staging"),
    check_specs=check_specs("stg_behaviour", STAGING_CHECKS),
    code_version="1",
)
def stg_behaviour(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
    """Own-site sessions, typed; bad rows quarantined."""
    yield from stage_source(context, landing, warehouse, "behaviour")
