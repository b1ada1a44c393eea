"""The same warehouse contract on DuckDB, SQLite and a real PostgreSQL (127.0.0.1:5432, user postgres)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.resources import postgres_warehouse, sqlalchemy_warehouse
from after_sales.resources.postgres_warehouse import PostgresWarehouse, conninfo_from_url
from after_sales.resources.warehouse import (
    DateWindow,
    TableWrite,
    Warehouse,
    WarehouseError,
    open_warehouse,
)
from after_sales.tables import Column, TableSpec
from tests.support.postgres import PG_ADMIN, SKIP_PG_ENV, pg_url

__all__ = ["PG_ADMIN", "SKIP_PG_ENV", "pg_url"]  # other test modules import them from here too

TZ = "Asia/Shanghai"
HOSTILE = "x\"; DROP TABLE y; -- %s %% ' 中"
DAY1, DAY2, DAY3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)

SPEC = TableSpec(
    name="all_types",
    description="Every logical type.",
    partition_column="day",
    primary_key=("day", "shop", "id"),
    columns=(
        Column("day", "date", "Partition.", False),
        Column("shop", "text", "Scope.", False),
        Column("id", "int", "Key.", False),
        Column("txt", "text", "Text."),
        Column("n", "int", "Integer."),
        Column("x", "float", "Float."),
        Column("amount", "money", "Money."),
        Column("flag", "bool", "Boolean."),
        Column("d", "date", "Date."),
        Column("ts", "timestamptz", "Timestamp."),
    ),
)

# Primary key not led by the partition column: PostgreSQL must add a separate partition index.
KEYED_BY_ID = TableSpec(
    name="keyed_by_id",
    description="Key without the partition column.",
    partition_column="day",
    primary_key=("id",),
    columns=(Column("id", "text", "Key.", False), Column("day", "date", "Partition.", False)),
)

TEXTS = [
    "中文 售后",
    "emoji 😀🎉",
    "",
    None,
    "tab\tnew\nline\rcr",
    "ctl \x01\x1b\x7f",
    "q\"u,o'te",
    "\\.",
    "\\N",
    "nan",
]


def frame(day: dt.date, ids: range, shop: str = "A", txt: str | None = None) -> pd.DataFrame:
    """A typed frame for SPEC: one row per id, every column populated with a rotating mix of values."""
    k = len(ids)
    stamps = [
        pd.Timestamp("2024-03-01 08:00:00.123456", tz=TZ),
        None,
        pd.Timestamp("1965-06-01 23:59:59", tz=TZ),
        pd.Timestamp("2024-03-01 00:00:00", tz=TZ),
    ]
    return pd.DataFrame(
        {
            "day": [day] * k,
            "shop": [shop] * k,
            "id": list(ids),
            "txt": [txt if txt is not None else TEXTS[i % len(TEXTS)] for i in ids],
            "n": pd.array([[1, None, -(2**62), 0][i % 4] for i in ids], dtype="Int64"),
            "x": [[0.1, float("nan"), 1e300, -2.5][i % 4] for i in ids],
            "amount": [[12345678.99, 0.1, None, -0.01, 0.0][i % 5] for i in ids],
            "flag": pd.array([[True, False, None][i % 3] for i in ids], dtype="boolean"),
            "d": [[dt.date(1999, 12, 31), None, dt.date(2024, 2, 29)][i % 3] for i in ids],
            "ts": pd.Series([stamps[i % 4] for i in ids], dtype=f"datetime64[us, {TZ}]"),
        }
    )


def expected(spec: TableSpec, *frames: pd.DataFrame) -> pd.DataFrame:
    """What reading the frames back must give: the frames typed the way the warehouse types them."""
    typed = arrow_to_frame(spec, frame_to_arrow(spec, pd.concat(frames, ignore_index=True)), TZ)
    return _sorted(typed)


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Rows in key order with a fresh index."""
    keys = [c for c in ("day", "shop", "id") if c in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


def read(wh: Warehouse, spec: TableSpec = SPEC, window: DateWindow | None = None) -> pd.DataFrame:
    """Everything (or a window) read back in key order."""
    return _sorted(wh.read(spec, window))


def count(wh: Warehouse, table: str = SPEC.name) -> int:
    """Row count through the backend's own query()."""
    return int(wh.query(f"SELECT count(*) AS n FROM {wh.qualified(table)}")["n"].iloc[0])


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def pg(pg_url: str) -> Iterator[psycopg.Connection]:
    """An independent autocommit connection to the test database."""
    conninfo = conninfo_from_url(make_url(pg_url))
    with psycopg.connect(conninfo, autocommit=True) as con:
        yield con


@pytest.fixture(params=["duckdb", "sqlite", "postgresql"])
def make_wh(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Warehouse]:
    """A factory of warehouses on one backend; each test gets its own file or PostgreSQL schema."""
    backend = request.param
    if backend == "duckdb":
        url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    elif backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'wh.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    default_schema = f"wh_{uuid.uuid4().hex[:8]}"

    def make(schema: str | None = None) -> Warehouse:
        return open_warehouse(url, schema or default_schema, TZ)

    make.backend = backend  # type: ignore[attr-defined]
    return make


@pytest.fixture
def wh(make_wh: Callable[..., Warehouse]) -> Warehouse:
    """A warehouse on the parametrized backend."""
    return make_wh()


# ---------------------------------------------------------------- all backends


def test_dispatch(make_wh: Callable[..., Warehouse]) -> None:
    """open_warehouse picks the native class per URL."""
    names = {"duckdb": "DuckDBWarehouse", "sqlite": "SQLAlchemyWarehouse", "postgresql": "PostgresWarehouse"}
    assert type(make_wh()).__name__ == names[make_wh.backend]  # type: ignore[attr-defined]


def test_absent_table_reads_empty(wh: Warehouse) -> None:
    """An absent table is not an error: empty typed frame, table_exists False."""
    assert not wh.table_exists(SPEC.name)
    got = wh.read(SPEC, DateWindow.single(DAY1), columns=["id", "amount"])
    assert list(got.columns) == ["id", "amount"] and got.empty


def test_round_trip_every_type(wh: Warehouse) -> None:
    """Every logical type, nulls, empty strings, control characters and time zones come back exactly."""
    df = frame(DAY1, range(40))
    assert wh.replace(SPEC, df, DateWindow.single(DAY1)) == 40
    assert wh.table_exists(SPEC.name)
    got = read(wh)
    pd.testing.assert_frame_equal(got, expected(SPEC, df))

    assert [None if pd.isna(t) else t for t in got["txt"].iloc[: len(TEXTS)]] == TEXTS
    assert got["txt"].iloc[2] == "" and pd.isna(got["txt"].iloc[3]) and got["txt"].iloc[9] == "nan"
    assert got["n"].iloc[0] == 1 and got["n"].iloc[1] is pd.NA and got["n"].iloc[2] == -(2**62)
    assert got["x"].iloc[0] == 0.1 and pd.isna(got["x"].iloc[1]) and got["x"].iloc[2] == 1e300
    assert (
        got["amount"].iloc[0] == Decimal("12345678.99")  # money reads back as exact decimals (issue 13)
        and got["amount"].iloc[1] == Decimal("0.10")
        and pd.isna(got["amount"].iloc[2])
    )
    assert got["flag"].tolist()[:3] == [True, False, pd.NA]
    assert got["d"].iloc[0] == dt.date(1999, 12, 31) and pd.isna(got["d"].iloc[1])
    assert got["ts"].iloc[0] == pd.Timestamp("2024-03-01 08:00:00.123456", tz=TZ)
    assert str(got["ts"].iloc[0].tz) == TZ and pd.isna(got["ts"].iloc[1])
    assert got["ts"].iloc[2] == pd.Timestamp("1965-06-01 15:59:59", tz="UTC")

    subset = wh.read(SPEC, DateWindow.single(DAY1), columns=["id", "amount"])
    assert list(subset.columns) == ["id", "amount"] and len(subset) == 40
    assert count(wh) == 40


def test_day_counts(wh: Warehouse) -> None:
    """Rows per partition day of a window, on every backend; an absent table counts nothing."""
    assert wh.day_counts(SPEC, DateWindow(DAY1, DAY3)) == {}
    wh.replace(SPEC, frame(DAY1, range(5)), DateWindow.single(DAY1))
    wh.replace(SPEC, frame(DAY3, range(2)), DateWindow.single(DAY3))
    assert wh.day_counts(SPEC, DateWindow(DAY1, DAY3 + dt.timedelta(days=1))) == {DAY1: 5, DAY3: 2}
    assert wh.day_counts(SPEC, DateWindow(DAY2, DAY3)) == {}


@pytest.mark.slow
def test_window_replace_keeps_other_days(wh: Warehouse) -> None:
    """Replacing one day deletes exactly that day; a wider window deletes the days it covers."""
    d1, d2, d3 = frame(DAY1, range(5)), frame(DAY2, range(7)), frame(DAY3, range(3))
    for day, df in ((DAY1, d1), (DAY2, d2), (DAY3, d3)):
        wh.replace(SPEC, df, DateWindow.single(day))
    new2 = frame(DAY2, range(100, 102), txt="new")
    wh.replace(SPEC, new2, DateWindow.single(DAY2))
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, d1, new2, d3))
    pd.testing.assert_frame_equal(read(wh, window=DateWindow.single(DAY2)), expected(SPEC, new2))

    wh.replace(SPEC, frame(DAY1, range(1)), DateWindow(DAY1, DAY3))
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, frame(DAY1, range(1)), d3))


