"""Production on PostgreSQL (issue 6): the demo's tables and BI views with types and comments (DuckDB and
PostgreSQL), readers during a re-materialization, a write failing mid-COPY, the read-only BI role, hostile
names from config, the database created on first connect, the Dagster instance on PostgreSQL ticking the
daily schedule, the deploy files and the write benchmark.

Every PostgreSQL test works in databases it creates and drops (127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import psycopg
import pytest
import yaml
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from after_sales.bi.role import create_bi_role
from after_sales.bi.views import BI_VIEWS, DOC, ViewSpec, apply_views, render_doc, view_names
from after_sales.definitions import defs
from after_sales.jobs import daily_job
from after_sales.partitions import SETTINGS
from after_sales.resources import postgres_warehouse
from after_sales.resources.postgres_warehouse import PostgresWarehouse, conninfo_from_url
from after_sales.resources.warehouse import DateWindow, Warehouse, WarehouseError, open_warehouse, quote_ident
from after_sales.schedules import RANGE_END, RANGE_START, rebuild_range
from after_sales.tables import ALL_TABLES, METRICS_DAILY, QUARANTINE, SQL_TYPES, STG_ORDERS, WORK_ORDERS, TableSpec
from tests.support.landing import ORDERS_HEADER, small_landing, write_landing
from tests.support.postgres import PG_ADMIN, admin_connection
from tests.support.runs import with_warehouse

ROOT = Path(__file__).resolve().parent.parent
TZ = "Asia/Shanghai"
SLOW_ENV = "AFTER_SALES_SLOW_TESTS"
HOSTILE = "x\"; DROP TABLE y; -- %s %% ' 中"
DAY1 = dt.date(2026, 10, 1)
DEMO_TABLES = {
    "stg_orders", "stg_feedback", "stg_behaviour", "quarantine",
    "fct_order_feedback", "problem_orders", "work_orders", "metrics_daily",
}
# How each backend's catalog spells our SQL types.
PG_TYPE_NAMES = {
    "TEXT": "text", "BIGINT": "bigint", "DOUBLE PRECISION": "double precision", "NUMERIC(18,2)": "numeric(18,2)",
    "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMPTZ": "timestamp with time zone",
}
DUCKDB_TYPE_NAMES = {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def admin() -> Iterator[psycopg.Connection]:
    """A superuser connection to the maintenance database, or a clear failure (skip with the env var)."""
    with admin_connection() as con:
        yield con


@pytest.fixture(scope="module")
def make_db(admin: psycopg.Connection) -> Iterator[Callable[[str], str]]:
    """A factory of fresh databases; every one is dropped when the module ends."""
    created: list[str] = []

    def make(prefix: str = "after_sales_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        created.append(name)
        return name

    yield make
    for name in created:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


@pytest.fixture(scope="module")
def pg_url(make_db: Callable[[str], str]) -> str:
    """The warehouse database of this module (each test uses its own schema in it)."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{make_db('after_sales_test')}"


def run_range(
    resources: dict[str, object], first: str, last: str, selection: str | list[str] | None = None
) -> dg.ExecuteInProcessResult:
    """Run the daily job over [first, last] as one run: the demo tables and bi_views, or the assets given."""
    if selection is None:
        keys = [*sorted(DEMO_TABLES - {"quarantine"}), "bi_views"]
    else:
        keys = [selection] if isinstance(selection, str) else selection
    test_defs = dg.Definitions(assets=list(defs.assets or []), jobs=[daily_job], resources=resources)  # type: ignore[arg-type]
    return test_defs.resolve_job_def("after_sales_daily").execute_in_process(
        tags={RANGE_START: first, RANGE_END: last},
        raise_on_error=False,
        asset_selection=[dg.AssetKey(k) for k in keys],
    )


