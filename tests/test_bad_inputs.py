"""The bad-input matrix: each kind of bad input and its exact outcome, through real materializations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from after_sales.resources.warehouse import Warehouse
from tests.support.landing import FEEDBACK_HEADER, ORDERS_HEADER, write_landing
from tests.support.runs import run_range
from tests.support.shared import SharedWarehouse, build_shared

DAY = "2026-10-05"
LONG_TEXT = "质量问题 " * 12_000
ODD_TEXT = "坏了😡\tline\x07bell\u200b"
SQL_TEXT = "x'); DROP TABLE after_sales.stg_orders; --"
STAGING = ["stg_orders", "stg_feedback"]

# Orders file A: (order line, expected outcome) — "staged" or (rule, column).
ORDERS_A = [
    ("O01,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web", "staged"),
    ("O01,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web", ("duplicate_row", None)),
    ("O02,2026-10-05 10:00:00,U2,杯,1,10.00,alipay,paid,web", "staged"),
    ("O02,2026-10-05 11:00:00,U2,杯,1,12.00,alipay,paid,web", ("duplicate_id", "order_id")),
    (",2026-10-05 10:00:00,U3,杯,1,10.00,alipay,paid,web", ("missing_id", "order_id")),
    ("O04,2026-10-05 10:00:00,U4,杯,1,-3.00,alipay,paid,web", ("negative_amount", "amount")),
    ("O05,2026-10-05 10:00:00,U5,杯,1,ten,alipay,paid,web", ("unparseable_amount", "amount")),
    ("O06,2026-11-30 10:00:00,U6,杯,1,10.00,alipay,paid,web", ("future_date", "created_at")),
    ("O07,2026/13/45 25:61,U7,杯,1,10.00,alipay,paid,web", ("unparseable_date", "created_at")),
    ("O08,2026/10/05 09:30,U8,杯,1,10.00,alipay,paid,web", "staged"),  # another date format
    ("O09,2026年10月05日 08:00:00,U9,杯,1,10.00,alipay,paid,web", "staged"),  # and another
    ("O10,2026-10-01 10:00:00,U10,杯,1,10.00,alipay,paid,web", "staged"),  # late, inside the window
    ("O11,2026-09-01 10:00:00,U11,杯,1,10.00,alipay,paid,web", ("too_late", "created_at")),
    ("O12,2026-10-05 10:00:00,U12,杯,1,10.00,alipay,frozen,web", ("unknown_status", "status")),
    ("O13,2026-10-05 10:00:00,U13,杯,0,10.00,alipay,paid,web", ("invalid_quantity", "quantity")),
    (f'O14,2026-10-05 10:00:00,U14,"{SQL_TEXT}",1,10.00,alipay,paid,web', "staged"),
]
# Orders file B repeats O01 from file A exactly: a duplicate across files.
ORDERS_B = [("O01,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web", ("duplicate_row", None))]
FEEDBACK = [
    ("F01,O01,2026-10-05 12:00:00,0,review,x,,,,false", ("rating_out_of_range", "rating")),
    ("F02,O01,2026-10-05 12:00:00,6,review,x,,,,false", ("rating_out_of_range", "rating")),
    ("F03,O01,2026-10-05 12:00:00,五,review,x,,,,false", ("rating_not_numeric", "rating")),
    ("F04,O01,2026-10-05 12:00:00,NaN,review,x,,,,false", ("rating_not_numeric", "rating")),
    ("F05,O01,2026-10-05 12:00:00,,review,x,,,,false", ("missing_rating", "rating")),
    ("F06,O404,2026-10-05 12:00:00,1,complaint,没收到货,,,,false", ("unknown_order", "order_id")),
    (f'F07,O01,2026-10-05 12:00:00,1,complaint,"{LONG_TEXT}",,,,false', "staged"),
    (f'F08,O01,2026-10-05 12:00:00,2,complaint,"{ODD_TEXT}",,,,false', "staged"),
    (f'F09,O02,2026-10-05 12:00:00,1,complaint,"{SQL_TEXT}",,,,false', "staged"),
    (
        "F10,O02,2026-10-05 12:00:00,1,complaint,x,2026-10-05 11:00:00,,,false",
        ("invalid_interval", "first_response_at"),
    ),
    ("F11,O02,2026-10-05 12:00:00,1,complaint,x,,2026-10-09 12:00:00,refunded,false", ("future_date", "resolved_at")),
    ("F12,O02,2026-10-05 12:00:00,4,review,ok,,,,maybe", ("invalid_boolean", "reopened")),
    ("F13,,2026-10-05 12:00:00,4,review,ok,,,,false", ("missing_id", "order_id")),
]


def expected_quarantine(lines: list[tuple[str, object]], file: str) -> set[tuple[str, int, str, str | None]]:
    """(file, row, rule, column) for every line expected in quarantine."""
    return {(file, i, o[0], o[1]) for i, (_, o) in enumerate(lines, start=1) if o != "staged"}


def land_matrix(landing: Path) -> None:
    """Land every row-level fault for one day."""
    write_landing(landing, "orders", DAY, [line for line, _ in ORDERS_A], ORDERS_HEADER + ",coupon_code", "a.csv")
    write_landing(landing, "orders", DAY, [line for line, _ in ORDERS_B], ORDERS_HEADER, "b.csv")
    write_landing(landing, "feedback", DAY, [line for line, _ in FEEDBACK], FEEDBACK_HEADER, "f.csv")


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedWarehouse]:
    """The faults landed and staged once for this module's read-only tests."""
    shared = build_shared(tmp_path_factory.mktemp("matrix"), land_matrix, DAY, DAY, STAGING)
    yield shared
    shared.assert_unchanged()


