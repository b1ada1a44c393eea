"""The suite's rules give the same outcomes in SQL as in GX: on the derived tables of a real run, faults injected."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from after_sales.arrow_frames import frame_to_arrow
from after_sales.checks.gx_runner import Outcome, validate
from after_sales.checks.quality import uses_gx
from after_sales.checks.sql_rules import supported, validate_sql
from after_sales.checks.suites import rules_for
from after_sales.tables import ALL_TABLES, TableSpec
from after_sales.windows import DateWindow
from tests.support.shared import SharedWarehouse

WINDOW = DateWindow(dt.date(2026, 10, 1), dt.date(2026, 10, 3))
NOW = pd.Timestamp("2026-10-05", tz="UTC")


def _essence(outcomes: list[Outcome]) -> list[tuple[object, ...]]:
    return [
        (o.rule.label, o.success, o.unexpected_count, dict(o.unexpected_by_partition), len(o.sample)) for o in outcomes
    ]


def _agree(spec: TableSpec, frame: pd.DataFrame) -> list[Outcome]:
    rules = rules_for(spec, WINDOW, NOW)
    assert supported(rules), spec.name
    by_gx = validate(frame, rules, spec.partition_column)
    by_sql = validate_sql(frame_to_arrow(spec, frame), rules, spec.partition_column)
    assert _essence(by_sql) == _essence(by_gx), spec.name
    for g, s in zip(by_gx, by_sql, strict=True):
        if g.unexpected_count and g.unexpected_count <= 5 and "between" in g.rule.label:
            assert len(s.sample) == len(g.sample)
    return by_sql


def _derived(two_days: SharedWarehouse) -> dict[str, pd.DataFrame]:
    wh = two_days.open()
    return {
        name: wh.query(f'SELECT * FROM after_sales."{name}"')
        for name, spec in ALL_TABLES.items()
        if not uses_gx(spec) and spec.partition_column and name != "quarantine"
    }


def _faulted(spec: TableSpec, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """frame with a repeated key, values out of range, a future time and a day outside the window."""
    if frame.empty:
        return frame
    out = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)  # a duplicate key
    for c in spec.columns:
        if c.type in ("int", "float") and len(out) > 1:
            at = int(rng.integers(len(out)))
            out.loc[at, c.name] = -7 if c.type == "int" else 7.5
        if c.type == "timestamptz" and c.name in ("created_at", "resolved_at", "detected_at", "opened_at"):
            out.loc[len(out) - 1, c.name] = pd.Timestamp("2030-01-01", tz="UTC")
    if spec.partition_column:
        out.loc[len(out) - 1, spec.partition_column] = dt.date(2026, 9, 1)
    return out


@pytest.mark.slow
def test_sql_and_gx_agree_on_every_derived_table_clean_and_faulted(two_days: SharedWarehouse) -> None:
    rng = np.random.default_rng(5)
    tables = _derived(two_days)
    assert {"fct_order_feedback", "work_orders", "metrics_daily"} <= set(tables)
    failed = 0
    for name, frame in tables.items():
        spec = ALL_TABLES[name]
        _agree(spec, frame)
        faulted = _agree(spec, _faulted(spec, frame, rng))
        failed += sum(not o.success for o in faulted)
    assert failed > 20  # the faults were seen


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["A1", "A2", "A3", None]),
            st.sampled_from([dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 9, 30)]),
            st.one_of(st.none(), st.integers(-2, 8)),
            st.one_of(st.none(), st.floats(-1, 2, allow_nan=False)),
            st.sampled_from(
                [None, pd.Timestamp("2026-10-01 08:00", tz="UTC"), pd.Timestamp("2031-01-01", tz="Asia/Shanghai")]
            ),
        ),
        max_size=12,
    )
)
def test_sql_and_gx_agree_on_random_rows(rows: list[tuple[object, ...]]) -> None:
    from after_sales.tables import Column

    spec = TableSpec(
        name="metrics_probe",
        description="probe",
        columns=(
            Column("order_id", "text", "key", True),
            Column("business_date", "date", "day", False),
            Column("rating", "int", "1-5", True),
            Column("csat", "float", "0-1", True),
            Column("created_at", "timestamptz", "when", True),
            Column("landing_date", "date", "landed", True),
        ),
        partition_column="business_date",
        primary_key=("order_id", "business_date"),
    )
    frame = pd.DataFrame(rows, columns=["order_id", "business_date", "rating", "csat", "created_at"])
    frame["landing_date"] = frame["business_date"].map(lambda d: d + dt.timedelta(days=int(d.day % 2) - 1))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["rating"] = frame["rating"].astype("Int64")
    frame["csat"] = frame["csat"].astype("float64")
    _agree(spec, frame)


@pytest.mark.slow  # GX once per table: 12 s, the largest part of the quick loop
def test_sql_and_gx_agree_on_a_frame_without_rows_of_every_table() -> None:
    """Empty chunks are judged in SQL even for the tables GX validates: the same outcomes as GX's."""
    from after_sales.arrow_frames import empty_frame

    for spec in ALL_TABLES.values():
        if spec.partition_column:
            _agree(spec, empty_frame(spec, "Asia/Shanghai"))
