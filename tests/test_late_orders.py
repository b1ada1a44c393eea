"""A feedback that lands before its order reaches the fact: the orders sensor re-stages it, replay rebuilds its date."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from after_sales.alerts import Alert, Notifier
from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.replay import replay
from after_sales.resources import LandingZone
from after_sales.resources.warehouse import Warehouse
from after_sales.sensors import failed_check_alert_sensor
from after_sales.sensors.landing import last_partition_day
from tests.support.landing import FEEDBACK_HEADER, ORDERS_HEADER, write_landing
from tests.support.postgres import SKIP_PG_ENV, fresh_database
from tests.support.runs import resources_for
from tests.support.sensors import age

LAST = last_partition_day() or dt.date.today()
D = LAST - dt.timedelta(days=10)  # the sensor's range fits one chunk (empty chunks: issue 13 item 1)
ORDER_DAY = D - dt.timedelta(days=1)  # ordered the day before the feedback, landed five days after it
ORDER_LANDED = D + dt.timedelta(days=5)


@pytest.fixture
def resources(request: pytest.FixtureRequest, landing: Path, duckdb_url: str, tmp_path: Path) -> Iterator[dict]:
    """The conftest resources on DuckDB, or on a fresh PostgreSQL database when parametrized with "postgres"."""
    if getattr(request, "param", "duckdb") == "duckdb":
        url = duckdb_url
        yield resources_for(url, landing, tmp_path / "exports")
        return
    if os.environ.get(SKIP_PG_ENV) == "1":
        pytest.skip(f"{SKIP_PG_ENV}=1")
    with fresh_database() as url:
        yield resources_for(url, landing, tmp_path / "exports")


def make_definitions(resources: dict[str, object]) -> dg.Definitions:
    """The real assets and sensors over the test's landing zone and warehouse."""
    return dg.Definitions(
        assets=list(defs.assets or []),  # type: ignore[arg-type]
        jobs=[daily_job],
        sensors=list(defs.sensors or []),
        resources=resources,
    )


def execute(definitions: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest) -> None:
    """Run a sensor's run request as the daemon would: its tags and its asset selection."""
    job = definitions.resolve_job_def(daily_job.name)
    result = job.execute_in_process(
        tags=request.tags, asset_selection=request.asset_selection, instance=instance, raise_on_error=False
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert not failed, failed  # feedback_conserved included: nothing landed is lost


def orders_tick(definitions: dg.Definitions, landing: Path, instance: dg.DagsterInstance, cursor: str | None):
    """One tick of landing_orders with a real instance."""
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=instance,
        resources={"landing": LandingZone(base_dir=str(landing))},
        definitions=definitions,
    )
    return definitions.get_repository_def().get_sensor_def("landing_orders").evaluate_tick(context)


def where_is(warehouse: Warehouse, feedback_id: str) -> tuple[list[object], list[str]]:
    """The fact partitions holding the feedback, and its quarantine rules."""
    fact = warehouse.query(
        f"SELECT business_date FROM after_sales.fct_order_feedback WHERE feedback_id = '{feedback_id}'"
    )
    quarantine = warehouse.query(
        f"SELECT rule FROM after_sales.quarantine WHERE raw LIKE '%{feedback_id}%' AND staging_table = 'stg_feedback'"
    )
    return fact["business_date"].tolist(), quarantine["rule"].tolist()


