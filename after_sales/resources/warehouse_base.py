"""The warehouse contract every backend implements: replace a partition window in one transaction, read windows back."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import URL, make_url

from after_sales.arrow_frames import arrow_to_frame, empty_frame, frame_to_arrow
from after_sales.tables import TableSpec
from after_sales.windows import DateWindow


class WarehouseError(RuntimeError):
    """A warehouse operation failed; the message says which table and why."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse and did not let go in time."""


@dataclass(frozen=True)
class PreparedWrite:
    """A write whose rows are already cast to the table's Arrow schema and checked."""

    spec: TableSpec
    table: pa.Table
    window: DateWindow | None
    scope: dict[str, str]


@dataclass(frozen=True)
class TableWrite:
    """Rows for one table, replacing a window of partitions and optionally a scope inside it."""

    spec: TableSpec
    frame: pd.DataFrame
    window: DateWindow | None
    scope: dict[str, str]
    # The frame as frame_to_arrow(spec, frame) casts it, when the caller has it already (the checks cast it).
    cast: pa.Table | None = None

    def prepare(self) -> PreparedWrite:
        """Cast and check the rows before any transaction starts."""
        table = self.cast if self.cast is not None else frame_to_arrow(self.spec, self.frame)
        if self.window is not None:
            _check_inside_window(self.spec, table, self.window)
        for column, value in self.scope.items():
            self.spec.column(column)
            if table.num_rows and not pc.all(pc.equal(table.column(column), value)).as_py():
                raise WarehouseError(f"{self.spec.name}: rows outside scope {column}={value!r}")
        return PreparedWrite(self.spec, table, self.window, self.scope)


def quote_ident(name: str) -> str:
    """Quote an SQL identifier so any name, hostile ones included, stays a name."""
    if "\x00" in name:
        raise WarehouseError(f"identifier contains a NUL byte: {name!r}")
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A standard SQL string literal (quotes doubled; backslashes literal, as in DuckDB and PostgreSQL)."""
    if "\x00" in text:
        raise WarehouseError(f"text contains a NUL byte: {text!r}")
    return "'" + text.replace("'", "''") + "'"


def comment_statements(spec: TableSpec, qualified: str, kind: str = "TABLE") -> list[str]:
    """COMMENT ON the table (or view) and each of its columns, from spec's descriptions (as Dagster shows them)."""
    if kind not in ("TABLE", "VIEW"):
        raise ValueError(f"cannot comment on a {kind}")
    statements = [f"COMMENT ON {kind} {qualified} IS {sql_literal(spec.description)}"]
    statements += [
        f"COMMENT ON COLUMN {qualified}.{quote_ident(c.name)} IS {sql_literal(c.description)}" for c in spec.columns
    ]
    return statements


@dataclass(frozen=True)
class ViewText:
    """A view to create: its name, description and columns (for comments) and its SELECT in this backend's SQL."""

    spec: TableSpec
    select: str


