"""Landing sensors: a dropped file requests exactly the partitions it touches, once; a file being written waits."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.partitions import FEEDBACK_WINDOW_DAYS, SETTINGS
from after_sales.sensors.landing import (
    FILES_TAG,
    RANGE_END,
    RANGE_START,
    TRIGGER_TAG,
    affected_partitions,
    downstream_keys,
    feedback_reads_orders,
    last_partition_day,
    scan,
)
from after_sales.sources import MARKETPLACE_SOURCES
from tests.support.landing import BEHAVIOUR_HEADER, ORDERS_HEADER, write_landing
from tests.support.sensors import age, tick

REPO = defs.get_repository_def()
LAST = last_partition_day() or dt.date.today()
ORDER_LINE = "O1,{day} 10:00:00,U1,杯,1,10.00,alipay,paid,web"


def downstream_of(asset: str) -> set[str]:
    """Partitioned assets downstream of a staging asset, other staging assets excluded."""
    graph = REPO.asset_graph
    found, todo = set(), [dg.AssetKey(asset)]
    while todo:
        for child in graph.get(todo.pop()).child_entity_keys:
            node = graph.get(child) if isinstance(child, dg.AssetKey) else None
            if node is not None and node.is_partitioned and node.group_name != "staging" and child not in found:
                found.add(child)
                todo.append(child)
    return {k.to_user_string() for k in found}


def test_a_sensor_per_landing_source() -> None:
    names = {s.name for s in REPO.sensor_defs}
    sources = ["orders", "feedback", "behaviour", *MARKETPLACE_SOURCES]
    assert {f"landing_{s}" for s in sources} <= names
    for source in sources:
        sensor = REPO.get_sensor_def(f"landing_{source}")
        assert sensor.minimum_interval_seconds == 60
        assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
        assert sensor.job_name == daily_job.name


@pytest.mark.slow
def test_dropped_file_requests_the_affected_partitions_once(landing: Path) -> None:
    old = write_landing(landing, "orders", (LAST - dt.timedelta(days=20)).isoformat(), [], ORDERS_HEADER)
    age(old, 3600)
    first = tick("landing_orders", landing, None)
    assert not first.run_requests and "baseline" in (first.skip_message or "")

    day = LAST - dt.timedelta(days=2)
    dropped = write_landing(landing, "orders", day.isoformat(), [ORDER_LINE.format(day=day)], ORDERS_HEADER)
    age(dropped, 300)  # written and closed five minutes ago: settled at first sight
    today = write_landing(landing, "orders", (LAST + dt.timedelta(days=1)).isoformat(), [], ORDERS_HEADER)
    age(today, 300)  # today's folder is not a partition yet: it waits for tomorrow
    second = tick("landing_orders", landing, first.cursor)
    assert second.run_requests is not None and len(second.run_requests) == 1
    request = second.run_requests[0]
    # Orders landed on D feed business dates D - late days .. D; the roll-ups of later periods reach up to now.
    # Issue 16: they also feed the behaviour signals (promised dates, a search's latest order) of days from
    # D - late days, and problem_orders / work_orders of a date read the signals of the 14 days after it.
    reach = SETTINGS.late_arrival_days + FEEDBACK_WINDOW_DAYS
    assert request.tags[RANGE_START] == (day - dt.timedelta(days=reach)).isoformat()
    assert request.tags[RANGE_END] == LAST.isoformat()
    assert request.tags[TRIGGER_TAG] == "sensor:landing_orders"
    assert request.tags[FILES_TAG] == f"orders/{day}/export.csv"
    selected = {k.to_user_string() for k in request.asset_selection or []}
    # stg_feedback and stg_actions are re-staged too: feedback or a helpdesk action landed before its order waits in
    # quarantine as unknown_order.
    assert selected == {"stg_orders", "stg_feedback", "stg_actions"} | downstream_of("stg_orders")
    assert {"fct_order_feedback", "problem_orders", "work_orders", "metrics_daily"} <= selected
    assert not selected & {"stg_behaviour", "bi_views"}
    assert request.run_key and request.run_key.startswith("landing_orders:")

    third = tick("landing_orders", landing, second.cursor)
    assert not third.run_requests and third.cursor == second.cursor
    assert f"orders/{LAST + dt.timedelta(days=1)}/export.csv" not in json.loads(third.cursor or "{}")["files"]


@pytest.mark.slow
def test_file_being_written_waits_until_its_size_holds(landing: Path) -> None:
    cursor = tick("landing_behaviour", landing, None).cursor
    day = LAST - dt.timedelta(days=1)
    lines = [f"S{i},V{i},{day} 10:00:00,{day} 10:05:00,3,false" for i in range(3)]
    path = write_landing(landing, "behaviour", day.isoformat(), lines[:1], BEHAVIOUR_HEADER)
    writing = tick("landing_behaviour", landing, cursor)
    assert not writing.run_requests and f"behaviour/{day}/export.csv" in (writing.skip_message or "")
    path.write_text(path.read_text() + "\n".join(lines[1:]) + "\n", encoding="utf-8")  # still growing
    growing = tick("landing_behaviour", landing, writing.cursor)
    assert not growing.run_requests
    settled = tick("landing_behaviour", landing, growing.cursor)
    assert settled.run_requests is not None and len(settled.run_requests) == 1
    tags = settled.run_requests[0].tags
    # Sessions of day D feed the visitor rates of D - late days .. D + 7 (clipped to the last partition).
    assert tags[RANGE_START] == (day - dt.timedelta(days=SETTINGS.late_arrival_days)).isoformat()
    assert tags[RANGE_END] == LAST.isoformat()
    assert not tick("landing_behaviour", landing, settled.cursor).run_requests


@pytest.mark.slow
def test_changed_and_removed_files_request_again_with_a_new_run_key(landing: Path) -> None:
    cursor = tick("landing_orders", landing, None).cursor
    day = LAST - dt.timedelta(days=3)
    path = write_landing(landing, "orders", day.isoformat(), [ORDER_LINE.format(day=day)], ORDERS_HEADER)
    age(path, 300)
    added = tick("landing_orders", landing, cursor)
    path.write_text(path.read_text() + ORDER_LINE.replace("O1", "O2").format(day=day) + "\n", encoding="utf-8")
    age(path, 200)
    changed = tick("landing_orders", landing, added.cursor)
    path.unlink()
    removed = tick("landing_orders", landing, changed.cursor)
    keys = [t.run_requests[0].run_key for t in (added, changed, removed) if t.run_requests]
    assert len(keys) == 3 and len(set(keys)) == 3
    assert json.loads(removed.cursor or "{}") == {"files": {}, "settling": {}}


def test_scan_rules_without_dagster() -> None:
    first, last = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
    now = 10_000 * 1_000_000_000
    fresh, old = (10, now - 1_000_000_000), (10, now - 120 * 1_000_000_000)
    assert scan(None, {"orders/2026-01-02/a.csv": fresh}, now, 60, first, last).baseline
    previous = {"files": {"orders/2026-01-03/b.csv": old}, "settling": {}}
    found = scan(previous, {"orders/2026-01-02/a.csv": fresh, "orders/2026-01-05/c.csv": old}, now, 60, first, last)
    assert found.changes == {"orders/2026-01-05/c.csv": old, "orders/2026-01-03/b.csv": None}
    assert found.settling == ["orders/2026-01-02/a.csv"]
    assert found.days == [dt.date(2026, 1, 3), dt.date(2026, 1, 5)]
    again = scan(found.cursor, {"orders/2026-01-02/a.csv": fresh, "orders/2026-01-05/c.csv": old}, now, 60, first, last)
    assert again.changes == {"orders/2026-01-02/a.csv": fresh} and not again.settling


@pytest.mark.slow
@pytest.mark.parametrize("source", ["feedback", next(iter(MARKETPLACE_SOURCES))])
def test_other_sources_select_their_staging_assets(landing: Path, source: str) -> None:
    cursor = tick(f"landing_{source}", landing, None).cursor
    day = LAST - dt.timedelta(days=1)
    age(write_landing(landing, source, day.isoformat(), [], "x"), 300)
    request = tick(f"landing_{source}", landing, cursor).run_requests[0]  # type: ignore[index]
    selected = {k.to_user_string() for k in request.asset_selection or []}
    staging = ["stg_feedback"] if source == "feedback" else [f"stg_{source}_orders", f"stg_{source}_feedback"]
    assert set(staging) <= selected and "stg_orders" not in selected
    assert "fct_order_feedback" in selected


def test_marketplace_orders_restage_the_feedback_days_that_can_name_them() -> None:
    """A marketplace's feedback staging reads the orders landed around it: new orders of day D re-stage the feedback
    of D - late days .. D + 14, whose business dates the orders of D already reach, so the marts are not widened.
    Not through a graph edge (a backfill of every asset could not order the step's two outputs)."""
    graph = REPO.asset_graph
    source = next(iter(MARKETPLACE_SOURCES))
    orders, feedback = dg.AssetKey(f"stg_{source}_orders"), dg.AssetKey(f"stg_{source}_feedback")
    assert orders not in graph.get(feedback).parent_entity_keys
    assert feedback_reads_orders([orders, feedback]) == {feedback: orders}
    assert not feedback_reads_orders([dg.AssetKey("stg_feedback")])
    day = LAST - dt.timedelta(days=100)
    affected = affected_partitions(graph, [orders, feedback], downstream_keys(graph, [orders, feedback]), [day])
    assert affected[orders] == {day.isoformat()}
    first, last = day - dt.timedelta(days=SETTINGS.late_arrival_days), day + dt.timedelta(days=FEEDBACK_WINDOW_DAYS)
    assert affected[feedback] == {(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)}
    assert max(affected[dg.AssetKey("fct_order_feedback")]) == day.isoformat()


@pytest.mark.slow
def test_the_requested_run_materializes_the_new_rows(
    landing: Path, resources: dict[str, object], warehouse: object
) -> None:
    cursor = tick("landing_orders", landing, None).cursor
    day = LAST - dt.timedelta(days=1)
    age(write_landing(landing, "orders", day.isoformat(), [ORDER_LINE.format(day=day)], ORDERS_HEADER), 300)
    request = tick("landing_orders", landing, cursor).run_requests[0]  # type: ignore[index]
    job = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources).resolve_job_def(  # type: ignore[arg-type]
        daily_job.name
    )
    result = job.execute_in_process(tags=request.tags, asset_selection=request.asset_selection, raise_on_error=False)
    assert result.success
    fact = warehouse.query("SELECT order_id, business_date FROM after_sales.fct_order_feedback")  # type: ignore[attr-defined]
    assert fact.values.tolist() == [["O1", day]]


@pytest.mark.slow
def test_far_apart_days_make_separate_runs(landing: Path) -> None:
    cursor = tick("landing_orders", landing, None).cursor
    near, far = LAST - dt.timedelta(days=2), LAST - dt.timedelta(days=200)
    for day in (near, far):
        age(write_landing(landing, "orders", day.isoformat(), [ORDER_LINE.format(day=day)], ORDERS_HEADER), 300)
    requests = sorted(tick("landing_orders", landing, cursor).run_requests or [], key=lambda r: r.tags[RANGE_START])
    assert len(requests) == 2 and requests[0].run_key != requests[1].run_key
    reach = SETTINGS.late_arrival_days + FEEDBACK_WINDOW_DAYS  # issue 16: through the behaviour signals
    assert requests[0].tags[RANGE_START] == (far - dt.timedelta(days=reach)).isoformat()
    assert requests[0].tags[RANGE_END] < requests[1].tags[RANGE_START]
    assert [r.tags[FILES_TAG] for r in requests] == [f"orders/{far}/export.csv", f"orders/{near}/export.csv"]