@pytest.mark.slow
def test_every_row_fault_is_quarantined_with_its_rule_and_nothing_is_lost(matrix: SharedWarehouse) -> None:
    assert matrix.result.success
    warehouse = matrix.open()
    q = warehouse.query("SELECT source_file, source_row, rule, column_name, reason, raw FROM after_sales.quarantine")
    got = {(f, int(r), rule, None if pd.isna(c) else c) for f, r, rule, c in q.iloc[:, :4].itertuples(index=False)}
    expected = (
        expected_quarantine(ORDERS_A, f"orders/{DAY}/a.csv")
        | expected_quarantine(ORDERS_B, f"orders/{DAY}/b.csv")
        | expected_quarantine(FEEDBACK, f"feedback/{DAY}/f.csv")
    )
    assert got == expected
    for reason, (file, row) in zip(q["reason"], zip(q["source_file"], q["source_row"], strict=True), strict=True):
        assert reason.startswith(f"{file} row {row}")  # every reason names file and row (and column if one)
    staged_orders = warehouse.query("SELECT count(*) AS n FROM after_sales.stg_orders")["n"].iloc[0]
    staged_feedback = warehouse.query("SELECT count(*) AS n FROM after_sales.stg_feedback")["n"].iloc[0]
    assert staged_orders == sum(o == "staged" for _, o in ORDERS_A + ORDERS_B)
    assert staged_feedback == sum(o == "staged" for _, o in FEEDBACK)
    conserved = warehouse.query(
        "SELECT asset, rows_read, rows_staged, rows_quarantined, duplicates_removed, passed "
        "FROM after_sales.data_quality_runs WHERE check_name = 'rows_conserved' ORDER BY asset"
    )
    assert conserved.values.tolist() == [
        ["stg_feedback", len(FEEDBACK), staged_feedback, len(FEEDBACK) - staged_feedback, 0, True],
        ["stg_orders", len(ORDERS_A) + 1, staged_orders, len(ORDERS_A) + 1 - staged_orders, 2, True],
    ]


