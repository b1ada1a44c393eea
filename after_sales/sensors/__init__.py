"""Sensors: one per landing source (new files trigger runs), the landing audit, failure and freshness alerts.

Landing sensors start STOPPED, like the nightly schedule (turn them on in the UI or with `dagster sensor start`);
the audit and the alert sensors start RUNNING. See docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from .alerting import failed_check_alert_sensor, freshness_alert_sensor, run_failure_alert_sensor
from .audit import landing_audit_sensor
from .landing import landing_sensor, source_assets


def build_sensors(marketplaces: Iterable[str]) -> list[dg.SensorDefinition]:
    """Every sensor of the code location: a landing sensor per source, the landing audit, then the alert sensors."""
    sources = source_assets(marketplaces)
    landing = [landing_sensor(source, assets) for source, assets in sources.items()]
    alerts = [run_failure_alert_sensor(), failed_check_alert_sensor(), freshness_alert_sensor()]
    return [*landing, landing_audit_sensor(sources), *alerts]


__all__ = [
    "build_sensors",
    "failed_check_alert_sensor",
    "freshness_alert_sensor",
    "landing_audit_sensor",
    "landing_sensor",
    "run_failure_alert_sensor",
    "source_assets",
]
