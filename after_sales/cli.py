"""Command line `after-sales` (or `python -m after_sales`): check one export file, or load an export of any age.

    after-sales check-file <path> --source <name>   dry run: header mapping, what would be staged/quarantined
    after-sales history <path> --source <name>      land an old export on its business dates and backfill them
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from after_sales.marketplaces import ExportFileError, KindConfig, SourceConfig, SourceConfigError, load_sources
from after_sales.marketplaces.config import norm_key
from after_sales.marketplaces.reader import (
    CSV_SUFFIXES,
    XLSX_SUFFIXES,
    _decode_csv,
    _detect,
    _read_xlsx,
    read_export,
    to_business_time,
)
from after_sales.settings import load_settings
from after_sales.transforms.parsing import parse_timestamps


def _date(text: str) -> dt.date:
    """YYYY-MM-DD for argparse."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from exc


# ---------------------------------------------------------------- reading the header without failing


@dataclass
class Landed:
    """The records of a file as landed: header line index, header cells, data records, the kind matched."""

    records: list[list[str]]
    header_index: int
    kind: KindConfig | None
    encoding: str | None
    sheet: str | None

    @property
    def header(self) -> list[str]:
        """The header cells, stripped."""
        return [c.strip().lstrip("\ufeff") for c in self.records[self.header_index]] if self.records else []


def landed_records(path: Path, source: SourceConfig) -> Landed:
    """The file's records and header row: the first matching a kind, else the first non-empty line."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        tables = list(_read_xlsx(data, str(path)))
    elif suffix in CSV_SUFFIXES:
        tables = list(_decode_csv(data, source, str(path)))
    else:
        raise ExportFileError(str(path), f"unsupported file type {suffix or '(none)'!r}; expected .csv or .xlsx")
    for table in tables:
        for i, rec in enumerate(table.records[: source.header_search_rows]):
            hdr = _detect(rec, source)
            if hdr is not None:
                return Landed(table.records, i, hdr.kind, table.encoding, table.sheet)
    for table in tables:
        for i, rec in enumerate(table.records):
            if any(c.strip() for c in rec):
                return Landed(table.records, i, None, table.encoding, table.sheet)
    return Landed([], 0, None, tables[0].encoding if tables else None, None)


def _synonyms(source: SourceConfig, kinds: list[KindConfig]) -> dict[str, tuple[str, str, str]]:
    """Normalised synonym -> (synonym, field, kind name) over the given kinds."""
    out: dict[str, tuple[str, str, str]] = {}
    for kc in kinds:
        for f, syns in kc.columns.items():
            for s in syns:
                out.setdefault(norm_key(s), (s, f, kc.name))
    return out


def header_mapping(header: list[str], source: SourceConfig, kc: KindConfig | None) -> list[str]:
    """One line per landed header: the field it maps to, known-but-unused, or unknown with a near miss."""
    kinds = [kc, *source.parts_of(kc.name)] if kc is not None else source.detectable()
    syn = _synonyms(source, kinds)
    ignored = {norm_key(s) for k in kinds for s in k.ignore}
    used: dict[str, str] = {}
    lines = []
    for h in header:
        if not h:
            continue
        key = norm_key(h)
        if key in syn:
            _, f, kind = syn[key]
            taken = used.get(f"{kind}.{f}")
            used.setdefault(f"{kind}.{f}", h)
            note = f"  (also matches; {taken} is used)" if taken else ""
            lines.append(f"  {h} -> {f}" + (f" [{kind}]" if kc is None or kind != kc.name else "") + note)
        elif key in ignored:
            lines.append(f"  {h} -> (known column, not read)")
        else:
            near = difflib.get_close_matches(key, list(syn), n=1, cutoff=0.6)
            hint = f"; did you mean {syn[near[0]][0]!r} (-> {syn[near[0]][1]})?" if near else ""
            lines.append(f"  {h} -> UNKNOWN column, ignored{hint}")
    return lines


def missing_required(header: list[str], kc: KindConfig) -> list[str]:
    """Required fields without a header, each with the closest landed header."""
    keys = {norm_key(h): h for h in header if h}
    out = []
    for f in kc.required:
        if any(norm_key(s) in keys for s in kc.columns[f]):
            continue
        near = difflib.get_close_matches(norm_key(kc.columns[f][0]), list(keys), n=1, cutoff=0.6)
        hint = f"; did you mean the landed column {keys[near[0]]!r}?" if near else ""
        out.append(f"  {f}: none of {', '.join(kc.columns[f])}{hint}")
    return out


# ---------------------------------------------------------------- check-file


def _landing_date(path: Path, given: dt.date | None, tz: str) -> dt.date:
    """The landing date: given, else the folder's date, else today in the business zone."""
    if given is not None:
        return given
    try:
        return dt.date.fromisoformat(path.parent.name)
    except ValueError:
        return dt.datetime.now(ZoneInfo(tz)).date()


