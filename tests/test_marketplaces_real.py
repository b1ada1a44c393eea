"""Real exports as the platforms write them: documented column lists, extending mappings, one file several kinds,
per-kind id patterns, source time zones and landed cells in the quarantine."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import after_sales.marketplaces as mk
from after_sales.assets.marketplaces import stage_export, stage_reads
from after_sales.marketplaces.multi import fill_from_items, item_table_rows
from after_sales.marketplaces.reader import to_business_time
from after_sales.transforms.parsing import parse_timestamps
from after_sales.transforms.staging import StagingContext

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "documented", ROOT / "tests" / "fixtures" / "marketplaces" / "documented.py"
)
documented = importlib.util.module_from_spec(_spec)
sys.modules["documented"] = documented
_spec.loader.exec_module(documented)
EXPORTS = documented.documented_exports()
DAY = "2026-10-01"


@pytest.fixture(scope="module")
def sources() -> dict[str, mk.SourceConfig]:
    """The built-in mapping files."""
    return mk.load_sources()


def _landing(tmp_path: Path, platform: str) -> Path:
    """The landing day folder of a platform."""
    return tmp_path / platform / DAY


# ---------------------------------------------------------------- documented column lists


@pytest.mark.parametrize("form", sorted(documented.ENCODINGS))
@pytest.mark.parametrize("export", EXPORTS, ids=lambda e: f"{e.platform}-{e.name}")
def test_documented_exports_read_in_every_encoding(sources, tmp_path: Path, export, form: str) -> None:
    """Each documented header maps completely (no unknown column), every row is read, nothing is rejected."""
    path = documented.write(export, _landing(tmp_path, export.platform), form)
    r = mk.read_export(path, sources[export.platform], landing_dir=tmp_path)
    assert r.kind_name == export.kind
    assert not [w for w in r.warnings if "not in the" in w], r.warnings
    assert r.rejected.empty, r.rejected.to_dict("records")
    assert len(r.rows) + r.merged_lines == len(export.rows)
    if form != "xlsx":
        assert r.encoding == documented.ENCODINGS[form]


def test_taobao_refund_export_application_time_is_created_at(sources, tmp_path: Path) -> None:
    """The 退款管理 export's 退款的申请时间 is the refund's created_at; 19-digit text ids, ¥ amounts, states map."""
    export = next(e for e in EXPORTS if e.platform == "taobao" and e.kind == "refunds")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "taobao"), "gb18030.csv"), sources["taobao"])
    assert r.columns_used["created_at"] == "退款的申请时间"
    rows = r.rows.set_index("feedback_id")
    first = rows.loc["taobao-R-142857000123456789"]
    assert (first["order_id"], first["created_at"], first["refund_amount"]) == (
        "2870061234567890125",
        "2026-09-30 12:00:00",
        "398.00",
    )
    assert (first["refund_status"], first["issue_type"], first["resolution"]) == ("refunded", "return", "refunded")
    assert first["issue_description"] == "退货退款：尺寸不合适"
    second = rows.loc["taobao-R-142857000123456790"]
    assert (second["refund_amount"], second["refund_status"], second["resolution"]) == (
        "1309.00",
        "refused",
        "rejected",
    )
    assert first["resolved_at"] == "2026-09-30 15:00:00"
    assert second["resolved_at"] == "2026-09-30 18:00:00"  # 退款完结时间 empty: 完结时间 fills it (coalesce)
    assert "column(s) 完结时间 also match resolved_at; using 退款完结时间 (and them where it is empty)" in r.warnings


def test_taobao_order_report_61_columns(sources, tmp_path: Path) -> None:
    """The 61-column ExportOrderList: amount from 买家实际支付金额, ids unwrapped, statuses mapped."""
    export = documented._taobao_orders(documented.TAOBAO_ORDERS_61, "taobao")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "taobao"), "utf8bom.csv"), sources["taobao"])
    assert r.rows[["order_id", "amount", "status", "quantity"]].values.tolist() == [
        ["2870061234567890123", "1309.00", "completed", "2"],
        ["2870061234567890124", "0.00", "pending_payment", "1"],
        ["2870061234567890125", "398.00", "closed", "1"],
    ]


# ---------------------------------------------------------------- mappings that extend

FIVE_LINE_EXTENSION = """extend: taobao
kinds:
  refunds:
    columns:
      created_at: [退款发起时间]