def unique(prefix: str) -> str:
    """A fresh schema or role name."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def catalog(wh: Warehouse) -> dict[str, dict[str, object]]:
    """Tables and views of the schema: kind, comment, and per column (type, comment), in column order."""
    out: dict[str, dict[str, object]] = {}
    if isinstance(wh, PostgresWarehouse):
        with wh.connect() as con:
            rows = con.execute(
                "SELECT c.relname, c.relkind, obj_description(c.oid, 'pg_class'), a.attname, "
                "format_type(a.atttypid, a.atttypmod), col_description(c.oid, a.attnum) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'v') ORDER BY c.relname, a.attnum",
                [wh.schema],
            ).fetchall()
        for name, kind, comment, column, type_, column_comment in rows:
            entry = out.setdefault(name, {"kind": "table" if kind == "r" else "view", "comment": comment, "cols": {}})
            entry["cols"][column] = (type_, column_comment)  # type: ignore[index]
        return out
    with wh.connect() as c:  # type: ignore[attr-defined]
        relations = c.execute(
            "SELECT table_name, 'table', comment FROM duckdb_tables() WHERE schema_name = ? "
            "UNION ALL SELECT view_name, 'view', comment FROM duckdb_views() WHERE schema_name = ?",
            [wh.schema, wh.schema],
        ).fetchall()
        columns = c.execute(
            "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = ? "
            "ORDER BY table_name, column_index",
            [wh.schema],
        ).fetchall()
    for name, kind, comment in relations:
        out[name] = {"kind": kind, "comment": comment, "cols": {}}
    for name, column, type_, comment in columns:
        out[name]["cols"][column] = (type_, comment)  # type: ignore[index]
    return out


def expected_type(wh: Warehouse, logical: str) -> str:
    """The catalog spelling of a logical type in this backend."""
    sql = SQL_TYPES[logical][wh.family]
    return PG_TYPE_NAMES[sql] if wh.family == "postgresql" else DUCKDB_TYPE_NAMES.get(sql, sql)


def assert_described(wh: Warehouse, found: dict[str, object], spec: TableSpec, kind: str) -> None:
    """The relation has the spec's kind, columns in order, types and every comment from the registry."""
    assert found["kind"] == kind, spec.name
    assert found["comment"] == spec.description, spec.name
    cols = found["cols"]
    assert list(cols) == spec.column_names, spec.name  # type: ignore[arg-type]
    for c in spec.columns:
        assert cols[c.name] == (expected_type(wh, c.type), c.description), f"{spec.name}.{c.name}"  # type: ignore[index]


def role_connection(pg_url: str, role: str) -> psycopg.Connection:
    """An autocommit session logged in as role (trust auth on 127.0.0.1)."""
    return psycopg.connect(make_conninfo(conninfo_from_url(make_url(pg_url)), user=role), autocommit=True)


def drop_role(pg_url: str, role: str) -> None:
    """Revoke what the role holds in the test database, then drop it."""
    with psycopg.connect(conninfo_from_url(make_url(pg_url)), autocommit=True) as con:
        if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            con.execute(f"DROP OWNED BY {quote_ident(role)}")
            con.execute(f"DROP ROLE {quote_ident(role)}")


def new_orders(landing: Path, n: int) -> set[str]:
    """Replace the 2026-10-01 orders file with n new orders; return their ids."""
    lines = [f"N{i},2026-10-01 10:{i % 60:02d}:00,U{i},保温杯,1,10.00,alipay,paid,web" for i in range(n)]
    write_landing(landing, "orders", "2026-10-01", lines, ORDERS_HEADER)
    return {f"N{i}" for i in range(n)}


