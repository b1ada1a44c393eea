"""Build a long partition range in chunks of days inside one run: validate and write each chunk in one transaction.

A single-run backfill hands an asset its whole range. Built at once, a year of sessions would sit in
memory several times over (landed text, typed rows, the Arrow copy for the write, the validator's);
built in chunks, memory follows the chunk. A chunk is sized by the rows it reads: consecutive days while
their estimated input rows stay within the warehouse resource's chunk_rows (AFTER_SALES_CHUNK_ROWS) and
their count within its chunk_days (AFTER_SALES_CHUNK_DAYS). A small range is then one chunk: every chunk
pays fixed costs (a validation suite, a transaction, the upstream reads).
Each chunk's partitions are replaced in one transaction, so a failing chunk leaves its partitions as they
were, and the chunks before it are written and valid. Check results are merged over the chunks.

Metadata is recorded per partition: each day of the range gets its own rows, quarantined rows, duplicates
and rule outcomes (so Dagster's plots over partitions show each day), and the run's totals go to the run's
log, not onto every partition.
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
from after_sales.partitions import date_window
from after_sales.resources import Companion, WarehouseOutput, WarehouseResource
from after_sales.tables import DATA_QUALITY_RUNS, TableSpec
from after_sales.windows import DateWindow, RowEstimate, Sizer

Emitted = Iterator[dg.MaterializeResult | dg.AssetCheckResult | dg.AssetMaterialization]
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

    metadata is about the whole chunk and adds up over chunks into the run's totals: numbers are summed,
    Counters added, lists extended, dicts merged, anything else is the last chunk's. per_day holds figures
    the build knows per partition day; they are recorded on that partition with the ones counted here.
    """

    rows: pd.DataFrame
    quarantined: pd.DataFrame | None = None
    checks: list[CustomCheck] = field(default_factory=list)
    metadata: dict[str, object] = field(default_factory=dict)
    companions: list[Companion] = field(default_factory=list)
    per_day: dict[dt.date, dict[str, object]] = field(default_factory=dict)


def chunk_windows(
    window: DateWindow, days: int, estimate: RowEstimate | None = None, rows: int | None = None
) -> list[DateWindow]:
    """The window cut into consecutive windows of at most `days` days and, given an estimate, of at most `rows`
    estimated rows beyond what their first day alone reads (a look-back is read whatever the chunk's length)."""
    out, start = [], window.start
    one = dt.timedelta(days=1)
    while start < window.end:
        end = min(start + dt.timedelta(days=days), window.end)
        if estimate is not None and rows is not None:
            stop, first = start + one, estimate(DateWindow(start, start + one))
            while stop < end and estimate(DateWindow(start, stop + one)) - first <= rows:
                stop += one
            end = stop
        out.append(DateWindow(start, end))
        start = end
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


def _as_date(value: object) -> dt.date:
    return pd.Timestamp(value).date()


def _days_of(frame: pd.DataFrame | None, column: str | None) -> pd.Series:
    """The partition day of every row of frame, as dates (empty when there is no such column)."""
    if frame is None or not column or column not in frame.columns or frame.empty:
        return pd.Series([], dtype=object)
    return pd.to_datetime(frame[column]).dt.date


def _rows_per_day(frame: pd.DataFrame, column: str | None) -> dict[dt.date, int]:
    """Rows of frame per partition day (counted before converting, so a big chunk costs one value_counts)."""
    if not column or column not in frame.columns or frame.empty:
        return {}
    out: dict[dt.date, int] = {}
    for value, n in frame[column].value_counts().items():
        day = _as_date(value)
        out[day] = out.get(day, 0) + int(n)
    return out


