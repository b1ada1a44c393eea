"""Inputs of the behaviour SQL: a DuckDB warehouse's window exported to Parquet, other warehouses' rows in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from after_sales.behaviour.signals import MEMORY_LIMIT, Source
from after_sales.resources import UpstreamRows
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import quote_ident
from after_sales.windows import DateWindow


def export_window(
    rows: UpstreamRows, window: DateWindow, path: Path, select: Mapping[str, str] | None = None
) -> Path | None:
    """Write the upstream rows of window to a Parquet file inside the warehouse's DuckDB; None for other backends.

    The warehouse file is held only for the copy (other processes get their turn), and the rows never pass
    through Python: the SQL then reads the file and spills to disk past its memory limit. select: an SQL
    expression in place of a column. The copy runs
    under the same memory limit as the SQL (uncapped, the warehouse's DuckDB took most of the peak RSS).
    """
    wh = rows.warehouse.open()
    if not isinstance(wh, DuckDBWarehouse) or wh.path == ":memory:" or not wh.table_exists(rows.spec.name):
        return None
    columns = list(rows.columns or rows.spec.column_names)
    where, params = wh.where_clause(rows.spec, rows.upstream_window(window), {}, "?")
    select = select or {}
    names = ", ".join(f"{select[c]} AS {quote_ident(c)}" if c in select else quote_ident(c) for c in columns)
    with wh.connect() as con:
        # The setting belongs to the database instance, which a connection in this process may share: restored after.
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]  # type: ignore[index]
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        try:
            con.execute(
                f"COPY (SELECT {names} FROM {wh.qualified(rows.spec.name)}{where}) TO '{path.as_posix()}' "
                "(FORMAT parquet, COMPRESSION zstd)",
                params,
            )
        finally:
            con.execute(f"SET memory_limit = '{limit}'")
    return path


@contextmanager
def sql_inputs(
    window: DateWindow, select: Mapping[str, Mapping[str, str]] | None = None, **inputs: UpstreamRows
) -> Iterator[dict[str, Source]]:
    """Each input's rows for window, as a Parquet file in a scratch folder when the warehouse is DuckDB.

    select: per input, SQL expressions exported in place of columns (the rows in memory are left as they are).
    """
    with tempfile.TemporaryDirectory(prefix="after_sales_behaviour_") as tmp:
        out: dict[str, Source] = {}
        for name, rows in inputs.items():
            exported = export_window(rows, window, Path(tmp) / f"{name}.parquet", (select or {}).get(name))
            out[name] = exported if exported is not None else rows.read(window)
        yield out
