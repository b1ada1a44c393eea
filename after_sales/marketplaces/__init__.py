"""Third-party marketplace exports (Taobao, Tmall, JD, Suning, 1号店, ...) read into canonical landing rows.

Each marketplace is one mapping file in `sources/`; `read_export` turns one export file into landing-shaped
rows, per-row rejections and warnings, and raises `ExportFileError` for files that cannot be read at all.
"""

from __future__ import annotations

from .config import (
    FEEDBACK_COLUMNS,
    ORDER_COLUMNS,
    SOURCES_DIR,
    KindConfig,
    SourceConfig,
    SourceConfigError,
    load_source,
    load_sources,
)
from .reader import REJECTED_COLUMNS, ExportFileError, ExportRead, read_export
from .sample import marketplace_exports

__all__ = [
    "FEEDBACK_COLUMNS",
    "ORDER_COLUMNS",
    "REJECTED_COLUMNS",
    "SOURCES_DIR",
    "ExportFileError",
    "ExportRead",
    "KindConfig",
    "SourceConfig",
    "SourceConfigError",
    "load_source",
    "load_sources",
    "marketplace_exports",
    "read_export",
]
