"""Build a long partition range in chunks of days inside one run: validate and write each chunk in one transaction.

A single-run backfill hands an asset its whole range. Built at once, a year of sessions would sit in
memory several times over (landed text, typed rows, the Arrow copy for the write, the validator's);
built in chunks of AFTER_SALES_CHUNK_DAYS days, memory follows the chunk. Each chunk's partitions are
replaced in one transaction, so a failing chunk leaves its partitions as they were, and the chunks
before it are written and valid. Check results and metadata are merged over the chunks.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import dagster as dg
import pandas as pd

from after_sales.assets.faults import classified_faults
from after_sales.checks.quality import CustomCheck, evaluate
from after_sales.partitions import SETTINGS, date_window
from after_sales.resources import Companion, WarehouseOutput, WarehouseResource, write_output
from after_sales.resources.warehouse import DateWindow
from after_sales.tables import DATA_QUALITY_RUNS, TableSpec

Emitted = Iterator[dg.MaterializeResult | dg.AssetCheckResult]
# Check metadata that adds up over chunks; the rest is taken from the first failing chunk, else the last one.
SUMMED_CHECK_METADATA = (
    "failed_expectations",
    "unexpected_rows",
    "rows_checked",
    "partitions_failed",
    "rows_read",
    "rows_staged",
    "rows_quarantined",
    "duplicates_removed",
)


@dataclass
class Chunk:
    """What an asset built for one chunk of its window, for one table (and the companion tables written with it).

    metadata adds up over chunks: numbers are summed, Counters added, lists extended, dicts merged,
    anything else is the last chunk's.
    """

    rows: pd.DataFrame
    quarantined: pd.DataFrame | None = None
    checks: list[CustomCheck] = field(default_factory=list)
    metadata: dict[str, object] = field(default_factory=dict)
    companions: list[Companion] = field(default_factory=list)


def chunk_windows(window: DateWindow, days: int | None = None) -> list[DateWindow]:
    """The window cut into consecutive windows of at most `days` days (AFTER_SALES_CHUNK_DAYS by default)."""
    size = dt.timedelta(days=days or SETTINGS.chunk_days)
    out, start = [], window.start
    while start < window.end:
        out.append(DateWindow(start, min(start + size, window.end)))
        start = out[-1].end
    return out or [window]


def _add(totals: dict[str, object], metadata: Mapping[str, object]) -> None:
    for key, value in metadata.items():
        seen = totals.get(key)
        if isinstance(value, Counter):
            totals[key] = (seen if isinstance(seen, Counter) else Counter()) + value
        elif isinstance(value, list):
            totals[key] = (seen if isinstance(seen, list) else []) + value
        elif isinstance(value, dict):
            totals[key] = {**(seen if isinstance(seen, dict) else {}), **value}
        elif isinstance(value, int | float) and not isinstance(value, bool) and isinstance(seen, int | float):
            totals[key] = seen + value
        else:
            totals[key] = value


def _raw(value: object) -> object:
    return getattr(value, "value", value)


def merge_check_results(per_chunk: list[list[dg.AssetCheckResult]]) -> list[dg.AssetCheckResult]:
    """One result per check over all chunks: passed if it passed in every chunk."""
    by_check: dict[tuple[str, str], list[dg.AssetCheckResult]] = {}
    for results in per_chunk:
        for r in results:
            by_check.setdefault((r.asset_key.to_user_string(), r.check_name), []).append(r)
    merged = []
    for (asset, check), results in by_check.items():
        failed = [r for r in results if not r.passed]
        shown = failed[0] if failed else results[-1]
        metadata: dict[str, object] = dict(shown.metadata)  # markdown stays markdown
        for key in SUMMED_CHECK_METADATA:
            if key in metadata:
                metadata[key] = sum(_raw(r.metadata[key]) for r in results if key in r.metadata)
        metadata["chunks"] = len(results)
        metadata["chunks_failed"] = len(failed)
        merged.append(
            dg.AssetCheckResult(
                asset_key=asset,
                check_name=check,
                passed=not failed,
                severity=shown.severity,
                metadata=metadata,
            )
        )
    return merged


@classified_faults
def materialize_in_chunks(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    specs: list[TableSpec],
    build: Callable[[DateWindow], Mapping[str, Chunk]],
    window: DateWindow | None = None,
    render: Callable[[str, dict[str, object]], dict[str, object]] | None = None,
) -> Emitted:
    """Build, validate and write each chunk of window (the partition range by default); one result per table.

    build returns a Chunk per table name of specs. A chunk failing a blocking check records its quality
    rows, reports the merged check results and fails the step without retries: earlier chunks stay written.
    render turns a table's merged metadata into what the asset page shows.
    """
    whole = window or date_window(context.partition_time_window)
    run_id = context.run.run_id
    chunks = chunk_windows(whole)
    if len(chunks) > 1:
        context.log.info(f"{len(chunks)} chunks of up to {SETTINGS.chunk_days} days for {whole.start} .. {whole.end}")
    results: dict[str, list[list[dg.AssetCheckResult]]] = {s.name: [] for s in specs}
    totals: dict[str, dict[str, object]] = {s.name: {} for s in specs}
    for part in chunks:
        built = build(part)
        for spec in specs:
            chunk = built[spec.name]
            report = evaluate(spec.name, spec, chunk.rows, part, run_id, chunk.checks)
            results[spec.name].append(report.results)
            if not report.passed:
                warehouse.open().replace(DATA_QUALITY_RUNS, report.rows, part, {"run_id": run_id, "asset": spec.name})
                for per_chunk in results.values():
                    yield from merge_check_results(per_chunk)
                written = f"; days before {part.start} were written" if part.start > whole.start else ""
                raise dg.Failure(
                    description=f"{spec.name}: blocking checks failed, nothing written for {part.start} .. "
                    f"{part.end}{written}:\n- " + "\n- ".join(report.failures),
                    allow_retries=False,
                )
            output = WarehouseOutput(
                rows=chunk.rows, quarantined=chunk.quarantined, quality=report.rows, companions=chunk.companions
            )
            counts = write_output(warehouse, spec, output, part, run_id)
            metadata: dict[str, object] = {"dagster/row_count": counts.rows, "table": counts.table}
            if counts.quarantined is not None:
                metadata["quarantined_rows"] = counts.quarantined
            _add(totals[spec.name], {**metadata, **chunk.metadata})
        del built
    for spec in specs:
        metadata = render(spec.name, totals[spec.name]) if render else totals[spec.name]
        yield dg.MaterializeResult(
            asset_key=spec.name,
            metadata={**metadata, "window": f"{whole.start} .. {whole.end}", "chunks": len(chunks)},
            check_results=merge_check_results(results[spec.name]),
        )
