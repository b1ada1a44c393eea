"""The daily work-order CSVs are byte for byte what one filter and one pandas format per day wrote."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.assets.exports import write_daily_csvs
from after_sales.tables import WORK_ORDER_FEEDBACK, WORK_ORDERS
from after_sales.transforms.marts import (
    WORK_ORDER_FRAME_COLUMNS,
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
    with_feedback_ids,
    work_order_feedback,
)
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.transforms.staging import LandedFile, StagingContext, stage_feedback, stage_orders
from tests.support.landing import FEEDBACK_HEADER, ORDERS_HEADER

TZ = "Asia/Shanghai"
DAY = dt.date(2026, 10, 1)
DAYS = [DAY + dt.timedelta(days=i) for i in range(4)]  # DAY + 2 has no work orders


def reference_write_daily_csvs(work_orders: pd.DataFrame, days: list[dt.date], out_dir: Path) -> list[Path]:
    """The implementation before the Arrow formatting: a filter and a pandas to_csv per day."""
    written = []
    if "feedback_ids" in work_orders.columns:  # a list per work order, written as a JSON array (issue 13)
        ids = work_orders["feedback_ids"].map(lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v)
        work_orders = work_orders.assign(feedback_ids=ids)
    for day in days:
        rows = work_orders.loc[work_orders["business_date"] == day]
        path = out_dir / f"work_orders_{day.isoformat()}.csv"
        tmp = path.with_suffix(".csv.tmp")
        rows.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%dT%H:%M:%S%z")
        os.replace(tmp, path)
        written.append(path)
    return written


def landed(source: str, header: str, lines: list[str], day: dt.date) -> LandedFile:
    """A LandedFile from csv text lines."""
    frame = pd.read_csv(io.StringIO("\n".join([header, *lines])), dtype=str, keep_default_na=False)
    frame["source_row"] = range(1, len(frame) + 1)
    return LandedFile(source, day, f"{source}/{day}/x.csv", frame)


def pipeline_work_orders() -> pd.DataFrame:
    """Work orders built from staged rows: resolved, open (no resolved_at) and multi-cause, on three days."""
    ctx = StagingContext(timezone=TZ, late_arrival_days=7)
    orders = stage_orders(
        landed(
            "orders",
            ORDERS_HEADER,
            [
                "O1,2026-10-01 10:00:00,U1,杯,1,10,alipay,completed,web",
                "O2,2026-10-01 23:59:59,U2,杯,1,10,alipay,completed,app",
                "O3,2026-10-02 00:00:01,U3,耳机,1,99,wechat,delivered,web",
                "O4,2026-10-04 08:00:00,U4,耳机,2,198,wechat,delivered,web",
            ],
            DAYS[-1],
        ),
        ctx,
    ).rows
    feedback = stage_feedback(
        landed(
            "feedback",
            FEEDBACK_HEADER,
            [
                "F1,O1,2026-10-01 12:00:00,2,complaint,快递丢件 and the cup is broken,2026-10-01 12:10:00,"
                "2026-10-03 12:00:00,replaced,false",
                'F2,O2,2026-10-02 09:30:15,1,complaint,"没收到货, 客服也不回",,,,false',
                "F3,O3,2026-10-02 13:00:00,2,review,支付失败 重复扣款,2026-10-02 13:05:00,2026-10-02 18:00:00,"
                "refunded,true",
                "F4,O3,2026-10-03 13:00:00,1,complaint,支付失败,,,,false",
                "F5,O4,2026-10-04 09:00:00,,return,return process too complicated,,,,false",
            ],
            DAYS[-1],
        ),
        ctx,
    ).rows
    fact = build_order_feedback(orders, feedback, DAY, DAYS[-1] + dt.timedelta(days=1), ("complaint",))
    as_of = pd.Timestamp("2026-10-05 12:00", tz=TZ)
    return build_work_orders(build_problem_orders(fact, load_cause_rules()), load_service_rules(), as_of)


def hand_made_work_orders() -> pd.DataFrame:
    """Edge cases: sub-second times, a zone with summer time, NaT, quoting, missing ratings, rows off the days."""
    zone = "Europe/Berlin"
    opened = pd.Series(
        pd.to_datetime(
            [
                "2026-03-29 01:59:59.999999",
                "2026-03-29 03:00:00.5",
                "2026-10-25 02:30:00.000001",
                "2026-10-01 00:00:00",
                "1969-12-31 23:59:59.75",
                "2026-10-02 12:00:00",
            ],
            format="ISO8601",
        )
    ).dt.tz_localize(zone, ambiguous=np.array([False, False, True, False, False, False]))
    business = [DAY, DAYS[1], DAY, DAYS[3], DAY, dt.date(2026, 9, 1)]
    n = len(business)
    frame = pd.DataFrame(
        {
            "work_order_id": [f"WO-{i}" for i in range(n)],
            "business_date": pd.Series(business, dtype=object),
            "order_id": pd.Series(["O,1", 'O"2', "O\n3", "订单4", "", "O6"], dtype="string"),
            "order_scope": ["own", "own", "own", "tmall", "own", "jd"],
            "channel": ["web", "web", "web", "tmall", "web", "jd"],
            "cause": ["other"] * n,
            "feedback_ids": [["F1", "F,2"], ["F3"], ["F4"], ["F5"], ["F6"], ["F7"]],
            "issue_count": pd.array([2, 1, 1, 1, 1, 1], dtype="Int64"),
            "min_rating": pd.array([1, None, 3, None, 5, 2], dtype="Int64"),
            "suggested_action": ["人工回访"] * n,
            "suggested_actions": ["人工回访 | 补发"] * n,
            "priority": ["P1", "P2", "P3", "P1", "P2", "P3"],
            "sla_hours": np.array([4, 24, 72, 4, 24, 72], dtype="int64"),
            "status": ["open", "resolved", "reopened", "open", "resolved", "resolved"],
            "opened_at": opened,
            "due_at": opened + pd.to_timedelta([4, 24, 72, 4, 24, 72], unit="h"),
            "resolved_at": opened.where(pd.Series([False, True, True, False, True, True])) + pd.Timedelta("5min"),
            "sla_breached": [True, False, True, False, False, True],
            # Issue 16: how the work order was found (one opened proactively from a behaviour signal).
            "found_by": ["feedback", "both", "feedback", "feedback", "feedback", "feedback"],
            "proactive": [False, True, False, False, False, False],
            "first_signal_at": opened.where(pd.Series([False, True, False, False, False, False])),
            "signal_rule": [None, "abandoned_return", None, None, None, None],
        }
    )
    frame["opened_at"] = frame["opened_at"].astype(f"datetime64[ns, {zone}]")  # another unit than the others
    return frame[WORK_ORDER_FRAME_COLUMNS]


def loaded_from_warehouse(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the export reads it: work_orders and its feedback bridge after a round trip through Arrow."""
    stored = arrow_to_frame(WORK_ORDERS, frame_to_arrow(WORK_ORDERS, frame[WORK_ORDERS.column_names]), TZ)
    links = work_order_feedback(frame)
    links = arrow_to_frame(WORK_ORDER_FEEDBACK, frame_to_arrow(WORK_ORDER_FEEDBACK, links), TZ)
    return with_feedback_ids(stored, links)[WORK_ORDER_FRAME_COLUMNS]


