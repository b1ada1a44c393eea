"""Period roll-ups of the daily metric tables: day, rolling 7 and 28 days, ISO week, calendar month.

Counts and sums are the daily additive columns summed over the period's days; rates and means are
derived from those sums; medians and p90 come from the ticket and work-order rows of the period. A
period is kept when at least one of its days has been built (has a metrics_daily row).

Rebuilding days [a, b] changes every period whose dependency range [start - lookback, end] meets
[a, b]; `plan_rollups` gives the period ends to rewrite (from a up to the last such period end) and
the business dates to read, so the roll-ups are right whatever order days are built in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

import pandas as pd
import pyarrow as pa

from after_sales.tables import (
    METRICS_DAILY,
    METRICS_DAILY_BY_CAUSE,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_DAILY_BY_SERVICE_ITEM,
    METRICS_ROLLUPS,
    METRICS_ROLLUPS_BY_CAUSE,
    SERVICE_ITEM_SCORES,
    WORK_ORDERS,
    TableSpec,
)
from after_sales.transforms.metric_rules import MetricRules, load_metric_rules
from after_sales.transforms.metrics import ADDITIVE, CAUSE_ADDITIVE, TRAFFIC_ADDITIVE, measures_query
from after_sales.transforms.service_scores import score_items
from after_sales.transforms.sql_models import UTC_TIME, run_model, to_arrow, typed_frame
from after_sales.windows import DateWindow

PERIOD_KINDS = ("day", "rolling_7d", "rolling_28d", "week", "month")
ROLLING_DAYS = {"rolling_7d": 7, "rolling_28d": 28}
AS_OF_KINDS = ("day", *ROLLING_DAYS)
TRAFFIC_DAYS = 7  # a period's rolling visitor rate compares it with the 7 days before it
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """One period: its kind and first and last business date."""

    kind: str
    start: dt.date
    end: dt.date


def week_end(day: dt.date) -> dt.date:
    """The Sunday of day's ISO week."""
    return day + dt.timedelta(days=6 - day.weekday())


def month_end(day: dt.date) -> dt.date:
    """The last day of day's month."""
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - ONE_DAY


def periods_ending_between(first: dt.date, last: dt.date) -> list[Period]:
    """Every period of every kind whose last day is in [first, last]."""
    out = []
    day = first
    while day <= last:
        out.append(Period("day", day, day))
        out += [Period(kind, day - dt.timedelta(days=n - 1), day) for kind, n in ROLLING_DAYS.items()]
        if day == week_end(day):
            out.append(Period("week", day - dt.timedelta(days=6), day))
        if day == month_end(day):
            out.append(Period("month", day.replace(day=1), day))
        day += ONE_DAY
    return out


@dataclass(frozen=True)
class RollupPlan:
    """What rebuilding some days means for a roll-up table: period ends to rewrite, dates to read, periods."""

    write: DateWindow
    read: DateWindow
    periods: tuple[Period, ...]


def plan_rollups(changed: DateWindow, lookback: int = 0) -> RollupPlan:
    """The roll-up rows to rewrite after the days of changed were rebuilt.

    lookback is how many days before its start a period reads (backlog and traffic need history).
    """
    first, last_changed = changed.start, changed.end - ONE_DAY
    far = last_changed + dt.timedelta(days=lookback)
    last = max(far + dt.timedelta(days=max(ROLLING_DAYS.values()) - 1), week_end(far), month_end(far))
    return plan_period_ends(DateWindow(first, last + ONE_DAY), lookback)


def plan_period_ends(ends: DateWindow, lookback: int = 0) -> RollupPlan:
    """The roll-up rows of every period ending in ends, and the dates they read (lookback days before)."""
    periods = periods_ending_between(ends.start, ends.end - ONE_DAY)
    read_from = min(p.start for p in periods) - dt.timedelta(days=lookback)
    return RollupPlan(ends, DateWindow(read_from, ends.end), tuple(periods))


