"""Inputs of the behaviour SQL: a DuckDB warehouse's window exported to Parquet, other warehouses' rows in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from after_sales.behaviour.signals import Source
from after_sales.resources import UpstreamRows
from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.warehouse import DateWindow, quote_ident


def export_window(rows: UpstreamRows, window: DateWindow, path: Path) -> Path | None:
    """Write the upstream rows of window to a Parquet file inside the warehouse's DuckDB; None for other backends.

    The warehouse file is held only for the copy (other processes get their turn), and the rows never pass
    through Python: the SQL then reads the file and spills to disk past its memory limit.
    """
    wh = rows.warehouse.open()
    if not isinstance(wh, DuckDBWarehouse) or wh.path == ":memory:" or not wh.table_exists(rows.spec.name):
        return None
    columns = list(rows.columns or rows.spec.column_names)
    where, params = wh.where_clause(rows.spec, rows.upstream_window(window), {}, "?")
    names = ", ".join(quote_ident(c) for c in columns)
    with wh.connect() as con:
        con.execute(
            f"COPY (SELECT {names} FROM {wh.qualified(rows.spec.name)}{where}) TO '{path.as_posix()}' "
            "(FORMAT parquet, COMPRESSION zstd)",
            params,
        )
    return path


@contextmanager
def sql_inputs(window: DateWindow, **inputs: UpstreamRows) -> Iterator[dict[str, Source]]:
    """Each input's rows for window, as a Parquet file in a scratch folder when the warehouse is DuckDB."""
    with tempfile.TemporaryDirectory(prefix="after_sales_behaviour_") as tmp:
        out: dict[str, Source] = {}
        for name, rows in inputs.items():
            exported = export_window(rows, window, Path(tmp) / f"{name}.parquet")
            out[name] = exported if exported is not None else rows.read(window)
        yield out
