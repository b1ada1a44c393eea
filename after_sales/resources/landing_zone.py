"""The landing zone as a Dagster resource."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import dagster as dg
from pydantic import Field

from after_sales.landing import OUTSIDE, Misplaced, inside, landed_paths, landing_problems, read_landed_file
from after_sales.transforms.staging import LandedFile, LandingFileError
from after_sales.windows import DateWindow, DayTotals, RowEstimate, Sizer

# About the size of a row in the exports measured here (own orders 90 bytes, sessions 74, feedback 143): landed
# bytes over this estimate the rows a chunk of landing days stages.
BYTES_PER_ROW = 100


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

    def sizer(self, source: str) -> Sizer:
        """Estimates of the rows a chunk of landing days holds for a source, from its files' sizes."""

        def counted(whole: DateWindow) -> RowEstimate:
            per_day: Counter[dt.date] = Counter()
            for day, path in self.files(source, whole.days()):
                try:
                    per_day[day] += path.stat().st_size // BYTES_PER_ROW
                except OSError:  # gone or unreadable: the read reports it
                    continue
            return DayTotals.of(whole, per_day).over

        return counted

    def problems(self, source: str, days: list[dt.date]) -> list[Misplaced]:
        """What under the source's folder is not loaded for those days (links leading outside, other files)."""
        return [m for m in landing_problems(self.path, [source], days) if m.path.split("/")[0] == source]

    def read(self, source: str, landing_date: dt.date, path: Path) -> LandedFile:
        """One landed file as text rows; refused if it leads outside the landing zone (relinked since listed)."""
        if not inside(self.path, path):
            raise LandingFileError(f"{path.relative_to(self.path).as_posix()}: {OUTSIDE}")
        return read_landed_file(self.path, source, landing_date, path)