# The longest period a roll-up row covers: a calendar month.
LONGEST_PERIOD_DAYS = 31


@dataclass(frozen=True)
class PeriodReads:
    """The business dates a roll-up reads, declared once: a period ending on D reads from its first day minus lookback,
    never more than days_before days before D (the Dagster dependency); plans give the exact rows."""

    lookback: int = 0

    @property
    def days_before(self) -> int:
        """How many days before a period's end its reads can start."""
        return LONGEST_PERIOD_DAYS - 1 + self.lookback

    def after_change(self, changed: DateWindow) -> RollupPlan:
        """The period ends to rewrite, and what they read, after the days of changed were rebuilt."""
        return plan_rollups(changed, self.lookback)

    def of_ends(self, ends: DateWindow) -> RollupPlan:
        """The periods ending in ends and the dates they read."""
        return plan_period_ends(ends, self.lookback)


def _periods_input(periods: Iterable[Period]) -> pa.Table:
    """The periods as an SQL input, with each kind's place in PERIOD_KINDS (the roll-up tables' row order)."""
    rows = list(periods)
    return pa.table(
        {
            "period": pa.array([p.kind for p in rows], pa.string()),
            "period_start": pa.array([p.start for p in rows], pa.date32()),
            "period_end": pa.array([p.end for p in rows], pa.date32()),
            "kind_pos": pa.array([PERIOD_KINDS.index(p.kind) for p in rows], pa.int64()),
        }
    )


def _built_input(days: Collection[dt.date]) -> pa.Table:
    return pa.table({"business_date": pa.array(sorted(set(days)), pa.date32())})


def _end_of_day(day: dt.date, tz: str) -> pd.Timestamp:
    """Midnight after day in tz; a midnight a DST start skips (America/Sao_Paulo 2017-10-15): its first instant."""
    return pd.Timestamp(day + ONE_DAY).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def _as_of_input(days: Collection[dt.date], tz: str) -> pa.Table:
    ordered = sorted(set(days))
    instants = [_end_of_day(d, tz).tz_convert("UTC").to_pydatetime() for d in ordered]
    return pa.table({"as_of_date": pa.array(ordered, pa.date32()), "instant": pa.array(instants, UTC_TIME)})


def _coverage_inputs(periods: Iterable[Period], built: Collection[dt.date]) -> dict[str, pa.Table]:
    return {"periods": _periods_input(periods), "built": _built_input(built)}


_COVERAGE = {"as_of_kinds": list(AS_OF_KINDS)}
_ORDER = ["period_end", "kind_pos"]


def backlog(work_orders: pd.DataFrame, as_of_dates: list[dt.date], lookback_days: int, tz: str) -> pd.DataFrame:
    """Open work orders at the end of each as-of day (midnight after it in tz), per channel and 'all' (SQL).

    A work order is in the backlog at instant T when its order was placed in the lookback_days up to the
    as-of day, it opened before T and it was not resolved by T (resolved_at missing or >= T).
    """
    inputs = {
        "work_orders": to_arrow(WORK_ORDERS, work_orders, _BACKLOG_INPUT),
        "as_of": _as_of_input(as_of_dates, tz),
    }
    query = "SELECT * FROM backlog ORDER BY as_of_date, channel"
    table = run_model("rollup_backlog", inputs, {"lookback_days": lookback_days}, query=query)
    return table.to_pandas()


_BACKLOG_INPUT = ("business_date", "channel", "opened_at", "due_at", "resolved_at")
_TICKET_INPUT = ("business_date", "channel", "handling_hours", "first_response_hours")
_TICKET_HOURS = TableSpec(
    "tickets",
    "ticket rows (metrics.ticket_rows)",
    (
        METRICS_DAILY_BY_CHANNEL.column("business_date"),
        METRICS_DAILY_BY_CHANNEL.column("channel"),
        *(replace(METRICS_DAILY.column("handling_time_hours_median"), name=n) for n in _TICKET_INPUT[2:]),
    ),
)