FRAMES = {
    "pipeline": pipeline_work_orders,
    "pipeline, loaded from the warehouse": lambda: loaded_from_warehouse(pipeline_work_orders()),
    "hand made edge cases": hand_made_work_orders,
    "hand made, loaded from the warehouse": lambda: loaded_from_warehouse(hand_made_work_orders()),
    "only open ones (resolved_at all NaT)": lambda: pipeline_work_orders().query("status == 'open'"),
    "none at all": lambda: build_work_orders(pd.DataFrame(), load_service_rules(), None),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FRAMES))
def test_daily_csvs_are_byte_identical_to_the_reference(name: str, tmp_path: Path) -> None:
    work_orders = FRAMES[name]()
    before = work_orders.copy()
    (tmp_path / "ref").mkdir()
    (tmp_path / "new").mkdir()
    expected = reference_write_daily_csvs(work_orders, DAYS, tmp_path / "ref")
    written = write_daily_csvs(work_orders, DAYS, tmp_path / "new")
    assert [p.name for p in written] == [p.name for p in expected]
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == sorted(p.name for p in expected)  # no .tmp left
    for new, ref in zip(written, expected, strict=True):
        assert new.read_bytes() == ref.read_bytes(), new.name
    pd.testing.assert_frame_equal(work_orders, before)


