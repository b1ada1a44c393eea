"""Dagster resources: the warehouse, its IO manager and the landing zone."""

from after_sales.resources.export_directory import ExportDirectory
from after_sales.resources.io_manager import (
    Companion,
    UpstreamRows,
    WarehouseIOManager,
    WarehouseOutput,
    upstream_in,
    write_output,
)
from after_sales.resources.landing_zone import LandingZone
from after_sales.resources.warehouse_resource import WarehouseResource

__all__ = [
    "Companion",
    "ExportDirectory",
    "LandingZone",
    "UpstreamRows",
    "WarehouseIOManager",
    "WarehouseOutput",
    "WarehouseResource",
    "upstream_in",
    "write_output",
]