def test_scope_replace(wh: Warehouse) -> None:
    """A scoped replace touches only its scope inside the window."""
    a, b = frame(DAY1, range(4), shop="A"), frame(DAY1, range(3), shop="B")
    wh.replace(SPEC, a, DateWindow.single(DAY1), scope={"shop": "A"})
    wh.replace(SPEC, b, DateWindow.single(DAY1), scope={"shop": "B"})
    a2 = frame(DAY1, range(10, 12), shop="A", txt="again")
    wh.replace(SPEC, a2, DateWindow.single(DAY1), scope={"shop": "A"})
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, a2, b))
    only_b = _sorted(wh.read(SPEC, DateWindow.single(DAY1), scope={"shop": "B"}))
    pd.testing.assert_frame_equal(only_b, expected(SPEC, b))
    with pytest.raises(WarehouseError, match="outside scope"):
        wh.replace(SPEC, b, DateWindow.single(DAY1), scope={"shop": "A"})


def test_rewrite_is_idempotent(wh: Warehouse) -> None:
    """Writing the same window twice leaves the same rows as writing it once."""
    df = frame(DAY2, range(25))
    wh.replace(SPEC, df, DateWindow.single(DAY2))
    once = read(wh)
    wh.replace(SPEC, df, DateWindow.single(DAY2))
    pd.testing.assert_frame_equal(read(wh), once)
    assert count(wh) == 25