@pytest.mark.slow
def test_text_is_stored_verbatim_and_never_executed(matrix: SharedWarehouse) -> None:
    warehouse = matrix.open()
    texts = warehouse.query("SELECT feedback_id, issue_description FROM after_sales.stg_feedback ORDER BY 1")
    by_id = dict(zip(texts["feedback_id"], texts["issue_description"], strict=True))
    assert by_id["F07"] == LONG_TEXT and by_id["F08"] == ODD_TEXT and by_id["F09"] == SQL_TEXT
    product = warehouse.query("SELECT product FROM after_sales.stg_orders WHERE order_id = 'O14'")["product"]
    assert product.tolist() == [SQL_TEXT]
    assert warehouse.table_exists("stg_orders")


@pytest.mark.slow
def test_mixed_formats_and_late_rows_are_typed_right(matrix: SharedWarehouse) -> None:
    warehouse = matrix.open()
    rows = warehouse.query("SELECT order_id, business_date FROM after_sales.stg_orders ORDER BY 1")
    dates = dict(zip(rows["order_id"], rows["business_date"], strict=True))
    assert dates["O08"] == dates["O09"] == dt.date(2026, 10, 5) and dates["O10"] == dt.date(2026, 10, 1)


@pytest.mark.slow
def test_extra_column_is_a_warning(matrix: SharedWarehouse) -> None:
    meta = next(
        m.metadata
        for m in matrix.result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("stg_orders")
        for m in [m.materialization]
    )
    assert "coupon_code" in meta["warnings"].value


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        ((ORDERS_HEADER + "\nO1,2026-10-05 10:00:00,U1,cup,1,10.00,alip").encode(), "truncated file"),
        (
            (ORDERS_HEADER + "\nO1,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web\n").encode("utf-16"),
            "cannot decode",
        ),
        (b"order_id,created_at,status,channel\nO1,2026-10-05 10:00:00,paid,web\n", "required column(s) amount"),
    ],
    ids=["empty", "truncated", "wrong_encoding", "missing_column"],
)
def test_whole_file_faults_refuse_that_file_alone(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, content: bytes, message: str
) -> None:
    # Issue 13: a whole-file fault no longer fails the window; the file is refused alone (quarantine_files).
    folder = landing / "orders" / DAY
    folder.mkdir(parents=True)
    (folder / "good.csv").write_text(ORDERS_HEADER + "\nO1,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web\n")
    (folder / "bad.csv").write_bytes(content)
    result = run_range(resources, DAY, DAY, "stg_orders")
    assert result.success
    assert warehouse.query("SELECT order_id FROM after_sales.stg_orders")["order_id"].tolist() == ["O1"]
    refused = warehouse.query("SELECT source_file, reason, size_bytes FROM after_sales.quarantine_files")
    assert refused["source_file"].tolist() == [f"orders/{DAY}/bad.csv"]
    assert message in refused["reason"].iloc[0] and refused["size_bytes"].iloc[0] == len(content)
    assert len(warehouse.query("SELECT 1 FROM after_sales.quarantine")) == 0


