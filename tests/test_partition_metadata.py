"""Each partition of a multi-day run carries its own figures, read back from the Dagster instance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.sample import generate, write_landing
from after_sales.schedules import RANGE_END, RANGE_START
from after_sales.tables import ALL_TABLES, QUARANTINE
from tests.support.runs import TZ, resources_for

FIRST = dt.date(2025, 3, 1)
DAYS = 5
ROLLUP_TABLES = ("metrics_rollups", "metrics_rollups_by_cause", "service_item_scores")


@pytest.fixture
def instance() -> dg.DagsterInstance:
    """An ephemeral instance the test reads the materializations back from."""
    return dg.DagsterInstance.ephemeral()


def _latest_per_partition(instance: dg.DagsterInstance, key: str) -> dict[str, dict[str, object]]:
    """Partition key -> metadata of its latest materialization, read from the instance's event log."""
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(key)), limit=10_000).records
    out: dict[str, dict[str, object]] = {}
    for record in sorted(records, key=lambda r: r.storage_id):
        m = record.asset_materialization
        assert m is not None and m.partition, key
        out[m.partition] = {k: getattr(v, "value", v) for k, v in m.metadata.items()}
    return out


@pytest.mark.slow
def test_every_partition_carries_its_own_row_count(
    duckdb_url: str, tmp_path: Path, landing: Path, instance: dg.DagsterInstance
) -> None:
    write_landing(generate(FIRST, DAYS, 60, seed=5, fault_rate=0.05, tz=TZ), landing)
    # Chunks of 2 days: the figures must follow the partition, not the chunk or the run.
    resources = resources_for(duckdb_url, landing, tmp_path / "exports", chunk_days=2)
    last = FIRST + dt.timedelta(days=DAYS - 1)
    test_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)  # type: ignore[arg-type]
    result = test_defs.resolve_job_def("after_sales_daily").execute_in_process(
        instance=instance, tags={RANGE_START: FIRST.isoformat(), RANGE_END: last.isoformat()}, raise_on_error=False
    )
    assert result.success
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    keys = [(FIRST + dt.timedelta(days=i)).isoformat() for i in range(DAYS)]
    graph = test_defs.resolve_asset_graph()
    checked = []
    for key in graph.get_all_asset_keys():
        name = key.to_user_string()
        spec = ALL_TABLES.get(name)
        if spec is None or not spec.partition_column or graph.get(key).partitions_def is None:
            continue
        counts = wh.query(
            f'SELECT CAST({spec.partition_column} AS DATE) AS day, count(*) AS n FROM after_sales."{name}" GROUP BY 1'
        )
        in_warehouse = {str(d): int(n) for d, n in zip(counts["day"], counts["n"], strict=True)}
        recorded = _latest_per_partition(instance, name)
        if name in ROLLUP_TABLES:
            # Roll-ups also rewrite later period ends: those days are recorded too, each with its own rows.
            assert set(keys) <= set(recorded) and set(recorded) - set(keys) == set(in_warehouse) - set(keys), name
        else:
            assert sorted(recorded) == keys, name
        for pk in recorded:
            assert recorded[pk]["dagster/row_count"] == in_warehouse.get(pk, 0), (name, pk)
        checked.append(name)
    assert {"stg_orders", "fct_order_feedback", "metrics_daily", "metrics_rollups", "quarantine"} <= set(checked)
    # Days differ, so a flat line over partitions would mean the run's totals were copied onto each day.
    fact = _latest_per_partition(instance, "fct_order_feedback")
    assert len({m["dagster/row_count"] for m in fact.values()}) > 1
    # Staging: each day's quarantined rows are that landing day's rows in quarantine.
    q = wh.query(
        f"SELECT CAST(landing_date AS DATE) AS day, count(*) AS n FROM after_sales.{QUARANTINE.name} "
        "WHERE staging_table = 'stg_orders' GROUP BY 1"
    )
    quarantined = {str(d): int(n) for d, n in zip(q["day"], q["n"], strict=True)}
    staged = _latest_per_partition(instance, "stg_orders")
    assert sum(quarantined.values()) > 0
    for pk in keys:
        meta = staged[pk]
        assert meta["quarantined_rows"] == quarantined.get(pk, 0), pk
        assert meta["rows_read"] == meta["dagster/row_count"] + meta["quarantined_rows"], pk
        assert meta["rules_checked"] > 0 and meta["chunks"] == 3, pk
    # The quarantine asset: rows per rule on each landing day add up to that day's rows.
    for pk, meta in _latest_per_partition(instance, "quarantine").items():
        assert sum(v for k, v in meta.items() if k.startswith("rule/")) == meta["dagster/row_count"], pk


def test_quarantine_and_quality_history_are_assets_after_their_writers() -> None:
    graph = defs.resolve_asset_graph()
    quarantine = graph.get(dg.AssetKey("quarantine"))
    history = graph.get(dg.AssetKey("data_quality_runs"))
    staging = {k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "staging"}
    assert staging and quarantine.parent_keys == staging
    assert {dg.AssetKey("stg_orders"), dg.AssetKey("fct_order_feedback"), dg.AssetKey("metrics_daily")} <= set(
        history.parent_keys
    )
    for node in (quarantine, history):
        assert node.partitions_def == graph.get(dg.AssetKey("stg_orders")).partitions_def
        assert node.group_name == "quality" and "dagster/column_schema" in node.metadata


@pytest.mark.slow
def test_a_backfill_of_earlier_days_records_the_later_roll_up_partitions_it_rewrote(
    resources: dict[str, object], landing: Path, instance: dg.DagsterInstance
) -> None:
    write_landing(generate(FIRST, 10, 40, seed=9, tz=TZ), landing)
    test_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)  # type: ignore[arg-type]
    job = test_defs.resolve_job_def("after_sales_daily")

    def run(first: dt.date, last: dt.date) -> dg.ExecuteInProcessResult:
        tags = {RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}
        return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)

    later = run(FIRST + dt.timedelta(days=5), FIRST + dt.timedelta(days=9))
    earlier = run(FIRST, FIRST + dt.timedelta(days=4))
    assert later.success and earlier.success
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    for name in ROLLUP_TABLES:
        recorded = _latest_per_partition(instance, name)
        counts = wh.query(f'SELECT CAST(period_end AS DATE) AS day, count(*) AS n FROM after_sales."{name}" GROUP BY 1')
        in_warehouse = {str(d): int(n) for d, n in zip(counts["day"], counts["n"], strict=True)}
        for offset in range(5, 10):  # built by the first run, rewritten by the second: recorded by the second
            pk = (FIRST + dt.timedelta(days=offset)).isoformat()
            assert "rewritten_by" in recorded[pk], (name, pk)
            assert recorded[pk]["dagster/row_count"] == in_warehouse.get(pk, 0), (name, pk)
        status = instance.get_materialized_partitions(dg.AssetKey(name))
        assert {(FIRST + dt.timedelta(days=i)).isoformat() for i in range(10)} <= status, name
