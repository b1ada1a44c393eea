"""Dagster resources: the warehouse (the one reader and writer of tables) and the landing and export folders."""

from after_sales.resources.export_directory import ExportDirectory
from after_sales.resources.landing_zone import LandingZone
from after_sales.resources.warehouse_resource import (
    Companion,
    Upstream,
    WarehouseOutput,
    WarehouseResource,
    WrittenCounts,
    upstream,
)

__all__ = [
    "Companion",
    "ExportDirectory",
    "LandingZone",
    "Upstream",
    "WarehouseOutput",
    "WarehouseResource",
    "WrittenCounts",
    "upstream",
]
