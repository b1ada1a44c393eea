"""Where file exports for other tools are written."""

from pathlib import Path

import dagster as dg
from pydantic import Field


class ExportDirectory(dg.ConfigurableResource):
    """Folder for exports such as the daily work-order CSVs (AFTER_SALES_EXPORT_DIR)."""

    base_dir: str = Field(description="Export directory.")

    def folder(self, name: str) -> Path:
        """A sub-folder of the export directory, created if missing."""
        path = Path(self.base_dir) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
