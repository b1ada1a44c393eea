"""Date windows: the half-open day ranges partitions, transforms, checks and the warehouse share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DateWindow:
    """Half-open range of dates [start, end)."""

    start: dt.date
    end: dt.date

    @classmethod
    def single(cls, day: dt.date) -> DateWindow:
        """The window of one day."""
        return cls(day, day + dt.timedelta(days=1))

    def days(self) -> list[dt.date]:
        """Every day in the window."""
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days)]