def check_file(path: Path, source: SourceConfig, landing_date: dt.date | None = None) -> tuple[str, int]:
    """A dry run of one export file: the report text and an exit code (1: the file would be refused)."""
    from after_sales.assets.marketplaces import stage_export
    from after_sales.transforms.staging import StagingContext

    settings = load_settings()
    out = [f"{path} with mapping {source.name} ({source.path})"]
    try:
        landed = landed_records(path, source)
    except ExportFileError as exc:
        return "\n".join([*out, f"REFUSED: {exc}"]), 1
    where = f"encoding {landed.encoding}" if landed.encoding else f"sheet {landed.sheet!r}"
    kc = landed.kind
    out.append(
        f"{where}; header on line {landed.header_index + 1}; kind: "
        + (f"{kc.name} ({kc.subkind})" if kc else "none matches")
        + (f" + {', '.join(p.name for p in source.parts_of(kc.name))}" if kc and source.parts_of(kc.name) else "")
    )
    out.append("header mapping (landed header -> field):")
    out += header_mapping(landed.header, source, kc)
    if kc is not None:
        missing = missing_required(landed.header, kc)
        if missing:
            out += ["missing required columns:", *missing]
    try:
        read = read_export(path, source)
    except ExportFileError as exc:
        if kc is None:
            for k in source.detectable():
                missing = missing_required(landed.header, k)
                out += [f"kind {k.name} would need:", *missing]
        return "\n".join([*out, f"REFUSED: {exc}"]), 1
    day = _landing_date(path, landing_date, settings.timezone)
    ctx = StagingContext(timezone=settings.timezone, late_arrival_days=settings.late_arrival_days)
    out.append(
        f"landing date {day}; {read.rows_read} data row(s), {read.blank_rows} blank, "
        f"{read.dropped_summary_rows} summary row(s) skipped"
    )
    for w in read.warnings:
        out.append(f"warning: {w}")
    for part in read.all_reads():
        if part.kind == "items":
            out.append(
                f"{part.kind_name} (items): {len(part.rows)} line(s) would be written to "
                f"stg_{source.name}_order_items, {len(part.rejected)} rejected"
            )
            for reason in part.rejected["reason"].head(20):
                out.append(f"    {reason}")
            continue
        if part.kind == "joined":
            join = source.kinds[part.kind_name].join
            into = f" onto the {join.into} by {join.key}" if join is not None else ""
            out.append(
                f"{part.kind_name} (joined): {len(part.rows)} row(s) would be joined{into} (their match is not "
                f"checked: it needs the other files of the window), {len(part.rejected)} rejected"
            )
            for reason in part.rejected["reason"].head(20):
                out.append(f"    {reason}")
            continue
        if part.items is not None:
            out.append(
                f"{part.kind_name}: {part.merged_lines} item line(s) merged into their orders; "
                f"{len(part.items)} line(s) would be written to stg_{source.name}_order_items"
            )
        staged = stage_export(part, source.name, day, ctx)
        q = staged.quarantined
        out.append(
            f"{part.kind_name} ({part.subkind}): {len(staged.rows)} row(s) would be staged into "
            f"stg_{source.name}_{part.kind}, {len(q)} quarantined"
        )
        for rule, n in q["rule"].value_counts().items():
            out.append(f"  {rule}: {n}")
        for reason in q["reason"].head(20):
            out.append(f"    {reason}")
        if len(q) > 20:
            out.append(f"    ... {len(q) - 20} more")
    out.append("nothing was written")
    return "\n".join(out), 0


# ---------------------------------------------------------------- history


def _csv_cell(v: str) -> str:
    """One csv cell, quoted when needed."""
    return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v


def plan_history(path: Path, source: SourceConfig, business_tz: str) -> tuple[Landed, dict[dt.date, list[int]]]:
    """The export's data rows grouped by the business date they land on (source_row numbers, 1-based).

    A row lands on the latest business date among the kinds read from it (an order report's refund dated at
    payment lands with its order); rows without a readable date land on the earliest date, where staging
    quarantines them with their reason.
    """
    read = read_export(path, source)
    landed = landed_records(path, source)
    day_of: dict[int, dt.date] = {}
    for part in read.all_reads():
        if "created_at" not in part.rows.columns:
            continue
        rows = to_business_time(part.rows, part.timezone, business_tz)
        ts = parse_timestamps(rows["created_at"], business_tz)
        for row, t in zip(rows["source_row"].astype(int), ts, strict=True):
            if pd.notna(t):
                day_of[row] = max(day_of.get(row, t.date()), t.date())
    if not day_of:
        raise ExportFileError(
            read.file,
            "no row has a readable created_at: nothing to place on a business date (an items file has no dates: "
            "land it next to its orders file instead)",
        )
    first = min(day_of.values())
    records = landed.records[landed.header_index + 1 :]
    by_day: dict[dt.date, list[int]] = {}
    for i, rec in enumerate(records, start=1):
        cells = [c.strip() for c in rec]
        if not any(cells):
            continue
        by_day.setdefault(day_of.get(i, first), []).append(i)
    return landed, dict(sorted(by_day.items()))


