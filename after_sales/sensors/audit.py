"""The landing-zone audit: what lies under the landing zone but is never loaded is reported, and alerted once."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg

from after_sales.alerts import LANDING_PROBLEM, Alert, Notifier, notifier_from_env, send_all
from after_sales.landing import Misplaced, folder_day, landing_problems
from after_sales.resources import LandingZone

AUDIT_INTERVAL_SECONDS = 300


def problem_alert(problem: Misplaced, staging: Mapping[str, Sequence[str]]) -> Alert:
    """The alert for one path: its source's staging asset(s) and its landing day when it has them."""
    parts = problem.path.split("/")
    assets = staging.get(parts[0])
    day = parts[1] if len(parts) >= 2 and folder_day(parts[1]) else None
    return Alert(LANDING_PROBLEM, ", ".join(assets) if assets else None, day, str(problem))


def load_alerted(raw: str | None) -> set[str]:
    """Paths already alerted (the cursor: a JSON list)."""
    return set(json.loads(raw)) if raw else set()


def landing_audit_sensor(
    staging: Mapping[str, Sequence[str]],
    notifier_factory: Callable[[Any], Notifier] = notifier_from_env,
) -> dg.SensorDefinition:
    """Warn on each tick about every path not loaded; alert once per path (again if it comes back after a fix)."""

    @dg.sensor(
        name="landing_zone_audit",
        minimum_interval_seconds=AUDIT_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Lists what the landing zone holds but never loads: links leading outside it (refused), folders that "
            "are not a configured source (amazon/, Orders/) or not a day (2025-13-01), unsupported files. Each "
            "tick logs them as warnings; each path is alerted once (the cursor holds the alerted paths)."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SkipReason:
        problems = landing_problems(landing.path, sorted(staging))
        for problem in problems:
            context.log.warning(f"not loaded: {problem}")
        alerted = load_alerted(context.cursor)
        new = [p for p in problems if p.path not in alerted]
        if new:
            send_all(notifier_factory(context.log), [problem_alert(p, staging) for p in new])
        # Fixed paths leave the cursor, so the same mistake made again is alerted again.
        context.update_cursor(json.dumps(sorted(p.path for p in problems), ensure_ascii=False))
        if not problems:
            return dg.SkipReason("every path under the landing zone is loadable")
        return dg.SkipReason(
            f"{len(problems)} path(s) not loaded ({len(new)} newly alerted): "
            + "; ".join(str(p) for p in problems[:20])
            + (f"; ... and {len(problems) - 20} more" if len(problems) > 20 else "")
        )

    return _sensor