def partition_figures(
    spec: TableSpec,
    chunk: Chunk,
    quality: pd.DataFrame | None,
    days: list[dt.date],
) -> dict[dt.date, dict[str, object]]:
    """The figures of each day: its rows, quarantined rows, duplicates, rule outcomes and the build's own figures."""
    rows = _rows_per_day(chunk.rows, spec.partition_column)
    out: dict[dt.date, dict[str, object]] = {d: {"dagster/row_count": rows.get(d, 0)} for d in days}
    if chunk.quarantined is not None:
        q = chunk.quarantined.assign(_day=_days_of(chunk.quarantined, "landing_date").to_numpy())
        for day in days:
            mine = q.loc[q["_day"] == day]
            by_rule = mine["rule"].value_counts()
            table = "\n".join(f"| {rule} | {n} |" for rule, n in by_rule.items())
            out[day].update(
                {
                    "quarantined_rows": len(mine),
                    "duplicates_removed": int(by_rule.get("duplicate_row", 0)),
                    "quarantine_by_rule": dg.MetadataValue.md(
                        "| rule | rows |\n|---|---|\n" + table if table else "none"
                    ),
                }
            )
    if quality is not None and not quality.empty and "partition_date" in quality.columns:
        q = quality.assign(_day=_days_of(quality, "partition_date").to_numpy())
        for day in days:
            mine = q.loc[q["_day"] == day]
            failed = sorted(set(mine.loc[~mine["passed"].astype(bool), "rule"]))
            out[day]["rules_checked"] = len(mine)
            out[day]["rules_failed"] = len(failed)
            if failed:
                out[day]["rules_failed_list"] = dg.MetadataValue.md("\n".join(f"- {r}" for r in failed))
    for day, figures in chunk.per_day.items():
        if day in out:
            out[day].update(figures)
    return out


def _run_totals_text(name: str, whole: DateWindow, metadata: Mapping[str, object]) -> str:
    """The run's totals for one table, as one log message."""
    lines = [f"{name}: run totals over {whole.start} .. {whole.end}"]
    for key, value in metadata.items():
        raw = _raw(value)
        lines.append(f"- {key}: {raw:,}" if isinstance(raw, int) and not isinstance(raw, bool) else f"- {key}: {raw}")
    return "\n".join(lines)


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


def rewritten_partitions(
    context: dg.AssetExecutionContext, name: str, whole: DateWindow, figures: dict[dt.date, dict[str, object]]
) -> Iterator[dg.AssetMaterialization]:
    """A materialization for each existing partition the run rewrote outside its own range.

    Only partitions that hold rows now or were materialized before: the UI then shows every rewritten day as
    fresh with its own row count, and days the run merely cleared stay as they were (missing).
    """
    partitions = context.assets_def.partitions_def
    if not figures or partitions is None:
        return
    last = partitions.get_last_partition_key()
    first = partitions.get_first_partition_key()
    before = context.instance.get_materialized_partitions(dg.AssetKey(name))
    targeted = date_window(context.partition_time_window)
    last_day = dt.timedelta(days=1)
    note = f"rewritten by the run of {targeted.start} .. {targeted.end - last_day}, which wrote {whole.start} .. "
    for day, metadata in sorted(figures.items()):
        key = day.isoformat()
        if first is None or last is None or not first <= key <= last:
            continue
        if metadata.get("dagster/row_count", 0) or key in before:
            yield dg.AssetMaterialization(
                asset_key=name,
                partition=key,
                metadata={**metadata, "rewritten_by": note + str(whole.end - last_day)},
            )


def _chunk_days(warehouse: WarehouseResource, max_days: int | None) -> int:
    return min(warehouse.chunk_days, max_days or warehouse.chunk_days)


def warehouse_chunks(
    warehouse: WarehouseResource, whole: DateWindow, sized_by: Sizer | None = None, max_days: int | None = None
) -> list[DateWindow]:
    """The chunks of whole under the resource's chunk_days (lowered to max_days) and, given sized_by, chunk_rows."""
    estimate = sized_by(whole) if sized_by is not None else None
    return chunk_windows(whole, _chunk_days(warehouse, max_days), estimate, warehouse.chunk_rows)


