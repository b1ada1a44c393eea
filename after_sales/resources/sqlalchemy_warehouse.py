"""Any other SQLAlchemy database (SQLite first of all): the slow, portable reference path through Core."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from after_sales.arrow_frames import ARROW_TYPES
from after_sales.resources.warehouse_base import PreparedWrite, ViewText, Warehouse, WarehouseError, quote_ident
from after_sales.tables import TableSpec
from after_sales.windows import DateWindow

_INSERT_BATCH = 10_000
_CENT = Decimal("0.01")
_MAX_INDEX_NAME = 60


def _sa_type(logical: str) -> sa.types.TypeEngine:
    """The generic SQLAlchemy type of a logical type (timestamps are stored as naive UTC)."""
    return {
        "text": sa.Text(),
        "int": sa.BigInteger(),
        "float": sa.Double(),
        "money": sa.Numeric(18, 2),
        "bool": sa.Boolean(create_constraint=False),
        "date": sa.Date(),
        "timestamptz": sa.DateTime(timezone=False),
    }[logical]


def _index_name(table: str, column: str) -> str:
    """A readable index name, hashed when it would exceed common identifier limits."""
    name = f"ix_{table}_{column}"
    if len(name) <= _MAX_INDEX_NAME:
        return name
    return "ix_" + hashlib.sha1(f"{table}\x00{column}".encode()).hexdigest()[:16]


def _to_python(array: pa.ChunkedArray | pa.Array, logical: str) -> list[object]:
    """Values to bind: NaN as None, timestamps as naive UTC datetimes."""
    if logical == "float":
        array = pc.if_else(pc.is_nan(array), None, array)
    elif logical == "timestamptz":
        array = array.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
    return array.to_pylist()


def _utc_naive(value: dt.datetime) -> dt.datetime:
    """A stored timestamp as naive UTC (naive values are UTC already)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _money(value: object) -> Decimal:
    """A stored amount as an exact two-place Decimal (SQLite keeps NUMERIC as a float)."""
    return Decimal(str(value) if isinstance(value, float) else value).quantize(_CENT)


def _to_arrow(values: list[object], logical: str) -> pa.Array:
    """Fetched values as an Arrow array of the logical type's Arrow type."""
    if logical == "timestamptz":
        naive = [None if v is None else _utc_naive(v) for v in values]
        return pa.array(naive, type=pa.timestamp("us")).cast(ARROW_TYPES[logical])
    if logical == "money":
        return pa.array([None if v is None else _money(v) for v in values], type=ARROW_TYPES[logical])
    if logical == "date":
        values = [dt.date.fromisoformat(v) if isinstance(v, str) else v for v in values]
    return pa.array(values, type=ARROW_TYPES[logical])


