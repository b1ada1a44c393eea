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
    "WAREHOUSE_CLASSES",
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
    "warehouse_class",
]


# Every backend, each with its own SQL dialect for the BI views.
WAREHOUSE_CLASSES: tuple[type[Warehouse], ...] = (DuckDBWarehouse, PostgresWarehouse, SQLAlchemyWarehouse)


def warehouse_class(url: str) -> type[Warehouse]:
    """The warehouse class for a SQLAlchemy URL: DuckDB or PostgreSQL natively, anything else (SQLite) through
    SQLAlchemy."""
    backend = make_url(url).get_backend_name()
    return {"duckdb": DuckDBWarehouse, "postgresql": PostgresWarehouse}.get(backend, SQLAlchemyWarehouse)


def open_warehouse(url: str, schema: str, timezone: str, lock_timeout_seconds: float = 60.0) -> Warehouse:
    """The warehouse for a SQLAlchemy URL."""
    cls = warehouse_class(url)
    if cls is DuckDBWarehouse:
        return DuckDBWarehouse(make_url(url), schema, timezone, lock_timeout_seconds=lock_timeout_seconds)
    return cls(make_url(url), schema, timezone)
