"""Alerts: a freshness breach, a failed blocking check and a failed step reach a local webhook as documented."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.storage.dagster_run import DagsterRun

from after_sales.alerts import (
    ENV_UI_URL,
    ENV_WEBHOOK_URL,
    Alert,
    AlertDeliveryError,
    WebhookNotifier,
    run_failure_alerts,
)
from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.schedules import RANGE_END, RANGE_START
from after_sales.sensors import freshness_alert_sensor
from tests.support.landing import ORDERS_HEADER, write_landing
from tests.support.webhook import Hook

DAY = "2026-10-05"
UI = "http://ui.example.test:3000"
PAYLOAD_KEYS = {
    "event",
    "asset",
    "check",
    "partition",
    "reason",
    "run_id",
    "run_url",
    "asset_url",
    "job",
    "trigger",
    "sent_at",
    "text",
}


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    """A webhook receiver, configured through the environment like in production."""
    server = Hook()
    monkeypatch.setenv(ENV_WEBHOOK_URL, server.url)
    monkeypatch.setenv(ENV_UI_URL, UI)
    yield server
    server.close()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A persistent Dagster instance in a temp dir (runs, event logs, sensor contexts)."""
    with dg.instance_for_test() as inst:
        yield inst


def run_failed(
    instance: dg.DagsterInstance, resources: dict[str, object], selection: list[str]
) -> dg.ExecuteInProcessResult:
    """Run the selection for DAY on the instance; the run is expected to fail."""
    job = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources).resolve_job_def(  # type: ignore[arg-type]
        daily_job.name
    )
    result = job.execute_in_process(
        instance=instance,
        tags={RANGE_START: DAY, RANGE_END: DAY, "after_sales/trigger": "sensor:landing_orders"},
        asset_selection=[dg.AssetKey(s) for s in selection],
        raise_on_error=False,
    )
    assert not result.success
    return result


def evaluate_failure_sensor(instance: dg.DagsterInstance, run_id: str) -> None:
    """Evaluate the alert_on_failure sensor for a failed run, as the daemon would."""
    run = instance.get_run_by_id(run_id)
    assert run is not None
    failure = instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE)[0].dagster_event
    assert failure is not None
    context = dg.build_run_status_sensor_context(
        sensor_name="alert_on_failure", dagster_event=failure, dagster_instance=instance, dagster_run=run
    ).for_run_failure()
    sensor = defs.get_repository_def().get_sensor_def("alert_on_failure")
    sensor(context)  # type: ignore[operator]