# ---------------------------------------------------------------- tables and views, both backends


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_demo_tables_and_views_have_types_and_comments(
    backend: str, request: pytest.FixtureRequest, resources: dict[str, object], landing: Path
) -> None:
    """After a demo-like run every table and bi_ view exists with the registry's types and comments."""
    if backend == "duckdb":
        res = resources
    else:
        res = with_warehouse(resources, request.getfixturevalue("pg_url"), unique("demo"))
    small_landing(landing)
    assert run_range(res, "2026-10-01", "2026-10-02").success
    wh = res["warehouse"].open()  # type: ignore[attr-defined]
    found = catalog(wh)
    assert found.keys() >= DEMO_TABLES
    # PostgreSQL comments every table it creates; DuckDB gets them from bi_views, for the tables upstream of it.
    for name in (found.keys() & ALL_TABLES.keys()) if backend == "postgresql" else DEMO_TABLES:
        assert_described(wh, found[name], ALL_TABLES[name], "table")
    for view in BI_VIEWS:
        assert_described(wh, found[view.name], view.spec, "view")

    metrics = wh.read(METRICS_DAILY).sort_values("business_date").reset_index(drop=True)
    via_view = wh.read(dict(_views())["bi_metrics_daily"].spec).sort_values("business_date").reset_index(drop=True)
    pd.testing.assert_frame_equal(via_view, metrics, check_dtype=False)
    open_orders = wh.read(WORK_ORDERS).query("status != 'resolved'")
    open_view = wh.read(dict(_views())["bi_work_orders_open"].spec)
    assert sorted(open_view["work_order_id"]) == sorted(open_orders["work_order_id"]) and len(open_view) > 0
    causes = wh.read(dict(_views())["bi_causes_daily"].spec)
    assert int(causes["issues"].sum()) == len(wh.read(ALL_TABLES["problem_orders"]))

    for query in sample_queries():  # the documented BI queries run as written (in this test's schema)
        wh.query(query.replace("after_sales.", f"{quote_ident(wh.schema)}."))

    # Views are re-created idempotently and survive a re-materialization of the tables under them.
    problems = dict(_views())["bi_problem_orders"].spec
    before = wh.read(problems).sort_values(["order_id", "feedback_id"]).reset_index(drop=True)
    assert apply_views(wh) == view_names()
    assert run_range(res, "2026-10-01", "2026-10-02", selection="problem_orders").success
    after = wh.read(problems).sort_values(["order_id", "feedback_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert len(after) > 0

    if isinstance(wh, PostgresWarehouse):
        with wh.connect() as con:
            for name in DEMO_TABLES:
                spec = ALL_TABLES[name]
                # Keys with a nullable column are unique indexes with NULLS NOT DISTINCT, the others primary keys.
                nullable_key = any(spec.column(c).nullable for c in spec.primary_key)
                key = con.execute(
                    "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                    "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisunique "
                    "AND i.indisprimary = %s AND i.indnullsnotdistinct = %s "
                    "ORDER BY array_position(i.indkey, a.attnum)",
                    [wh.qualified(name), not nullable_key, nullable_key],
                ).fetchall()
                assert tuple(r[0] for r in key) == spec.primary_key, name
                leading = {
                    r[0]
                    for r in con.execute(
                        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                        "AND a.attnum = i.indkey[0] WHERE i.indrelid = %s::regclass",
                        [wh.qualified(name)],
                    ).fetchall()
                }
                assert spec.partition_column in leading, f"{name}: no index led by {spec.partition_column}"


def _views() -> list[tuple[str, ViewSpec]]:
    """The BI views by name."""
    return [(v.name, v) for v in BI_VIEWS]


# ---------------------------------------------------------------- PostgreSQL: isolation and rollback


@pytest.mark.slow
def test_pg_reader_sees_old_or_new_rows_while_a_partition_is_rematerialized(
    pg_url: str, resources: dict[str, object], landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second connection polling the partition during its re-materialization sees the old rows or the new."""
    res = with_warehouse(resources, pg_url, unique("iso"))
    small_landing(landing)
    assert run_range(res, "2026-10-01", "2026-10-01", selection="stg_orders").success
    wh = res["warehouse"].open()  # type: ignore[attr-defined]
    query = f"SELECT order_id FROM {wh.qualified('stg_orders')} WHERE landing_date = '2026-10-01'"
    old = frozenset({"O1", "O2", "O3"})
    new = frozenset(new_orders(landing, 400))

    monkeypatch.setattr(postgres_warehouse, "_BATCH_ROWS", 100)
    original = psycopg.Copy.write
    copying, polled = threading.Event(), threading.Event()

    def held_write(self: psycopg.Copy, buffer: object) -> None:
        original(self, buffer)
        if not copying.is_set():  # first chunk of the first COPY sent: hold the transaction open
            copying.set()
            assert polled.wait(30), "the reader never polled during the COPY"

    monkeypatch.setattr(psycopg.Copy, "write", held_write)
    seen: list[tuple[bool, frozenset[str]]] = []
    stop = threading.Event()

    def reader() -> None:
        with psycopg.connect(wh.conninfo, autocommit=True) as con:
            while not stop.is_set():
                during = copying.is_set()
                seen.append((during, frozenset(r[0] for r in con.execute(query).fetchall())))
                if during:
                    polled.set()
                time.sleep(0.005)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        result = run_range(res, "2026-10-01", "2026-10-01", selection="stg_orders")
    finally:
        stop.set()
        polled.set()
        thread.join(30)
    assert result.success
    assert {ids for _, ids in seen} <= {old, new}, "a reader saw a mix or a gap"
    assert (True, old) in seen, "no poll happened while the new rows were being copied"
    with wh.connect() as con:
        assert frozenset(r[0] for r in con.execute(query).fetchall()) == new


@pytest.mark.slow
def test_pg_write_failing_mid_copy_leaves_the_old_rows(
    pg_url: str, resources: dict[str, object], landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COPY dying after rows went out rolls back: until the retry commits, readers see the old rows."""
    res = with_warehouse(resources, pg_url, unique("abort"))
    small_landing(landing)
    assert run_range(res, "2026-10-01", "2026-10-01", selection="stg_orders").success
    wh = res["warehouse"].open()  # type: ignore[attr-defined]
    window = DateWindow.single(DAY1)
    before = wh.read(STG_ORDERS, window), wh.read(QUARANTINE, window)
    assert len(before[0]) == 3
    new = new_orders(landing, 400)
    monkeypatch.setattr(postgres_warehouse, "_BATCH_ROWS", 100)
    original = psycopg.Copy.write
    calls = {"n": 0}
    between: list[tuple[pd.DataFrame, pd.DataFrame]] = []

    def failing_write(self: psycopg.Copy, buffer: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # two chunks of the new rows are already on the server
            # a full disk is a fault a retry can fix (after_sales/assets/faults.py), so the step is retried
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        if calls["n"] == 4:  # first write of the retry: what did the failed attempt leave behind?
            between.append((wh.read(STG_ORDERS, window), wh.read(QUARANTINE, window)))
        original(self, buffer)

    monkeypatch.setattr(psycopg.Copy, "write", failing_write)
    result = run_range(res, "2026-10-01", "2026-10-01", selection="stg_orders")
    monkeypatch.undo()
    retried = [
        e.event_specific_data.error.to_string()  # type: ignore[union-attr]
        for e in result.all_events
        if e.event_type_value == "STEP_UP_FOR_RETRY"
    ]
    assert any("rolled back" in r and "No space left on device" in r for r in retried), retried
    assert len(between) == 1
    pd.testing.assert_frame_equal(between[0][0], before[0])
    pd.testing.assert_frame_equal(between[0][1], before[1])
    assert result.success and set(wh.read(STG_ORDERS, window)["order_id"]) == new


# ---------------------------------------------------------------- PostgreSQL: BI role, hostile names, creation


@pytest.mark.slow
def test_pg_bi_role_reads_views_and_nothing_else(pg_url: str) -> None:
    """The role selects every bi_ view, cannot write them, cannot touch tables; grants survive view rebuilds."""
    wh = open_warehouse(pg_url, unique("role"), TZ)
    assert isinstance(wh, PostgresWarehouse)
    with pytest.raises(WarehouseError, match="materialize the bi_views asset first"):
        create_bi_role(wh, unique("bi_test"))
    with wh.transaction() as cur:
        wh.ensure_tables(cur, [STG_ORDERS, METRICS_DAILY])
    wh.replace(METRICS_DAILY, _one_metrics_row(), DateWindow.single(DAY1))
    apply_views(wh)
    role = unique("bi_test")
    try:
        assert create_bi_role(wh, role, password="pa'ss\\word") == view_names()
        assert create_bi_role(wh, role, password="pa'ss\\word") == view_names()  # idempotent
        with role_connection(pg_url, role) as con:
            assert con.execute("SHOW default_transaction_read_only").fetchone() == ("on",)
            for view in view_names():
                con.execute(f"SELECT * FROM {wh.qualified(view)}").fetchall()
            assert con.execute(f"SELECT orders FROM {wh.qualified('bi_metrics_daily')}").fetchall() == [(7,)]
            con.execute("SET default_transaction_read_only = off")  # so what stops writes is the missing grant
            denied = [
                f"INSERT INTO {wh.qualified('bi_metrics_daily')} (business_date) VALUES ('2026-10-05')",
                f"UPDATE {wh.qualified('bi_work_orders')} SET status = 'x'",
                f"DELETE FROM {wh.qualified('bi_problem_orders')}",
                f"SELECT * FROM {wh.qualified('stg_orders')}",
                f"SELECT * FROM {wh.qualified('metrics_daily')}",
                f"DELETE FROM {wh.qualified('metrics_daily')}",
                f"CREATE TABLE {wh.qualified('mine')} (a int)",
            ]
            for statement in denied:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    con.execute(statement)

        # A view PostgreSQL cannot CREATE OR REPLACE (a column dropped) is recreated with its grants.
        narrowed = ViewSpec(
            TableSpec("bi_metrics_daily", "BI: narrowed for the test.", METRICS_DAILY.columns[:2]),
            (METRICS_DAILY,),
            lambda q, _f: f'SELECT "business_date", "orders" FROM {q("metrics_daily")}',
        )
        apply_views(wh, (narrowed,))
        with role_connection(pg_url, role) as con:
            assert con.execute(f"SELECT * FROM {wh.qualified('bi_metrics_daily')}").fetchall() == [(DAY1, 7)]
        apply_views(wh)
        wh.replace(METRICS_DAILY, _one_metrics_row(orders=8), DateWindow.single(DAY1))  # a re-materialization
        with role_connection(pg_url, role) as con:
            assert con.execute(f"SELECT orders FROM {wh.qualified('bi_metrics_daily')}").fetchall() == [(8,)]
    finally:
        drop_role(pg_url, role)


def _one_metrics_row(orders: int = 7) -> pd.DataFrame:
    """One metrics_daily row for DAY1."""
    row: dict[str, object] = {c.name: None for c in METRICS_DAILY.columns}
    row.update({c.name: 0 for c in METRICS_DAILY.columns if not c.nullable})
    row.update(business_date=DAY1, orders=orders)
    return pd.DataFrame([row])


@pytest.mark.slow
def test_pg_hostile_schema_and_role_names_are_quoted(
    pg_url: str, resources: dict[str, object], landing: Path
) -> None:
    """A schema and a role named like SQL injection, from config, stay names: the pipeline and views work."""
    with psycopg.connect(conninfo_from_url(make_url(pg_url)), autocommit=True) as con:
        con.execute("CREATE TABLE IF NOT EXISTS public.y (k text)")
        con.execute("INSERT INTO public.y VALUES ('still here')")
    res = with_warehouse(resources, pg_url, HOSTILE)
    small_landing(landing)
    assert run_range(res, "2026-10-01", "2026-10-02", ["stg_orders", "bi_views"]).success
    wh = res["warehouse"].open()  # type: ignore[attr-defined]
    assert wh.schema == HOSTILE
    assert len(wh.read(STG_ORDERS)) == 5 and len(wh.read(QUARANTINE)) == 0
    assert catalog(wh)["bi_work_orders_open"]["kind"] == "view"
    role = f"r\"; DROP TABLE y; -- {uuid.uuid4().hex[:6]} '"
    try:
        create_bi_role(wh, role)
        with psycopg.connect(conninfo_from_url(make_url(pg_url)), autocommit=True) as con:
            assert con.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [role]).fetchone() == (False,)
            assert con.execute(
                "SELECT has_table_privilege(%s, %s, 'SELECT'), has_table_privilege(%s, %s, 'SELECT')",
                [role, wh.qualified("bi_metrics_daily"), role, wh.qualified("stg_orders")],
            ).fetchone() == (True, False)
            assert con.execute("SELECT k FROM public.y").fetchall() == [("still here",)]
    finally:
        drop_role(pg_url, role)


def test_pg_missing_database_is_created_on_first_connect(admin: psycopg.Connection) -> None:
    """A URL naming a database that does not exist yet works: the warehouse creates it once."""
    name = unique("after_sales_fresh")
    try:
        wh = open_warehouse(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", "after_sales", TZ)
        assert not wh.table_exists("stg_orders")
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() == (1,)
        apply_views(wh)
        assert wh.table_exists("bi_metrics_daily")
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    down = open_warehouse("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2", "after_sales", TZ)
    with pytest.raises(WarehouseError, match="cannot connect to PostgreSQL warehouse"):
        down.table_exists("x")


# ---------------------------------------------------------------- the Dagster instance on PostgreSQL


def _instance_home(make_db: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """A DAGSTER_HOME holding deploy/dagster.yaml as shipped, its DAGSTER_PG_* pointing at a fresh database."""
    db = make_db("dagster_test")
    for key, value in {
        "DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": "5432", "DAGSTER_PG_USERNAME": "postgres",
        "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": db,
    }.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    return home, db


def _tick(instance: dg.DagsterInstance, workspace: object, at: dt.datetime) -> None:
    """Start daily_schedule half a day before `at`, then run one scheduler iteration at `at`, as the daemon does."""
    from dagster._core.test_utils import freeze_time
    from dagster._daemon.daemon import get_default_daemon_logger
    from dagster._scheduler.scheduler import launch_scheduled_runs
    from dagster._time import get_current_datetime

    entry = next(iter(workspace.create_request_context().get_code_location_entries().values()))  # type: ignore[attr-defined]
    assert entry.code_location, entry.load_error
    repo = next(iter(entry.code_location.get_repositories().values()))
    schedule = repo.get_schedule("daily_schedule")
    with freeze_time(at - dt.timedelta(hours=12)):
        instance.start_schedule(schedule)
    with freeze_time(at + dt.timedelta(minutes=1)):
        list(launch_scheduled_runs(workspace, get_default_daemon_logger("SchedulerDaemon"), get_current_datetime(), {}))
    ticks = instance.get_ticks(schedule.get_remote_origin_id(), schedule.selector_id)
    assert [t.status.value for t in ticks] == ["SUCCESS"], [t.error for t in ticks]


def _assert_run_in_postgres(db: str, run: object, tick_at: dt.datetime) -> None:
    """The run row and its partition-range tags are in the PostgreSQL run storage, read with plain SQL."""
    first, last = rebuild_range(tick_at, SETTINGS.rebuild_days)
    with psycopg.connect(make_conninfo(PG_ADMIN, dbname=db)) as con:
        assert con.execute("SELECT pipeline_name FROM runs WHERE run_id = %s", [run.run_id]).fetchone() == (  # type: ignore[attr-defined]
            "after_sales_daily",
        )
        tags = dict(con.execute("SELECT key, value FROM run_tags WHERE run_id = %s", [run.run_id]).fetchall())  # type: ignore[attr-defined]
    assert tags[RANGE_START] == first and tags[RANGE_END] == last
    assert tags["dagster/schedule_name"] == "daily_schedule"


@pytest.mark.slow
def test_dagster_instance_on_postgres_ticks_the_daily_schedule(
    make_db: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy/dagster.yaml on a fresh database: one scheduler tick submits the nightly run, stored in PostgreSQL."""
    from dagster._core.remote_origin import InProcessCodeLocationOrigin
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

    home, db = _instance_home(make_db, tmp_path, monkeypatch)
    tick_at = dt.datetime(2026, 10, 4, 1, 30, tzinfo=ZoneInfo(SETTINGS.timezone))
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(
            executable_path=sys.executable, module_name="after_sales.definitions", working_directory=str(ROOT)
        ),
        location_name="after_sales",
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        with WorkspaceProcessContext(instance, InProcessWorkspaceLoadTarget(origin)) as workspace:
            _tick(instance, workspace, tick_at)
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.QUEUED
        assert runs[0].tags["dagster/run_key"].startswith("daily-")
    _assert_run_in_postgres(db, runs[0], tick_at)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get(SLOW_ENV) != "1", reason=f"one to two minutes; set {SLOW_ENV}=1 to run it")
def test_dagster_daemons_on_postgres_launch_and_run_the_scheduled_run(
    make_db: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full path: code server, scheduler tick, queue daemon, DefaultRunLauncher, multiprocess executor."""
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

    home, db = _instance_home(make_db, tmp_path, monkeypatch)
    with (home / "dagster.yaml").open("a", encoding="utf-8") as f:  # so no code server outlives its database
        f.write("\ncode_servers:\n  wait_for_local_processes_on_shutdown: true\n")
    landing = tmp_path / "landing"
    small_landing(landing)
    monkeypatch.setenv("AFTER_SALES_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    monkeypatch.setenv("AFTER_SALES_LANDING_DIR", str(landing))
    monkeypatch.setenv("AFTER_SALES_EXPORT_DIR", str(tmp_path / "exports"))
    tick_at = dt.datetime(2026, 10, 4, 1, 30, tzinfo=ZoneInfo(SETTINGS.timezone))
    target = ModuleTarget("after_sales.definitions", None, str(ROOT), "after_sales")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        with create_test_daemon_workspace_context(target, instance) as workspace:
            _tick(instance, workspace, tick_at)
            list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(workspace))
            run_id = instance.get_runs()[0].run_id
            deadline = time.monotonic() + 240
            while not (run := instance.get_run_by_id(run_id)).is_finished:  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the scheduled run did not finish"
                time.sleep(0.5)
            time.sleep(2)  # the code server forgets a finished run on its next cleanup tick (0.5 s)
        assert run.status == dg.DagsterRunStatus.SUCCESS
    _assert_run_in_postgres(db, run, tick_at)
    wh = open_warehouse(f"duckdb:///{tmp_path / 'warehouse.duckdb'}", "after_sales", TZ)
    assert set(wh.query("SELECT DISTINCT business_date FROM after_sales.fct_order_feedback")["business_date"]) == {
        DAY1, DAY1 + dt.timedelta(days=1)
    }
    assert wh.table_exists("bi_metrics_daily")


# ---------------------------------------------------------------- deploy files, docs, benchmark


def test_multiprocess_run_config_validates_against_the_daily_job() -> None:
    """deploy/run_config.multiprocess.yaml is valid config for the asset job."""
    config = yaml.safe_load((ROOT / "deploy" / "run_config.multiprocess.yaml").read_text(encoding="utf-8"))
    job = defs.resolve_job_def("after_sales_daily")
    assert job.executor_def.name == "multiprocess"
    resolved = dg.validate_run_config(job, config)["execution"]["multiprocess"]
    if resolved.get("max_concurrent") != config["execution"]["config"]["max_concurrent"]:
        pytest.skip("the Definitions' executor is fully configured, so run config cannot set max_concurrent")


def test_every_forkserver_preload_module_imports() -> None:
    """A preload module that fails to import would fail every multiprocess run; the storage ones must be there."""
    import importlib

    from after_sales.definitions import FORKSERVER_PRELOAD

    assert {"dagster._core.storage.sqlite_storage", "dagster_postgres"} <= set(FORKSERVER_PRELOAD)
    for module in FORKSERVER_PRELOAD:
        importlib.import_module(module)


def test_kubernetes_files_fit_together() -> None:
    """The Helm values load the code location the k8s definitions file defines; its run config validates."""
    values = yaml.safe_load((ROOT / "deploy" / "k8s" / "values.yaml").read_text(encoding="utf-8"))
    deployment = values["dagster-user-deployments"]["deployments"][0]
    args = deployment["dagsterApiGrpcArgs"]
    assert (ROOT / args[args.index("--python-file") + 1].removeprefix("/app/")).exists()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2"
    pytest.importorskip("dagster_k8s", reason="dagster-k8s is installed in the image, not in the dev venv")
    import runpy

    k8s_defs = runpy.run_path(str(ROOT / "deploy" / "k8s" / "definitions.py"))["defs"]
    config = yaml.safe_load((ROOT / "deploy" / "k8s" / "run_config.yaml").read_text(encoding="utf-8"))
    dg.validate_run_config(k8s_defs.resolve_job_def("after_sales_daily"), config)


def test_bi_doc_views_section_is_current() -> None:
    """docs/bi.md documents every view as the code defines it."""
    text = DOC.read_text(encoding="utf-8")
    assert render_doc(text) == text, "run `python -m after_sales.bi.views` and commit docs/bi.md"
    assert all(f"`{name}`" in text for name in view_names())


def sample_queries() -> list[str]:
    """The SQL statements of the sample-queries block in docs/bi.md."""
    text = DOC.read_text(encoding="utf-8").split("## Sample queries", 1)[1]
    block = text.split("```sql", 1)[1].split("```", 1)[0]
    return [q.strip() for q in block.split(";") if q.strip()]


@pytest.mark.slow
def test_write_benchmark_runs_on_both_backends(pg_url: str) -> None:
    """The benchmark writes the same frame by every method and reports rows and seconds."""
    from benchmarks.warehouse_writes import run

    rows = run(300, pg_url=pg_url)
    methods = {r["method"] for r in rows}
    assert {"duckdb native (Arrow)", "postgresql COPY (warehouse)", "postgresql pandas to_sql"} <= methods
    assert all(r["rows"] == 300 and r["seconds"] > 0 for r in rows)