def test_empty_frame_clears_window(wh: Warehouse) -> None:
    """An empty frame for a window deletes that window only."""
    wh.replace(SPEC, frame(DAY1, range(3)), DateWindow.single(DAY1))
    wh.replace(SPEC, frame(DAY2, range(2)), DateWindow.single(DAY2))
    wh.replace(SPEC, frame(DAY1, range(0)), DateWindow.single(DAY1))
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, frame(DAY2, range(2))))


def test_failed_write_keeps_old_rows(
    make_wh: Callable[..., Warehouse], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A write that fails after some rows went out (key violation late in the frame) changes nothing."""
    wh = make_wh()
    old = frame(DAY1, range(6))
    wh.replace(SPEC, old, DateWindow.single(DAY1))
    # Small batches, so earlier rows really are sent before the failing one.
    monkeypatch.setattr(postgres_warehouse, "_BATCH_ROWS", 2)
    monkeypatch.setattr(sqlalchemy_warehouse, "_INSERT_BATCH", 2)
    if make_wh.backend == "duckdb":  # type: ignore[attr-defined]
        # The DuckDB writer declares no key; give the table one so the insert can fail.
        with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
            con.execute(f"CREATE UNIQUE INDEX ux ON {wh.qualified(SPEC.name)} (day, shop, id)")
    bad = pd.concat([frame(DAY1, range(100, 106)), frame(DAY1, range(100, 101))], ignore_index=True)
    with pytest.raises(WarehouseError, match=re.escape(f"{wh.schema}.{SPEC.name} failed")):
        wh.replace(SPEC, bad, DateWindow.single(DAY1))
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, old))


def test_hostile_names_are_quoted(make_wh: Callable[..., Warehouse]) -> None:
    """Schema, table and column names that look like SQL injection stay names."""
    canary_wh = make_wh()
    spec = TableSpec(
        name=HOSTILE,
        description="Hostile names.",
        partition_column=f"day {HOSTILE}",
        primary_key=(f"day {HOSTILE}", "k"),
        columns=(
            Column(f"day {HOSTILE}", "date", "Partition.", False),
            Column("k", "text", "Key.", False),
            Column(HOSTILE[::-1], "money", "Hostile column."),
        ),
    )
    canary = TableSpec(name="y", description="Must survive.", columns=(Column("k", "text", "Key."),))
    canary_wh.replace(canary, pd.DataFrame({"k": ["still here"]}), None)
    wh = make_wh(HOSTILE)
    df = pd.DataFrame({f"day {HOSTILE}": [DAY1, DAY2], "k": ["a", "b"], HOSTILE[::-1]: [1.25, None]})
    wh.replace(spec, df, None)
    wh.replace(spec, df.iloc[:1], DateWindow.single(DAY1), scope={"k": "a"})
    wh.replace(spec, df.iloc[1:], DateWindow.single(DAY2))
    assert wh.table_exists(HOSTILE)
    if make_wh.backend != "sqlite":  # type: ignore[attr-defined]  # SQLite has no schemas
        assert not wh.table_exists("y")
    got = wh.read(spec).sort_values("k").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, arrow_to_frame(spec, frame_to_arrow(spec, df), TZ))
    assert wh.read(spec, DateWindow.single(DAY2))["k"].tolist() == ["b"]
    assert count(wh, HOSTILE) == 2
    assert canary_wh.read(canary)["k"].tolist() == ["still here"]


def test_added_column(wh: Warehouse) -> None:
    """A column added to the spec (hostile name included) is added to the table; old rows read it as null."""
    v1 = TableSpec(
        name="grows",
        description="v1",
        partition_column="day",
        columns=(Column("day", "date", "Partition.", False), Column("k", "text", "Key.", False)),
    )
    v2 = TableSpec(
        name="grows",
        description="v2",
        partition_column="day",
        columns=(*v1.columns, Column("amount", "money", "New."), Column(HOSTILE, "text", "New, hostile.")),
    )
    wh.replace(v1, pd.DataFrame({"day": [DAY1], "k": ["old"]}), DateWindow.single(DAY1))
    new = pd.DataFrame({"day": [DAY2], "k": ["new"], "amount": [0.1], HOSTILE: ["h"]})
    wh.replace(v2, new, DateWindow.single(DAY2))
    got = wh.read(v2).sort_values("day").reset_index(drop=True)
    assert got["k"].tolist() == ["old", "new"]
    assert pd.isna(got["amount"].iloc[0]) and got["amount"].iloc[1] == Decimal("0.10")
    assert pd.isna(got[HOSTILE].iloc[0]) and got[HOSTILE].iloc[1] == "h"


def test_replace_all_is_one_transaction(make_wh: Callable[..., Warehouse], tmp_path: Path) -> None:
    """Several tables in one replace_all land together; when the last one fails, none of them changed."""
    wh = make_wh()
    other = TableSpec(
        name="companion",
        description="Written with all_types.",
        partition_column="day",
        primary_key=("day", "k"),
        columns=(Column("day", "date", "Partition.", False), Column("k", "text", "Key.", False)),
    )
    window = DateWindow.single(DAY1)
    old, old_other = frame(DAY1, range(3)), pd.DataFrame({"day": [DAY1], "k": ["old"]})
    assert wh.replace_all([TableWrite(SPEC, old, window, {}), TableWrite(other, old_other, window, {})]) == [3, 1]
    if make_wh.backend == "duckdb":  # type: ignore[attr-defined]
        # The DuckDB writer declares no key; give the table one so the second write can fail.
        with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
            con.execute(f"CREATE UNIQUE INDEX ux_companion ON {wh.qualified(other.name)} (day, k)")
    duplicate_keys = pd.DataFrame({"day": [DAY1, DAY1], "k": ["dup", "dup"]})
    writes = [TableWrite(SPEC, frame(DAY1, range(10, 20)), window, {}), TableWrite(other, duplicate_keys, window, {})]
    with pytest.raises(WarehouseError, match=re.escape(f"{wh.schema}.{SPEC.name}, ") + r"(\S+\.)?companion failed"):
        wh.replace_all(writes)
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, old))
    assert wh.read(other)["k"].tolist() == ["old"]


@pytest.mark.slow
def test_bi_views_on_every_backend(wh: Warehouse) -> None:
    """The BI views are created over empty tables, read the rows written later, and re-create idempotently."""
    from after_sales.bi.views import BI_VIEWS, apply_views, view_names
    from after_sales.tables import METRICS_DAILY

    assert apply_views(wh) == view_names()
    metrics = next(v.spec for v in BI_VIEWS if v.name == "bi_metrics_daily")
    assert wh.read(metrics).empty
    row: dict[str, object] = {c.name: 0 if not c.nullable else None for c in METRICS_DAILY.columns}
    row.update(business_date=DAY1, orders=5)
    wh.replace(METRICS_DAILY, pd.DataFrame([row]), DateWindow.single(DAY1))
    assert apply_views(wh) == view_names()
    got = wh.read(metrics)
    assert got["orders"].tolist() == [5] and got["business_date"].tolist() == [DAY1]
    for view in BI_VIEWS:
        assert wh.read(view.spec).shape[1] == len(view.spec.columns), view.name


# ---------------------------------------------------------------- PostgreSQL only


def test_conninfo_from_url() -> None:
    """SQLAlchemy URL parts and query options become libpq keywords; the driver suffix is dropped."""
    url = make_url("postgresql+psycopg://u:p%40ss@db.example:5433/wh?sslmode=require&application_name=x")
    info = psycopg.conninfo.conninfo_to_dict(conninfo_from_url(url))
    assert info == {
        "host": "db.example",
        "port": "5433",
        "user": "u",
        "password": "p@ss",
        "dbname": "wh",
        "sslmode": "require",
        "application_name": "x",
    }


def test_pg_column_types_and_keys(pg_url: str, pg: psycopg.Connection) -> None:
    """PostgreSQL columns carry the spec's types, NOT NULL, the primary key and a partition index."""
    wh = open_warehouse(pg_url, "types_check", TZ)
    wh.replace(SPEC, frame(DAY1, range(3)), DateWindow.single(DAY1))
    wh.replace(KEYED_BY_ID, pd.DataFrame({"id": ["a"], "day": [DAY1]}), DateWindow.single(DAY1))
    rows = pg.execute(
        "SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        ["types_check", SPEC.name],
    ).fetchall()
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("day", "date", "NO"),
        ("shop", "text", "NO"),
        ("id", "bigint", "NO"),
        ("txt", "text", "YES"),
        ("n", "bigint", "YES"),
        ("x", "double precision", "YES"),
        ("amount", "numeric", "YES"),
        ("flag", "boolean", "YES"),
        ("d", "date", "YES"),
        ("ts", "timestamp with time zone", "YES"),
    ]
    assert [r[2:4] for r in rows if r[0] == "amount"] == [(18, 2)]
    for spec in (SPEC, KEYED_BY_ID):
        key = pg.execute(
            "SELECT k.column_name FROM information_schema.table_constraints c "
            "JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) "
            "WHERE c.table_schema = %s AND c.table_name = %s AND c.constraint_type = 'PRIMARY KEY' "
            "ORDER BY k.ordinal_position",
            ["types_check", spec.name],
        ).fetchall()
        assert tuple(r[0] for r in key) == spec.primary_key
        leading = pg.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = i.indkey[0] WHERE i.indrelid = %s::regclass",
            [wh.qualified(spec.name)],
        ).fetchall()
        assert "day" in {r[0] for r in leading}, f"{spec.name} has no index led by its partition column"


