"""Value-level robustness (issue 13, items 2, 4 and 6): a value that cannot be stored exactly quarantines its row
alone, identically on DuckDB and PostgreSQL; money is exact decimals end to end; a repeated header refuses the file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.arrow_frames import empty_frame, frame_to_arrow
from after_sales.assets.marketplaces import stage_export, stage_reads
from after_sales.landing import read_landed_file
from after_sales.marketplaces import load_sources, read_export
from after_sales.marketplaces.cleaning import clean_amounts, clean_datetimes
from after_sales.marketplaces.config import ALWAYS_DATE_FORMATS
from after_sales.marketplaces.multi import _sum_text, item_table_rows
from after_sales.marketplaces.reader import ExportFileError, _line_amount
from after_sales.resources.warehouse import DateWindow, Warehouse, open_warehouse
from after_sales.tables import QUARANTINE, STG_ORDER_ITEMS, STG_ORDERS, WORK_ORDERS
from after_sales.transforms import parsing
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.metrics import build_metrics_daily
from after_sales.transforms.parsing import MONEY_DTYPE, parse_money, parse_timestamps
from after_sales.transforms.rollups import backlog
from after_sales.transforms.staging import (
    LandedFile,
    LandingFileError,
    StagingContext,
    StagingResult,
    combine,
    stage_behaviour,
    stage_feedback,
    stage_orders,
)
from tests.support.landing import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER, write_landing
from tests.support.runs import run_range
from tests.test_marketplaces_real import OLIST

TZ = "Asia/Shanghai"
DAY = "2026-10-05"
LANDED = dt.date(2026, 10, 5)
CTX = StagingContext(TZ, 7)


def _order(order_id: str, amount: str, created: str = f"{DAY} 10:00:00", product: str = "杯") -> str:
    return f"{order_id},{created},U1,{product},1,{amount},alipay,completed,web"


def _stage_orders_file(landing: Path, lines: list[str], ctx: StagingContext = CTX, day: str = DAY) -> StagingResult:
    path = write_landing(landing, "orders", day, lines, ORDERS_HEADER)
    return stage_orders(read_landed_file(landing, "orders", dt.date.fromisoformat(day), path), ctx)


def _rules(result: StagingResult) -> dict[int, str]:
    return dict(zip(result.quarantined["source_row"].astype(int), result.quarantined["rule"], strict=True))


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize("bad", ["inf", "Infinity", "-inf", "1e20", "1e308", "9999999999999999.99", "100000000000000"])
def test_huge_or_infinite_amount_is_quarantined_alone(landing: Path, bad: str) -> None:
    """The bad amount's row is amount_out_of_range; the good rows of the same file are staged, and castable."""
    result = _stage_orders_file(landing, [_order("O1", "59.90"), _order("O2", bad), _order("O3", "1.00")])
    assert _rules(result) == {2: "amount_out_of_range"}
    assert "amount" in result.quarantined["reason"].iloc[0] and bad in result.quarantined["reason"].iloc[0]
    assert result.rows["order_id"].tolist() == ["O1", "O3"]
    assert result.balanced
    frame_to_arrow(STG_ORDERS, result.rows)  # the blocking schema check's cast


def test_more_than_two_decimals_is_a_row_rule_never_a_rounding(landing: Path) -> None:
    """0.005 is amount_too_precise (was stored as 0.00); 1.500 is 1.50 exactly."""
    result = _stage_orders_file(landing, [_order("O1", "0.005"), _order("O2", "1.500"), _order("O3", "12.345")])
    assert _rules(result) == {1: "amount_too_precise", 3: "amount_too_precise"}
    assert result.rows["amount"].tolist() == [Decimal("1.50")]


def test_refund_amount_rules_match_the_order_amount_rules(landing: Path) -> None:
    """refund_amount goes through the same exact parser."""
    lines = [
        f"F{i},O1,{DAY} 09:00:00,2,refund,x,,,,false,{amount}"
        for i, amount in enumerate(["12.30", "inf", "0.001", "-1", "abc"], start=1)
    ]
    path = write_landing(landing, "feedback", DAY, lines, FEEDBACK_HEADER + ",refund_amount")
    result = stage_feedback(read_landed_file(landing, "feedback", LANDED, path), CTX)
    assert _rules(result) == {
        2: "amount_out_of_range",
        3: "amount_too_precise",
        4: "negative_amount",
        5: "unparseable_amount",
    }
    assert result.rows["refund_amount"].tolist() == [Decimal("12.30")]


