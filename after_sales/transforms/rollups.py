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
from dataclasses import dataclass

import numpy as np
import pandas as pd

from after_sales.tables import METRICS_ROLLUPS, METRICS_ROLLUPS_BY_CAUSE, SERVICE_ITEM_SCORES
from after_sales.transforms.metric_rules import MetricRules, load_metric_rules
from after_sales.transforms.metrics import (
    ADDITIVE,
    CAUSE_ADDITIVE,
    QUANTILES,
    TRAFFIC_ADDITIVE,
    add_ratios,
    hours_between,
    ratio,
)
from after_sales.transforms.service_scores import score_items
from after_sales.windows import DateWindow

PERIOD_KINDS = ("day", "rolling_7d", "rolling_28d", "week", "month")
ROLLING_DAYS = {"rolling_7d": 7, "rolling_28d": 28}
AS_OF_KINDS = ("day", *ROLLING_DAYS)
TRAFFIC_DAYS = 7  # a period's rolling visitor rate compares it with the 7 days before it
PERIOD_KEYS = ["period", "period_start", "period_end"]
BACKLOG_COUNTS = ("backlog_work_orders", "backlog_overdue")
BACKLOG_AGES = ("backlog_age_hours_mean", "backlog_age_hours_median", "backlog_age_hours_max")
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


def _day64(values: pd.Series | list[dt.date]) -> np.ndarray:
    return pd.to_datetime(pd.Series(values, dtype=object)).to_numpy().astype("datetime64[D]")


def coverage(periods: tuple[Period, ...] | list[Period], built_days: set[dt.date]) -> pd.DataFrame:
    """The periods that exist, with days_with_data and as_of_date (their last built day).

    A day or rolling window exists when its last day is built; a week or month when any of its days is.
    """
    days = np.sort(_day64(sorted(built_days))) if built_days else np.array([], dtype="datetime64[D]")
    rows = []
    for p in periods:
        if p.kind in AS_OF_KINDS and p.end not in built_days:
            continue
        lo = np.searchsorted(days, np.datetime64(p.start, "D"), "left")
        hi = np.searchsorted(days, np.datetime64(p.end, "D"), "right")
        if hi > lo:
            rows.append((p.kind, p.start, p.end, int(hi - lo), days[hi - 1].item()))
    return pd.DataFrame(rows, columns=[*PERIOD_KEYS, "days_with_data", "as_of_date"])


def membership(cov: pd.DataFrame) -> pd.DataFrame:
    """One row per period and business date inside it."""
    rows = [
        (kind, start, end, start + dt.timedelta(days=i))
        for kind, start, end in zip(cov["period"], cov["period_start"], cov["period_end"], strict=True)
        for i in range((end - start).days + 1)
    ]
    return pd.DataFrame(rows, columns=[*PERIOD_KEYS, "business_date"])


def sum_by_period(daily: pd.DataFrame, member: str, columns: list[str], cov: pd.DataFrame) -> pd.DataFrame:
    """The daily columns summed per period and member, for the members with a row in the period."""
    joined = membership(cov).merge(daily[["business_date", member, *columns]], on="business_date", how="inner")
    for c in columns:
        if not isinstance(joined[c].dtype, pd.ArrowDtype):  # money stays an exact decimal
            joined[c] = pd.to_numeric(joined[c]).astype("float64")
    return joined.groupby([*PERIOD_KEYS, member], sort=True)[columns].sum().reset_index()


def quantiles_by_period(
    rows: pd.DataFrame, member: str, wanted: dict[str, tuple[str, float]], cov: pd.DataFrame
) -> pd.DataFrame:
    """Percentiles (linear interpolation) of row values per period and member, from the rows themselves."""
    starts = _day64(cov["period_start"].tolist())
    ends = _day64(cov["period_end"].tolist())
    out = []
    for value, g in rows.groupby(member, sort=True):
        found: dict[str, np.ndarray] = {}
        for name, (column, q) in wanted.items():
            part = g.loc[g[column].notna()].sort_values("business_date", kind="stable")
            days = _day64(part["business_date"].tolist())
            values = part[column].to_numpy(dtype="float64")
            lo = np.searchsorted(days, starts, "left")
            hi = np.searchsorted(days, ends, "right")
            found[name] = np.array(
                [np.quantile(values[a:b], q) if b > a else np.nan for a, b in zip(lo, hi, strict=True)]
            )
        frame = cov[PERIOD_KEYS].copy()
        frame[member] = value
        for name, values in found.items():
            frame[name] = values
        out.append(frame)
    if not out:
        return pd.DataFrame(columns=[*PERIOD_KEYS, member, *wanted])
    return pd.concat(out, ignore_index=True)


