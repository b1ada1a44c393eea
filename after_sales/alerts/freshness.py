"""Freshness: yesterday's partition of an asset must be materialized by a local hour, else a breach alert."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from after_sales.alerts.notifiers import FRESHNESS_BREACH, Alert


def due_partition(now: dt.datetime, fresh_by_hour: int, timezone: str) -> str | None:
    """Yesterday's partition key once today's deadline hour has passed in the zone, else None (not due yet)."""
    local = now.astimezone(ZoneInfo(timezone))
    if local.hour < fresh_by_hour:
        return None
    return (local.date() - dt.timedelta(days=1)).isoformat()


def _latest_attempt(instance: dg.DagsterInstance, run_id: str | None) -> str:
    """What the instance knows about the last run that was to build the asset."""
    if run_id is None:
        return "no run has tried to materialize it yet"
    run = instance.get_run_by_id(run_id)
    return f"the latest run planning it is {run_id} ({run.status.value if run else 'unknown'})"


def freshness_alert(
    instance: dg.DagsterInstance, asset: str, now: dt.datetime, fresh_by_hour: int, timezone: str
) -> Alert | None:
    """A breach alert when yesterday's partition of the asset is not materialized after the deadline hour."""
    partition = due_partition(now, fresh_by_hour, timezone)
    if partition is None:
        return None
    key = dg.AssetKey(asset)
    done = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition]), limit=1)
    if done.records:
        return None
    local = now.astimezone(ZoneInfo(timezone))
    latest = instance.get_latest_materialization_event(key)
    last = (
        f"last materialization: partition {latest.dagster_event.partition if latest.dagster_event else '?'} at "
        f"{dt.datetime.fromtimestamp(latest.timestamp, ZoneInfo(timezone)):%Y-%m-%d %H:%M}"
        if latest
        else "it was never materialized"
    )
    planned = instance.get_latest_planned_materialization_info(key)
    run_id = planned.run_id if planned else None
    reason = (
        f"{asset} for {partition} was not materialized by {fresh_by_hour:02d}:00 {timezone} "
        f"(checked at {local:%Y-%m-%d %H:%M}); {last}; {_latest_attempt(instance, run_id)}"
    )
    return Alert(FRESHNESS_BREACH, asset, partition, reason, run_id=run_id)
