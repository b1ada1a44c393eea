"""Equality of two warehouses' tables (DuckDB files), checked before any ratio is reported.

Two tables are equal when they have the same number of rows and the same multiset of rows over
the compared columns (`EXCEPT ALL` both ways is empty). Every column both tables have is compared,
except the lineage column `source` (a label, renamed while the marketplace sources are built);
floating-point columns are rounded to 9 decimals first. The pipeline stores floats at 12 significant
digits and the SQL script does not round, so a value on a rounding boundary can round differently: when
only floats differ, rows are paired in the order of every column (floats at 6 decimals) and their floats
compared within 1e-9 (relative above 1), and the table counts as equal if every pair is that close. When
a table differs, the columns whose value multisets differ are listed to show where.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

MART_TABLES = ("fct_order_feedback", "problem_orders", "work_orders", "metrics_daily")
STAGING_TABLES = ("stg_orders", "stg_feedback", "stg_behaviour")
IGNORED_COLUMNS = frozenset({"source"})


@dataclass
class TableComparison:
    """How one table compares between warehouses a and b."""

    table: str
    rows_a: int
    rows_b: int
    only_a: int
    only_b: int
    columns: list[str] = field(default_factory=list)
    differing_columns: list[str] = field(default_factory=list)
    note: str = ""
    within_tolerance: bool = False

    @property
    def equal(self) -> bool:
        """Same row count and no row on one side only."""
        same = self.rows_a == self.rows_b and self.only_a == 0 and self.only_b == 0
        return (same or self.within_tolerance) and not self.note

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {**asdict(self), "equal": self.equal}


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND schema_name = ? "
        "AND table_name = ? ORDER BY column_index",
        [db, schema, table],
    ).fetchall()
    return {name: kind for name, kind in rows}


def _expr(column: str, kind: str) -> str:
    quoted = '"' + column.replace('"', '""') + '"'
    if kind in FLOAT_TYPES:
        return f"round({quoted}, 9) AS {quoted}"
    return quoted


FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


def _floats_close(con: duckdb.DuckDBPyConnection, ta: str, tb: str, common: list[str], floats: list[str]) -> bool:
    """Whether rows paired in the order of every column agree exactly, floats within 1e-9 (relative above 1)."""
    q = {c: '"' + c.replace('"', '""') + '"' for c in common}
    order = ", ".join(f"round({q[c]}, 6)" if c in floats else q[c] for c in common)
    same = [
        f"(x.{q[c]} IS NULL AND y.{q[c]} IS NULL) OR abs(x.{q[c]} - y.{q[c]}) <= 1e-9 * greatest(1, abs(x.{q[c]}))"
        if c in floats
        else f"x.{q[c]} IS NOT DISTINCT FROM y.{q[c]}"
        for c in common
    ]
    paired = (
        f"SELECT count(*) FROM (SELECT *, row_number() OVER (ORDER BY {order}) AS _n FROM {ta}) x "
        f"JOIN (SELECT *, row_number() OVER (ORDER BY {order}) AS _n FROM {tb}) y USING (_n) "
        f"WHERE NOT (({') AND ('.join(same)}))"
    )
    return con.execute(paired).fetchone()[0] == 0  # type: ignore[index]


def compare_tables(
    a_db: Path, b_db: Path, tables: tuple[str, ...] = MART_TABLES + STAGING_TABLES, schema: str = "after_sales"
) -> list[TableComparison]:
    """Compare every named table of schema between two DuckDB files (opened read-only)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{a_db}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b_db}' AS b (READ_ONLY)")
    out = []
    try:
        for table in tables:
            cols_a, cols_b = _columns(con, "a", schema, table), _columns(con, "b", schema, table)
            if not cols_a or not cols_b:
                missing = "a" if not cols_a else "b"
                out.append(TableComparison(table, 0, 0, 0, 0, note=f"table missing in {missing}"))
                continue
            common = [c for c in cols_a if c in cols_b and c not in IGNORED_COLUMNS]
            select = ", ".join(_expr(c, cols_a[c]) for c in common)
            ta, tb = f'a.{schema}."{table}"', f'b.{schema}."{table}"'
            rows_a = con.execute(f"SELECT count(*) FROM {ta}").fetchone()[0]  # type: ignore[index]
            rows_b = con.execute(f"SELECT count(*) FROM {tb}").fetchone()[0]  # type: ignore[index]
            only_a = con.execute(
                f"SELECT count(*) FROM (SELECT {select} FROM {ta} EXCEPT ALL SELECT {select} FROM {tb})"
            )
            only_a_n = only_a.fetchone()[0]  # type: ignore[index]
            only_b_n = con.execute(
                f"SELECT count(*) FROM (SELECT {select} FROM {tb} EXCEPT ALL SELECT {select} FROM {ta})"
            ).fetchone()[0]  # type: ignore[index]
            cmp = TableComparison(table, rows_a, rows_b, only_a_n, only_b_n, columns=common)
            if not cmp.equal and rows_a == rows_b:
                floats = [c for c in common if cols_a[c] in FLOAT_TYPES]
                cmp.within_tolerance = bool(floats) and _floats_close(con, ta, tb, common, floats)
            if not cmp.equal:
                for c in common:
                    e = _expr(c, cols_a[c])
                    n = con.execute(
                        f"SELECT count(*) FROM (SELECT {e} FROM {ta} EXCEPT ALL SELECT {e} FROM {tb})"
                    ).fetchone()[0]  # type: ignore[index]
                    m = con.execute(
                        f"SELECT count(*) FROM (SELECT {e} FROM {tb} EXCEPT ALL SELECT {e} FROM {ta})"
                    ).fetchone()[0]  # type: ignore[index]
                    if n or m:
                        cmp.differing_columns.append(f"{c} ({n}/{m})")
            out.append(cmp)
    finally:
        con.close()
    return out


def summary(comparisons: list[TableComparison]) -> str:
    """One line: equal tables with their row counts, or what differs."""
    parts = []
    for c in comparisons:
        if c.equal:
            close = " (floats within 1e-9)" if c.within_tolerance else ""
            parts.append(f"{c.table} {c.rows_a:,} rows equal{close}")
        else:
            detail = c.note or f"{c.rows_a:,} vs {c.rows_b:,} rows, {c.only_a}/{c.only_b} rows on one side only"
            cols = f"; columns differing: {', '.join(c.differing_columns)}" if c.differing_columns else ""
            parts.append(f"{c.table} DIFFERS ({detail}{cols})")
    return "; ".join(parts)
