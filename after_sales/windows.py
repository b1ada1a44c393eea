"""Date windows: the half-open day ranges partitions, transforms, checks and the warehouse share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import accumulate


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


@dataclass(frozen=True)
class DayTotals:
    """A count per day of a window as running totals: the sum over any window of days in constant time."""

    first: dt.date
    running: tuple[int, ...]

    @classmethod
    def of(cls, window: DateWindow, per_day: Mapping[dt.date, int]) -> DayTotals:
        """The totals of per_day over window (days absent from per_day count 0)."""
        return cls(window.start, (0, *accumulate(per_day.get(day, 0) for day in window.days())))

    def over(self, window: DateWindow) -> int:
        """The sum over the days of window (its days outside this one's count 0)."""
        last = len(self.running) - 1
        lo = min(max((window.start - self.first).days, 0), last)
        hi = min(max((window.end - self.first).days, 0), last)
        return self.running[hi] - self.running[lo] if hi > lo else 0


# Estimated rows a window of days reads (its upstream rows, or its landed files' bytes over a row's size).
RowEstimate = Callable[[DateWindow], int]
# Given the whole window of a run, the estimate for its chunks (counted once over the whole window).
Sizer = Callable[[DateWindow], RowEstimate]
