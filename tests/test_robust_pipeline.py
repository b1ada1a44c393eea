"""Pipeline-level robustness: empty days, retry classification, file-level quarantine, list columns, stable floats."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from sqlalchemy.engine import make_url

from after_sales.alerts import ENV_WEBHOOK_URL
from after_sales.arrow_frames import SchemaMismatchError, frame_to_arrow
from after_sales.assets import marts as marts_assets
from after_sales.assets.faults import data_faults_fail, is_transient
from after_sales.marketplaces import ExportFileError
from after_sales.resources.postgres_warehouse import PostgresWarehouse
from after_sales.resources.warehouse import Warehouse, WarehouseError, WarehouseLockedError
from after_sales.sample import generate
from after_sales.sample import write_landing as write_sample
from after_sales.tables import STG_ORDERS, Column, TableSpec
from after_sales.transforms.rollups import backlog
from after_sales.transforms.staging import LandingFileError
from tests.support.landing import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER, write_landing
from tests.support.runs import resources_for, run_range
from tests.support.webhook import Hook
from tests.test_marketplace_pipeline import FIXTURES

DAY = "2026-10-05"
TZ = "Asia/Shanghai"
MARTS = ["fct_order_feedback", "problem_orders", "work_orders"]


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


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hook]:
    """A local webhook receiving the alerts, configured through the environment like in production."""
    server = Hook()
    monkeypatch.setenv(ENV_WEBHOOK_URL, server.url)
    yield server
    server.close()


# ------------------------------------------------------------------ item 1: a day with no rows is a day


@pytest.mark.slow
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
    daily = warehouse.query("SELECT orders, feedback_count, complete FROM after_sales.metrics_daily")
    assert daily.values.tolist() == [[0, 0, True]]
    seen = 1 if files == "header_only" else 0
    files_per_source = warehouse.query(
        "SELECT source, files_seen, files_loaded, files_refused, rows_read FROM after_sales.landing_files "
        "WHERE source IN ('orders', 'feedback', 'behaviour') ORDER BY source"
    )
    assert files_per_source.values.tolist() == [[s, seen, seen, 0, 0] for s in ("behaviour", "feedback", "orders")]
    assert (tmp_path / "exports" / "work_orders" / f"work_orders_{DAY}.csv").exists()


@pytest.mark.slow
def test_a_bad_file_is_refused_alone_on_postgresql(pg_url: str, landing: Path, tmp_path: Path) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER, "a.csv")
    (landing / "orders" / DAY / "empty.csv").write_bytes(b"")
    resources = resources_for(pg_url, landing, tmp_path / "exports")
    result = run_range(resources, DAY, DAY, ["stg_orders"])
    assert result.success, failures(result)
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    assert wh.query("SELECT order_id FROM after_sales.stg_orders")["order_id"].tolist() == ["O1"]
    refused = wh.query("SELECT source_file, size_bytes, sha256 FROM after_sales.quarantine_files")
    assert refused.values.tolist() == [[f"orders/{DAY}/empty.csv", 0, hashlib.sha256(b"").hexdigest()]]
    counts = wh.query("SELECT files_seen, files_loaded, files_refused, rows_read FROM after_sales.landing_files")
    assert counts.values.tolist() == [[2, 1, 1, 1]]


@pytest.mark.slow
def test_an_empty_day_builds_the_marts_on_postgresql(pg_url: str, landing: Path, tmp_path: Path) -> None:
    header_only_day(landing)
    resources = resources_for(pg_url, landing, tmp_path / "exports")
    result = run_range(resources, DAY, DAY, ["stg_orders", "stg_feedback", "stg_behaviour", *MARTS, "metrics_daily"])
    assert result.success, failures(result)
    assert not failures(result) and not failed_checks(result)
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    for table in MARTS:
        assert wh.query(f"SELECT count(*) AS n FROM after_sales.{table}")["n"].iloc[0] == 0


# ------------------------------------------------------------------ item 3: only transient faults retry


def _raised(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except BaseException as exc:
        return exc
    raise AssertionError("expected an exception")


def _pg_refused() -> None:
    PostgresWarehouse(make_url("postgresql+psycopg://postgres@127.0.0.1:1/nothing"), "s", TZ).query("SELECT 1")


def _wrapped(inner: BaseException, outer: type[Exception] = WarehouseError) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer(f"writing after_sales.stg_orders failed and was rolled back: {exc}") from exc
    except Exception as exc:
        return exc


def test_is_transient_retries_locks_connections_and_full_disks_only(tmp_path: Path) -> None:
    transient = {
        "duckdb_locked": WarehouseLockedError("DuckDB file x is locked by another process"),
        "pg_connection_refused": _raised(_pg_refused),
        "disk_full_errno": _wrapped(OSError(errno.ENOSPC, "No space left on device")),
        "duckdb_disk_full": _wrapped(duckdb.IOException("IO Error: Could not write file: No space left on device")),
        "connection_lost": _wrapped(ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")),
    }
    not_transient = {
        "landing_file": LandingFileError("orders/2026-10-05/a.csv: required column(s) amount missing"),
        "export_file": ExportFileError("jd/2026-10-05/x.csv", "cannot decode"),
        "cast": SchemaMismatchError("table stg_orders, orders/a.csv row 2, column amount: cannot cast to money"),
        "duplicate_key": _wrapped(duckdb.ConstraintException("Duplicate key \"id: 1\" violates primary key")),
        "bug": KeyError("feedback_ids"),
        "failure": dg.Failure("blocking checks failed", allow_retries=False),
    }
    assert {k for k, e in transient.items() if not is_transient(e)} == set()
    assert {k for k, e in not_transient.items() if is_transient(e)} == set()


def test_data_faults_fail_names_the_place_on_the_first_line() -> None:
    exc = LandingFileError("orders/2026-10-05/a.csv row 3, column amount: cannot read '1e400'")
    with pytest.raises(dg.Failure) as raised, data_faults_fail("stg_orders [2026-10-05]"):
        raise exc
    assert raised.value.allow_retries is False
    first = raised.value.description.splitlines()[0]
    assert first == "stg_orders [2026-10-05]: orders/2026-10-05/a.csv row 3, column amount: cannot read '1e400'"
    with pytest.raises(WarehouseLockedError), data_faults_fail("stg_orders"):  # transient: left to the policy
        raise WarehouseLockedError("locked")


def test_a_value_that_cannot_be_stored_names_file_row_and_column() -> None:
    frame = pd.DataFrame({c: ["x", "y"] for c in STG_ORDERS.column_names})
    frame = frame.assign(
        amount=[1.0, 1e20],
        created_at=pd.Timestamp("2026-10-05", tz="UTC"),
        business_date=dt.date(2026, 10, 5),
        landing_date=dt.date(2026, 10, 5),
        quantity=1,
        source_row=[1, 2],
        source_file="orders/2026-10-05/a.csv",
    )
    with pytest.raises(SchemaMismatchError, match=r"^table stg_orders, orders/2026-10-05/a\.csv row 2, column amount"):
        frame_to_arrow(STG_ORDERS, frame)


@pytest.mark.slow
def test_an_unexpected_error_in_a_step_fails_once_without_retries(
    resources: dict[str, object], landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)

    def broken(*_: object) -> pd.DataFrame:
        raise ValueError(f"orders/{DAY}/export.csv row 1, column amount: cannot locate a cause")

    monkeypatch.setattr(marts_assets, "build_problem_orders", broken)
    result = run_range(resources, DAY, DAY, ["stg_orders", "stg_feedback", "fct_order_feedback", "problem_orders"])
    assert not result.success
    assert not events_of(result, "STEP_UP_FOR_RETRY")
    [failure] = events_of(result, "STEP_FAILURE")
    assert failure.step_key == "problem_orders"
    error = failure.event_specific_data.error
    assert error.message.splitlines()[0].endswith(
        f"problem_orders [{DAY}]: orders/{DAY}/export.csv row 1, column amount: cannot locate a cause"
    )


# ------------------------------------------------------------------ beyond the defects: one bad file is refused alone

BAD_ORDER_FILES = {
    "empty.csv": (b"", "the file is empty"),
    "truncated.csv": ((ORDERS_HEADER + f"\nO9,{DAY} 10:00:00,U1,cup,1,10.00,alip").encode(), "truncated file"),
    "utf16.csv": ((ORDERS_HEADER + f"\nO8,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web\n").encode("utf-16"), "decode"),
    "no_amount.csv": (f"order_id,created_at,status,channel\nO7,{DAY} 10:00:00,paid,web\n".encode(), "amount"),
}


@pytest.mark.slow
def test_a_bad_file_is_refused_alone_recorded_alerted_and_the_day_flagged_incomplete(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, webhook: Hook
) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER, "a.csv")
    folder = landing / "orders" / DAY
    for name, (content, _) in BAD_ORDER_FILES.items():
        (folder / name).write_bytes(content)
    write_landing(landing, "feedback", DAY, [f"F1,O1,{DAY} 12:00:00,1,complaint,坏了,,,,false"], FEEDBACK_HEADER)
    tmall = landing / "tmall" / DAY
    tmall.mkdir(parents=True)
    fixture = FIXTURES / "tmall" / "2026-10-01" / "ExportOrderList202610011245_utf8.csv"
    good_tmall = re.sub(r"2026[-/]\d\d[-/]\d\d", DAY, fixture.read_text(encoding="utf-8"))
    (tmall / "orders.csv").write_text(good_tmall, encoding="utf-8")
    (tmall / "garbage.csv").write_bytes(b"\xff\xfe\x00garbage\x00\x81")
    assets = ["stg_orders", "stg_feedback", "stg_behaviour", "stg_tmall_orders", "stg_tmall_feedback", *MARTS]
    result = run_range(resources, DAY, DAY, [*assets, "metrics_daily", "metrics_daily_by_channel"])
    assert result.success, failures(result)
    assert not failed_checks(result)

    staged = warehouse.query("SELECT order_id FROM after_sales.stg_orders")["order_id"].tolist()
    assert staged == ["O1"]
    assert len(warehouse.query("SELECT 1 FROM after_sales.stg_tmall_orders")) > 0
    refused = warehouse.query("SELECT * FROM after_sales.quarantine_files ORDER BY source, source_file")
    expected_files = [f"orders/{DAY}/{n}" for n in sorted(BAD_ORDER_FILES)] + [f"tmall/{DAY}/garbage.csv"]
    assert refused["source_file"].tolist() == expected_files
    for row in refused.itertuples():
        data = (landing / row.source_file).read_bytes()
        assert (row.size_bytes, row.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert row.reason.startswith(row.source_file)
        name = row.source_file.rsplit("/", 1)[-1]
        if name in BAD_ORDER_FILES:
            assert BAD_ORDER_FILES[name][1] in row.reason
    files = warehouse.query(
        "SELECT source, files_seen, files_loaded, files_refused, rows_read FROM after_sales.landing_files ORDER BY 1"
    )
    assert files.values.tolist() == [
        ["behaviour", 0, 0, 0, 0],
        ["feedback", 1, 1, 0, 1],
        ["orders", 5, 1, 4, 1],
        ["tmall", 2, 1, 1, int(files.set_index("source").at["tmall", "rows_read"])],
    ]
    daily = warehouse.query("SELECT orders, files_refused, complete FROM after_sales.metrics_daily")
    assert daily.values.tolist() == [[int(daily["orders"].iloc[0]), 5, False]]
    by_channel = warehouse.query(
        "SELECT channel, files_refused, complete FROM after_sales.metrics_daily_by_channel ORDER BY 1"
    ).set_index("channel")
    assert by_channel.loc["web"].tolist() == [4, False] and by_channel.loc["tmall"].tolist() == [1, False]
    [orders_event] = [
        e.materialization for e in result.get_asset_materialization_events() if e.asset_key.path == ["stg_orders"]
    ]
    assert orders_event.metadata["files_refused"].value == 4
    alerts = [(b["event"], b["partition"], str(b["reason"]).split(":")[0]) for b in webhook.bodies]
    assert sorted(alerts) == sorted(("file_refused", DAY, f) for f in expected_files)

    # Fixed files are loaded on the re-run, and the day is whole again.
    for name in BAD_ORDER_FILES:
        (folder / name).unlink()
    (tmall / "garbage.csv").unlink()
    assert run_range(resources, DAY, DAY, [*assets, "metrics_daily"]).success
    assert warehouse.query("SELECT count(*) AS n FROM after_sales.quarantine_files")["n"].iloc[0] == 0
    assert warehouse.query("SELECT complete FROM after_sales.metrics_daily")["complete"].tolist() == [True]


# ------------------------------------------------------------------ item 11: floats are bit-stable between runs


@pytest.mark.slow
def test_backlog_age_mean_does_not_depend_on_row_order() -> None:
    rng = np.random.default_rng(7)
    n, day = 400, dt.date(2026, 10, 5)
    opened = pd.Timestamp("2026-10-01", tz=TZ) + pd.to_timedelta(rng.integers(0, 4 * 86_400 * 10**6, n), unit="us")
    work_orders = pd.DataFrame(
        {
            "business_date": [day - dt.timedelta(days=int(x)) for x in rng.integers(0, 4, n)],
            "channel": "web",
            "opened_at": opened,
            "due_at": opened + pd.Timedelta(hours=24),
            "resolved_at": pd.Series(pd.NaT, index=range(n), dtype=f"datetime64[us, {TZ}]"),
        }
    )
    means = {
        float(backlog(work_orders.sample(frac=1, random_state=seed), [day], 30, TZ)["backlog_age_hours_mean"].iloc[0])
        for seed in range(20)
    }
    assert len(means) == 1


def test_stored_floats_are_rounded_so_sums_in_any_order_store_the_same_bytes() -> None:
    values = [0.1 * i + 1e-7 * i for i in range(1, 200)]
    forward, backward = sum(values), sum(reversed(values))
    assert forward != backward  # the same numbers summed in another order
    spec = TableSpec("t", "floats", (Column("x", "float", "a measure"),))
    stored = [frame_to_arrow(spec, pd.DataFrame({"x": [v]})).column("x")[0].as_py() for v in (forward, backward)]
    assert stored[0] == stored[1] and abs(stored[0] - forward) < 1e-9


def _shuffle_landing(landing: Path, seed: int) -> None:
    """Shuffle the data lines of every landed csv (header kept): the same rows in another order."""
    rng = np.random.default_rng(seed)
    for path in sorted(landing.rglob("*.csv")):
        lines = path.read_text(encoding="utf-8").splitlines()
        body = lines[1:]
        rng.shuffle(body)
        path.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_equal_inputs_in_another_order_and_chunking_give_byte_equal_metric_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, days = dt.date(2025, 3, 1), 4
    last = (first + dt.timedelta(days=days - 1)).isoformat()
    frames = {}
    for name, chunk_days, seed in (("in_order", 60, None), ("shuffled_in_chunks", 2, 11)):
        landing = tmp_path / name / "landing"
        write_sample(generate(first, days, 30, seed=5, fault_rate=0.0, tz=TZ), landing)
        if seed is not None:
            _shuffle_landing(landing, seed)
        url = f"duckdb:///{tmp_path / name / 'w.duckdb'}"
        resources = resources_for(url, landing, tmp_path / name / "exports", chunk_days=chunk_days)
        result = run_range(resources, first.isoformat(), last)
        assert result.success, failures(result)
        wh = resources["warehouse"].open()  # type: ignore[attr-defined]
        frames[name] = {t: _sorted_table(wh, t) for t in FLOAT_TABLES}
    for table in FLOAT_TABLES:
        a, b = frames["in_order"][table], frames["shuffled_in_chunks"][table]
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=table)


FLOAT_TABLES = [
    "metrics_daily",
    "metrics_daily_by_channel",
    "metrics_daily_by_cause",
    "metrics_rollups",
    "metrics_rollups_by_cause",
    "service_item_scores",
]


def _sorted_table(wh: Warehouse, table: str) -> pd.DataFrame:
    frame = wh.query(f'SELECT * FROM after_sales."{table}"')
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# ------------------------------------------------------------------ item 2 (last bullet): feedback ids are a real list


@pytest.mark.slow
def test_a_feedback_id_with_a_comma_stays_one_id_in_work_orders_bridge_csv_and_bi(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, tmp_path: Path
) -> None:
    write_landing(landing, "orders", DAY, [f"O1,{DAY} 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    write_landing(
        landing,
        "feedback",
        DAY,
        [
            f'"F,1",O1,{DAY} 12:00:00,1,complaint,没收到货,,,,false',
            f"F2,O1,{DAY} 13:00:00,2,complaint,还是没收到货,,,,false",
        ],
        FEEDBACK_HEADER,
    )
    selection = ["stg_orders", "stg_feedback", *MARTS, "work_orders_csv", "bi_views"]
    result = run_range(resources, DAY, DAY, selection)
    assert result.success, failures(result)
    assert not failed_checks(result)
    [work_order] = warehouse.query("SELECT work_order_id, issue_count FROM after_sales.work_orders").values.tolist()
    assert work_order[1] == 2
    links = warehouse.query(
        "SELECT work_order_id, feedback_id FROM after_sales.bi_work_order_feedback ORDER BY feedback_id"
    )
    assert links.values.tolist() == [[work_order[0], "F,1"], [work_order[0], "F2"]]
    assert "feedback_ids" not in warehouse.query("SELECT * FROM after_sales.work_orders").columns
    exported = pd.read_csv(tmp_path / "exports" / "work_orders" / f"work_orders_{DAY}.csv", encoding="utf-8-sig")
    assert [json.loads(cell) for cell in exported["feedback_ids"]] == [["F,1", "F2"]]
