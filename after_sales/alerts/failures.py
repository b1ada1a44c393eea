"""Alerts for a failed run, read from the Dagster instance: one per failed blocking check, one per other failed step."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRun
from dagster._utils.error import SerializableErrorInfo

from after_sales.alerts.notifiers import CHECK_FAILURE, RUN_FAILURE, Alert
from after_sales.alerts.redact import withhold_quoted

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
TRIGGER_TAG = "after_sales/trigger"


def run_partition(tags: Mapping[str, str]) -> str | None:
    """The run's partition: a key, `first...last` for a range run, or None."""
    if tags.get("dagster/partition"):
        return tags["dagster/partition"]
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if start and end:
        return start if start == end else f"{start}...{end}"
    return None


def run_trigger(tags: Mapping[str, str]) -> str | None:
    """What launched the run: our trigger tag, else Dagster's schedule, sensor or backfill tag."""
    if tags.get(TRIGGER_TAG):
        return tags[TRIGGER_TAG]
    for tag, prefix in (
        ("dagster/schedule_name", "schedule"),
        ("dagster/sensor_name", "sensor"),
        ("dagster/backfill", "backfill"),
    ):
        if tags.get(tag):
            return f"{prefix}:{tags[tag]}"
    return None


def error_text(error: SerializableErrorInfo | None) -> str:
    """An error and its causes, one message per line, without stack traces or quoted literals (row values)."""
    lines: list[str] = []
    while error is not None:
        message = withhold_quoted(error.message.strip())
        if message and message not in lines:
            lines.append(message)
        error = error.cause or error.context
    return "\ncaused by: ".join(lines)


def step_assets(instance: dg.DagsterInstance, run: DagsterRun) -> dict[str, list[str]]:
    """Asset names each step of the run materializes, from the run's execution plan."""
    if not run.execution_plan_snapshot_id:
        return {}
    snapshot = instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
    by_step: dict[str, list[str]] = {}
    for step in snapshot.steps:
        for output in step.outputs:
            if output.properties is not None and output.properties.asset_key is not None:
                by_step.setdefault(step.key, []).append(output.properties.asset_key.to_user_string())
    return by_step


def failed_check_alerts(instance: dg.DagsterInstance, run: DagsterRun) -> list[Alert]:
    """Alerts for the non-blocking checks of ERROR severity that failed in a run that succeeded otherwise."""
    common = {"run_id": run.run_id, "job": run.job_name, "trigger": run_trigger(run.tags)}
    alerts = []
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data if record.dagster_event else None
        if evaluation is None or evaluation.passed or evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        asset = evaluation.asset_key.to_user_string()
        counts = ", ".join(
            f"{k}={v.value}" for k, v in evaluation.metadata.items() if isinstance(getattr(v, "value", None), int)
        )
        reason = f"{asset} check {evaluation.check_name} failed (not blocking: the run wrote its rows)"
        alerts.append(
            Alert(
                CHECK_FAILURE,
                asset,
                evaluation.partition or run_partition(run.tags),
                f"{reason}: {counts}; details in the check's metadata in the UI" if counts else reason,
                check=evaluation.check_name,
                blocking=False,
                **common,
            )
        )
    return alerts


def run_failure_alerts(instance: dg.DagsterInstance, run: DagsterRun, run_message: str | None = None) -> list[Alert]:
    """Alerts for a failed run: failed blocking checks, then failed steps not explained by a check."""
    tags = run.tags
    common = {"run_id": run.run_id, "job": run.job_name, "trigger": run_trigger(tags)}
    partition = run_partition(tags)
    records = instance.all_logs(
        run.run_id, of_type={DagsterEventType.STEP_FAILURE, DagsterEventType.ASSET_CHECK_EVALUATION}
    )
    step_reasons: dict[str, str] = {}
    failed_checks = []
    for record in records:
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type == DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            described = data.user_failure_data.description if data.user_failure_data else None
            step_reasons[event.step_key or ""] = described or error_text(data.error) or "step failed"
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            failed = not evaluation.passed and (
                evaluation.blocking or evaluation.severity == dg.AssetCheckSeverity.ERROR
            )
            if failed:
                failed_checks.append((event.step_key or "", evaluation))
    alerts = []
    for step_key, evaluation in failed_checks:
        asset = evaluation.asset_key.to_user_string()
        marker = f"{asset} check {evaluation.check_name}:"
        lines = [line.strip(" -") for line in step_reasons.get(step_key, "").splitlines() if marker in line]
        reason = "\n".join(lines) or evaluation.description or f"blocking check {evaluation.check_name} failed"
        alerts.append(
            Alert(
                CHECK_FAILURE,
                asset,
                evaluation.partition or partition,
                reason,
                check=evaluation.check_name,
                **common,
            )
        )
    explained = {step_key for step_key, _ in failed_checks}
    assets = step_assets(instance, run)
    for step_key, reason in step_reasons.items():
        if step_key not in explained:
            names = assets.get(step_key) or [step_key]
            alerts.append(Alert(RUN_FAILURE, ", ".join(names), partition, reason, **common))
    if not alerts:  # the run failed outside any step (launch, run worker, dependency resolution)
        selected = sorted(k.to_user_string() for k in run.asset_selection or [])
        asset = ", ".join(selected) if selected else None
        alerts.append(Alert(RUN_FAILURE, asset, partition, run_message or "run failed", **common))
    return alerts
