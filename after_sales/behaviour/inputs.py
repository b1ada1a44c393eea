"""Inputs of the behaviour SQL: a DuckDB warehouse's landing days exported to Parquet, else rows in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from after_sales.behaviour.signals import Exported, Source
from after_sales.resources import UpstreamRows
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import quote_ident
from after_sales.transforms.sql_models import MEMORY_LIMIT
from after_sales.windows import DateWindow


def _exportable(rows: UpstreamRows) -> DuckDBWarehouse | None:
    wh = rows.warehouse.open()
    if not isinstance(wh, DuckDBWarehouse) or wh.path == ":memory:" or not wh.table_exists(rows.spec.name):
        return None
    return wh


def export_days(
    rows: UpstreamRows, days: DateWindow, path: Path, select: Mapping[str, str] | None = None
) -> Path | None:
    """Write the upstream rows of the landing days to a Parquet file inside the warehouse's DuckDB.

    The warehouse file is held only for the copy (other processes get their turn), and the rows never pass
    through Python: the SQL then reads the file and spills to disk past its memory limit. The copy runs
    under the same memory limit (uncapped, the warehouse's DuckDB took most of the peak RSS). The file is
    scratch, read a few times: left uncompressed and in no particular order, which writes several times
    faster. select: an SQL expression exported in place of a column. None for other backends.
    """
    wh = _exportable(rows)
    if wh is None:
        return None
    select = select or {}
    columns = rows.columns or rows.spec.column_names
    names = ", ".join(f"{select[c]} AS {quote_ident(c)}" if c in select else quote_ident(c) for c in columns)
    where, params = wh.where_clause(rows.spec, days, {}, "?")
    settings = {"memory_limit": f"'{MEMORY_LIMIT}'", "preserve_insertion_order": "false"}
    with wh.connect() as con:
        # Settings belong to the database instance, which a connection in this process may share: restored after.
        before = {k: con.execute(f"SELECT current_setting('{k}')").fetchone()[0] for k in settings}  # type: ignore[index]
        for k, v in settings.items():
            con.execute(f"SET {k} = {v}")
        try:
            con.execute(
                f"COPY (SELECT {names} FROM {wh.qualified(rows.spec.name)}{where}) TO '{path.as_posix()}' "
                "(FORMAT parquet, COMPRESSION uncompressed)",
                params,
            )
        finally:
            for k, v in before.items():
                con.execute(f"SET {k} = '{v}'")
    return path


class WindowExports:
    """Landing days exported once per run and reused by every chunk whose window reads them.

    Chunks of a range overlap in what they read (a rule's look-back, the late-arrival days): each landing day
    is copied out of the warehouse once, with the other days missing at that chunk, and a chunk reads the
    files that hold its days, keeping only those. Files all of whose days precede a chunk are deleted
    (chunks go forward).
    """

    def __init__(self, folder: Path, select: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.folder = folder
        self.select = select or {}
        self.files: dict[str, list[tuple[DateWindow, Path]]] = {}

    def inputs(self, window: DateWindow, **inputs: UpstreamRows) -> dict[str, Source]:
        """Each input's rows for window: the exported files when the warehouse is DuckDB, else rows in memory."""
        out: dict[str, Source] = {}
        for name, rows in inputs.items():
            if _exportable(rows) is None:
                out[name] = rows.read(window)
                continue
            days = rows.upstream_window(window)
            held = self.files.setdefault(name, [])
            behind = any(w.start > days.start for w, _ in held)  # a window before the ones held: start afresh
            for w, f in [x for x in held if behind or x[0].end <= days.start]:
                f.unlink(missing_ok=True)
                held.remove((w, f))
            covered = max((w.end for w, _ in held), default=days.start)
            if covered < days.end:
                new = DateWindow(max(covered, days.start), days.end)
                path = self.folder / f"{name}_{len(held)}_{new.start.isoformat()}.parquet"
                if export_days(rows, new, path, self.select.get(name)) is not None:
                    held.append((new, path))
            files = tuple(f for w, f in held if w.start < days.end and days.start < w.end)
            column = rows.spec.partition_column or "landing_date"
            out[name] = Exported(files, column, days.start, days.end)
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
