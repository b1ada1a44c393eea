"""Pipeline-level robustness: empty days, retry classification, file-level quarantine, list columns, stable floats."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from after_sales.resources import ExportDirectory, LandingZone, WarehouseIOManager, WarehouseResource
from after_sales.resources.warehouse import Warehouse, quote_ident
from tests.landing_builders import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER, write_landing
from tests.test_pipeline import run_range

DAY = "2026-10-05"
TZ = "Asia/Shanghai"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
MARTS = ["fct_order_feedback", "problem_orders", "work_orders"]


def make_resources(url: str, landing: Path, exports: Path) -> dict[str, object]:
    """The Definitions' resources over a warehouse URL and a landing folder."""
    warehouse = WarehouseResource(url=url, schema_name="after_sales", timezone=TZ, lock_timeout_seconds=5)
    return {
        "warehouse": warehouse,
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "landing": LandingZone(base_dir=str(landing)),
        "exports": ExportDirectory(base_dir=str(exports)),
    }


def events_of(result: dg.ExecuteInProcessResult, kind: str) -> list[dg.DagsterEvent]:
    """The run's events of one type."""
    return [e for e in result.all_events if e.event_type_value == kind]


def failed_checks(result: dg.ExecuteInProcessResult) -> list[str]:
    """Every asset check of the run that did not pass."""
    out = []
    for event in events_of(result, "ASSET_CHECK_EVALUATION"):
        evaluation = event.event_specific_data
        if not evaluation.passed:
            out.append(f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}")
    return out


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """step: first line of the error, for every failed or retried step."""
    return [
        f"{e.step_key}: {e.event_specific_data.error.to_string().splitlines()[0]}"
        for e in events_of(result, "STEP_FAILURE") + events_of(result, "STEP_UP_FOR_RETRY")
    ]


def header_only_day(landing: Path) -> None:
    """Every own source lands a file with a header and no rows."""
    write_landing(landing, "orders", DAY, [], ORDERS_HEADER)
    write_landing(landing, "feedback", DAY, [], FEEDBACK_HEADER)
    write_landing(landing, "behaviour", DAY, [], BEHAVIOUR_HEADER)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped at the end."""
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get("AFTER_SALES_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        raise
    name = f"after_sales_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        admin.close()


# ------------------------------------------------------------------ item 1: a day with no rows is a day


@pytest.mark.parametrize("files", ["header_only", "no_files"])
def test_an_empty_day_builds_every_asset_with_zero_rows_and_green_checks(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, tmp_path: Path, files: str
) -> None:
    if files == "header_only":
        header_only_day(landing)
    result = run_range(resources, DAY, DAY)
    assert result.success, failures(result)
    assert not failures(result) and not failed_checks(result)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    for asset in (*MARTS, "metrics_daily", "metrics_rollups", "service_item_scores", "metrics_report"):
        assert asset in materialized
    assert {"work_orders_csv", "bi_views"} <= materialized
    for table in MARTS:
        assert warehouse.query(f"SELECT count(*) AS n FROM after_sales.{table}")["n"].iloc[0] == 0
    daily = warehouse.query("SELECT orders, feedback_count FROM after_sales.metrics_daily")
    assert daily.values.tolist() == [[0, 0]]
    assert (tmp_path / "exports" / "work_orders" / f"work_orders_{DAY}.csv").exists()


def test_an_empty_day_builds_the_marts_on_postgresql(pg_url: str, landing: Path, tmp_path: Path) -> None:
    header_only_day(landing)
    resources = make_resources(pg_url, landing, tmp_path / "exports")
    result = run_range(resources, DAY, DAY, ["stg_orders", "stg_feedback", "stg_behaviour", *MARTS, "metrics_daily"])
    assert result.success, failures(result)
    assert not failures(result) and not failed_checks(result)
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    for table in MARTS:
        assert wh.query(f"SELECT count(*) AS n FROM after_sales.{table}")["n"].iloc[0] == 0
