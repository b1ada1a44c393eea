"""Sensors: one per landing source (new files trigger runs), failure alerts, and the metrics freshness alert.

Landing sensors start STOPPED, like the nightly schedule (turn them on in the UI or with `dagster sensor start`);
the alert sensors start RUNNING. See docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from .alerting import freshness_alert_sensor, run_failure_alert_sensor
from .landing import landing_sensor, source_assets


def build_sensors(marketplaces: Iterable[str]) -> list[dg.SensorDefinition]:
    """Every sensor of the code location: a landing sensor per source, then the alert sensors."""
    landing = [landing_sensor(source, assets) for source, assets in source_assets(marketplaces).items()]
    return [*landing, run_failure_alert_sensor(), freshness_alert_sensor()]


__all__ = ["build_sensors", "freshness_alert_sensor", "landing_sensor", "run_failure_alert_sensor", "source_assets"]