def test_pg_nul_byte_is_refused(pg_url: str) -> None:
    """PostgreSQL text cannot hold NUL: the write fails cleanly and the old rows stay."""
    wh = open_warehouse(pg_url, "nul_check", TZ)
    old = frame(DAY1, range(3))
    wh.replace(SPEC, old, DateWindow.single(DAY1))
    with pytest.raises(WarehouseError, match=re.escape("nul_check.all_types")):
        wh.replace(SPEC, frame(DAY1, range(3), txt="a\x00b"), DateWindow.single(DAY1))
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, old))


def test_pg_failure_after_copy_started(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception in the middle of the COPY stream rolls everything back."""
    wh = open_warehouse(pg_url, "copy_abort", TZ)
    old = frame(DAY1, range(4))
    wh.replace(SPEC, old, DateWindow.single(DAY1))
    monkeypatch.setattr(postgres_warehouse, "_BATCH_ROWS", 10)
    original = psycopg.Copy.write
    calls = {"n": 0}

    def failing_write(self: psycopg.Copy, buffer: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        original(self, buffer)

    monkeypatch.setattr(psycopg.Copy, "write", failing_write)
    with pytest.raises(WarehouseError, match=re.escape("copy_abort.all_types failed") + ".*disk on fire"):
        wh.replace(SPEC, frame(DAY1, range(100, 150)), DateWindow.single(DAY1))
    assert calls["n"] == 3
    monkeypatch.undo()
    pd.testing.assert_frame_equal(read(wh), expected(SPEC, old))


def test_pg_reader_sees_old_or_new(
    pg_url: str, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a replace is in flight another connection sees all old rows; after commit all new ones."""
    wh = open_warehouse(pg_url, "isolation", TZ)
    wh.replace(SPEC, frame(DAY1, range(300), txt="old"), DateWindow.single(DAY1))
    monkeypatch.setattr(postgres_warehouse, "_BATCH_ROWS", 100)
    original = psycopg.Copy.write
    sent, release = threading.Event(), threading.Event()

    def held_write(self: psycopg.Copy, buffer: object) -> None:
        original(self, buffer)
        if not sent.is_set():
            sent.set()
            assert release.wait(30)

    monkeypatch.setattr(psycopg.Copy, "write", held_write)
    errors: list[BaseException] = []

    def write_new() -> None:
        try:
            wh.replace(SPEC, frame(DAY1, range(1000, 1500), txt="new"), DateWindow.single(DAY1))
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    writer = threading.Thread(target=write_new)
    writer.start()
    table = wh.qualified(SPEC.name)
    query = f"SELECT txt, count(*) FROM {table} GROUP BY txt"
    try:
        assert sent.wait(30), "the writer never started its COPY"
        assert dict(pg.execute(query).fetchall()) == {"old": 300}
    finally:
        release.set()
        writer.join(60)
    assert not errors, errors
    assert dict(pg.execute(query).fetchall()) == {"new": 500}


def test_pg_concurrent_first_writes(pg_url: str) -> None:
    """Writers racing to create the same schema and table all succeed (DDL under advisory locks)."""
    schema = f"race_{uuid.uuid4().hex[:8]}"
    days = [DAY1 + dt.timedelta(days=i) for i in range(8)]
    barrier = threading.Barrier(len(days))
    errors: list[BaseException] = []

    def write(day: dt.date) -> None:
        wh = open_warehouse(pg_url, schema, TZ)
        barrier.wait(30)
        try:
            wh.replace(SPEC, frame(day, range(20)), DateWindow.single(day))
            wh.replace(KEYED_BY_ID, pd.DataFrame({"id": [str(day)], "day": [day]}), DateWindow.single(day))
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(d,)) for d in days]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    wh = open_warehouse(pg_url, schema, TZ)
    assert count(wh) == 20 * len(days)
    assert count(wh, KEYED_BY_ID.name) == len(days)


