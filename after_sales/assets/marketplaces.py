"""Staging for marketplace exports: one multi-asset per mapping file, writing stg_<source>_orders and _feedback."""

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pandas as pd

from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.assets.common import (
    BACKFILL_POLICY,
    OWNERS,
    RETRY_POLICY,
    WAREHOUSE_KIND,
    priority_tags,
    table_metadata,
)
from after_sales.assets.staging import (
    FileLedger,
    alert_refused,
    not_loaded_notes,
    read_each_file,
    render_staged,
    staged_chunk,
    staging_context,
    unknown_orders_quarantined,
)
from after_sales.checks.conservation import STAGING_CHECKS
from after_sales.checks.quality import check_specs
from after_sales.marketplaces import ExportFileError, ExportRead, SourceConfig, read_export
from after_sales.marketplaces.multi import detail_table_rows, item_table_rows, join_files
from after_sales.marketplaces.reader import to_business_time
from after_sales.partitions import ORDERS_FOR_FEEDBACK, daily_partitions, date_window
from after_sales.resources import Companion, LandingZone, WarehouseResource
from after_sales.sources import MARKETPLACE_SOURCES
from after_sales.tables import (
    QUARANTINE,
    STG_ORDERS,
    TableSpec,
    marketplace_tables,
    order_details_table,
    order_items_table,
)
from after_sales.transforms.parsing import printable
from after_sales.transforms.staging import (
    KINDS,
    LandedFile,
    StagingContext,
    StagingResult,
    combine,
)
from after_sales.windows import DateWindow


def _render(table: str, totals: dict[str, object]) -> dict[str, object]:
    """Staging counts plus the export kinds read, as asset metadata."""
    out = render_staged(table, totals)
    out["export_files"] = dg.MetadataValue.json(totals.get("export_files") or {})
    out["skipped_files"] = dg.MetadataValue.json(totals.get("skipped_files") or [])
    return out


def rejected_to_quarantine(read: ExportRead, source: str, landing_date: dt.date) -> pd.DataFrame:
    """Rows the export reader rejected, in the quarantine table's shape."""
    r = read.rejected
    return pd.DataFrame(
        {
            "landing_date": landing_date,
            "source": source,
            "staging_table": "",
            "source_file": read.file,
            "source_row": r["source_row"].astype("int64").to_numpy(),
            # Header names come from the file: a NUL in one must not reach a warehouse text column.
            "column_name": printable(r["column"]).to_numpy(),
            "rule": r["rule"].to_numpy(),
            "reason": printable(r["reason"]).to_numpy(),
            "raw": r["raw"].to_numpy(),
        },
        index=range(len(r)),
    )[QUARANTINE.column_names]


def stage_export(read: ExportRead, source: str, landing_date: dt.date, ctx: StagingContext) -> StagingResult:
    """Type the reader's canonical rows with the own-source rules; reader rejections join the quarantine."""
    rows = to_business_time(read.rows, read.timezone, ctx.timezone).copy()
    rows["source_row"] = pd.to_numeric(rows["source_row"]).astype("int64")
    staged = KINDS[read.kind].stage(LandedFile(source, landing_date, read.file, rows), ctx)
    if len(staged.quarantined) and read.landed:
        # the row as landed (landed header -> landed cell), not the canonical row the rules saw
        q = staged.quarantined.copy()
        landed = q["source_row"].map(lambda r: read.landed.get(int(r)))
        q["raw"] = landed.where(landed.notna(), q["raw"])
        staged = dataclasses.replace(staged, quarantined=q)
    rejected = rejected_to_quarantine(read, source, landing_date)
    quarantined = pd.concat([q for q in (staged.quarantined, rejected) if len(q)] or [staged.quarantined])
    notes = [f"{read.file}: {w}" for w in read.warnings]
    if read.dropped_summary_rows or read.blank_rows:
        notes.append(
            f"{read.file}: {read.dropped_summary_rows} summary row(s), {read.blank_rows} blank line(s) skipped"
        )
    return StagingResult(
        rows=staged.rows,
        quarantined=quarantined.reset_index(drop=True),
        rows_read=staged.rows_read + len(rejected),
        duplicates_removed=staged.duplicates_removed,
        warnings=staged.warnings + notes,
        rows_read_by_day={landing_date: staged.rows_read + len(rejected)},
    )