@pytest.mark.slow
def test_header_only_and_gb18030_files_are_fine(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    folder = landing / "orders" / DAY
    folder.mkdir(parents=True)
    (folder / "empty_day.csv").write_text(ORDERS_HEADER + "\n")
    (folder / "gbk.csv").write_bytes(
        (ORDERS_HEADER + "\nO1,2026-10-05 10:00:00,张三,保温杯,1,10.00,alipay,paid,web\n").encode("gb18030")
    )
    assert run_range(resources, DAY, DAY, "stg_orders").success
    rows = warehouse.query("SELECT user_id, product FROM after_sales.stg_orders")
    assert rows.values.tolist() == [["张三", "保温杯"]]


@pytest.mark.slow
def test_replay_after_fixing_the_file_replaces_the_quarantine(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    path = write_landing(
        landing,
        "orders",
        DAY,
        ["O1,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web", "O2,2026-10-05 10:00:00,U2,杯,1,-1,alipay,paid,web"],
        ORDERS_HEADER,
    )
    assert run_range(resources, DAY, DAY, "stg_orders").success
    assert warehouse.query("SELECT rule FROM after_sales.quarantine")["rule"].tolist() == ["negative_amount"]
    assert run_range(resources, DAY, DAY, "stg_orders").success  # re-running does not duplicate
    assert len(warehouse.query("SELECT 1 FROM after_sales.quarantine")) == 1
    path.write_text(path.read_text().replace(",-1,", ",1.00,"), encoding="utf-8")
    assert run_range(resources, DAY, DAY, "stg_orders").success
    assert len(warehouse.query("SELECT 1 FROM after_sales.quarantine")) == 0
    assert sorted(warehouse.query("SELECT order_id FROM after_sales.stg_orders")["order_id"]) == ["O1", "O2"]


@pytest.mark.slow
def test_a_failed_blocking_check_stops_the_marts_and_says_why(
    resources: dict[str, object], landing: Path, warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_landing(landing, "orders", DAY, ["O1,2026-10-05 10:00:00,U1,杯,1,10.00,alipay,paid,web"], ORDERS_HEADER)
    write_landing(
        landing, "feedback", DAY, ["F1,O1,2026-10-05 12:00:00,1,complaint,没收到货,,,,false"], FEEDBACK_HEADER
    )
    marts = [*STAGING, "fct_order_feedback", "problem_orders", "work_orders"]
    assert run_range(resources, DAY, DAY, marts).success
    before = warehouse.query("SELECT * FROM after_sales.problem_orders")

    import after_sales.assets.marts as mart_assets

    real = mart_assets.build_problem_orders
    monkeypatch.setattr(mart_assets, "build_problem_orders", lambda f, r: real(f, r).assign(amount=-1.0))
    result = run_range(resources, DAY, DAY, marts)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert failure.step_key == "problem_orders"
    text = failure.event_specific_data.error.to_string()
    assert "blocking checks failed, nothing written" in text
    assert "expect_column_values_to_be_between(amount)" in text
    failed_checks = {c.check_name for c in result.get_asset_check_evaluations() if not c.passed}
    assert failed_checks == {"values"}
    assert "work_orders" not in {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    pd.testing.assert_frame_equal(before, warehouse.query("SELECT * FROM after_sales.problem_orders"))
    recorded = warehouse.query(
        "SELECT rule, passed, unexpected_count FROM after_sales.data_quality_runs "
        "WHERE asset = 'problem_orders' AND NOT passed"
    )
    assert recorded.values.tolist() == [["expect_column_values_to_be_between(amount)", False, 1]]


@pytest.mark.slow
def test_injected_faults_are_exactly_the_quarantine(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    from after_sales.sample import generate
    from after_sales.sample import write_landing as write_sample

    sample = generate(dt.date(2026, 10, 3), 3, 300, seed=5, fault_rate=0.05, tz="Asia/Shanghai")
    write_sample(sample, landing)
    assert run_range(resources, "2026-10-03", DAY, [*STAGING, "stg_behaviour"]).success
    q = warehouse.query("SELECT source, source_file, source_row, rule FROM after_sales.quarantine")
    got = sorted(map(tuple, q.astype({"source_row": "int64"}).values.tolist()))
    injected = sorted(map(tuple, sample.faults[["source", "source_file", "source_row", "fault"]].values.tolist()))
    assert len(injected) > 50 and got == injected
    conserved = warehouse.query(
        "SELECT bool_and(passed) AS ok, sum(rows_read) AS n FROM after_sales.data_quality_runs "
        "WHERE check_name = 'rows_conserved'"
    ).iloc[0]
    assert bool(conserved["ok"]) and int(conserved["n"]) == sum(
        len(t) for s in sample.frames.values() for t in s.values()
    )