@pytest.fixture
def early_feedback(landing: Path, resources: dict[str, object], warehouse: Warehouse):
    """Orders and feedback of D built (F2 names O2, not landed yet): F2 is quarantined as unknown_order."""
    write_landing(landing, "orders", D.isoformat(), [f"O1,{D} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    write_landing(
        landing,
        "feedback",
        D.isoformat(),
        [f"F1,O1,{D} 12:00:00,5,review,好,,,,false", f"F2,O2,{D} 12:00:00,1,complaint,没收到货,,,,false"],
        FEEDBACK_HEADER,
    )
    definitions = make_definitions(resources)
    instance = dg.DagsterInstance.ephemeral()
    execute(
        definitions,
        instance,
        dg.RunRequest(
            tags={
                "dagster/asset_partition_range_start": ORDER_DAY.isoformat(),
                "dagster/asset_partition_range_end": D.isoformat(),
            },
            asset_selection=[dg.AssetKey(k) for k in ("stg_orders", "stg_feedback", "fct_order_feedback")],
        ),
    )
    assert where_is(warehouse, "F2") == ([], ["unknown_order"])
    return definitions, instance


def land_the_order(landing: Path) -> None:
    """O2, ordered the day before D, lands on D + 5 (inside the 7-day late-arrival window)."""
    path = write_landing(
        landing,
        "orders",
        ORDER_LANDED.isoformat(),
        [f"O2,{ORDER_DAY} 18:00:00,U2,耳机,1,99.00,wechat,paid,web"],
        ORDERS_HEADER,
    )
    age(path, 300)


@pytest.mark.slow
@pytest.mark.parametrize("resources", ["duckdb", "postgres"], indirect=True)
def test_the_orders_sensor_brings_feedback_landed_before_its_order_into_the_fact(
    early_feedback: tuple[dg.Definitions, dg.DagsterInstance], landing: Path, warehouse: Warehouse
) -> None:
    definitions, instance = early_feedback
    baseline = orders_tick(definitions, landing, instance, None)
    land_the_order(landing)
    tick = orders_tick(definitions, landing, instance, baseline.cursor)
    assert tick.run_requests
    for request in tick.run_requests:
        execute(definitions, instance, request)
    assert where_is(warehouse, "F2") == ([ORDER_DAY], [])
    assert where_is(warehouse, "F1") == ([D], [])


@pytest.mark.slow
def test_replaying_the_feedback_day_rebuilds_the_orders_business_date(
    early_feedback: tuple[dg.Definitions, dg.DagsterInstance],
    landing: Path,
    resources: dict[str, object],
    warehouse: Warehouse,
) -> None:
    definitions, instance = early_feedback
    land_the_order(landing)
    # The order is staged by hand, for its own landing day only (no sensor): F2 is still quarantined.
    execute(
        definitions,
        instance,
        dg.RunRequest(
            tags={
                "dagster/asset_partition_range_start": ORDER_LANDED.isoformat(),
                "dagster/asset_partition_range_end": ORDER_LANDED.isoformat(),
            },
            asset_selection=[dg.AssetKey("stg_orders")],
        ),
    )
    assert where_is(warehouse, "F2") == ([], ["unknown_order"])
    results = replay(definitions, "feedback", [D], instance)
    assert results and all(r.success for r in results)
    assert where_is(warehouse, "F2") == ([ORDER_DAY], [])


@pytest.mark.slow
def test_feedback_conserved_fails_when_a_staged_feedback_misses_its_fact_partition(
    early_feedback: tuple[dg.Definitions, dg.DagsterInstance], landing: Path, warehouse: Warehouse
) -> None:
    definitions, instance = early_feedback
    land_the_order(landing)
    # The replay as documented before: the feedback day's staging and its own fact partition, nothing else.
    job = definitions.resolve_job_def(daily_job.name)
    for first, selection in ((ORDER_LANDED, ["stg_orders"]), (D, ["stg_feedback", "fct_order_feedback"])):
        result = job.execute_in_process(
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": first.isoformat(),
            },
            asset_selection=[dg.AssetKey(k) for k in selection],
            instance=instance,
            raise_on_error=False,
        )
    assert result.success  # not blocking: fct of D is right and written
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    failed = checks["feedback_conserved"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert "F2" in str(failed.metadata["missing_examples"].value)
    # F2 left quarantine (staged) but its fact partition was not rebuilt: the loss the check reports.
    assert where_is(warehouse, "F2") == ([], [])
    recorded = warehouse.query(
        "SELECT passed, blocking FROM after_sales.data_quality_runs WHERE check_name = 'feedback_conserved'"
    )
    assert [False, False] in recorded.values.tolist()  # recorded as a failed check ...
    assert not recorded["blocking"].any()  # ... that never blocks

    # ... and alert_on_failed_checks sends it, without the feedback's id or text.
    captured: list[Alert] = []
    sensor = failed_check_alert_sensor(notifier_factory=lambda _log: Capture(captured))
    run = instance.get_run_by_id(result.run_id)
    success = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_SUCCESS)[0].dagster_event
    assert run is not None and success is not None
    sensor(  # type: ignore[operator]
        dg.build_run_status_sensor_context(
            sensor_name=sensor.name, dagster_event=success, dagster_instance=instance, dagster_run=run
        )
    )
    assert [(a.event, a.asset, a.check) for a in captured] == [
        ("check_failure", "fct_order_feedback", "feedback_conserved")
    ]
    payload = captured[0].payload("http://ui")
    assert "feedback_missing=1" in payload["reason"] and "F2" not in str(payload)
    assert payload["text"].startswith("after_sales: check failed: fct_order_feedback.feedback_conserved")