@classified_faults
def materialize_in_chunks(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    specs: list[TableSpec],
    build: Callable[[DateWindow], Mapping[str, Chunk]],
    window: DateWindow | None = None,
    render: Callable[[str, dict[str, object]], dict[str, object]] | None = None,
    sized_by: Sizer | None = None,
    max_days: int | None = None,
) -> Emitted:
    """Build, validate and write each chunk of window (the partition range by default); one result per table.

    build returns a Chunk per table name of specs. A chunk failing a blocking check records its quality
    rows, reports the merged check results and fails the step without retries: earlier chunks stay written.
    Each partition of the run gets its own figures (partition_figures); render turns a table's totals over
    the run into the run-log message that reports them. sized_by estimates the rows a chunk reads (without it,
    chunks are chunk_days long); max_days lowers chunk_days for this asset.
    """
    whole = window or date_window(context.partition_time_window)
    targeted = set(date_window(context.partition_time_window).days())
    run_id = context.run.run_id
    chunks = warehouse_chunks(warehouse, whole, sized_by, max_days)
    if len(chunks) > 1:
        budget = f" and about {warehouse.chunk_rows:,} input rows" if sized_by is not None else ""
        days = _chunk_days(warehouse, max_days)
        context.log.info(f"{len(chunks)} chunks of up to {days} days{budget} for {whole.start} .. {whole.end}")
    results: dict[str, list[list[dg.AssetCheckResult]]] = {s.name: [] for s in specs}
    totals: dict[str, dict[str, object]] = {s.name: {} for s in specs}
    per_day: dict[str, dict[dt.date, dict[str, object]]] = {s.name: {} for s in specs}
    # Days written outside the run's partitions (roll-ups rewrite the periods a rebuilt day reaches).
    beyond: dict[str, dict[dt.date, dict[str, object]]] = {s.name: {} for s in specs}
    for part in chunks:
        built = build(part)
        for spec in specs:
            chunk = built[spec.name]
            report = evaluate(spec.name, spec, chunk.rows, part, run_id, chunk.checks)
            results[spec.name].append(report.results)
            if not report.passed:
                warehouse.replace(DATA_QUALITY_RUNS, report.rows, part, {"run_id": run_id, "asset": spec.name})
                for per_chunk in results.values():
                    yield from merge_check_results(per_chunk)
                written = f"; days before {part.start} were written" if part.start > whole.start else ""
                raise dg.Failure(
                    description=f"{spec.name}: blocking checks failed, nothing written for {part.start} .. "
                    f"{part.end}{written}:\n- " + "\n- ".join(report.failures),
                    allow_retries=False,
                )
            output = WarehouseOutput(
                chunk.rows, chunk.quarantined, report.rows, chunk.companions, cast_rows=report.cast_rows
            )
            counts = warehouse.write(spec, output, part, run_id)
            metadata: dict[str, object] = {"dagster/row_count": counts.rows, "table": counts.table}
            if counts.quarantined is not None:
                metadata["quarantined_rows"] = counts.quarantined
            _add(totals[spec.name], {**metadata, **chunk.metadata})
            days = [d for d in part.days() if d in targeted]
            per_day[spec.name].update(partition_figures(spec, chunk, report.rows, days))
            others = [d for d in part.days() if d not in targeted]
            beyond[spec.name].update(partition_figures(spec, chunk, report.rows, others))
        del built
    for spec in specs:
        for day, figures in per_day[spec.name].items():
            context.add_asset_metadata(figures, asset_key=spec.name, partition_key=day.isoformat())
        yield from rewritten_partitions(context, spec.name, whole, beyond[spec.name])
        metadata = render(spec.name, totals[spec.name]) if render else totals[spec.name]
        context.log.info(_run_totals_text(spec.name, whole, metadata))
        # Only what describes the run, not its totals: the partition's own figures are set above.
        yield dg.MaterializeResult(
            asset_key=spec.name,
            metadata={
                "table": str(totals[spec.name].get("table", spec.name)),
                "run_window": f"{whole.start} .. {whole.end - dt.timedelta(days=1)}",  # inclusive
                "chunks": len(chunks),
            },
            check_results=merge_check_results(results[spec.name]),
        )
