"""The daily schedule: yesterday plus a trailing window of days, in one run."""

import datetime as dt

import dagster as dg

from after_sales.jobs import daily_job
from after_sales.partitions import SETTINGS

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


def rebuild_range(scheduled: dt.datetime, rebuild_days: int) -> tuple[str, str]:
    """First and last partition key to rebuild for a tick: yesterday and the days before it."""
    yesterday = scheduled.date() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=max(rebuild_days, 1) - 1)
    return first.isoformat(), yesterday.isoformat()


@dg.schedule(
    job=daily_job,
    cron_schedule="30 1 * * *",
    execution_timezone=SETTINGS.timezone,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Every night: yesterday plus the trailing AFTER_SALES_REBUILD_DAYS days (late rows), one run.",
)
def daily_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Request one run over the trailing window ending yesterday."""
    first, last = rebuild_range(context.scheduled_execution_time, SETTINGS.rebuild_days)
    return dg.RunRequest(
        run_key=f"daily-{last}",
        tags={RANGE_START: first, RANGE_END: last, "after_sales/trigger": "daily_schedule"},
    )
