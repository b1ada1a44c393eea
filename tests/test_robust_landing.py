"""The landing zone: links leading outside it are refused, misplaced files reported and alerted once, never loaded."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import pytest

from after_sales.alerts import Alert, Notifier
from after_sales.landing import OUTSIDE, landed_days, landed_paths, landing_problems, source_names
from after_sales.resources import LandingZone
from after_sales.resources.warehouse import Warehouse
from after_sales.sensors import landing_audit_sensor, source_assets
from tests.support.landing import ORDERS_HEADER, write_landing
from tests.support.runs import run_range
from tests.support.sensors import tick

DAY = "2026-10-05"
NEXT = "2026-10-06"
SOURCES = source_assets(["tmall"])


class Capture(Notifier):
    """Keeps the alerts it is sent."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> None:
        """Keep the alert."""
        self.alerts.append(alert)


def order(order_id: str, day: str = DAY) -> str:
    """One orders line."""
    return f"{order_id},{day} 10:00:00,U1,杯,1,10.00,alipay,paid,web"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the landing zone holding files that must never be read."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.csv").write_text(ORDERS_HEADER + "\n" + order("LEAK1") + "\n", encoding="utf-8")
    day = folder / "day"
    day.mkdir()
    (day / "export.csv").write_text(ORDERS_HEADER + "\n" + order("LEAK2", NEXT) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def linked_landing(landing: Path, outside: Path) -> Path:
    """A good file, a file linking outside, a day folder linking outside, a source folder linking outside."""
    write_landing(landing, "orders", DAY, [order("O1")], ORDERS_HEADER, "good.csv")
    (landing / "orders" / DAY / "link.csv").symlink_to(outside / "secret.csv")
    (landing / "orders" / NEXT).symlink_to(outside / "day", target_is_directory=True)
    (landing / "tmall").symlink_to(outside, target_is_directory=True)
    # A link that stays inside the landing zone is an ordinary file.
    (landing / "orders" / DAY / "alias.csv").symlink_to(landing / "orders" / DAY / "good.csv")
    return landing


def test_links_leading_outside_are_not_discovered(linked_landing: Path) -> None:
    days = [dt.date.fromisoformat(DAY), dt.date.fromisoformat(NEXT)]
    assert [p.name for _, p in landed_paths(linked_landing, "orders", days)] == ["alias.csv", "good.csv"]
    assert landed_days(linked_landing, "orders") == [dt.date.fromisoformat(DAY)]
    assert landed_paths(linked_landing, "tmall", days) == [] and "tmall" not in source_names(linked_landing)
    refused = {m.path for m in landing_problems(linked_landing, list(SOURCES)) if m.reason == OUTSIDE}
    assert refused == {f"orders/{DAY}/link.csv", f"orders/{NEXT}", "tmall"}


@pytest.mark.slow
def test_a_run_loads_the_rest_and_says_what_it_refused(
    linked_landing: Path, resources: dict[str, object], warehouse: Warehouse
) -> None:
    result = run_range(resources, DAY, NEXT, ["stg_orders"])
    assert result.success
    staged = set(warehouse.query("SELECT order_id FROM after_sales.stg_orders")["order_id"])
    assert staged == {"O1"}  # from good.csv (its alias is the same rows: a duplicate), nothing from outside
    # Each partition shows the notes of its own landing day (issue 17: per-partition metadata).
    warnings = {
        m.partition: str(m.metadata["warnings"].value) for m in result.asset_materializations_for_node("stg_orders")
    }
    assert f"orders/{DAY}/link.csv: {OUTSIDE}" in warnings[DAY] and f"orders/{NEXT}: {OUTSIDE}" in warnings[NEXT]
    assert f"orders/{NEXT}" not in warnings[DAY]


@pytest.fixture
def misplaced_landing(landing: Path) -> Path:
    """Misplaced files next to a good one."""
    write_landing(landing, "orders", DAY, [order("O1")], ORDERS_HEADER)
    write_landing(landing, "amazon", DAY, [order("A1")], ORDERS_HEADER)
    write_landing(landing, "Orders", DAY, [order("B1")], ORDERS_HEADER)
    write_landing(landing, "orders", "2025-13-01", [order("C1")], ORDERS_HEADER)
    write_landing(landing, "orders", "20251001", [order("C2")], ORDERS_HEADER)
    (landing / "orders" / DAY / "notes.txt").write_text("call back", encoding="utf-8")
    (landing / "orders" / DAY / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (landing / "_sample").mkdir()  # folders starting with _ or . are the project's own
    return landing


@pytest.mark.slow
def test_misplaced_files_are_reported_and_never_loaded(
    misplaced_landing: Path, resources: dict[str, object], warehouse: Warehouse
) -> None:
    problems = {m.path: m.reason for m in landing_problems(misplaced_landing, list(SOURCES))}
    assert set(problems) == {
        "amazon",
        "Orders",
        "orders/2025-13-01",
        "orders/20251001",
        f"orders/{DAY}/notes.txt",
        f"orders/{DAY}/old.xls",
    }
    assert "not a configured source folder" in problems["amazon"]
    assert "did you mean orders/?" in problems["Orders"]
    assert "not a day folder" in problems["orders/2025-13-01"]
    assert "unsupported file type .xls" in problems[f"orders/{DAY}/old.xls"]

    result = run_range(resources, DAY, DAY, ["stg_orders"])
    assert result.success
    assert set(warehouse.query("SELECT order_id FROM after_sales.stg_orders")["order_id"]) == {"O1"}
    warnings = str(result.asset_materializations_for_node("stg_orders")[0].metadata["warnings"].value)
    assert f"orders/{DAY}/notes.txt" in warnings and "orders/2025-13-01" in warnings


def test_the_landing_sensor_tick_warns_about_its_misplaced_files(misplaced_landing: Path) -> None:
    first = tick("landing_orders", misplaced_landing, None)
    assert f"orders/{DAY}/notes.txt" in (first.skip_message or "")
    assert "orders/2025-13-01" in (first.skip_message or "")
    assert "amazon" not in (first.skip_message or "")  # another sensor's business: the audit names it


@pytest.mark.slow
def test_the_audit_alerts_once_per_path(misplaced_landing: Path, linked_landing: Path) -> None:
    captured = Capture()
    sensor = landing_audit_sensor(SOURCES, notifier_factory=lambda _log: captured)
    resources = {"landing": LandingZone(base_dir=str(misplaced_landing))}

    def audit(cursor: str | None) -> dg.SensorExecutionData:
        return sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, resources=resources))

    first = audit(None)
    paths = {a.reason.split(": ")[0] for a in captured.alerts}
    assert {"amazon", "Orders", "orders/2025-13-01", f"orders/{DAY}/notes.txt", "tmall", f"orders/{NEXT}"} <= paths
    assert len(paths) == len(captured.alerts)  # one alert per path
    assert all(a.event == "landing_problem" and a.run_id is None for a in captured.alerts)
    by_path = {a.reason.split(": ")[0]: a for a in captured.alerts}
    assert (by_path[f"orders/{DAY}/link.csv"].asset, by_path[f"orders/{DAY}/link.csv"].partition) == (
        "stg_orders",
        DAY,
    )
    assert by_path["amazon"].asset is None
    assert set(json.loads(first.cursor or "[]")) == paths

    second = audit(first.cursor)
    assert len(captured.alerts) == len(paths)  # nothing new: no second alert
    assert "0 newly alerted" in (second.skip_message or "")

    (misplaced_landing / "orders" / DAY / "notes.txt").unlink()  # fixed ...
    third = audit(second.cursor)
    (misplaced_landing / "orders" / DAY / "notes.txt").write_text("again", encoding="utf-8")  # ... and made again
    audit(third.cursor)
    assert [a.reason.split(": ")[0] for a in captured.alerts[len(paths) :]] == [f"orders/{DAY}/notes.txt"]


def test_the_audit_sensor_is_in_the_definitions() -> None:
    from after_sales.definitions import defs

    sensor = defs.get_repository_def().get_sensor_def("landing_zone_audit")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_file_turned_into_a_link_after_listing_is_refused_on_read(landing: Path, outside: Path) -> None:
    from after_sales.transforms.staging import LandingFileError

    path = write_landing(landing, "orders", DAY, [order("O1")], ORDERS_HEADER)
    zone = LandingZone(base_dir=str(landing))
    [(day, listed)] = zone.files("orders", [dt.date.fromisoformat(DAY)])
    path.unlink()
    path.symlink_to(outside / "secret.csv")
    with pytest.raises(LandingFileError, match=f"orders/{DAY}/export.csv: resolves outside the landing zone"):
        zone.read("orders", day, listed)
