"""Staging steps shared by every staging asset: read each landed file, refuse whole-file faults, stage chunks."""

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pandas as pd

from after_sales.alerts import FILE_REFUSED, Alert, AlertDeliveryError, notifier_from_env, send_all
from after_sales.assets.chunked import Chunk, Emitted, materialize_in_chunks
from after_sales.checks.conservation import staging_conservation
from after_sales.marketplaces import ExportFileError
from after_sales.partitions import ORDERS_FOR_FEEDBACK, SETTINGS, DayWindow
from after_sales.resources import Companion, LandingZone, Upstream, WarehouseResource
from after_sales.tables import LANDING_FILES, QUARANTINE_FILES
from after_sales.transforms.staging import (
    KINDS,
    LandingFileError,
    SourceKind,
    StagingContext,
    StagingResult,
    combine,
    quarantine_unknown_orders,
)
from after_sales.windows import DateWindow


def staging_context() -> StagingContext:
    """The settings the staging transforms need."""
    return StagingContext(timezone=SETTINGS.timezone, late_arrival_days=SETTINGS.late_arrival_days)


T = TypeVar("T")
# Faults of a whole file: the file is refused (quarantine_files) and the other files go on.
WHOLE_FILE_FAULTS = (LandingFileError, ExportFileError)


@dataclass(frozen=True)
class RefusedFile:
    """A landed file refused as a whole: where it is, why, and which bytes were refused."""

    landing_date: dt.date
    source: str
    source_file: str
    reason: str
    size_bytes: int
    sha256: str


@dataclass
class FileLedger:
    """The files of one source in a window: seen, loaded and refused per landing day."""

    source: str
    days: list[dt.date]
    seen: Counter[dt.date] = field(default_factory=Counter)
    loaded: Counter[dt.date] = field(default_factory=Counter)
    refused: list[RefusedFile] = field(default_factory=list)

    def companions(self, rows_read_by_day: dict[dt.date, int]) -> list[Companion]:
        """The window's quarantine_files and landing_files rows of this source, written with its staging rows."""
        refused_by_day = Counter(r.landing_date for r in self.refused)
        landing = pd.DataFrame(
            {
                "landing_date": self.days,
                "source": self.source,
                "files_seen": [self.seen[d] for d in self.days],
                "files_loaded": [self.loaded[d] for d in self.days],
                "files_refused": [refused_by_day[d] for d in self.days],
                "rows_read": [rows_read_by_day.get(d, 0) for d in self.days],
            }
        )
        files = pd.DataFrame(
            [vars(r) for r in self.refused], columns=QUARANTINE_FILES.column_names
        ).astype({"size_bytes": "int64"})
        scope = {"source": self.source}
        return [Companion(QUARANTINE_FILES, files, scope), Companion(LANDING_FILES, landing, scope)]