def build_metrics_rollups(
    daily: pd.DataFrame,
    by_channel: pd.DataFrame,
    tickets: pd.DataFrame,
    work_orders: pd.DataFrame,
    plan: RollupPlan,
    tz: str,
    rules: MetricRules | None = None,
) -> pd.DataFrame:
    """metrics_rollups rows for the periods ending in plan.write, channel 'all' and each channel (SQL).

    daily and by_channel are the metrics_daily(_by_channel) rows of plan.read; tickets are ticket_rows of
    the fact over plan.read; work_orders the work_orders rows of plan.read.
    """
    rules = rules or load_metric_rules()
    built = set(daily["business_date"])
    inputs = {
        **_coverage_inputs(plan.periods, built),
        "daily": to_arrow(METRICS_DAILY, daily, ("business_date", *ADDITIVE, *TRAFFIC_ADDITIVE)),
        "by_channel": to_arrow(METRICS_DAILY_BY_CHANNEL, by_channel, ("business_date", "channel", *ADDITIVE)),
        "tickets": to_arrow(_TICKET_HOURS, tickets, _TICKET_INPUT),
        "work_orders": to_arrow(WORK_ORDERS, work_orders, _BACKLOG_INPUT),
        "as_of": _as_of_input(built, tz),
    }
    params = {**_COVERAGE, "lookback_days": rules.backlog_lookback_days}
    traffic = ("visitor_days", *TRAFFIC_ADDITIVE)
    query = measures_query(METRICS_ROLLUPS, "rollup_sums", [*_ORDER, "channel"], as_is=traffic)
    models = ["metric_macros", "rollup_coverage", "rollup_backlog", "metrics_rollups"]
    return typed_frame(METRICS_ROLLUPS, run_model(models, inputs, params, query=query), "UTC")


def build_cause_rollups(
    by_cause: pd.DataFrame, built_days: set[dt.date], work_orders: pd.DataFrame, plan: RollupPlan
) -> pd.DataFrame:
    """metrics_rollups_by_cause rows for the periods ending in plan.write (SQL)."""
    inputs = {
        **_coverage_inputs(plan.periods, built_days),
        "by_cause": to_arrow(METRICS_DAILY_BY_CAUSE, by_cause, ("business_date", "cause", *CAUSE_ADDITIVE)),
        "work_orders": to_arrow(WORK_ORDERS, work_orders, ("business_date", "cause", "opened_at", "resolved_at")),
    }
    query = measures_query(METRICS_ROLLUPS_BY_CAUSE, "cause_rollup_sums", [*_ORDER, "cause"])
    models = ["metric_macros", "rollup_coverage", "metrics_rollups_by_cause"]
    return typed_frame(METRICS_ROLLUPS_BY_CAUSE, run_model(models, inputs, _COVERAGE, query=query), "UTC")


def build_service_item_scores(
    by_item: pd.DataFrame, built_days: set[dt.date], plan: RollupPlan, rules: MetricRules | None = None
) -> pd.DataFrame:
    """service_item_scores rows for the periods ending in plan.write: sums (SQL), score, interval, grade."""
    counts = METRICS_DAILY_BY_SERVICE_ITEM.columns[2:]
    inputs = {
        **_coverage_inputs(plan.periods, built_days),
        "by_item": to_arrow(METRICS_DAILY_BY_SERVICE_ITEM, by_item, METRICS_DAILY_BY_SERVICE_ITEM.column_names),
    }
    table = run_model(["rollup_coverage", "service_item_sums"], inputs, _COVERAGE)
    sums = typed_frame(replace(SERVICE_ITEM_SCORES, columns=SERVICE_ITEM_SCORES.columns[:6] + counts), table, "UTC")
    return score_items(sums, rules)[SERVICE_ITEM_SCORES.column_names]