def test_parse_money_is_exact_at_the_limit() -> None:
    """The largest accepted amount keeps every digit; floats would give ...98."""
    money = parse_money(pd.Series(["99999999999999.99", "0.1", "1e2", ".5", "+3", "1_000", "١٢"]))
    assert money.values.tolist()[:5] == [
        Decimal("99999999999999.99"),
        Decimal("0.10"),
        Decimal("100.00"),
        Decimal("0.50"),
        Decimal("3.00"),
    ]
    assert money.unparseable.tolist() == [False] * 5 + [True, True]


def test_marketplace_amounts_are_cleaned_but_never_rounded() -> None:
    """1,309.00 and ¥398.00 are cleaned; 0.005 stays 0.005 (staging quarantines it), it is not rounded to 0.01."""
    raw = pd.Series(["1,309.00", "¥398.00", "0.005", "1e20", "-0.00", "12.5"], dtype=object)
    cleaned = clean_amounts(raw, ("¥", "￥"), (",",))
    assert cleaned.values.tolist() == ["1309.00", "398.00", "0.005", "1e20", "0.00", "12.50"]
    assert not cleaned.bad.any()
    money = parse_money(cleaned.values)
    assert money.too_precise.tolist() == [False, False, True, False, False, False]
    assert money.out_of_range.tolist() == [False, False, False, True, False, False]


def test_sums_of_amounts_are_exact() -> None:
    """order_amount and refund_amount of the metrics are exact decimal sums (0.1 + 0.2 is 0.30)."""
    money = MONEY_DTYPE
    fact = pd.DataFrame(
        {
            "business_date": [LANDED] * 3,
            "order_id": ["O1", "O2", "O3"],
            "order_scope": ["own"] * 3,
            "channel": ["web"] * 3,
            "amount": pd.array([Decimal("0.10"), Decimal("0.20"), Decimal("99999999999999.99")], dtype=money),
            "feedback_id": ["F1", None, None],
            "feedback_created_at": pd.Series([pd.Timestamp(f"{DAY} 09:00", tz=TZ), None, None]),
            "rating": pd.array([2, None, None], dtype="Int64"),
            "issue_type": ["refund", None, None],
            "first_response_at": pd.Series([pd.NaT] * 3, dtype=f"datetime64[us, {TZ}]"),
            "resolved_at": pd.Series([pd.NaT] * 3, dtype=f"datetime64[us, {TZ}]"),
            "resolution": [None] * 3,
            "reopened": [False] * 3,
            "refund_amount": pd.array([Decimal("0.30"), None, None], dtype=money),
            "has_feedback": [True, False, False],
        }
    )
    rules = load_metric_rules()
    no_work_orders = empty_frame(WORK_ORDERS, TZ).assign(feedback_ids=pd.Series(dtype=object))
    day = LANDED + dt.timedelta(days=1)
    measures = build_metrics_daily(fact, fact.iloc[0:0], no_work_orders, pd.DataFrame(), LANDED, day, rules)
    assert measures["order_amount"].tolist() == [Decimal("100000000000000.29")]
    assert measures["refund_amount"].tolist() == [Decimal("0.30")]


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05T10:00:00+08", "2026-10-05 10:00:00+08:00"),
        ("2026-10-05T03:00:00-05", "2026-10-05 16:00:00+08:00"),
        ("2026-10-05 10:00:00.1234567", "2026-10-05 10:00:00.123456+08:00"),
        ("2026-10-05T10:00:00.123456789+08:00", "2026-10-05 10:00:00.123456+08:00"),
        ("2026-10-05 23:59:59.9999999", "2026-10-05 23:59:59.999999+08:00"),
        ("20261005", "2026-10-05 00:00:00+08:00"),
    ],
)
def test_iso_8601_variants_parse(text: str, expected: str) -> None:
    """Hour-only offsets and 7-9 fraction digits (.NET, SQL Server) are valid ISO 8601 (truncated to microseconds)."""
    assert str(parse_timestamps(pd.Series([text]), TZ).iloc[0]) == expected