@pytest.mark.slow
def test_edge_cases_are_in_the_files(tmp_path: Path) -> None:
    written = write_daily_csvs(pipeline_work_orders(), DAYS, tmp_path)
    texts = {p.name: p.read_bytes() for p in written}
    assert all(t.startswith(b"\xef\xbb\xbf" + b"work_order_id,business_date,") for t in texts.values())
    assert texts["work_orders_2026-10-03.csv"].count(b"\n") == 1  # header only
    first_day = pd.read_csv(tmp_path / "work_orders_2026-10-01.csv", encoding="utf-8-sig", dtype=str)
    assert first_day["opened_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0800").all()
    assert first_day["resolved_at"].isna().any() and first_day["resolved_at"].notna().any()  # open ones empty


def test_formula_cells_are_neutralized_and_numbers_stay_numbers(tmp_path: Path) -> None:
    from after_sales.resources.export_directory import FORMULA_TRIGGERS, PLAIN_NUMBER, neutralize_cell

    dangerous = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+2", "-1+2", "\t=1", "\r=1", '=HYPERLINK("x")']
    assert [neutralize_cell(v) for v in dangerous] == ["'" + v for v in dangerous]
    assert [neutralize_cell(v) for v in ["-5.00", "+86", "1e5", "O-1", "", None, 3]] == [
        "-5.00",
        "+86",
        "1e5",
        "O-1",
        "",
        None,
        3,
    ]

    frame = hand_made_work_orders()
    frame["order_id"] = pd.Series(dangerous[:6], dtype="string")
    frame["suggested_action"] = ["@SUM(1+1)", "-1+2", "fine", "-5.00", "=1", "ok"]
    frame["min_rating"] = pd.array([-5, None, 3, None, -1, 2], dtype="Int64")
    before = frame.copy()
    written = write_daily_csvs(frame, DAYS, tmp_path)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not changed
    back = pd.concat(
        [pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False) for p in written], ignore_index=True
    )
    cells = [v for column in back.columns for v in back[column]]
    assert not [v for v in cells if v.startswith(FORMULA_TRIGGERS) and not PLAIN_NUMBER.fullmatch(v)]
    assert "'=cmd|' /C calc'!A0" in set(back["order_id"]) and "'-1+2" in set(back["suggested_action"])
    assert "-5.00" in set(back["suggested_action"])  # a plain number in a text column stays a number
    assert {"-5", "-1"} <= set(back["min_rating"])  # a numeric column is written as numbers


def test_report_table_text_cells_are_formula_safe() -> None:
    from after_sales.assets.reports import _cell

    assert _cell("=cmd|' /C calc'!A0", "channel") == "&#x27;=cmd|&#x27; /C calc&#x27;!A0"
    assert _cell("@SUM(1+1)", "cause") == "&#x27;@SUM(1+1)"
    assert (_cell("web", "channel"), _cell(-0.05, "refund_rate"), _cell(-5.0, "amount")) == ("web", "-5.0%", "-5.00")


