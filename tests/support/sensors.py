"""One tick of a landing sensor of the real Definitions, and files aged as if finished a while ago."""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg

from after_sales.definitions import defs
from after_sales.resources import LandingZone

REPO = defs.get_repository_def()


def tick(sensor: str, landing: Path, cursor: str | None) -> dg.SensorExecutionData:
    """Evaluate one tick of a sensor of the real Definitions against the landing folder."""
    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingZone(base_dir=str(landing))}, definitions=defs
    )
    return REPO.get_sensor_def(sensor).evaluate_tick(context)


def age(path: Path, seconds: float) -> None:
    """Set a file's mtime into the past, as for a file finished a while ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))