class SQLAlchemyWarehouse(Warehouse):
    """A database behind SQLAlchemy Core; SQLite has no schemas, so there the schema is ignored."""

    family = "generic"
    kind = "sqlalchemy"  # the Dagster kind tag of assets stored here

    def __init__(self, url: URL, schema: str, timezone: str) -> None:
        super().__init__(url, schema, timezone)
        quote_ident(schema)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        in_memory = self.is_sqlite and self.url.database in (None, "", ":memory:")
        kwargs: dict[str, object] = {} if in_memory else {"poolclass": NullPool}
        if self.is_sqlite and "timeout" not in self.url.query:
            kwargs["connect_args"] = {"timeout": 60}
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.is_sqlite:
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)

    def qualified(self, table: str) -> str:
        """Quoted table name, schema-qualified except on SQLite."""
        return quote_ident(table) if self.is_sqlite else super().qualified(table)

    @property
    def table_schema(self) -> str | None:
        """The schema tables are created in: None on SQLite."""
        return None if self.is_sqlite else self.schema

    def _table(self, spec: TableSpec) -> sa.Table:
        """The spec as a Core table with key and partition index."""
        metadata = sa.MetaData()
        extra: list[sa.SchemaItem] = []
        if spec.primary_key and any(spec.column(c).nullable for c in spec.primary_key):
            extra.append(sa.UniqueConstraint(*spec.primary_key))  # a primary key would forbid the NULLs
        elif spec.primary_key:
            extra.append(sa.PrimaryKeyConstraint(*spec.primary_key))
        table = sa.Table(
            spec.name,
            metadata,
            *[sa.Column(c.name, _sa_type(c.type), nullable=c.nullable) for c in spec.columns],
            *extra,
            schema=self.table_schema,
        )
        if spec.partition_column and spec.primary_key[:1] != (spec.partition_column,):
            sa.Index(_index_name(spec.name, spec.partition_column), table.c[spec.partition_column])
        return table

    @contextmanager
    def _begin(self, write: bool) -> Iterator[Connection]:
        """A transaction; on SQLite a write one takes the database lock up front (BEGIN IMMEDIATE)."""
        with self.engine.connect().execution_options(after_sales_write=write) as con, con.begin():
            yield con

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction on one connection (the BI views are created in one)."""
        return self._begin(write=True)

    def _ensure_table(self, con: Connection, spec: TableSpec, table: sa.Table) -> None:
        """Create schema and table when absent, add missing columns otherwise."""
        inspector = sa.inspect(con)
        if self.table_schema is not None and not inspector.has_schema(self.table_schema):
            con.execute(sa.schema.CreateSchema(self.table_schema, if_not_exists=True))
        if not inspector.has_table(spec.name, schema=self.table_schema):
            table.create(con, checkfirst=True)
            return
        existing = {c["name"] for c in inspector.get_columns(spec.name, schema=self.table_schema)}
        preparer = con.dialect.identifier_preparer
        for column in table.columns:
            if column.name not in existing:
                statement = (
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN {preparer.quote(column.name)} "
                    f"{column.type.compile(dialect=con.dialect)}"
                )
                con.execute(sa.DDL(statement.replace("%", "%%")))  # DDL text is %-formatted

    def _condition(
        self, spec: TableSpec, table: sa.Table, window: DateWindow | None, scope: dict[str, str]
    ) -> sa.ColumnElement[bool]:
        """The window and scope as a Core condition (same semantics as Warehouse.where_clause)."""
        parts: list[sa.ColumnElement[bool]] = []
        if window is not None:
            if spec.partition_column is None:
                raise WarehouseError(f"{spec.name} is not partitioned; cannot select a window")
            column = table.c[spec.partition_column]
            parts += [column >= window.start, column < window.end]
        for name, value in scope.items():
            parts.append(table.c[spec.column(name).name] == value)
        return sa.and_(sa.true(), *parts)

    def ensure_tables(self, con: Connection, specs: Iterable[TableSpec]) -> None:
        """Create or extend each spec's table in con's transaction (BI views need their tables to exist)."""
        for spec in specs:
            self._ensure_table(con, spec, self._table(spec))

    def _replace_all(self, writes: list[PreparedWrite]) -> None:
        """DDL if needed, then per write delete its window and scope and insert its rows: one transaction."""
        names = ", ".join(f"{self.schema}.{w.spec.name}" for w in writes)
        try:
            with self._begin(write=True) as con:
                targets = [self._table(w.spec) for w in writes]
                for w, target in zip(writes, targets, strict=True):
                    self._ensure_table(con, w.spec, target)
                for w, target in zip(writes, targets, strict=True):
                    self._delete_and_insert(con, w, target)
        except Exception as exc:
            raise WarehouseError(
                f"writing {names} failed and was rolled back, the previous rows are intact: {exc}"
            ) from exc

    def _delete_and_insert(self, con: Connection, write: PreparedWrite, target: sa.Table) -> None:
        """Delete the write's window and scope, then insert its rows in batches, inside con's transaction."""
        spec = write.spec
        con.execute(sa.delete(target).where(self._condition(spec, target, write.window, write.scope)))
        types = {c.name: c.type for c in spec.columns}
        for batch in write.table.select(spec.column_names).to_batches(max_chunksize=_INSERT_BATCH):
            names = batch.schema.names
            values = [_to_python(batch.column(n), types[n]) for n in names]
            records = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
            if records:
                con.execute(sa.insert(target), records)

    def _read(
        self, spec: TableSpec, window: DateWindow | None, columns: list[str], scope: dict[str, str]
    ) -> pa.Table | None:
        target = self._table(spec)
        condition = self._condition(spec, target, window, scope)
        with self._begin(write=False) as con:
            if not sa.inspect(con).has_table(spec.name, schema=self.table_schema):
                return None
            rows = con.execute(sa.select(*[target.c[c] for c in columns]).where(condition)).fetchall()
        values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
        arrays = [_to_arrow(list(v), spec.column(c).type) for c, v in zip(columns, values, strict=True)]
        return pa.Table.from_arrays(arrays, names=columns)

    def table_exists(self, name: str) -> bool:
        """Whether the table exists in the schema."""
        with self.engine.connect() as con:
            return sa.inspect(con).has_table(name, schema=self.table_schema)

    @staticmethod
    def hours_until(column: str) -> str:
        """Hours from now until a timestamp column, negative once it has passed (SQLite's julianday)."""
        return f"(julianday({column}) - julianday(CURRENT_TIMESTAMP)) * 24.0"

    def replace_views(self, sources: Sequence[TableSpec], views: Sequence[ViewText]) -> None:
        """Drop and create each view in one transaction; no comments (SQLite has none)."""
        try:
            with self.transaction() as con:
                self.ensure_tables(con, sources)
                for view in views:
                    target = self.qualified(view.spec.name)
                    con.exec_driver_sql(f"DROP VIEW IF EXISTS {target}")
                    con.exec_driver_sql(f"CREATE VIEW {target} AS {view.select}")
        except Exception as exc:
            raise WarehouseError(f"creating the BI views in {self.schema} failed and was rolled back: {exc}") from exc

    def query(self, sql: str) -> pd.DataFrame:
        """Run a read-only query; the SQL goes to the driver as is."""
        with self._begin(write=False) as con:
            result = con.exec_driver_sql(sql)
            if not result.returns_rows:
                return pd.DataFrame()
            return pd.DataFrame.from_records(result.fetchall(), columns=list(result.keys()))


def _sqlite_connect(dbapi_connection: object, _record: object) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so DDL is transactional too."""
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]


def _sqlite_begin(con: Connection) -> None:
    """BEGIN IMMEDIATE for writes (no lock upgrade deadlocks), plain BEGIN for reads."""
    write = con.get_execution_options().get("after_sales_write", False)
    con.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