def test_offset_and_plain_times_mix_in_one_file(landing: Path) -> None:
    """A file mixing offset and plain times stages every row (was: Mixed timezones detected / TypeError)."""
    result = _stage_orders_file(
        landing,
        [
            _order("O1", "1.00", "2026-10-05T10:00:00+08"),
            _order("O2", "1.00", "2026-10-05 10:00:00"),
            _order("O3", "1.00", "2026-10-05 10:00:00.1234567"),
            _order("O4", "1.00", "2026-10-05T02:00:00Z"),
        ],
    )
    assert result.quarantined.empty
    assert [str(t) for t in result.rows["created_at"]] == [
        "2026-10-05 10:00:00+08:00",
        "2026-10-05 10:00:00+08:00",
        "2026-10-05 10:00:00.123456+08:00",
        "2026-10-05 10:00:00+08:00",
    ]


@pytest.mark.parametrize("epoch", ["1759000000", "1759000000000", "175900"])
def test_epoch_numbers_in_a_date_column_are_unparseable(landing: Path, epoch: str) -> None:
    """Digits that are not YYYYMMDD or YYYYMMDDHHMMSS (epoch seconds or ms) are unparseable_date, never year 1759."""
    result = _stage_orders_file(landing, [_order("O1", "1.00", epoch), _order("O2", "1.00")])
    assert _rules(result) == {1: "unparseable_date"}


def test_business_date_on_a_day_without_local_midnight() -> None:
    """America/Sao_Paulo 2017-10-15 starts at 01:00 (DST): business dates and the export end need no midnight."""
    ctx = StagingContext("America/Sao_Paulo", 7)
    day = dt.date(2017, 10, 15)
    orders = pd.DataFrame(
        {
            "order_id": ["O1", "O2", "O3"],
            "created_at": ["2017-10-15 08:00:00", "2017-10-14 23:30:00", "2017-10-15 00:30:00"],
            "amount": ["1.00"] * 3,
            "status": ["completed"] * 3,
            "channel": ["web"] * 3,
            "source_row": [1, 2, 3],
        }
    ).astype({c: "string" for c in ("order_id", "created_at", "amount", "status", "channel")})
    result = stage_orders(LandedFile("orders", day, "orders/x.csv", orders), ctx)
    assert result.quarantined.empty
    assert result.rows["business_date"].tolist() == [day, dt.date(2017, 10, 14), day]
    feedback = pd.DataFrame(
        {
            "feedback_id": ["F1"],
            "order_id": ["O1"],
            "created_at": ["2017-10-14 20:00:00"],
            "rating": ["5"],
            "issue_type": ["review"],
            "resolved_at": ["2017-10-14 21:00:00"],
            "source_row": [1],
        }
    )
    staged = stage_feedback(LandedFile("feedback", dt.date(2017, 10, 14), "feedback/x.csv", feedback), ctx)
    assert staged.quarantined.empty and len(staged.rows) == 1


# ---------------------------------------------------------------- text PostgreSQL cannot store


def _staged_with_nul(landing: Path) -> StagingResult:
    return _stage_orders_file(
        landing, [_order("O1", "1.00"), _order("O2", "2.00", product="bad\x00name"), _order("O3", "3.00")]
    )


def test_nul_byte_is_text_not_storable(landing: Path) -> None:
    """The NUL row is quarantined with rule text_not_storable, naming file, row and column; the reason is escaped."""
    result = _staged_with_nul(landing)
    assert _rules(result) == {2: "text_not_storable"}
    row = result.quarantined.iloc[0]
    assert row["column_name"] == "product"
    assert row["reason"].startswith(f"orders/{DAY}/export.csv row 2, column product:")
    assert "\x00" not in row["reason"] and "bad\\x00name" in row["reason"]
    assert result.rows["order_id"].tolist() == ["O1", "O3"]


@pytest.mark.slow
def test_nul_byte_in_feedback_and_behaviour(landing: Path) -> None:
    """Every source decides it in staging."""
    path = write_landing(
        landing, "feedback", DAY, [f"F1,O1,{DAY} 09:00:00,2,complaint,坏\x00了,,,,false"], FEEDBACK_HEADER
    )
    assert _rules(stage_feedback(read_landed_file(landing, "feedback", LANDED, path), CTX)) == {1: "text_not_storable"}
    path = write_landing(landing, "behaviour", DAY, [f"S1,V\x001,{DAY} 10:00:00,,3,false"], BEHAVIOUR_HEADER)
    assert _rules(stage_behaviour(read_landed_file(landing, "behaviour", LANDED, path), CTX)) == {
        1: "text_not_storable"
    }