class Warehouse(ABC):
    """One warehouse behind a SQLAlchemy URL."""

    family: str = "generic"  # the column of SQL_TYPES this backend uses
    kind: str = "sql"

    def __init__(self, url: str | URL, schema: str, timezone: str) -> None:
        self.url = make_url(url) if isinstance(url, str) else url
        self.schema = schema
        self.timezone = timezone

    def qualified(self, table: str) -> str:
        """Schema-qualified, quoted table name."""
        return f"{quote_ident(self.schema)}.{quote_ident(table)}"

    def replace(
        self,
        spec: TableSpec,
        frame: pd.DataFrame,
        window: DateWindow | None,
        scope: Mapping[str, str] | None = None,
    ) -> int:
        """Replace the rows of window (and scope) by frame in one transaction; return rows written."""
        return self.replace_all([TableWrite(spec, frame, window, dict(scope or {}))])[0]

    def replace_all(self, writes: Sequence[TableWrite]) -> list[int]:
        """Replace several tables' windows in one transaction: all land or none do."""
        prepared = [w.prepare() for w in writes]
        self._replace_all(prepared)
        return [p.table.num_rows for p in prepared]

    def read(
        self,
        spec: TableSpec,
        window: DateWindow | None = None,
        columns: Sequence[str] | None = None,
        scope: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """Rows of window (all rows without one) as a typed frame; empty when the table is absent."""
        wanted = list(columns) if columns else spec.column_names
        for c in wanted:
            spec.column(c)
        table = self._read_in_key_order(spec, window, wanted, dict(scope or {}))
        if table is None:
            return empty_frame(spec, self.timezone)[wanted]
        return arrow_to_frame(spec, table, self.timezone)

    def day_counts(self, spec: TableSpec, window: DateWindow) -> dict[dt.date, int]:
        """Rows per partition day of window (none when the table is absent or not partitioned)."""
        column = spec.partition_column
        table = self._read(spec, window, [column], {}) if column else None
        if table is None or not table.num_rows:
            return {}
        counted = pc.value_counts(table.column(column)).to_pylist()
        return {c["values"]: c["counts"] for c in counted if c["values"] is not None}

    # The connection held by held(), which a backend's connect() hands out while it is set.
    _held: object | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Every operation of this client inside the block on one connection (a chunk's reads: a connect each
        costs tens of ms), released at its end; a no-op for a backend without connect(). Keep it short: on
        DuckDB other processes wait for the file meanwhile."""
        connect = getattr(self, "connect", None)
        if self._held is not None or connect is None:
            yield
            return
        with connect() as con:
            self._held = con
            try:
                yield
            finally:
                self._held = None

    def _replace_all(self, writes: list[PreparedWrite]) -> None:
        """Delete each write's window and scope, then insert its rows, all in one transaction."""
        if len(writes) != 1:
            raise NotImplementedError(f"{type(self).__name__} writes one table per transaction only")
        w = writes[0]
        self._replace(w.spec, w.table, w.window, w.scope)

    def _replace(self, spec: TableSpec, table: pa.Table, window: DateWindow | None, scope: dict[str, str]) -> None:
        """Single-table variant of _replace_all for backends that implement only that."""
        raise NotImplementedError

    @abstractmethod
    def _read(
        self, spec: TableSpec, window: DateWindow | None, columns: list[str], scope: dict[str, str]
    ) -> pa.Table | None: ...

    def _read_in_key_order(
        self, spec: TableSpec, window: DateWindow | None, columns: list[str], scope: dict[str, str]
    ) -> pa.Table | None:
        """_read, its rows sorted by key_order in Arrow (a backend whose SQL sorts bytes alike may sort instead)."""
        table = self._read(spec, window, columns, scope)
        if table is None or table.num_rows < 2:
            return table
        return table.sort_by([(k, "ascending") for k in key_order(spec, columns)])

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run a read-only query (tests, benchmarks, reports)."""

    @abstractmethod
    def table_exists(self, name: str) -> bool:
        """Whether the table exists in the schema."""

    @staticmethod
    @abstractmethod
    def hours_until(column: str) -> str:
        """SQL for the hours from now until a timestamp column (quoted), negative once it has passed."""

    @abstractmethod
    def replace_views(self, sources: Sequence[TableSpec], views: Sequence[ViewText]) -> None:
        """Create missing source tables, then create or replace every view (with comments where the backend has
        them), all in one transaction; a failure leaves the previous views intact."""

    def export_parquet(
        self,
        spec: TableSpec,
        window: DateWindow,
        columns: Sequence[str],
        path: Path,
        select: Mapping[str, str] | None = None,
        memory_limit: str = "1GB",
    ) -> bool:
        """Copy a window of a table to a Parquet file without passing the rows through Python; False where this
        backend cannot (the caller then reads the rows)."""
        return False

    def publish_snapshot(self) -> tuple[Path, dict[str, int]] | None:
        """Publish a read-only copy for BI tools where the backend needs one (an embedded file); None here:
        BI tools read a server directly."""
        return None

    def grant_bi_role(self, role: str, password: str | None, members: Sequence[str], views: Sequence[str]) -> None:
        """Create or update a role that can select the views and nothing else (a database server only)."""
        raise WarehouseError(f"{self.url.render_as_string()}: the BI role is for a PostgreSQL warehouse")

    def where_clause(
        self, spec: TableSpec, window: DateWindow | None, scope: dict[str, str], placeholder: str
    ) -> tuple[str, list[object]]:
        """WHERE text and parameters selecting window and scope."""
        parts: list[str] = []
        params: list[object] = []
        if window is not None:
            if spec.partition_column is None:
                raise WarehouseError(f"{spec.name} is not partitioned; cannot select a window")
            col = quote_ident(spec.partition_column)
            parts += [f"{col} >= {placeholder}", f"{col} < {placeholder}"]
            params += [window.start, window.end]
        for column, value in scope.items():
            parts.append(f"{quote_ident(column)} = {placeholder}")
            params.append(value)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params


def key_order(spec: TableSpec, columns: Sequence[str]) -> list[str]:
    """The columns reads sort by (key, then lineage, then every other column read), whatever order the database
    returned them in: computations over them (float sums) then give the same bits on every run."""
    first = [*spec.primary_key, "source_file", "source_row"]
    return list(dict.fromkeys([c for c in first if c in columns] + [c for c in columns if c not in first]))


def _check_inside_window(spec: TableSpec, table: pa.Table, window: DateWindow) -> None:
    if spec.partition_column is None or table.num_rows == 0:
        return
    values = table.column(spec.partition_column)
    low, high = pc.min(values).as_py(), pc.max(values).as_py()
    if low < window.start or high >= window.end:
        raise WarehouseError(
            f"{spec.name}: {spec.partition_column} values {low}..{high} fall outside the partition window "
            f"{window.start}..{window.end - dt.timedelta(days=1)}; writing them would duplicate rows on re-run"
        )
