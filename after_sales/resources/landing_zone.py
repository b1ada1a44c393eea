"""The landing zone as a Dagster resource."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
from pydantic import Field

from after_sales.landing import OUTSIDE, Misplaced, inside, landed_paths, landing_problems, read_landed_file
from after_sales.transforms.staging import LandedFile, LandingFileError


class LandingZone(dg.ConfigurableResource):
    """Folder of `<source>/<YYYY-MM-DD>/` export files."""

    base_dir: str = Field(description="Landing directory (AFTER_SALES_LANDING_DIR).")

    @property
    def path(self) -> Path:
        """The landing directory."""
        return Path(self.base_dir)

    def files(self, source: str, days: list[dt.date]) -> list[tuple[dt.date, Path]]:
        """Data files of a source for the given landing days."""
        return landed_paths(self.path, source, days)

    def problems(self, source: str, days: list[dt.date]) -> list[Misplaced]:
        """What under the source's folder is not loaded for those days (links leading outside, other files)."""
        return [m for m in landing_problems(self.path, [source], days) if m.path.split("/")[0] == source]

    def read(self, source: str, landing_date: dt.date, path: Path) -> LandedFile:
        """One landed file as text rows; refused if it leads outside the landing zone (relinked since listed)."""
        if not inside(self.path, path):
            raise LandingFileError(f"{path.relative_to(self.path).as_posix()}: {OUTSIDE}")
        return read_landed_file(self.path, source, landing_date, path)