def _fingerprint(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file's bytes (0 and the hash of nothing when it vanished meanwhile)."""
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
    except FileNotFoundError:
        pass
    return size, digest.hexdigest()


def read_each_file(
    landing: LandingZone, window: DateWindow, read: Callable[[dt.date, Path], T | None], ledger: FileLedger
) -> list[T]:
    """read every file of the ledger's source landed in the window; a file with a whole-file fault is refused
    alone (recorded in the ledger), the others are read. read returns None for a file that is not a data file
    of the source (a marketplace file of no export kind, reported by the caller): not counted."""
    source = ledger.source
    results = []
    for day, path in landing.files(source, window.days()):
        try:
            result = read(day, path)
        except WHOLE_FILE_FAULTS as exc:
            ledger.seen[day] += 1
            rel = path.relative_to(landing.path).as_posix() if path.is_relative_to(landing.path) else str(path)
            size, sha = _fingerprint(path)
            ledger.refused.append(RefusedFile(day, source, rel, str(exc), size, sha))
            continue
        if result is None:
            continue
        ledger.seen[day] += 1
        ledger.loaded[day] += 1
        results.append(result)
    return results


def alert_refused(context: dg.AssetExecutionContext, asset: str, refused: list[RefusedFile]) -> None:
    """One file_refused alert per refused file (the log, and the webhook when configured); delivery never fails
    the step."""
    if not refused:
        return
    alerts = [
        Alert(
            event=FILE_REFUSED,
            asset=asset,
            partition=r.landing_date.isoformat(),
            reason=f"{r.reason} (file refused as a whole, see quarantine_files; the other files were staged)",
            run_id=context.run.run_id,
        )
        for r in refused
    ]
    try:
        send_all(notifier_from_env(context.log), alerts)
    except AlertDeliveryError as exc:
        context.log.warning(f"file_refused alert(s) not delivered: {exc}")


def stage_window(
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    source: str,
    kind: SourceKind,
    window: DateWindow,
    ledger: FileLedger | None = None,
) -> StagingResult:
    """Read and stage every file of the source landed in the window; files with a whole-file fault are refused
    (recorded in ledger)."""
    ctx = staging_context()
    ledger = ledger or FileLedger(source, window.days())
    not_loaded = not_loaded_notes(context, landing, source, window)
    results = read_each_file(landing, window, lambda d, p: kind.stage(landing.read(source, d, p), ctx), ledger)
    context.log.info(
        f"{source}: {sum(ledger.seen.values())} file(s) for landing days {window.start} .. {window.end}, "
        f"{len(ledger.refused)} refused"
    )
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


def staged_chunk(
    result: StagingResult,
    window: DateWindow,
    extra: dict[str, object] | None = None,
    ledger: FileLedger | None = None,
    rows_read_by_day: dict[dt.date, int] | None = None,
) -> Chunk:
    """Staged rows and their quarantine rows for one chunk, with the counts shown on the asset.

    With a ledger, the chunk also writes the source's quarantine_files and landing_files rows (rows read per
    day: the result's, unless given for a source staged into several tables).
    """
    files = set(result.rows["source_file"].unique()) | set(result.quarantined["source_file"].unique())
    refused = ledger.refused if ledger else []
    return Chunk(
        rows=result.rows,
        quarantined=result.quarantined,
        checks=[staging_conservation(result, window.days())],
        companions=ledger.companions(rows_read_by_day or result.rows_read_by_day) if ledger else [],
        metadata={
            "files": len(files),
            "files_refused": len(refused),
            "refused_files": [f"{r.source_file}: {r.reason.splitlines()[0]}" for r in refused],
            "rows_read": result.rows_read,
            "rows_staged": len(result.rows),
            "rows_quarantined": len(result.quarantined),
            "duplicates_removed": result.duplicates_removed,
            "quarantine_by_rule": Counter(result.quarantined["rule"].value_counts().to_dict()),
            "warnings": list(result.warnings),
            **(extra or {}),
        },
        per_day=_with_refused(staged_per_day(result, window), refused),
    )


def _with_refused(
    per_day: dict[dt.date, dict[str, object]], refused: list[RefusedFile]
) -> dict[dt.date, dict[str, object]]:
    """Each landing day's figures plus the files refused that day (quarantine_files), shown on its partition."""
    for day, figures in per_day.items():
        mine = [r for r in refused if r.landing_date == day]
        figures["files_refused"] = len(mine)
        if mine:
            figures["refused_files"] = dg.MetadataValue.md("\n".join(f"- {r.source_file}" for r in mine[:200]))
    return per_day


_DAY_FOLDER = re.compile(r"/(\d{4}-\d{2}-\d{2})(?=[/:\s]|$)")


def _day_named(warning: str) -> dt.date | None:
    """The landing day whose folder a warning names, if any."""
    match = _DAY_FOLDER.search(warning)
    try:
        return dt.date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


def staged_per_day(result: StagingResult, window: DateWindow) -> dict[dt.date, dict[str, object]]:
    """Rows read, files and warnings of each landing day (warnings name their file, whose folder is the day)."""
    files: dict[dt.date, set[str]] = {}
    for frame in (result.rows, result.quarantined):
        for (day, path), _ in frame.groupby(["landing_date", "source_file"]).size().items():
            files.setdefault(pd.Timestamp(day).date(), set()).add(path)
    out: dict[dt.date, dict[str, object]] = {}
    named = [(w, _day_named(w)) for w in result.warnings]
    for day in window.days():
        # A warning naming no landing day (a folder that is not a date, say) concerns every day of the source.
        mine = [w for w, named_day in named if named_day in (day, None)]
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
    refused = out.pop("refused_files", [])
    out["refused_files"] = dg.MetadataValue.md("\n".join(f"- {r}" for r in refused[:200]) or "none")
    return out


def unknown_orders_quarantined(
    result: StagingResult, orders: pd.DataFrame, days: DayWindow = ORDERS_FOR_FEEDBACK
) -> StagingResult:
    """Feedback naming no order landed in the days around its own (ORDERS_FOR_FEEDBACK) moved to quarantine."""
    return quarantine_unknown_orders(result, orders, -days.start_offset, days.end_offset)


def stage_source(
    context: dg.AssetExecutionContext,
    landing: LandingZone,
    warehouse: WarehouseResource,
    source: str,
    known_orders: Upstream | None = None,
) -> Emitted:
    """Stage an own source chunk by chunk; feedback for orders not landed around it goes to quarantine."""
    kind = KINDS[source]

    def build(window: DateWindow) -> dict[str, Chunk]:
        ledger = FileLedger(source, window.days())
        result = stage_window(context, landing, source, kind, window, ledger)
        if known_orders is not None:
            result = unknown_orders_quarantined(result, warehouse.rows(known_orders, window))
        alert_refused(context, kind.spec.name, ledger.refused)
        return {kind.spec.name: staged_chunk(result, window, ledger=ledger)}

    sized = landing.sizer(source)
    yield from materialize_in_chunks(context, warehouse, [kind.spec], build, render=render_staged, sized_by=sized)