class Capture(Notifier):
    """Keeps the alerts it is sent."""

    def __init__(self, into: list[Alert]) -> None:
        self.into = into

    def send(self, alert: Alert) -> None:
        """Keep the alert."""
        self.into.append(alert)


TAOBAO_REVIEWS = "评价时间,订单编号,宝贝标题,评价人,评价,评价内容,解释内容,解释时间"
TAOBAO_ORDERS = (
    "订单编号,买家会员名,买家支付宝账号,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,宝贝总数量,收货人姓名,"
    "订单备注"
)
LATE_TAOBAO_ORDER = "2870061234567899999"


def marketplace_tick(definitions: dg.Definitions, landing: Path, cursor: str | None) -> dg.SensorExecutionData:
    """One tick of landing_taobao."""
    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingZone(base_dir=str(landing))}, definitions=definitions
    )
    return definitions.get_repository_def().get_sensor_def("landing_taobao").evaluate_tick(context)


@pytest.mark.slow
def test_marketplace_orders_landing_after_their_review_take_it_out_of_quarantine(
    landing: Path, resources: dict[str, object], warehouse: Warehouse
) -> None:
    """A Taobao review lands on D before its order (landed on D + 2): quarantined as unknown_order, then the
    landing sensor's run for the order re-stages D's feedback too, and the review is staged."""
    write_landing(
        landing,
        "taobao",
        D.isoformat(),
        [f"{D} 12:00:00,{LATE_TAOBAO_ORDER},保温杯,t**e,差评,还没收到货,,"],
        TAOBAO_REVIEWS,
        name="评价导出.csv",
    )
    definitions = make_definitions(resources)
    instance = dg.DagsterInstance.ephemeral()
    staging = [dg.AssetKey("stg_taobao_orders"), dg.AssetKey("stg_taobao_feedback")]
    tags = {"dagster/asset_partition_range_start": D.isoformat(), "dagster/asset_partition_range_end": D.isoformat()}
    execute(definitions, instance, dg.RunRequest(tags=tags, asset_selection=staging))

    def review() -> tuple[int, list[str]]:
        staged = warehouse.query(
            f"SELECT count(*) AS n FROM after_sales.stg_taobao_feedback WHERE order_id = '{LATE_TAOBAO_ORDER}'"
        )
        quarantined = warehouse.query(
            "SELECT rule FROM after_sales.quarantine WHERE staging_table = 'stg_taobao_feedback' "
            f"AND raw LIKE '%{LATE_TAOBAO_ORDER}%'"
        )
        return int(staged["n"].iloc[0]), quarantined["rule"].tolist()

    assert review() == (0, ["unknown_order"])
    baseline = marketplace_tick(definitions, landing, None)
    order_day = D - dt.timedelta(days=1)
    path = write_landing(
        landing,
        "taobao",
        (D + dt.timedelta(days=2)).isoformat(),
        [
            f'="{LATE_TAOBAO_ORDER}",tb_bob,b***@163.com,99.00,交易成功,'
            f"{order_day} 09:00:00,{order_day} 09:01:00,保温杯,1,李*,"
        ],
        TAOBAO_ORDERS,
        name="ExportOrderList.csv",
    )
    age(path, 300)
    requests = marketplace_tick(definitions, landing, baseline.cursor).run_requests or []
    assert [r.tags["dagster/asset_partition_range_start"] <= D.isoformat() for r in requests] == [True]
    execute(definitions, instance, requests[0])
    assert review() == (1, [])