"""

REFUND_FILE = (
    "订单编号,退款编号,买家退款金额,退款状态,退款发起时间\r\n"
    "2870061234567890125,142857000123456789,398.00,退款成功,2026-09-30 12:00:00\r\n"
)


def test_five_line_extension_adds_a_synonym(tmp_path: Path) -> None:
    """A user's five-line file extends the built-in Taobao mapping; the rest of the built-in stays."""
    user = tmp_path / "mappings"
    user.mkdir()
    (user / "taobao.yaml").write_text(FIVE_LINE_EXTENSION, "utf-8")
    assert len(FIVE_LINE_EXTENSION.strip().splitlines()) == 5
    path = _landing(tmp_path, "taobao") / "refunds.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(REFUND_FILE.encode("gb18030"))

    with pytest.raises(mk.ExportFileError, match=r"required column missing .*created_at"):
        mk.read_export(path, mk.load_sources()["taobao"])
    extended = mk.load_sources(extra_dirs=[user])["taobao"]
    assert extended.extends == "taobao"
    created = extended.kinds["refunds"].columns["created_at"]
    assert created[0] == "退款申请时间" and created[-1] == "退款发起时间" and "退款的申请时间" in created
    assert set(extended.kinds) == set(mk.load_sources()["taobao"].kinds)
    r = mk.read_export(path, extended)
    assert r.rows[["feedback_id", "created_at", "refund_status"]].values.tolist() == [
        ["taobao-R-142857000123456789", "2026-09-30 12:00:00", "refunded"]
    ]


def test_extension_adds_status_labels_and_rules_under_a_new_name(tmp_path: Path) -> None:
    """An extension under another name is a new source; its labels join the map, its rules come first."""
    (tmp_path / "taobao_shop2.yaml").write_text(
        """extend: taobao
label: 淘宝二店
kinds:
  orders:
    maps:
      status: {已冻结: closed}
  refunds:
    derive:
      issue_type:
        rules:
          - when: {refund_reason: {contains: [质量]}}
            value: complaint
""",
        "utf-8",
    )
    srcs = mk.load_sources(extra_dirs=[tmp_path])
    shop2, base = srcs["taobao_shop2"], srcs["taobao"]
    assert (shop2.channel, shop2.label) == ("taobao", "淘宝二店")
    assert shop2.kinds["orders"].maps["status"]["已冻结"] == "closed"
    assert shop2.kinds["orders"].maps["status"]["交易成功"] == "completed"
    rules = shop2.kinds["refunds"].derivation("issue_type").rules
    assert rules[0].value == "complaint" and len(rules) == len(base.kinds["refunds"].derivation("issue_type").rules) + 1
    assert "已冻结" not in base.kinds["orders"].maps["status"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("extend: taobao\nkinds:\n  orders:\n    colums: {order_id: [x]}\n", r"kinds\.orders\.colums"),
        ("extend: taobao\nheader_search_rows: five\nkinds: {}\n", r"header_search_rows"),
        ("extend: nowhere\nkinds: {}\n", r"extend: no mapping named 'nowhere'"),
        ("extend: taobao\ntimezone: Mars/Base\nkinds: {}\n", r"timezone: unknown time zone"),
        (
            "extend: taobao\nkinds:\n  refunds:\n    columns:\n      created_at: {a: 1}\n",
            r"kinds\.refunds\.columns\.created_at: Input should be a valid list",
        ),
        (
            "extend: taobao\nkinds:\n  orders:\n    where: {status: {bogus: 1}}\n",
            r"kinds\.orders\.where\.status\.bogus",
        ),
    ],
)
def test_bad_extension_names_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    """Pydantic validation of the merged document names the file and the key."""
    (tmp_path / "bad.yaml").write_text(text, "utf-8")
    with pytest.raises(mk.SourceConfigError, match=r"bad\.yaml: " + key):
        mk.load_sources(extra_dirs=[tmp_path])


# ---------------------------------------------------------------- one file, several kinds; ids per kind


def test_tmall_order_report_yields_orders_and_refunds(sources, tmp_path: Path) -> None:
    """The 订单报表 without 订单状态: status derived, small ids accepted, refund rows only where 退款金额 > 0."""
    export = next(e for e in EXPORTS if e.kind == "order_report")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "tmall"), "gb18030.csv"), sources["tmall"])
    assert r.kind_name == "order_report" and r.kind == "orders"
    assert r.rows[["order_id", "created_at", "amount", "status"]].values.tolist() == [
        ["1", "2020-02-21 00:00:00", "178.80", "cancelled"],
        ["2", "2020-02-20 23:59:00", "21.00", "completed"],
        ["5", "2020-02-20 23:57:00", "64.80", "refunded"],
        ["6", "2020-02-20 23:56:00", "327.70", "refunded"],
    ]
    [refunds] = r.parts
    assert (refunds.kind, refunds.subkind, refunds.rows_read) == ("feedback", "refunds", 2)
    assert refunds.rows[
        ["feedback_id", "order_id", "created_at", "refund_amount", "refund_status"]
    ].values.tolist() == [
        ["tmall-OR-5", "5", "2020-02-20 23:57:00", "64.80", "refunded"],
        ["tmall-OR-6", "6", "2020-02-20 23:56:00", "178.80", "refunded"],
    ]
    assert [x.subkind for x in r.all_reads()] == ["orders", "refunds"]