def stage_reads(
    dated: list[tuple[dt.date, ExportRead]], source: SourceConfig, ctx: StagingContext
) -> tuple[dict[str, list[StagingResult]], list[pd.DataFrame], list[pd.DataFrame]]:
    """Stage a window's reads (by landing day): joined kinds (items, payments, customers, ...) fill their orders
    first; item lines go to the lines table, other joined order fields to the details table."""
    results: dict[str, list[StagingResult]] = {"orders": [], "feedback": []}
    item_rows: list[pd.DataFrame] = []
    detail_rows: list[pd.DataFrame] = []
    attributes = {f: t for f, (t, _) in source.order_attributes().items()}
    joined = join_files([r for _, r in dated], source)
    for (day, _), part in zip(dated, joined, strict=True):
        lines = part.rows if part.kind == "items" else part.items
        if lines is not None and len(lines):
            item_rows.append(item_table_rows(lines, source.name, day, part.file))
        if part.kind in results:
            staged = stage_export(part, source.name, day, ctx)
            results[part.kind].append(staged)
            if part.details is not None and len(staged.rows):
                kept = set(staged.rows["source_row"].astype("int64"))
                detail_rows.append(detail_table_rows(part, kept, attributes, source.name, day))
        elif len(part.rejected):
            # A joined file's rejected rows (unparseable, or matching no order) are quarantined with the orders they
            # were meant for: nothing is lost.
            rejected = rejected_to_quarantine(part, source.name, day)
            results["orders"].append(
                StagingResult(
                    rows=pd.DataFrame(columns=STG_ORDERS.column_names),
                    quarantined=rejected,
                    rows_read=len(rejected),
                    duplicates_removed=0,
                    rows_read_by_day={day: len(rejected)},
                )
            )
    return results, item_rows, detail_rows


def _known_orders(
    warehouse: WarehouseResource,
    spec: TableSpec,
    staged: pd.DataFrame,
    window: DateWindow,
    siblings: tuple[TableSpec, ...] = (),
    staged_days: DateWindow | None = None,
) -> pd.DataFrame:
    """Orders landed around the window: this run's staged ones (landed in staged_days, the window by default) plus
    earlier and later days in the warehouse.

    `siblings` are the order tables of the channel's other sources (a shop's second mapping, an extension
    under another name): their orders count too, so refunds and reviews match orders of the same channel.
    """
    lookup = ORDERS_FOR_FEEDBACK.of(window)
    staged_days = staged_days or window
    stored = warehouse.read(spec, lookup, ["order_id", "landing_date"])
    in_window = pd.to_datetime(stored["landing_date"]).between(
        pd.Timestamp(staged_days.start), pd.Timestamp(staged_days.end), inclusive="left"
    )
    others = [warehouse.read(s, lookup, ["order_id", "landing_date"]) for s in siblings]
    return pd.concat(
        [stored.loc[~in_window], staged[["order_id", "landing_date"]], *others], ignore_index=True
    )


