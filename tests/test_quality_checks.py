"""GX checks on staged rows: what fails, how many rows per partition, and the sample shown for it."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.checks.quality import evaluate
from after_sales.resources.warehouse import DateWindow
from after_sales.tables import STG_BEHAVIOUR, WORK_ORDERS
from after_sales.transforms.staging import LandedFile, StagingContext, combine, stage_behaviour
from tests.support.landing import BEHAVIOUR_HEADER

DAY1, DAY2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
WINDOW = DateWindow(DAY1, DAY2 + dt.timedelta(days=1))
NOW = pd.Timestamp("2026-10-03 12:00", tz="UTC")


def staged_behaviour() -> pd.DataFrame:
    """Sessions of two landing days as stage_behaviour types them: Int64 pages with NA, dates as objects."""
    ctx = StagingContext(timezone="Asia/Shanghai", late_arrival_days=7)
    results = []
    for day in (DAY1, DAY2):
        lines = [f"S{day.day}{i},V{i},{day} 1{i}:00:00,{day} 1{i}:30:00,{i if i % 3 else ''},no" for i in range(8)]
        frame = pd.read_csv(io.StringIO("\n".join([BEHAVIOUR_HEADER, *lines])), dtype=str, keep_default_na=False)
        frame["source_row"] = range(1, len(frame) + 1)
        results.append(stage_behaviour(LandedFile("behaviour", day, f"behaviour/{day}/x.csv", frame), ctx))
    return combine(results, STG_BEHAVIOUR, "session_id").rows


def failed(report_rows: pd.DataFrame) -> list[tuple[str, dt.date, int, list[str]]]:
    """(rule, partition, unexpected rows, sample) of every failed rule and partition."""
    bad = report_rows.loc[~report_rows["passed"].astype(bool)]
    return [(r.rule, r.partition_date, int(r.unexpected_count), json.loads(r.sample_values)) for r in bad.itertuples()]


@pytest.mark.slow
def test_clean_rows_pass_every_rule() -> None:
    report = evaluate("stg_behaviour", STG_BEHAVIOUR, staged_behaviour(), WINDOW, "run", now=NOW)
    assert report.passed and report.rows["passed"].all()
    assert set(report.rows["partition_date"]) == {DAY1, DAY2}


@pytest.mark.slow
def test_failures_are_counted_per_partition_with_values_as_staged() -> None:
    rows = staged_behaviour().set_axis(range(100, 116))  # not a RangeIndex from 0
    rows.loc[[101, 110], "pages"] = -1  # Int64 column, with NA elsewhere
    rows.loc[[103], "landing_date"] = dt.date(2026, 9, 30)  # before the window
    rows.loc[[112, 113], "business_date"] = DAY2 + dt.timedelta(days=1)  # after its landing day
    rows.loc[[114], ["session_id", "source"]] = rows.loc[115, ["session_id", "source"]].to_numpy()  # repeated key
    rows.loc[[105], "started_at"] = pd.Timestamp("2026-10-04 08:00", tz="Asia/Shanghai")  # in the future
    report = evaluate("stg_behaviour", STG_BEHAVIOUR, rows, WINDOW, "run", now=NOW)
    assert not report.passed
    # The row landed before the window counts in no partition of it; the partitions pass that rule.
    assert failed(report.rows) == [
        (
            "expect_compound_columns_to_be_unique(landing_date,source,session_id)",
            DAY2,
            2,
            [
                '{"landing_date": "2026-10-02", "source": "behaviour", "session_id": "S27"}',
                '{"landing_date": "2026-10-02", "source": "behaviour", "session_id": "S27"}',
            ],
        ),
        ("expect_column_values_to_be_between(pages)", DAY1, 1, ["-1", "-1"]),
        ("expect_column_values_to_be_between(pages)", DAY2, 1, ["-1", "-1"]),
        ("expect_column_values_to_be_between(started_at)", DAY1, 1, ["2026-10-04 08:00:00+08:00"]),
        (
            "expect_column_pair_values_a_to_be_greater_than_b(landing_date>=business_date)",
            DAY2,
            2,
            ['["2026-09-30", "2026-10-01"]', '["2026-10-02", "2026-10-03"]', '["2026-10-02", "2026-10-03"]'],
        ),
    ]
    failures = {f.split(": ")[1].removesuffix(" failed"): f.split(" failed: ")[1] for f in report.failures}
    assert failures == {
        "expect_compound_columns_to_be_unique(landing_date,source,session_id)": "2 of 16 rows unexpected, e.g. "
        '{"landing_date": "2026-10-02", "source": "behaviour", "session_id": "S27"}, '
        '{"landing_date": "2026-10-02", "source": "behaviour", "session_id": "S27"}',
        "expect_column_values_to_be_between(pages)": "2 of 16 rows unexpected, e.g. -1, -1",
        "expect_column_values_to_be_between(landing_date)": "1 of 16 rows unexpected, e.g. 2026-09-30",
        "expect_column_values_to_be_between(started_at)": "1 of 16 rows unexpected, e.g. 2026-10-04 08:00:00+08:00",
        "expect_column_pair_values_a_to_be_greater_than_b(landing_date>=business_date)": "3 of 16 rows unexpected, "
        'e.g. ["2026-09-30", "2026-10-01"], ["2026-10-02", "2026-10-03"], ["2026-10-02", "2026-10-03"]',
    }


@pytest.mark.slow
@pytest.mark.parametrize("pages", [pd.array([None] * 16, dtype="Int64"), pd.array([3] * 16, dtype="Int64")])
def test_integer_columns_all_missing_or_all_filled_pass(pages: pd.api.extensions.ExtensionArray) -> None:
    rows = staged_behaviour().assign(pages=pages)
    assert evaluate("stg_behaviour", STG_BEHAVIOUR, rows, WINDOW, "run", now=NOW).passed


@pytest.mark.slow
def test_an_empty_frame_passes() -> None:
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in WORK_ORDERS.column_names})
    report = evaluate("work_orders", WORK_ORDERS, empty, WINDOW, "run", now=NOW)
    assert report.passed and len(report.rows) == len(report.rows.loc[report.rows["passed"]])


@given(
    st.lists(st.one_of(st.none(), st.integers(-(10**18) + 1, 10**18 - 1), st.integers(-(2**53), 2**53)), max_size=30),
    st.integers(0, 5),
)
def test_decimals_become_the_floats_pandas_makes_of_them(unscaled: list[int | None], offset: int) -> None:
    from decimal import Decimal

    import pyarrow as pa

    from after_sales.checks.gx_runner import decimals_as_floats

    money = pa.decimal128(18, 2)
    values = pa.array([None if u is None else Decimal(u).scaleb(-2) for u in [None] * offset + unscaled], money)
    series = pd.Series(values.slice(offset), dtype=pd.ArrowDtype(money), index=range(3, 3 + len(unscaled)))
    pd.testing.assert_series_equal(decimals_as_floats(series), series.astype("float64"))