@given(
    st.lists(
        st.one_of(st.none(), st.text(), st.from_regex(r"[=+\-@\t\r]?[+-]?[0-9.eE+-٣]{0,6}\n?", fullmatch=True)),
        max_size=20,
    ),
    st.sampled_from(["string", "object"]),
)
def test_a_text_column_is_neutralized_as_cell_by_cell(values: list[str | None], dtype: str) -> None:
    from after_sales.resources.export_directory import neutralize_cell, neutralize_formulas

    frame = pd.DataFrame({"text": pd.Series(values, dtype=dtype)})
    got = neutralize_formulas(frame)["text"]
    assert got.dtype == frame["text"].dtype
    assert [None if pd.isna(v) else v for v in got] == [neutralize_cell(v) for v in values]


@given(st.lists(st.one_of(st.none(), st.lists(st.text(), max_size=4), st.tuples(st.text())), max_size=12))
def test_feedback_id_lists_are_written_as_json_dumps_writes_them(lists: list[object]) -> None:
    from after_sales.assets.exports import json_arrays

    got = json_arrays(pd.Series(lists, dtype=object))
    expected = [json.dumps(list(v), ensure_ascii=False) if v is not None else None for v in lists]
    assert [None if not isinstance(v, str) and pd.isna(v) else v for v in got] == expected


_CSV_TEXT = st.one_of(st.none(), st.text(), st.text(alphabet=',"\n\r\t ;a订', max_size=6))


@given(
    st.lists(
        st.tuples(
            _CSV_TEXT,
            _CSV_TEXT,
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.integers(-5, 5),
            st.booleans(),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.dates()),
        ),
        max_size=15,
    ),
    st.sampled_from(["string", "object"]),
)
def test_csv_lines_are_what_to_csv_writes(rows: list[tuple[object, ...]], text_dtype: str) -> None:
    from after_sales.csv_text import csv_lines, csv_text

    columns = list(zip(*rows, strict=True)) if rows else [[]] * 7
    frame = pd.DataFrame(
        {
            "text": pd.Series(columns[0], dtype=text_dtype),
            "名, \"quoted\"": pd.Series(columns[1], dtype=object),
            "nullable_int": pd.array(columns[2], dtype="Int64"),
            "int": np.array(columns[3], dtype="int64"),
            "flag": np.array(columns[4], dtype=bool),
            "maybe": pd.array(columns[5], dtype="boolean"),
            "day": pd.Series(columns[6], dtype=object),
        }
    )
    made = csv_lines(frame)
    assert made is not None
    assert csv_text(*made) == frame.to_csv(index=False)


def test_csv_lines_leave_other_column_kinds_to_to_csv() -> None:
    from after_sales.csv_text import csv_lines

    text = pd.Series(["a", "b"])
    assert csv_lines(pd.DataFrame({"a": text, "f": [1.5, 2.0]})) is None  # floats: repr rules
    assert csv_lines(pd.DataFrame({"a": text, "t": pd.to_datetime(["2026-10-01", None])})) is None
    assert csv_lines(pd.DataFrame({"a": text, "mixed": pd.Series([1, "x"], dtype=object)})) is None
    assert csv_lines(pd.DataFrame({"a": ["", None]})) is None  # one column: a lone empty field is quoted


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2200, 12, 31)),
        ),
        max_size=12,
    ),
    st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe", "UTC"]),
    st.sampled_from(["ns", "us"]),
)
def test_timestamps_are_written_as_strftime_writes_them(
    instants: list[dt.datetime | None], zone: str, unit: str
) -> None:
    from after_sales.csv_text import ISO_SECONDS, iso_seconds

    stamps = pd.Series(pd.to_datetime(instants, utc=True)).dt.tz_convert(zone).astype(f"datetime64[{unit}, {zone}]")
    expected = [None if pd.isna(t) else t.strftime(ISO_SECONDS) for t in stamps]
    assert iso_seconds(stamps).tolist() == expected
