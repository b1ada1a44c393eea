"""The warehouse for a SQLAlchemy URL, and the contract's names callers use."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from after_sales.resources.duckdb_warehouse import DuckDBWarehouse
from after_sales.resources.postgres_warehouse import PostgresWarehouse
from after_sales.resources.sqlalchemy_warehouse import SQLAlchemyWarehouse
from after_sales.resources.warehouse_base import (
    PreparedWrite,
    TableWrite,
    ViewText,
    Warehouse,
    WarehouseError,
    WarehouseLockedError,
    comment_statements,
    quote_ident,
    sql_literal,
)
from after_sales.windows import DateWindow

__all__ = [
    "DateWindow",
    "PreparedWrite",
    "TableWrite",
    "ViewText",
    "Warehouse",
    "WarehouseError",
    "WarehouseLockedError",
    "comment_statements",
    "open_warehouse",
    "quote_ident",
    "sql_literal",
]


def open_warehouse(url: str, schema: str, timezone: str, lock_timeout_seconds: float = 60.0) -> Warehouse:
    """The warehouse for a SQLAlchemy URL: DuckDB or PostgreSQL natively, anything else (SQLite) through SQLAlchemy."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "duckdb":
        return DuckDBWarehouse(parsed, schema, timezone, lock_timeout_seconds=lock_timeout_seconds)
    if backend == "postgresql":
        return PostgresWarehouse(parsed, schema, timezone)
    return SQLAlchemyWarehouse(parsed, schema, timezone)