def _write_and_read(wh: Warehouse, result: StagingResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    window = DateWindow.single(LANDED)
    wh.replace(STG_ORDERS, result.rows, window)
    wh.replace(QUARANTINE, result.quarantined.assign(staging_table="stg_orders"), window)
    return wh.read(STG_ORDERS, window), wh.read(QUARANTINE, window)


@pytest.mark.slow
def test_duckdb_and_postgres_store_the_same_rows(landing: Path, tmp_path: Path, pg_url: str) -> None:
    """NUL rows and the largest amount: both warehouses take the same write, and read back the same, exactly."""
    result = _stage_orders_file(
        landing,
        [_order("O1", "99999999999999.99"), _order("O2", "2.00", product="bad\x00name"), _order("O3", "0.01")],
    )
    got = {}
    for name, url in (("duckdb", f"duckdb:///{tmp_path / 'wh.duckdb'}"), ("postgresql", pg_url)):
        got[name] = _write_and_read(open_warehouse(url, "robust_values", TZ), result)
    for name, (rows, quarantined) in got.items():
        assert rows.sort_values("order_id")["amount"].tolist() == [Decimal("99999999999999.99"), Decimal("0.01")], name
        assert quarantined["rule"].tolist() == ["text_not_storable"], name
    assert got["duckdb"][1]["reason"].tolist() == got["postgresql"][1]["reason"].tolist()
    wh = open_warehouse(pg_url, "robust_values", TZ)
    text = wh.query(f"SELECT amount::text AS a FROM {wh.qualified('stg_orders')} ORDER BY order_id")["a"].tolist()
    assert text == ["99999999999999.99", "0.01"]


# ---------------------------------------------------------------- duplicate header names


def _csv(landing: Path, header: str, name: str = "dup.csv") -> Path:
    return write_landing(landing, "orders", DAY, [_order("O1", "1.00") + ",2.00"], header, name)


@pytest.mark.parametrize("second", ["amount", " amount ", "amount\t"])
def test_duplicate_header_name_refuses_the_csv(landing: Path, second: str) -> None:
    """amount twice (after strip) is a whole-file fault naming the file and the column, not first-one-wins."""
    path = _csv(landing, ORDERS_HEADER + "," + second)
    with pytest.raises(LandingFileError, match=rf"orders/{DAY}/dup.csv: duplicate column name 'amount'"):
        read_landed_file(landing, "orders", LANDED, path)


def test_duplicate_header_name_refuses_xlsx_and_parquet(landing: Path) -> None:
    """The same rule for the other landed formats."""
    folder = landing / "orders" / DAY
    folder.mkdir(parents=True, exist_ok=True)
    columns = [*ORDERS_HEADER.split(","), "amount"]
    values = [[*_order("O1", "1.00").split(","), "2.00"]]
    xlsx = folder / "dup.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame(values, columns=columns).to_excel(writer, index=False)
    with pytest.raises(LandingFileError, match=r"dup\.xlsx: duplicate column name 'amount'"):
        read_landed_file(landing, "orders", LANDED, xlsx)
    table = pa.Table.from_arrays([pa.array([v]) for v in values[0]], names=columns)
    pq.write_table(table, folder / "dup.parquet")
    with pytest.raises(LandingFileError, match=r"dup\.parquet: duplicate column name 'amount'"):
        read_landed_file(landing, "orders", LANDED, folder / "dup.parquet")


def test_unnamed_columns_are_not_duplicates(landing: Path) -> None:
    """Trailing empty header cells (a,b,,) are unnamed columns, not a repeated name."""
    path = _csv(landing, ORDERS_HEADER + ",,", "trailing.csv")
    landed = read_landed_file(landing, "orders", LANDED, path)
    assert "(column 10)" in landed.frame.columns


def test_duplicate_mapped_header_refuses_a_marketplace_export(tmp_path: Path) -> None:
    """A marketplace export with a mapped column twice is refused with the file and the column named."""
    jd = load_sources()["jd"]
    folder = tmp_path / "jd" / DAY
    folder.mkdir(parents=True)
    orders = next(kc for kc in jd.kinds.values() if kc.kind == "orders")
    header = [orders.columns[f][0] for f in orders.required]
    amount = orders.columns["amount"][0]
    path = folder / "dup.csv"
    path.write_text(",".join([*header, amount]) + "\n", encoding="utf-8")
    with pytest.raises(ExportFileError, match=f"duplicate column name '{amount}'"):
        read_export(path, jd, tmp_path)


def test_readers_keep_unrelated_behaviour(landing: Path) -> None:
    """A plain file still reads as before: stripped header, text values, 1-based source_row, blank lines dropped."""
    path = landing / "orders" / DAY / "plain.csv"
    path.parent.mkdir(parents=True)
    path.write_text(f" {ORDERS_HEADER.replace(',', ' , ')}\n\n{_order('O1', '1.00')}\n", encoding="utf-8")
    landed = read_landed_file(landing, "orders", LANDED, path)
    assert list(landed.frame.columns) == [*ORDERS_HEADER.split(","), "source_row"]
    assert landed.frame["source_row"].tolist() == [2]


def test_marketplace_exports_read_iso_8601_variants() -> None:
    """Marketplace timestamps no configured format reads fall back to the same ISO 8601 reading."""
    jd = load_sources()["jd"]
    raw = pd.Series(["2026-10-05T10:00:00+08", "2026-10-05 10:00:00.1234567", "2026-10-05T02:00:00Z", "1759000000"])
    cleaned = clean_datetimes(raw.astype(object), (*jd.date_formats, *ALWAYS_DATE_FORMATS), jd.timezone)
    assert cleaned.values.tolist()[:3] == ["2026-10-05 10:00:00"] * 3
    assert cleaned.bad.tolist() == [False, False, False, True]


@pytest.mark.slow
def test_marketplace_rejection_naming_a_nul_header_is_storable(tmp_path: Path) -> None:
    """A header cell with a NUL named in a rejection (wrong_field_count) is escaped before it reaches quarantine."""
    jd = load_sources()["jd"]
    kc = next(k for k in jd.kinds.values() if k.kind == "orders")
    header = [kc.columns[f][0] for f in kc.required] + ["x\x00"]
    row = ["123456789012", f"{DAY} 10:00:00", "1.00", next(iter(kc.maps["status"])), "", "extra"]
    path = tmp_path / "jd" / DAY / "o.csv"
    path.parent.mkdir(parents=True)
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    staged = stage_export(read_export(path, jd, tmp_path), "jd", LANDED, CTX)
    assert staged.quarantined["rule"].tolist() == ["wrong_field_count"]
    assert not any("\x00" in v for v in staged.quarantined[["column_name", "reason"]].to_numpy().ravel())


def test_marketplace_export_with_only_a_summary_line(tmp_path: Path) -> None:
    """Found by fuzzing: a refunds export whose only line is a summary crashed a derivation on zero rows."""
    suning = load_sources()["suning"]
    kc = suning.kinds["refunds"]
    header = [kc.columns[f][0] for f in kc.columns]
    path = tmp_path / "suning" / DAY / "r.csv"
    path.parent.mkdir(parents=True)
    path.write_text(",".join(header) + "\n合计: 0\n", encoding="utf-8")
    read = read_export(path, suning, tmp_path)
    assert len(read.rows) == 0 and read.dropped_summary_rows == 1


def test_backlog_instant_on_a_day_without_local_midnight() -> None:
    """The roll-ups' backlog instant (midnight after the as-of day) exists even when DST skips that midnight."""
    tz = "America/Sao_Paulo"
    opened = pd.Series([pd.Timestamp("2017-10-14 20:00", tz=tz)])
    work_orders = pd.DataFrame(
        {
            "business_date": [dt.date(2017, 10, 14)],
            "channel": ["web"],
            "opened_at": opened,
            "due_at": opened + pd.Timedelta(hours=24),
            "resolved_at": pd.Series([pd.NaT], dtype=f"datetime64[us, {tz}]"),
        }
    )
    found = backlog(work_orders, [dt.date(2017, 10, 14)], 7, tz)
    assert set(found["channel"]) == {"all", "web"}


@pytest.mark.slow
def test_bad_values_do_not_block_the_source_day(
    landing: Path, resources: dict[str, object], warehouse: Warehouse
) -> None:
    """Through Dagster: inf, NUL, too many decimals, +08 and 7-digit fractions in one file; the day succeeds."""
    write_landing(
        landing,
        "orders",
        DAY,
        [
            _order("O1", "99999999999999.99"),
            _order("O2", "inf"),
            _order("O3", "1e308"),
            _order("O4", "0.005"),
            _order("O5", "2.00", product="bad\x00name"),
            _order("O6", "3.00", "2026-10-05T10:00:00+08"),
            _order("O7", "4.00", "2026-10-05 10:00:00.1234567"),
            _order("O8", "5.00", "1759000000"),
        ],
        ORDERS_HEADER,
    )
    result = run_range(resources, DAY, DAY, "stg_orders")
    assert result.success
    staged = warehouse.query(f"SELECT order_id, amount FROM {warehouse.qualified('stg_orders')} ORDER BY order_id")
    assert staged["order_id"].tolist() == ["O1", "O6", "O7"]
    assert staged["amount"].iloc[0] == Decimal("99999999999999.99")
    rules = warehouse.query(f"SELECT source_row, rule FROM {warehouse.qualified('quarantine')} ORDER BY source_row")
    assert rules.values.tolist() == [
        [2, "amount_out_of_range"],
        [3, "amount_out_of_range"],
        [4, "amount_too_precise"],
        [5, "text_not_storable"],
        [8, "unparseable_date"],
    ]


def test_marketplace_item_lines_never_round_money() -> None:
    """Line amounts (price x quantity), items summed into orders and the order-items table: exact or empty."""
    assert _line_amount("0.005", "3") == "0.015"
    assert _line_amount("19.90", "3") == "59.70"
    assert _line_amount("inf", "2") == "Infinity"
    assert _sum_text(pd.Series(["0.005", "0.010"]), money=True) == "0.015"
    assert _sum_text(pd.Series(["1.10", "2.20"]), money=True) == "3.30"
    items = pd.DataFrame(
        {
            "order_id": ["A", "A", "B"],
            "line_no": ["1", "2", "1"],
            "sku": ["s", "t", "u"],
            "product": ["p", "q", "r"],
            "quantity": ["1", "2", "1"],
            "unit_price": ["99999999999999.99", "0.005", "inf"],
            "amount": ["99999999999999.99", "0.015", "Infinity"],
            "channel": ["taobao"] * 3,
            "source_row": ["1", "2", "3"],
        }
    )
    typed = item_table_rows(items, "taobao", LANDED, "taobao/x.csv")
    assert typed["amount"].tolist()[0] == Decimal("99999999999999.99")
    assert typed["amount"].isna().tolist() == [False, True, True]
    frame_to_arrow(STG_ORDER_ITEMS, typed)


@pytest.mark.slow
def test_rejected_item_lines_are_quarantined_not_lost(tmp_path: Path) -> None:
    """A bad line of an items file (unparseable price) lands in the quarantine of the source's orders."""
    (tmp_path / "olist.yaml").write_text(OLIST, "utf-8")
    src = load_sources(extra_dirs=[tmp_path])["olist"]
    day = tmp_path / "olist" / "2017-10-03"
    day.mkdir(parents=True)
    (day / "items.csv").write_text(
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n"
        "e481f51cbdc54678b7cc49136f2d6af7,1,p,s,2017-10-06 11:07:15,29.99,8.72\n"
        "e481f51cbdc54678b7cc49136f2d6af7,2,p,s,2017-10-06 11:07:15,abc,8.72\n",
        "utf-8",
    )
    read = read_export(day / "items.csv", src, tmp_path)
    assert read.kind == "items" and len(read.rejected) == 1
    results, item_rows, _ = stage_reads([(dt.date(2017, 10, 3), read)], src, CTX)
    combined = combine(results["orders"], STG_ORDERS, "order_id")
    assert combined.balanced and combined.quarantined["rule"].tolist() == ["unparseable_amount"]
    assert sum(len(rows) for rows in item_rows) == 1


_NUMBERISH = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.from_regex(r"\s?[+-]{0,2}[0-9١]{0,17}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,3})?\s?", fullmatch=True),
    st.sampled_from(["-0", "+0", "inf", "-Infinity", "nan", "1_000", "0x1A", "007", "999999999999999", "1e400"]),
)