def marketplace_staging_asset(
    source: SourceConfig, sources: Mapping[str, SourceConfig] | None = None
) -> dg.AssetsDefinition:
    """The multi-asset staging one marketplace's landing folder into its two staging tables."""
    tables = marketplace_tables(source)
    siblings = tuple(
        marketplace_tables(s)["orders"]
        for s in (sources or {}).values()
        if s.channel == source.channel and s.name != source.name
    )
    items_spec = order_items_table(source)
    details_spec = order_details_table(source)
    # The feedback table reads the step's own orders (the unknown-order rule), but that is not declared as a graph
    # edge: Dagster's asset backfills cannot order two outputs of one step by a shifted partition mapping (a backfill
    # of every asset then never requests the step). The landing sensor widens the feedback days itself.
    outs = {
        spec.name: dg.AssetOut(
            key=spec.name,
            description=spec.description,
            metadata={**table_metadata(spec), "mapping_file": str(source.path)},
            group_name="staging",
            kinds={"pandas", WAREHOUSE_KIND},
            owners=OWNERS,
            tags={"after_sales/channel": source.channel},
            code_version="2",
        )
        for spec in tables.values()
    }

    @dg.multi_asset(
        name=f"stg_{source.name}",
        outs=outs,
        partitions_def=daily_partitions,
        backfill_policy=BACKFILL_POLICY,
        retry_policy=RETRY_POLICY,
        op_tags=priority_tags("marketplace_staging"),
        check_specs=[c for spec in tables.values() for c in check_specs(spec.name, STAGING_CHECKS)],
        description=f"Read {source.label} exports landed under <landing>/{source.name}/<day>/ with {source.path.name}.",
    )
    def _stage(context: dg.AssetExecutionContext, landing: LandingZone, warehouse: WarehouseResource) -> Emitted:
        run_days = date_window(context.partition_time_window)

        def read_window(
            window: DateWindow, ledger: FileLedger, kinds_seen: dict[str, str], skipped: dict[dt.date, list[str]]
        ) -> list[tuple[dt.date, ExportRead]]:
            def read_one(day: dt.date, path: Path) -> list[tuple[dt.date, ExportRead]] | None:
                try:
                    read = read_export(path, source, landing.path)
                except ExportFileError as exc:
                    if not exc.no_kind:
                        raise  # a whole-file fault: read_each_file refuses this file alone
                    # a file of no kind of this mapping (payments, customers, a readme): reported, skipped
                    skipped.setdefault(day, []).append(str(exc))
                    return None
                kinds_seen[read.file] = "+".join(r.subkind for r in read.all_reads())
                return [(day, r) for r in read.all_reads()]

            # A file with a whole-file fault is refused alone (quarantine_files); the source's other files go on.
            return [d for part in read_each_file(landing, window, read_one, ledger) for d in part]

        def orders_staged_later(ahead: DateWindow) -> pd.DataFrame:
            """The orders a later chunk of this run stages for the days of ahead, staged here for their ids only:
            feedback near a chunk's end may name them, and a single pass would have them."""
            if ahead.start >= ahead.end:
                return pd.DataFrame(columns=["order_id", "landing_date"])
            dated = read_window(ahead, FileLedger(source.name, ahead.days()), {}, {})
            results, _, _ = stage_reads(dated, source, staging_context())
            return combine(results["orders"], tables["orders"], KINDS["orders"].id_column).rows[
                ["order_id", "landing_date"]
            ]

        def build(window: DateWindow) -> dict[str, Chunk]:
            kinds_seen: dict[str, str] = {}
            skipped: dict[dt.date, list[str]] = {}
            ledger = FileLedger(source.name, window.days())
            dated = read_window(window, ledger, kinds_seen, skipped)
            for notes in skipped.values():
                for note in notes:
                    context.log.warning(f"skipped: {note}")
            results, item_rows, detail_rows = stage_reads(dated, source, staging_context())
            orders = combine(results["orders"], tables["orders"], KINDS["orders"].id_column)
            orders.warnings[:0] = not_loaded_notes(context, landing, source.name, window)
            feedback = combine(results["feedback"], tables["feedback"], KINDS["feedback"].id_column)
            ahead = DateWindow(window.end, max(window.end, min(ORDERS_FOR_FEEDBACK.of(window).end, run_days.end)))
            staged = pd.concat([orders.rows[["order_id", "landing_date"]], orders_staged_later(ahead)])
            staged_days = DateWindow(window.start, ahead.end)
            known = _known_orders(warehouse, tables["orders"], staged, window, siblings, staged_days)
            feedback = unknown_orders_quarantined(feedback, known)
            alert_refused(context, f"stg_{source.name}", ledger.refused)
            files = {"export_files": kinds_seen, "skipped_files": [s for day in sorted(skipped) for s in skipped[day]]}
            empty = pd.DataFrame(columns=items_spec.column_names)
            items = pd.concat(item_rows, ignore_index=True) if item_rows else empty
            rows_read = dict(Counter(orders.rows_read_by_day) + Counter(feedback.rows_read_by_day))
            # The source's file records (both kinds) and its order lines are written with its orders rows, in
            # their transaction.
            orders_chunk = staged_chunk(orders, window, {**files, "order_item_lines": len(items)}, ledger, rows_read)
            orders_chunk.companions.append(Companion(items_spec, items, {"source": source.name}))
            if details_spec is not None:
                details = pd.concat(detail_rows, ignore_index=True) if detail_rows else pd.DataFrame()
                details = details if len(details) else pd.DataFrame(columns=details_spec.column_names)
                orders_chunk.companions.append(Companion(details_spec, details, {"source": source.name}))
                orders_chunk.metadata["order_detail_rows"] = len(details)
            for day, notes in skipped.items():
                orders_chunk.per_day.setdefault(day, {})["skipped_files"] = dg.MetadataValue.json(notes)
            return {
                tables["orders"].name: orders_chunk,
                tables["feedback"].name: staged_chunk(feedback, window, files),
            }

        sized = landing.sizer(source.name)
        yield from materialize_in_chunks(
            context, warehouse, list(tables.values()), build, render=_render, sized_by=sized
        )

    return _stage


marketplace_assets = [marketplace_staging_asset(s, MARKETPLACE_SOURCES) for s in MARKETPLACE_SOURCES.values()]
