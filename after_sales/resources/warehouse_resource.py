"""The warehouse as a Dagster resource, named by a SQLAlchemy URL."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from after_sales.resources.warehouse import Warehouse, open_warehouse


class WarehouseResource(dg.ConfigurableResource):
    """Where the tables live: any SQLAlchemy URL (DuckDB file by default, PostgreSQL in production)."""

    url: str = Field(description="SQLAlchemy URL, e.g. duckdb:///data/warehouse.duckdb or postgresql+psycopg://...")
    schema_name: str = Field(default="after_sales", description="Schema holding every table.")
    timezone: str = Field(default="Asia/Shanghai", description="Business time zone for timestamps read back.")
    lock_timeout_seconds: float = Field(default=60.0, description="How long to wait for a locked DuckDB file.")

    def open(self) -> Warehouse:
        """The warehouse client."""
        return open_warehouse(self.url, self.schema_name, self.timezone, self.lock_timeout_seconds)