@given(st.lists(_NUMBERISH, max_size=20), st.sampled_from(["string", "object", "str"]))
def test_numbers_are_read_as_pandas_reads_them(values: list[str | None], dtype: str) -> None:
    from after_sales.transforms.parsing import _numbers_by_pandas, parse_numbers

    series = pd.Series(values, dtype=dtype, index=range(100, 100 + len(values)))
    got, expected = parse_numbers(series), _numbers_by_pandas(series)
    # Equal as values: pandas' own sign of '-0' depends on the other values of the column (0.0 among integers).
    pd.testing.assert_series_equal(got, expected)


def reference_parse_timestamps(series: pd.Series, tz: str) -> pd.Series:
    """parse_timestamps before Arrow read the common shapes: every pass by pandas, the regex on every value."""
    stripped = pa.array(series.astype("string").str.strip(), from_pandas=True, type=pa.large_string())
    arrow = pc.replace_substring_regex(stripped, pattern=parsing._EXTRA_FRACTION, replacement=r"\1")
    text = pd.Series(arrow, index=series.index, dtype=pd.ArrowDtype(pa.large_string()))
    result = pd.Series(pd.NaT, index=series.index, dtype=f"datetime64[us, {tz}]")
    length = pc.utf8_length(arrow)
    digits = parsing._flags(pc.match_substring_regex(arrow, f"^{parsing._DIGITS}$"))
    dated = parsing._flags(pc.is_in(length, pa.array(parsing._DATE_DIGITS)))
    present = parsing._flags(pc.greater(length, 0)) & (~digits | dated)
    has_offset = present & parsing._flags(pc.match_substring_regex(arrow, parsing._OFFSET))
    if has_offset.any():
        aware = pd.to_datetime(text[has_offset], format="ISO8601", errors="coerce", utc=True)
        result[has_offset] = aware.dt.tz_convert(tz).astype(result.dtype)
    naive_mask = present & ~has_offset
    if naive_mask.any():
        naive_text = text[naive_mask]
        naive = pd.to_datetime(naive_text.where(~digits[naive_mask]), format="ISO8601", errors="coerce", utc=True)
        naive = naive.dt.tz_localize(None).astype("datetime64[us]")
        for fmt in parsing.FALLBACK_TIMESTAMP_FORMATS:
            missing = naive.isna()
            if not missing.any():
                break
            naive[missing] = pd.to_datetime(naive_text[missing], format=fmt, errors="coerce").astype("datetime64[us]")
        result[naive_mask] = parsing._localize(naive, tz).astype(result.dtype)
    return result


