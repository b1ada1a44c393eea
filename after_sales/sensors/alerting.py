"""Alerting sensors: failed runs and failed blocking checks, and yesterday's metrics not in by the deadline hour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import dagster as dg

from after_sales.alerts import (
    Notifier,
    due_partition,
    failed_check_alerts,
    freshness_alert,
    notifier_from_env,
    run_failure_alerts,
    send_all,
)
from after_sales.assets.common import FRESH_BY_HOUR
from after_sales.partitions import SETTINGS

NotifierFactory = Callable[[Any], Notifier]
FRESHNESS_INTERVAL_SECONDS = 300


def run_failure_alert_sensor(notifier_factory: NotifierFactory = notifier_from_env) -> dg.SensorDefinition:
    """Alert on every failed run of this code location: one alert per failed blocking check or failed step."""

    @dg.run_failure_sensor(
        name="alert_on_failure",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends an alert (log, and AFTER_SALES_ALERT_WEBHOOK_URL when set) for each failed blocking check and "
            "each other failed step of a failed run, with asset, partition, reason and a link to the run."
        ),
    )
    def alert_on_failure(context: dg.RunFailureSensorContext) -> None:
        """Read the failed run's check evaluations and step failures from the instance and send the alerts."""
        alerts = run_failure_alerts(context.instance, context.dagster_run, context.failure_event.message)
        send_all(notifier_factory(context.log), alerts)

    return alert_on_failure


def failed_check_alert_sensor(notifier_factory: NotifierFactory = notifier_from_env) -> dg.SensorDefinition:
    """Alert on every run that succeeded with a failed non-blocking ERROR check (feedback_conserved)."""

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        name="alert_on_failed_checks",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Sends a check_failure alert for each non-blocking check of severity ERROR that failed in a run that "
            "succeeded (the rows were written; the check found rows missing elsewhere, e.g. feedback_conserved)."
        ),
    )
    def alert_on_failed_checks(context: dg.RunStatusSensorContext) -> None:
        """Read the run's failed ERROR checks from the instance and send the alerts."""
        alerts = failed_check_alerts(context.instance, context.dagster_run)
        if alerts:
            send_all(notifier_factory(context.log), alerts)

    return alert_on_failed_checks


def freshness_alert_sensor(
    asset: str = "metrics_daily",
    fresh_by_hour: int = FRESH_BY_HOUR,
    timezone: str = SETTINGS.timezone,
    clock: Callable[[], dt.datetime] | None = None,
    notifier_factory: NotifierFactory = notifier_from_env,
) -> dg.SensorDefinition:
    """Alert once per day when yesterday's partition of the asset is not materialized by `fresh_by_hour` local."""

    @dg.sensor(
        name=f"{asset}_freshness",
        minimum_interval_seconds=FRESHNESS_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Alerts when {asset} of yesterday is not materialized by {fresh_by_hour:02d}:00 {timezone} "
            "(AFTER_SALES_FRESH_BY_HOUR); one alert per missed day."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        now = clock() if clock else dt.datetime.now(dt.UTC)
        due = due_partition(now, fresh_by_hour, timezone)
        if due is None:
            return dg.SkipReason(f"{asset}: yesterday's partition is not due before {fresh_by_hour:02d}:00 {timezone}")
        alert = freshness_alert(context.instance, asset, now, fresh_by_hour, timezone)
        if alert is None:
            return dg.SkipReason(f"{asset}: partition {due} is in")
        if context.cursor == alert.partition:
            return dg.SkipReason(f"{asset} {alert.partition}: breach already alerted")
        send_all(notifier_factory(context.log), [alert])
        context.update_cursor(alert.partition)
        return dg.SkipReason(f"alerted: {alert.summary}")

    return _sensor