def test_full_order_export_is_not_read_as_the_report(sources, tmp_path: Path) -> None:
    """A report with 订单状态 is the normal orders kind: no refund rows from its 退款金额 column, 6+ digit ids."""
    export = documented._taobao_orders(documented.TAOBAO_ORDERS_61, "tmall")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "tmall"), "utf8bom.csv"), sources["tmall"])
    assert r.kind_name == "orders" and r.parts == []
    bad = "订单编号,订单创建时间,买家实际支付金额,订单状态\r\n12,2026-09-30 10:00:00,1.00,交易成功\r\n"
    path = _landing(tmp_path, "tmall") / "short_id.csv"
    path.write_text(bad, "utf-8")
    assert mk.read_export(path, sources["tmall"]).rejected["rule"].tolist() == ["unparseable_id"]


def test_report_rows_reach_staging_balanced(sources, tmp_path: Path) -> None:
    """Staging the order report and its refund part: every row staged or quarantined, nothing lost."""
    export = next(e for e in EXPORTS if e.kind == "order_report")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "tmall"), "xlsx"), sources["tmall"])
    ctx = StagingContext(timezone="Asia/Shanghai", late_arrival_days=10_000)
    staged = [stage_export(x, "tmall", dt.date(2020, 2, 21), ctx) for x in r.all_reads()]
    assert [len(s.rows) for s in staged] == [4, 2]
    assert all(s.balanced for s in staged)


# ---------------------------------------------------------------- time zones


def test_source_time_zone_applies_to_naive_times_across_dst(tmp_path: Path) -> None:
    """A São Paulo source: naive times are São Paulo local; DST gaps and repeats give well-defined instants."""
    (tmp_path / "tmall_br.yaml").write_text("extend: tmall\ntimezone: America/Sao_Paulo\nkinds: {}\n", "utf-8")
    src = mk.load_sources(extra_dirs=[tmp_path])["tmall_br"]
    text = (
        "订单编号,订单创建时间,买家实际支付金额,订单状态\r\n"
        "287006123456,2017-10-14 23:30:00,1.00,交易成功\r\n"  # -03:00
        "287006123457,2017-10-15 00:30:00,1.00,交易成功\r\n"  # does not exist (clocks 00:00 -> 01:00)
        "287006123458,2018-02-17 23:30:00,1.00,交易成功\r\n"  # happens twice (23:59 -02 -> 23:00 -03)
        "287006123459,2018-07-01 12:00:00,1.00,交易成功\r\n"  # -03:00
    )
    path = _landing(tmp_path, "tmall_br") / "orders.csv"
    path.parent.mkdir(parents=True)
    path.write_text(text, "utf-8")
    r = mk.read_export(path, src)
    assert r.timezone == "America/Sao_Paulo"
    shifted = to_business_time(r.rows, r.timezone, "Asia/Shanghai")
    instants = parse_timestamps(shifted["created_at"], "Asia/Shanghai").dt.tz_convert("UTC")
    assert [t.strftime("%Y-%m-%d %H:%M") for t in instants] == [
        "2017-10-15 02:30",
        "2017-10-15 03:00",  # moved forward to the first valid instant, 01:00 -02:00
        "2018-02-18 01:30",  # the first of the two, -02:00
        "2018-07-01 15:00",
    ]
    staged = stage_export(r, "tmall_br", dt.date(2018, 7, 2), StagingContext("Asia/Shanghai", 10_000))
    assert staged.rows["created_at"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2017-10-15 02:30",
        "2017-10-15 03:00",
        "2018-02-18 01:30",
        "2018-07-01 15:00",
    ]
    same = to_business_time(r.rows, "Asia/Shanghai", "Asia/Shanghai")
    assert same["created_at"].tolist() == r.rows["created_at"].tolist()


# ---------------------------------------------------------------- quarantine keeps the landed cells