def land_history(
    path: Path, source: SourceConfig, landing_dir: Path, business_tz: str
) -> tuple[dict[dt.date, int], list[Path]]:
    """Write the export's rows into <landing>/<source>/<business date>/history_<name>.csv; rows per day, files."""
    landed, by_day = plan_history(path, source, business_tz)
    encoding = landed.encoding or ("utf-8-sig" if "utf-8-sig" in source.encodings else source.encodings[0])
    header = landed.records[landed.header_index]
    written = []
    for day, rows in by_day.items():
        folder = landing_dir / source.name / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"history_{path.stem}.csv"
        lines = [header, *(landed.records[landed.header_index + i] for i in rows)]
        target.write_bytes("".join(",".join(map(_csv_cell, r)) + "\r\n" for r in lines).encode(encoding))
        written.append(target)
    return {d: len(r) for d, r in by_day.items()}, written


def history(
    path: Path, source: SourceConfig, landing_dir: Path, materialize: bool, select: str | None = None
) -> int:
    """Land an export of any age on its business dates, backfill that range in one run, report rows per day."""
    settings = load_settings()
    counts, files = land_history(path, source, landing_dir, settings.timezone)
    start, end = min(counts), max(counts)
    print(f"{path}: {sum(counts.values())} row(s) over {len(counts)} business day(s), {start} .. {end}")
    for day, n in counts.items():
        print(f"  {day}: {n} row(s) -> {landing_dir / source.name / day.isoformat() / files[0].name}")
    command = [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "after_sales.definitions",
        "--select",
        select or f"key:stg_{source.name}_*+",
        "--partition-range",
        f"{start.isoformat()}...{end.isoformat()}",
    ]
    print("$ " + " ".join(command[1:]), flush=True)
    if not materialize:
        print("(not run: --no-materialize)")
        return 0
    env = {**os.environ, "AFTER_SALES_LANDING_DIR": str(landing_dir)}
    done = subprocess.run(command, check=False, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        print(done.stdout[-5000:], done.stderr[-20000:], sep="\n")
        print(f"backfill failed (exit {done.returncode})")
        return done.returncode
    from after_sales.resources.warehouse import open_warehouse

    wh = open_warehouse(settings.warehouse_url, settings.warehouse_schema, settings.timezone)
    schema = settings.warehouse_schema
    print(f"backfilled {start} .. {end} in one run; rows per landing day:")
    for kind in ("orders", "feedback"):
        staged = wh.query(
            f'SELECT landing_date, count(*) AS n FROM "{schema}"."stg_{source.name}_{kind}" '
            f"WHERE landing_date BETWEEN '{start}' AND '{end}' GROUP BY landing_date ORDER BY landing_date"
        )
        for day, n in zip(staged["landing_date"], staged["n"], strict=True):
            print(f"  stg_{source.name}_{kind} {pd.Timestamp(day).date()}: {int(n)}")
    quarantined = wh.query(
        f'SELECT rule, count(*) AS n FROM "{schema}".quarantine WHERE source = \'{source.name}\' '
        f"AND landing_date BETWEEN '{start}' AND '{end}' AND source_file LIKE '%history_{path.stem}%' GROUP BY rule"
    )
    for rule, n in zip(quarantined["rule"], quarantined["n"], strict=True):
        print(f"  quarantined {rule}: {int(n)}")
    return 0


# ---------------------------------------------------------------- entry point


def _source(name: str, extra: list[Path]) -> SourceConfig:
    """The named mapping (built-ins, AFTER_SALES_SOURCES_DIRS, then --sources-dir folders)."""
    sources = load_sources([*load_settings().sources_dirs, *extra])
    if name not in sources:
        raise SystemExit(f"no mapping named {name!r}; known: {', '.join(sorted(sources))}")
    return sources[name]


def build_parser() -> argparse.ArgumentParser:
    """The `after-sales` argument parser."""
    parser = argparse.ArgumentParser(prog="after-sales", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check-file", help="dry run of one export file; writes nothing")
    hist = sub.add_parser("history", help="load an export of any age into its business-date partitions")
    for p in (check, hist):
        p.add_argument("path", type=Path, help="the export file (.csv or .xlsx)")
        p.add_argument("--source", required=True, help="mapping name, e.g. taobao")
        p.add_argument("--sources-dir", type=Path, action="append", default=[], help="extra mapping folder")
    check.add_argument("--landing-date", type=_date, default=None, help="landing date (default: folder or today)")
    hist.add_argument("--landing-dir", type=Path, default=None, help="default: AFTER_SALES_LANDING_DIR")
    hist.add_argument("--no-materialize", action="store_true", help="only land the rows; print the command")
    hist.add_argument(
        "--select", default=None, help="assets to backfill (default: the source's staging and everything downstream)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command."""
    args = build_parser().parse_args(argv)
    try:
        source = _source(args.source, args.sources_dir)
        if args.command == "check-file":
            text, code = check_file(args.path, source, args.landing_date)
            print(text)
            return code
        landing = args.landing_dir or load_settings().landing_dir
        return history(args.path, source, landing, not args.no_materialize, args.select)
    except (ExportFileError, SourceConfigError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