MICROS_PER_HOUR = 3_600_000_000


def with_all(rows: pd.DataFrame, member: str = "channel") -> pd.DataFrame:
    """The rows once per member and once more under member 'all'."""
    return pd.concat([rows, rows.assign(**{member: "all"})], ignore_index=True)


def backlog(
    work_orders: pd.DataFrame, as_of_dates: list[dt.date], lookback_days: int, tz: str, member: str = "channel"
) -> pd.DataFrame:
    """Open work orders at the end of each as-of day (midnight after it in tz), per member and 'all'.

    A work order is in the backlog at instant T when its order was placed in the lookback_days up to the
    as-of day, it opened before T and it was not resolved by T (resolved_at missing or >= T).
    """
    wo = with_all(work_orders[["business_date", member, "opened_at", "due_at", "resolved_at"]], member)
    placed = _day64(wo["business_date"].tolist())
    rows = []
    for as_of in sorted(set(as_of_dates)):
        # The end of as_of; a midnight skipped by a DST start (America/Sao_Paulo 2017-10-15) is its first instant.
        instant = pd.Timestamp(as_of + ONE_DAY).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)
        first = np.datetime64(as_of - dt.timedelta(days=lookback_days - 1), "D")
        inside = (placed >= first) & (placed <= np.datetime64(as_of, "D"))
        open_then = (wo["opened_at"] < instant) & (wo["resolved_at"].isna() | (wo["resolved_at"] >= instant))
        part = wo.loc[inside & open_then.to_numpy()]
        # Ages in whole microseconds: their integer sum does not depend on the row order, so neither does the mean.
        micros = (instant - part["opened_at"]).to_numpy().astype("timedelta64[us]").astype("int64")
        age = pd.Series(micros, index=part.index)
        overdue = part["due_at"] < instant
        for value, idx in part.groupby(member, sort=True).groups.items():
            a = age.loc[idx]
            mean = int(a.sum()) / len(idx) / MICROS_PER_HOUR
            median, high = float(a.median()) / MICROS_PER_HOUR, float(a.max()) / MICROS_PER_HOUR
            rows.append((as_of, value, len(idx), int(overdue.loc[idx].sum()), mean, median, high))
    return pd.DataFrame(rows, columns=["as_of_date", member, *BACKLOG_COUNTS, *BACKLOG_AGES])


def _trailing_visitors(daily: pd.DataFrame, cov: pd.DataFrame) -> list[float]:
    """Mean daily visitors over the 7 days before each period's start, over the days that have sessions."""
    seen = daily.loc[pd.to_numeric(daily["visitors"]) > 0].set_index("business_date")["visitors"].astype("float64")
    out = []
    for start in cov["period_start"]:
        prior = seen.reindex([start - dt.timedelta(days=k) for k in range(1, TRAFFIC_DAYS + 1)]).dropna()
        out.append(float(prior.mean()) if len(prior) else np.nan)
    return out