def test_staging_rejections_keep_the_landed_cells(sources, tmp_path: Path) -> None:
    """A row quarantined by a staging rule (too late) keeps the row as landed (landed header -> landed cell)."""
    export = documented._taobao_orders(documented.TAOBAO_ORDERS_61, "taobao")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "taobao"), "gb18030.csv"), sources["taobao"])
    staged = stage_export(r, "taobao", dt.date(2026, 10, 20), StagingContext("Asia/Shanghai", 7))
    q = staged.quarantined
    assert q["rule"].tolist() == ["too_late"] * 3 and staged.rows.empty
    raw = json.loads(q["raw"].iloc[0])
    assert raw["订单编号"] == '="2870061234567890123"' and raw["买家实际支付金额"] == "1,309.00"
    assert raw["打款商家金额"] == "1309.00元" and "order_id" not in raw and "amount" not in raw
    assert sorted(r.landed) == [1, 2, 3]


# ---------------------------------------------------------------- several lines or files, one order


def test_jd_sku_lines_merge_into_one_order_and_keep_their_lines(sources, tmp_path: Path) -> None:
    """JD 订单导出 lines of one order: one order row (quantities summed), every line kept as an item."""
    export = next(e for e in EXPORTS if e.platform == "jd")
    r = mk.read_export(documented.write(export, _landing(tmp_path, "jd"), "utf8bom.csv"), sources["jd"])
    assert r.rows[["order_id", "quantity", "product", "amount"]].values.tolist() == [
        ["240930123456", "2", "保温杯 / 杯套", "149.00"],
        ["240930123457", "2", "保温杯", "198.00"],
    ]
    assert r.merged_lines == 1 and r.rows_read == len(r.rows) + r.merged_lines
    assert r.items[["order_id", "line_no", "sku", "quantity", "unit_price", "amount"]].values.tolist() == [
        ["240930123456", "1", "100012", "1", "99.00", "99.00"],
        ["240930123456", "2", "100013", "1", "50.00", "50.00"],
        ["240930123457", "1", "100012", "2", "99.00", "198.00"],
    ]
    staged = stage_export(r, "jd", dt.date(2026, 10, 1), StagingContext("Asia/Shanghai", 7))
    assert len(staged.rows) == 2 and staged.quarantined.empty


OLIST = """channel: olist
label: Olist
encodings: [utf-8-sig]
ids: {pattern: '[0-9a-f]{32}'}
date_formats: ["%Y-%m-%d %H:%M:%S"]
timezone: America/Sao_Paulo
kinds:
  orders:
    required: [order_id, created_at, status]
    columns:
      order_id: [order_id]
      user: [customer_id]
      status: [order_status]
      created_at: [order_purchase_timestamp]
      amount: [payment_value]
    maps:
      status: {delivered: delivered, shipped: shipped, canceled: cancelled, invoiced: paid}
  items:
    required: [order_id, unit_price]
    columns:
      order_id: [order_id]
      line: [order_item_id]
      sku: [product_id]
      unit_price: [price]
    ignore: [seller_id, shipping_limit_date, freight_value]
    sum_into_orders: [amount, quantity]
"""
A, B = "e481f51cbdc54678b7cc49136f2d6af7", "53cdb2fc8bc7dce0b6741e2150273451"


