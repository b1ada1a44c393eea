"""Daily partitions in the business time zone, and the windows marts read upstream."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from after_sales.settings import load_settings
from after_sales.windows import DateWindow

SETTINGS = load_settings()
TRAILING_VISITOR_DAYS = 7
FEEDBACK_WINDOW_DAYS = 14

daily_partitions = dg.DailyPartitionsDefinition(start_date=SETTINGS.start_date.isoformat(), timezone=SETTINGS.timezone)


@dataclass(frozen=True)
class DayWindow:
    """The upstream days a day D reads, D + start_offset .. D + end_offset: Dagster's mapping and the rows, from one
    declaration; days not there yet are simply absent."""

    start_offset: int = 0
    end_offset: int = 0

    @property
    def mapping(self) -> dg.TimeWindowPartitionMapping:
        """The partition mapping Dagster draws and schedules by."""
        return dg.TimeWindowPartitionMapping(
            start_offset=self.start_offset, end_offset=self.end_offset, allow_nonexistent_upstream_partitions=True
        )

    def of(self, window: DateWindow) -> DateWindow:
        """The upstream days the days of window read."""
        return DateWindow(
            window.start + dt.timedelta(days=self.start_offset), window.end + dt.timedelta(days=self.end_offset)
        )


SAME_DAYS = DayWindow()


def landing_window(start_offset: int = 0, end_offset: int = 0) -> DayWindow:
    """Upstream landing days [D + start_offset, D + end_offset]."""
    return DayWindow(start_offset, end_offset)


# Rows of business date D land on days D .. D + late_arrival_days.
LATE_ROWS = landing_window(0, SETTINGS.late_arrival_days)
# Feedback on an order of day D counts when it lands within FEEDBACK_WINDOW_DAYS of D.
FEEDBACK_OF_ORDERS = landing_window(0, max(FEEDBACK_WINDOW_DAYS, SETTINGS.late_arrival_days))
# Feedback landed on day X refers to orders landed on X - FEEDBACK_WINDOW_DAYS .. X + late days.
ORDERS_FOR_FEEDBACK = landing_window(-FEEDBACK_WINDOW_DAYS, SETTINGS.late_arrival_days)
# Visitor rates compare a day with the 7 days before it.
SESSIONS_WITH_HISTORY = landing_window(-TRAILING_VISITOR_DAYS, SETTINGS.late_arrival_days)


def date_window(window: dg.TimeWindow) -> DateWindow:
    """A Dagster time window (midnights in the business zone) as a date window."""
    return DateWindow(window.start.date(), window.end.date())


def partition_keys_between(first: dt.date, last: dt.date) -> list[str]:
    """Partition keys for every day from first to last, inclusive."""
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
