"""The daily schedule: the last landing days, and every business date they feed, in one run."""

import datetime as dt

import dagster as dg

from after_sales.jobs import daily_job
from after_sales.partitions import FEEDBACK_OF_ORDERS, LATE_ROWS, SETTINGS

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


# A business date D reads landing days up to D + this many days (feedback: 14), so landing day X feeds D >= X - it.
MARTS_REACH_DAYS = max(LATE_ROWS.end_offset, FEEDBACK_OF_ORDERS.end_offset)


def rebuild_range(scheduled: dt.datetime, rebuild_days: int) -> tuple[str, str]:
    """First and last partition key to rebuild for a tick.

    The landing days yesterday and the rebuild_days - 1 before it, and every business date they feed: a ticket
    landed yesterday belongs to its order's date, up to 14 days earlier, whose fact must be rebuilt to hold it.
    """
    yesterday = scheduled.date() - dt.timedelta(days=1)
    first_landed = yesterday - dt.timedelta(days=max(rebuild_days, 1) - 1)
    first = first_landed - dt.timedelta(days=MARTS_REACH_DAYS)
    return first.isoformat(), yesterday.isoformat()


@dg.schedule(
    job=daily_job,
    cron_schedule="30 1 * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Every night, one run: the last AFTER_SALES_REBUILD_DAYS landing days and every business date they feed "
        "(late orders, feedback up to 14 days after its order)."
    ),
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Request one run over the trailing window ending yesterday."""
    first, last = rebuild_range(context.scheduled_execution_time, SETTINGS.rebuild_days)
    return dg.RunRequest(
        run_key=f"daily-{last}",
        tags={RANGE_START: first, RANGE_END: last, "after_sales/trigger": "daily_schedule"},
    )