def test_items_file_gives_the_orders_their_amount_and_quantity(tmp_path: Path) -> None:
    """A source of two files (orders without amounts, items with prices): orders take the sums of their items."""
    (tmp_path / "olist.yaml").write_text(OLIST, "utf-8")
    src = mk.load_sources(extra_dirs=[tmp_path])["olist"]
    day = tmp_path / "olist" / "2017-10-03"
    day.mkdir(parents=True)
    (day / "olist_orders_dataset.csv").write_text(
        "order_id,customer_id,order_status,order_purchase_timestamp\n"
        f"{A},9ef432eb6251297304e76186b10a928d,delivered,2017-10-02 10:56:33\n"
        f"{B},b0830fb4747a6c6d20dea0b8c802d7ef,shipped,2017-10-02 20:41:37\n",
        "utf-8",
    )
    (day / "olist_order_items_dataset.csv").write_text(
        "order_id,order_item_id,product_id,seller_id,shipping_limit_date,price,freight_value\n"
        f"{A},1,87285b34884572647811a353c7ac498a,3504c0cb71d7fa48d967e0e4c94d59d9,2017-10-06 11:07:15,29.99,8.72\n"
        f"{B},1,595fac2a385ac33a80bd5114aec74eb8,289cdb325fb7e7f891c38608bf9e0962,2017-10-06 20:55:00,118.70,22.76\n"
        f"{B},2,595fac2a385ac33a80bd5114aec74eb8,289cdb325fb7e7f891c38608bf9e0962,2017-10-06 20:55:00,118.70,22.76\n",
        "utf-8",
    )
    reads = [mk.read_export(p, src, landing_dir=tmp_path) for p in sorted(day.iterdir())]
    ctx_olist = StagingContext("Asia/Shanghai", 7)
    assert [r.kind for r in reads] == ["items", "orders"]
    filled = fill_from_items(reads, src)
    orders = filled[1].rows
    assert orders[["order_id", "amount", "quantity"]].values.tolist() == [[A, "29.99", "1"], [B, "237.40", "2"]]
    staged = stage_export(filled[1], "olist", dt.date(2017, 10, 3), StagingContext("Asia/Shanghai", 7))
    assert [str(a) for a in staged.rows["amount"]] in (["29.99", "237.4"], ["29.99", "237.40"])
    assert staged.quarantined.empty
    lines = item_table_rows(filled[0].rows, "olist", dt.date(2017, 10, 3), filled[0].file)
    assert lines["line_no"].tolist() == [1, 1, 2] and lines["amount"].sum() == Decimal("267.39")  # exact money
    results, item_rows, _ = stage_reads([(dt.date(2017, 10, 3), r) for r in reads], src, ctx_olist)
    assert [len(r.rows) for r in results["orders"]] == [2] and results["feedback"] == []
    assert sum(len(f) for f in item_rows) == 3
    # without the items file the orders have no amount, and staging says so
    alone = stage_export(reads[1], "olist", dt.date(2017, 10, 3), StagingContext("Asia/Shanghai", 7))
    assert alone.quarantined["rule"].tolist() == ["missing_value", "missing_value"]


def test_documented_selection_of_a_source_selects_its_staging_assets() -> None:
    """The selection the docs give for a source's staging (`key:stg_<name>_*`) selects its staging tables."""
    import dagster as dg

    from after_sales.definitions import defs

    doc = (ROOT / "docs" / "marketplaces.md").read_text(encoding="utf-8")
    assert "--select\n'key:stg_taobao_*'" in doc or "--select 'key:stg_taobao_*'" in doc
    graph = defs.resolve_asset_graph()
    picked = dg.AssetSelection.from_string("key:stg_taobao_*").resolve(graph)
    assert sorted(k.to_user_string() for k in picked) == ["stg_taobao_feedback", "stg_taobao_orders"]


def test_feedback_matches_orders_of_the_same_channel_from_another_source(
    sources, tmp_path: Path, resources: dict[str, object]
) -> None:
    """Refunds landed by a channel's second source find the orders the channel's first source staged."""
    from after_sales.assets.marketplaces import _known_orders, marketplace_tables
    from after_sales.resources.warehouse import DateWindow
    from after_sales.transforms.staging import quarantine_unknown_orders

    (tmp_path / "tmall_shop2.yaml").write_text("extend: tmall\nlabel: 天猫二店\nkinds: {}\n", "utf-8")
    shop2 = mk.load_sources(extra_dirs=[tmp_path])["tmall_shop2"]
    assert shop2.channel == "tmall"
    day = dt.date(2020, 2, 21)
    ctx = StagingContext("Asia/Shanghai", 10_000)
    report = next(e for e in EXPORTS if e.kind == "order_report")
    orders = mk.read_export(documented.write(report, _landing(tmp_path, "tmall"), "utf8bom.csv"), sources["tmall"])
    staged = stage_export(orders, "tmall", day, ctx)
    tmall_orders = marketplace_tables(sources["tmall"])["orders"]
    window = DateWindow(day, day + dt.timedelta(days=1))
    resources["warehouse"].open().replace(tmall_orders, staged.rows, window)  # type: ignore[attr-defined]

    refunds = stage_export(orders.parts[0], "tmall_shop2", day, ctx)
    shop2_orders = marketplace_tables(shop2)["orders"]
    alone = _known_orders(resources["warehouse"], shop2_orders, staged.rows.iloc[:0], window)
    assert quarantine_unknown_orders(refunds, alone, 14, 7).quarantined["rule"].tolist() == ["unknown_order"] * 2
    known = _known_orders(resources["warehouse"], shop2_orders, staged.rows.iloc[:0], window, (tmall_orders,))
    matched = quarantine_unknown_orders(refunds, known, 14, 7)
    assert matched.quarantined.empty and len(matched.rows) == 2