_STAMP = st.one_of(
    st.none(),
    st.text(alphabet="0123456789-:T ./Z+,年月日", max_size=24),
    st.builds(
        lambda d, sep, hms, frac, zone, pad: f"{pad}{d.isoformat()}{sep}{hms}{frac}{zone}{pad}",
        st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
        st.sampled_from([" ", "T", "  ", ""]),
        st.sampled_from(["", "00:00:00", "23:59:59", "12:30", "7:05:09", "24:00:00", "23:59:60", "12"]),
        st.from_regex(r"([.,][0-9]{0,10})?", fullmatch=True),
        st.sampled_from(["", "Z", "+08:00", "-0530", " +01"]),
        st.sampled_from(["", " "]),
    ),
    st.sampled_from(["2025-02-30 00:00:00", "2025/01/05 12:00", "2025年1月5日 08:00", "20250105", "20250105123000",
                     "1736064000", "0000-01-01", "2025-1-5 1:02:03", "2026-03-29 02:30:00", "2026-10-25 02:30:00"]),
)


@given(st.lists(_STAMP, max_size=12), st.sampled_from(["Asia/Shanghai", "Europe/Berlin", "America/Sao_Paulo", "UTC"]))
def test_timestamps_are_read_as_pandas_alone_reads_them(values: list[str | None], tz: str) -> None:
    series = pd.Series(values, dtype="string", index=range(7, 7 + len(values)))
    pd.testing.assert_series_equal(parse_timestamps(series, tz), reference_parse_timestamps(series, tz))