def test_pg_query_values(pg_url: str) -> None:
    """query() returns a frame with psycopg's values (Decimal money, aware timestamps)."""
    wh = open_warehouse(pg_url, "query_check", TZ)
    assert isinstance(wh, PostgresWarehouse)
    wh.replace(SPEC, frame(DAY1, range(1)), DateWindow.single(DAY1))
    got = wh.query(f"SELECT amount, ts, '100%' AS pct FROM {wh.qualified(SPEC.name)}")
    assert got["amount"].iloc[0] == Decimal("12345678.99")
    assert got["ts"].iloc[0] == pd.Timestamp("2024-03-01 00:00:00.123456", tz="UTC")
    assert got["pct"].iloc[0] == "100%"


UNKEYED = TableSpec(
    name="unkeyed",
    description="No key: every column decides the order of a read.",
    partition_column=None,
    primary_key=(),
    columns=(
        Column("txt", "text", "Text."),
        Column("n", "int", "Integer."),
        Column("x", "float", "Float."),
        Column("flag", "bool", "Boolean."),
        Column("d", "date", "Date."),
        Column("ts", "timestamptz", "Timestamp."),
    ),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # a fresh file per example
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["", "a", "B", "b", "中", "a\x00", "é", "z" * 20])),
            st.one_of(st.none(), st.integers(-3, 3)),
            st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 2.25, float("inf"), float("nan")])),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.sampled_from([DAY1, DAY2])),
            st.one_of(st.none(), st.sampled_from([pd.Timestamp("2024-03-01 08:00", tz=TZ), pd.Timestamp(0, tz="UTC")])),
        ),
        max_size=30,
    )
)
def test_duckdb_sorts_a_read_as_arrow_would(tmp_path: Path, rows: list[tuple]) -> None:
    frame = pd.DataFrame(rows, columns=UNKEYED.column_names)
    frame = arrow_to_frame(UNKEYED, frame_to_arrow(UNKEYED, frame), TZ)
    wh = open_warehouse(f"duckdb:///{tmp_path / f'{uuid.uuid4().hex}.duckdb'}", "after_sales", TZ)
    wh.replace(UNKEYED, frame, None)
    columns = UNKEYED.column_names
    by_duckdb = wh._read_in_key_order(UNKEYED, None, columns, {})
    by_arrow = Warehouse._read_in_key_order(wh, UNKEYED, None, columns, {})
    assert by_duckdb is not None and by_arrow is not None
    assert by_duckdb.equals(by_arrow), (by_duckdb.to_pylist(), by_arrow.to_pylist())
