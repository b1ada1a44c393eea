"""Inputs of the behaviour SQL: a DuckDB warehouse's landing days exported to Parquet, else rows in memory."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from after_sales.behaviour.signals import MEMORY_LIMIT, Source
from after_sales.resources import UpstreamRows
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import quote_ident
from after_sales.windows import DateWindow


def _exportable(rows: UpstreamRows) -> DuckDBWarehouse | None:
    wh = rows.warehouse.open()
    if not isinstance(wh, DuckDBWarehouse) or wh.path == ":memory:" or not wh.table_exists(rows.spec.name):
        return None
    return wh


def export_days(
    rows: UpstreamRows, days: list[dt.date], folder: Path, select: Mapping[str, str] | None = None
) -> dict[dt.date, list[Path]]:
    """Write the upstream rows of the landing days to Parquet files, one folder per day, inside the warehouse's DuckDB.

    The warehouse file is held only for the copy (other processes get their turn), and the rows never pass
    through Python: the SQL then reads the files and spills to disk past its memory limit. The copy runs
    under the same memory limit (uncapped, the warehouse's DuckDB took most of the peak RSS). The files are
    scratch, read a few times: left uncompressed, which writes several times faster than zstd.
    select: an SQL expression exported in place of a column.
    """
    wh = _exportable(rows)
    if wh is None or not days:
        return {}
    select = select or {}
    columns = rows.columns or rows.spec.column_names
    names = ", ".join(f"{select[c]} AS {quote_ident(c)}" if c in select else quote_ident(c) for c in columns)
    part = quote_ident(rows.spec.partition_column or "landing_date")
    where, params = wh.where_clause(rows.spec, DateWindow(min(days), max(days) + dt.timedelta(days=1)), {}, "?")
    folder.mkdir(parents=True, exist_ok=True)
    with wh.connect() as con:
        # The setting belongs to the database instance, which a connection in this process may share: restored after.
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        try:
            con.execute(
                f"COPY (SELECT {names} FROM {wh.qualified(rows.spec.name)}{where}) TO '{folder.as_posix()}' "
                f"(FORMAT parquet, COMPRESSION uncompressed, PARTITION_BY ({part}), WRITE_PARTITION_COLUMNS true)",
                params,
            )
        finally:
            con.execute(f"SET memory_limit = '{limit}'")
    key = rows.spec.partition_column or "landing_date"
    return {d: sorted(folder.glob(f"{key}={d.isoformat()}/*.parquet")) for d in days}


class WindowExports:
    """Landing days exported once per run and reused by every chunk whose window reads them.

    Chunks of a range overlap in what they read (a rule's look-back, the late-arrival days): each landing day
    is copied out of the warehouse once, and the days before a chunk's window are deleted (chunks go forward).
    """

    def __init__(self, folder: Path, select: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.folder = folder
        self.select = select or {}
        self.files: dict[str, dict[dt.date, list[Path]]] = {}
        self.exports = 0

    def inputs(self, window: DateWindow, **inputs: UpstreamRows) -> dict[str, Source]:
        """Each input's rows for window: its landing days' files when the warehouse is DuckDB, else rows in memory."""
        out: dict[str, Source] = {}
        for name, rows in inputs.items():
            if _exportable(rows) is None:
                out[name] = rows.read(window)
                continue
            days = rows.upstream_window(window).days()
            have = self.files.setdefault(name, {})
            for day in [d for d in have if days and d < days[0]]:
                for f in have.pop(day):
                    f.unlink(missing_ok=True)
            missing = [d for d in days if d not in have]
            if missing:
                self.exports += 1
                have.update(export_days(rows, missing, self.folder / name / str(self.exports), self.select.get(name)))
            out[name] = [f for d in days for f in have[d]]
        return out


@contextmanager
def window_exports(select: Mapping[str, Mapping[str, str]] | None = None) -> Iterator[WindowExports]:
    """A WindowExports in a scratch folder deleted at the end (select: per input, expressions in place of columns)."""
    with tempfile.TemporaryDirectory(prefix="after_sales_behaviour_") as tmp:
        yield WindowExports(Path(tmp), select)


@contextmanager
def sql_inputs(window: DateWindow, **inputs: UpstreamRows) -> Iterator[dict[str, Source]]:
    """Each input's rows for window, as Parquet files in a scratch folder when the warehouse is DuckDB."""
    with window_exports() as exports:
        yield exports.inputs(window, **inputs)