def _finish(frame: pd.DataFrame, spec_columns: list[str], member: str) -> pd.DataFrame:
    order = {k: i for i, k in enumerate(PERIOD_KINDS)}
    frame = frame.assign(_kind=frame["period"].map(order))
    frame = frame.sort_values(["period_end", "_kind", member], kind="stable").reset_index(drop=True)
    return frame[spec_columns]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def build_metrics_rollups(
    daily: pd.DataFrame,
    by_channel: pd.DataFrame,
    tickets: pd.DataFrame,
    work_orders: pd.DataFrame,
    plan: RollupPlan,
    tz: str,
    rules: MetricRules | None = None,
) -> pd.DataFrame:
    """metrics_rollups rows for the periods ending in plan.write, channel 'all' and each channel.

    daily and by_channel are the metrics_daily(_by_channel) rows of plan.read; tickets are ticket_rows of
    the fact over plan.read; work_orders the work_orders rows of plan.read.
    """
    rules = rules or load_metric_rules()
    cov = coverage(plan.periods, set(daily["business_date"]))
    if cov.empty:
        return _empty(METRICS_ROLLUPS.column_names)
    additive = list(ADDITIVE)
    totals = sum_by_period(daily.assign(channel="all"), "channel", additive + list(TRAFFIC_ADDITIVE), cov)
    per_channel = sum_by_period(by_channel, "channel", additive, cov)
    wo = work_orders.assign(resolution_hours=hours_between(work_orders["opened_at"], work_orders["resolved_at"]))
    lagged = backlog(work_orders, cov["as_of_date"].tolist(), rules.backlog_lookback_days, tz)
    lagged = cov.merge(lagged, on="as_of_date")[[*PERIOD_KEYS, "channel", *BACKLOG_COUNTS, *BACKLOG_AGES]]
    members = pd.concat([totals[[*PERIOD_KEYS, "channel"]], per_channel[[*PERIOD_KEYS, "channel"]]])
    members = pd.concat([members, lagged[[*PERIOD_KEYS, "channel"]]]).drop_duplicates()
    sums = pd.concat([totals, per_channel], ignore_index=True)
    frame = members.merge(sums, on=[*PERIOD_KEYS, "channel"], how="left").merge(cov, on=PERIOD_KEYS)
    frame[additive] = frame[additive].fillna(0)
    frame = add_ratios(frame)
    ticket_q = {k: v for k, v in QUANTILES.items() if v[0] != "resolution_hours"}
    wo_q = {k: v for k, v in QUANTILES.items() if v[0] == "resolution_hours"}
    for found in (
        quantiles_by_period(with_all(tickets), "channel", ticket_q, cov),
        quantiles_by_period(with_all(wo), "channel", wo_q, cov),
    ):
        frame = frame.merge(found, on=[*PERIOD_KEYS, "channel"], how="left")
    frame = frame.merge(lagged, on=[*PERIOD_KEYS, "channel"], how="left")
    frame[list(BACKLOG_COUNTS)] = frame[list(BACKLOG_COUNTS)].fillna(0)
    is_all = frame["channel"] == "all"
    frame["visitor_days"] = frame["visitors"].where(is_all)
    frame["visitors_daily_mean"] = ratio(frame["visitor_days"], frame["days_with_data"]).where(is_all)
    trailing = pd.Series(_trailing_visitors(daily, cov), index=pd.MultiIndex.from_frame(cov[PERIOD_KEYS]))
    frame["trailing"] = trailing.reindex(pd.MultiIndex.from_frame(frame[PERIOD_KEYS])).to_numpy()
    frame["rolling_visitor_rate"] = ratio(frame["visitors_daily_mean"], frame["trailing"]).where(is_all)
    for c in ("sessions", "sessions_with_submission", "submission_rate"):
        frame[c] = frame[c].where(is_all)
    return _finish(frame, METRICS_ROLLUPS.column_names, "channel")


def build_cause_rollups(
    by_cause: pd.DataFrame, built_days: set[dt.date], work_orders: pd.DataFrame, plan: RollupPlan
) -> pd.DataFrame:
    """metrics_rollups_by_cause rows for the periods ending in plan.write."""
    cov = coverage(plan.periods, built_days)
    if cov.empty:
        return _empty(METRICS_ROLLUPS_BY_CAUSE.column_names)
    frame = sum_by_period(by_cause, "cause", list(CAUSE_ADDITIVE), cov).merge(cov, on=PERIOD_KEYS)
    frame = add_ratios(frame)
    wo = work_orders.assign(resolution_hours=hours_between(work_orders["opened_at"], work_orders["resolved_at"]))
    wo_q = {k: v for k, v in QUANTILES.items() if v[0] == "resolution_hours"}
    frame = frame.merge(quantiles_by_period(wo, "cause", wo_q, cov), on=[*PERIOD_KEYS, "cause"], how="left")
    return _finish(frame, METRICS_ROLLUPS_BY_CAUSE.column_names, "cause")


def build_service_item_scores(
    by_item: pd.DataFrame, built_days: set[dt.date], plan: RollupPlan, rules: MetricRules | None = None
) -> pd.DataFrame:
    """service_item_scores rows for the periods ending in plan.write: sums, score, interval, grade."""
    cov = coverage(plan.periods, built_days)
    if cov.empty:
        return _empty(SERVICE_ITEM_SCORES.column_names)
    columns = [c for c in by_item.columns if c not in ("business_date", "service_action")]
    frame = sum_by_period(by_item, "service_action", columns, cov).merge(cov, on=PERIOD_KEYS)
    frame = score_items(frame, rules)
    return _finish(frame, SERVICE_ITEM_SCORES.column_names, "service_action")