@pytest.mark.slow
def test_failed_blocking_check_reaches_the_webhook(
    hook: Hook,
    instance: dg.DagsterInstance,
    resources: dict[str, object],
    landing: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    import after_sales.assets.staging as staging_assets

    real = staging_assets.stage_window

    def negative_amounts(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        result.rows["amount"] = -1.0
        return result

    monkeypatch.setattr(staging_assets, "stage_window", negative_amounts)
    result = run_failed(instance, resources, ["stg_orders"])
    evaluate_failure_sensor(instance, result.run_id)

    assert len(hook.bodies) == 1  # the failed check explains the failed step: one alert, not two
    body = hook.bodies[0]
    assert set(body) == PAYLOAD_KEYS
    assert body["event"] == "check_failure"
    assert (body["asset"], body["check"], body["partition"]) == ("stg_orders", "values", DAY)
    assert "expect_column_values_to_be_between(amount)" in str(body["reason"])
    assert body["run_id"] == result.run_id and body["run_url"] == f"{UI}/runs/{result.run_id}"
    assert body["asset_url"] == f"{UI}/assets/stg_orders"
    assert (body["job"], body["trigger"]) == ("after_sales_daily", "sensor:landing_orders")
    assert str(body["text"]).startswith("after_sales: blocking check failed: stg_orders.values [2026-10-05]")


@pytest.mark.slow
def test_failed_step_reaches_the_webhook_with_the_file_fault(
    hook: Hook,
    instance: dg.DagsterInstance,
    resources: dict[str, object],
    landing: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An empty file is refused alone since issue 13 (a file_refused alert, the run goes on): a data fault that
    # fails the step is raised here instead.
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    import after_sales.assets.staging as staging_assets

    def fault(*_: object) -> object:
        raise ValueError(f"orders/{DAY}/empty.csv: the file is empty (no header)")

    monkeypatch.setattr(staging_assets, "stage_window", fault)
    result = run_failed(instance, resources, ["stg_orders"])
    evaluate_failure_sensor(instance, result.run_id)
    assert [(b["event"], b["asset"], b["check"], b["partition"]) for b in hook.bodies] == [
        ("run_failure", "stg_orders", None, DAY)
    ]
    assert f"orders/{DAY}/empty.csv: the file is empty" in str(hook.bodies[0]["reason"])


@pytest.mark.slow
def test_freshness_breach_reaches_the_webhook_once(hook: Hook, instance: dg.DagsterInstance) -> None:
    tz = ZoneInfo("Asia/Shanghai")
    clock = {"now": dt.datetime(2026, 10, 6, 8, 59, tzinfo=tz)}
    sensor = freshness_alert_sensor(fresh_by_hour=9, timezone="Asia/Shanghai", clock=lambda: clock["now"])
    assert sensor.name == "metrics_daily_freshness"

    def tick(cursor: str | None) -> dg.SensorExecutionData:
        return sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))

    early = tick(None)
    assert not hook.bodies and "not due" in (early.skip_message or "")
    clock["now"] = dt.datetime(2026, 10, 6, 9, 30, tzinfo=tz)
    breach = tick(early.cursor)
    assert len(hook.bodies) == 1
    body = hook.bodies[0]
    assert set(body) == PAYLOAD_KEYS
    assert (body["event"], body["asset"], body["partition"]) == ("freshness_breach", "metrics_daily", DAY)
    assert "not materialized by 09:00 Asia/Shanghai" in str(body["reason"])
    assert body["run_id"] is None and body["run_url"] is None
    assert body["asset_url"] == f"{UI}/assets/metrics_daily"
    assert breach.cursor == DAY
    tick(breach.cursor)  # the same missed day is alerted once
    assert len(hook.bodies) == 1

    instance.report_runless_asset_event(dg.AssetMaterialization("metrics_daily", partition="2026-10-06"))
    clock["now"] = dt.datetime(2026, 10, 7, 9, 5, tzinfo=tz)
    fresh = tick(breach.cursor)
    assert len(hook.bodies) == 1 and "is in" in (fresh.skip_message or "")


def test_payload_and_delivery_errors(hook: Hook) -> None:
    alert = Alert("run_failure", "stg_orders", "2026-10-01...2026-10-03", "boom\nsecond line", run_id="abc")
    payload = alert.payload(UI, sent_at=dt.datetime(2026, 10, 6, tzinfo=dt.UTC))
    assert payload["run_url"] == f"{UI}/runs/abc" and payload["sent_at"] == "2026-10-06T00:00:00+00:00"
    assert payload["text"] == "after_sales: run failed: stg_orders [2026-10-01...2026-10-03]: boom"
    with pytest.raises(ValueError, match="unknown alert event"):
        Alert("oops", None, None, "")
    hook.status = 400  # a rejected payload is not sent again
    with pytest.raises(AlertDeliveryError, match="did not take"):
        WebhookNotifier(hook.url, attempts=3, backoff=0).send(alert)
    assert len(hook.bodies) == 1
    hook.close()
    with pytest.raises(AlertDeliveryError):
        WebhookNotifier(hook.url, attempts=2, backoff=0, timeout=2).send(alert)


@pytest.mark.slow
def test_run_failure_alerts_without_steps(instance: dg.DagsterInstance) -> None:
    run = DagsterRun(
        job_name="after_sales_daily",
        run_id="no-steps",
        tags={"dagster/partition": DAY, "dagster/schedule_name": "daily_schedule"},
    )
    alerts = run_failure_alerts(instance, run, "run worker crashed")
    assert [(a.event, a.asset, a.partition, a.reason, a.trigger) for a in alerts] == [
        ("run_failure", None, DAY, "run worker crashed", "schedule:daily_schedule")
    ]


@pytest.mark.slow
def test_a_headerless_file_alert_names_the_file_not_its_first_row(
    hook: Hook, instance: dg.DagsterInstance, resources: dict[str, object], landing: Path
) -> None:
    # A file without a header line: its first line is a customer's data (name, phone).
    lines = [
        f"O1,{DAY} 10:00:00,张三 13800138000,杯,1,10.00,alipay,paid,web",
        f"O2,{DAY} 11:00:00,李四,杯,1,5,alipay,paid,web",
    ]
    (landing / "orders" / DAY).mkdir(parents=True)
    (landing / "orders" / DAY / "export.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Since issue 13 the file is refused alone (quarantine_files) and the step sends a file_refused alert.
    from tests.support.runs import run_range

    assert run_range(resources, DAY, DAY, "stg_orders").success
    assert [b["event"] for b in hook.bodies] == ["file_refused"]
    body = json.dumps(hook.bodies[0], ensure_ascii=False)
    assert f"orders/{DAY}/export.csv" in body and "required column(s)" in body
    for value in ("张三", "13800138000", "O1", "10.00", "alipay"):
        assert value not in body, value


def test_alert_reasons_drop_sample_values_and_url_secrets() -> None:
    reason = (
        "stg_orders check values: expect_column_values_to_be_between(amount) failed: 1 of 3 rows unexpected, "
        "e.g. 13800138000, 张三\nx.csv: required column(s) amount missing from the header (found: 张三, 13800138000)\n"
        "POST https://user:pw@hooks.example.test:8443/services/T00/B00/SECRET?token=abc#frag failed\n"
        "table stg_orders, column amount: cannot cast to decimal(18,2): Float value 13800138000.5 was truncated"
    )
    payload = Alert("check_failure", "stg_orders", DAY, reason, check="values").payload(UI)
    text = json.dumps(payload, ensure_ascii=False)
    for secret in ("13800138000", "张三", "SECRET", "token", "abc", "user", "pw", "services", "8443"):
        assert secret not in text, secret
    assert "expect_column_values_to_be_between(amount) failed: 1 of 3 rows unexpected" in payload["reason"]
    assert "https://hooks.example.test" in payload["reason"]
    assert "column amount: cannot cast to decimal(18,2) (the error" in payload["reason"]


def test_a_failed_delivery_names_the_webhook_by_scheme_and_host_only(hook: Hook) -> None:
    alert = Alert("run_failure", "stg_orders", DAY, "boom")
    hook.status = 404
    secret_url = hook.url + "/T000/B000/XXXXSECRETXXXX?token=s3cr3t"
    with pytest.raises(AlertDeliveryError) as err:
        WebhookNotifier(secret_url, attempts=1, backoff=0).send(alert)
    assert "XXXXSECRETXXXX" not in str(err.value) and "s3cr3t" not in str(err.value)
    assert "webhook http://127.0.0.1 did not take the run_failure alert" in str(err.value)
    hook.close()
    with pytest.raises(AlertDeliveryError) as err:  # connection refused: the same redaction
        WebhookNotifier(secret_url, attempts=1, backoff=0, timeout=2).send(alert)
    assert "SECRET" not in str(err.value) and "s3cr3t" not in str(err.value)


def test_library_errors_in_alerts_have_their_quoted_values_withheld() -> None:
    from dagster._utils.error import SerializableErrorInfo

    from after_sales.alerts.failures import error_text

    cause = SerializableErrorInfo("Conversion Error: Could not convert string '张三 13800138000' to DECIMAL", [], "E")
    error = SerializableErrorInfo('can\'t write the chunk: invalid input "13800138000"', [], "E", cause=cause)
    text = error_text(error)
    assert "13800138000" not in text and "张三" not in text
    assert text.splitlines() == [
        "can't write the chunk: invalid input '…'",
        "caused by: Conversion Error: Could not convert string '…' to DECIMAL",
    ]
