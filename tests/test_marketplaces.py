"""Marketplace export adapters: fixtures per platform/format, an added source, malformed files, samples."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

import after_sales.marketplaces as mk
from after_sales.marketplaces import doctables

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "marketplaces"
LANDING = "2026-10-01"
PLATFORMS = ("taobao", "tmall", "jd", "suning", "yhd")
FORMATS = ("_gb18030.csv", "_utf8bom.csv", "_utf8.csv", ".xlsx")
KEYS = {
    "orders": (
        "source_row",
        "order_id",
        "created_at",
        "user",
        "product",
        "quantity",
        "amount",
        "payment_method",
        "status",
        "status_raw",
    ),
    "refunds": (
        "source_row",
        "feedback_id",
        "order_id",
        "created_at",
        "issue_type",
        "issue_description",
        "first_response_at",
        "resolved_at",
        "resolution",
        "refund_amount",
        "refund_status",
        "refund_status_raw",
    ),
    "reviews": (
        "source_row",
        "feedback_id",
        "order_id",
        "created_at",
        "rating",
        "issue_description",
        "first_response_at",
    ),
}


@dataclass(frozen=True)
class Expect:
    """What one fixture export (in any encoding/format) must land."""

    prefix: str
    rows_read: int
    blank: int
    summary: int
    rejected: list[tuple[int, str]]
    rows: list[tuple[object, ...]]


EXPECTED: dict[tuple[str, str], Expect] = {
    ("taobao", "orders"): Expect(
        prefix="ExportOrderList202610011230",
        rows_read=8,
        blank=1,
        summary=1,
        rejected=[(7, "unknown_status")],
        rows=[
            (
                1,
                "2870061234567890123",
                "2026-09-30 09:05:03",
                "tb_alice",
                "不锈钢保温杯 500ml",
                "1",
                "1299.00",
                "alipay",
                "completed",
                "交易成功",
            ),
            (
                2,
                "2870061234567890124",
                "2026-09-30 21:17:00",
                "小明爱喝水",
                "儿童吸管水杯",
                "2",
                "89.90",
                "alipay",
                "paid",
                "买家已付款，等待卖家发货",
            ),
            (
                4,
                "2870061234567890125",
                "2026-09-29 08:00:00",
                "buyer_003",
                "陶瓷茶具套装",
                "1",
                "1024.50",
                "alipay",
                "shipped",
                "卖家已发货，等待买家确认",
            ),
            (
                5,
                "2870061234567890126",
                "2026-09-28 10:11:12",
                "tb_dora",
                "玻璃密封罐",
                "3",
                "0.00",
                "alipay",
                "closed",
                "交易关闭",
            ),
            (
                6,
                "2870061234567890127",
                "2026-10-01 00:30:00",
                "tb_erin",
                "便携餐具盒",
                "1",
                "59.00",
                "alipay",
                "pending_payment",
                "等待买家付款",
            ),
        ],
    ),
    ("taobao", "reviews"): Expect(
        prefix="评价导出",
        rows_read=6,
        blank=1,
        summary=0,
        rejected=[(6, "unparseable_rating")],
        rows=[
            (
                1,
                "taobao-V-2870061234567890123-1",
                "2870061234567890123",
                "2026-09-30 18:00:00",
                "5",
                "保温效果很好，物流也快",
                None,
            ),
            (
                2,
                "taobao-V-2870061234567890125-1",
                "2870061234567890125",
                "2026-10-01 08:00:00",
                "1",
                "茶杯有裂纹，差评！",
                "2026-10-01 09:30:00",
            ),
            (
                4,
                "taobao-V-2870061234567890125-2",
                "2870061234567890125",
                "2026-10-01 09:00:00",
                "3",
                "补发的还行",
                None,
            ),
            (
                5,
                "taobao-V-2870061234567890126-1",
                "2870061234567890126",
                "2026-10-01 10:00:00",
                "5",
                None,
                None,
            ),
        ],
    ),
    ("taobao", "refunds"): Expect(
        prefix="退款导出",
        rows_read=8,
        blank=1,
        summary=1,
        rejected=[(7, "unparseable_date")],
        rows=[
            (
                1,
                "taobao-R-138900112233445566",
                "2870061234567890123",
                "2026-09-30 12:00:00",
                "return",
                "七天无理由退换货：不想要了",
                None,
                "2026-10-01 09:00:00",
                "refunded",
                "1299.00",
                "refunded",
                "退款成功",
            ),
            (
                2,
                "taobao-R-138900112233445567",
                "2870061234567890124",
                "2026-09-30 22:00:00",
                "refund",
                "未按约定时间发货",
                None,
                None,
                None,
                "89.90",
                "requested",
                "买家已经申请退款，等待卖家同意",
            ),
            (
                4,
                "taobao-R-2870061234567890125-1",
                "2870061234567890125",
                "2026-09-30 10:00:00",
                "return",
                "质量问题：茶杯有裂纹",
                None,
                None,
                None,
                "512.25",
                "awaiting_return",
                "WAIT_BUYER_RETURN_GOODS",
            ),
            (
                5,
                "taobao-R-138900112233445569",
                "2870061234567890126",
                "2026-09-29 09:00:00",
                "dispute",
                "少件/漏发：只收到两个",
                None,
                "2026-10-01 10:00:00",
                "rejected",
                "30.00",
                "refused",
                "卖家拒绝退款",
            ),
            (
                6,
                "taobao-R-138900112233445570",
                "2870061234567890127",
                "2026-10-01 00:40:00",
                "refund",
                "拍错/多拍/不想要",
                None,
                "2026-10-01 00:45:00",
                None,
                "59.00",
                "closed",
                "退款关闭",
            ),
        ],
    ),
    ("tmall", "orders"): Expect(
        prefix="ExportOrderList202610011245",
        rows_read=7,
        blank=1,
        summary=1,
        rejected=[(6, "unparseable_date")],
        rows=[
            (
                1,
                "3912345678901234501",
                "2026-09-29 20:00:00",
                "tm_grace",
                "智能电饭煲 4L",
                "1",
                "2499.00",
                "alipay",
                "completed",
                "交易成功",
            ),
            (
                2,
                "3912345678901234502",
                "2026-09-30 11:22:33",
                "tm_henry",
                "电热水壶",
                "1",
                "199.00",
                "alipay",
                "shipped",
                "卖家已发货，等待买家确认",
            ),
            (
                3,
                "3912345678901234503",
                "2026-09-30 12:00:00",
                "tm_iris",
                "滤水壶滤芯",
                "2",
                "99.00",
                "alipay",
                "cancelled",
                "交易被天猫关闭",
            ),
            (
                5,
                "3912345678901234504",
                "2026-09-28 07:08:09",
                "tm_jack",
                "破壁料理机",
                "1",
                "1000.00",
                "card",
                "delivered",
                "买家已签收",
            ),
        ],
    ),
    ("tmall", "refunds"): Expect(
        prefix="售后退款导出",
        rows_read=5,
        blank=1,
        summary=0,
        rejected=[(5, "unknown_refund_status")],
        rows=[
            (
                1,
                "tmall-R-98765432109876501",
                "3912345678901234501",
                "2026-09-30 08:00:00",
                "return",
                "质量问题：内胆涂层脱落",
                "2026-09-30 08:30:00",
                None,
                None,
                "2499.00",
                "return_received",
                "买家已经退货，等待卖家确认收货",
            ),
            (
                2,
                "tmall-R-98765432109876502",
                "3912345678901234502",
                "2026-09-30 20:00:00",
                "refund",
                "未收到货",
                "2026-09-30 20:05:00",
                "2026-10-01 08:00:00",
                "refunded",
                "199.00",
                "refunded",
                "SUCCESS",
            ),
            (
                4,
                "tmall-R-98765432109876503",
                "3912345678901234504",
                "2026-09-30 09:00:00",
                "dispute",
                "商品与描述不符：噪音大",
                None,
                "2026-10-01 09:00:00",
                "rejected",
                "300.00",
                "refused",
                "卖家拒绝退款",
            ),
        ],
    ),
    ("tmall", "reviews"): Expect(
        prefix="评价导出",
        rows_read=4,
        blank=0,
        summary=1,
        rejected=[],
        rows=[
            (
                1,
                "tmall-V-3912345678901234501-1",
                "3912345678901234501",
                "2026-09-30 21:00:00",
                "4",
                "做饭很香",
                "2026-10-01 09:00:00",
            ),
            (
                2,
                "tmall-V-3912345678901234502-1",
                "3912345678901234502",
                "2026-10-01 07:30:00",
                "5",
                "烧水快",
                None,
            ),
            (
                3,
                "tmall-V-3912345678901234504-1",
                "3912345678901234504",
                "2026-10-01 08:15:00",
                "2",
                "噪音太大了",
                None,
            ),
        ],
    ),
    ("jd", "refunds"): Expect(
        prefix="服务单导出_20261001",
        rows_read=7,
        blank=1,
        summary=0,
        rejected=[(7, "unparseable_date")],
        rows=[
            (
                1,
                "jd-R-1500001",
                "300012345678",
                "2026-09-30 12:00:00",
                "return",
                "拉链坏了",
                "2026-09-30 13:00:00",
                "2026-10-01 10:00:00",
                "refunded",
                "149.00",
                "refunded",
                "完成",
            ),
            (
                2,
                "jd-R-1500002",
                "300012345680",
                "2026-09-30 09:00:00",
                "return",
                "轮子松动",
                "2026-09-30 09:30:00",
                "2026-10-01 11:00:00",
                "replaced",
                None,
                "closed",
                "完成",
            ),
            (
                4,
                "jd-R-1500003",
                "300012345682",
                "2026-09-30 15:00:00",
                "complaint",
                "充气阀漏气",
                "2026-09-30 16:00:00",
                None,
                None,
                None,
                "return_received",
                "处理中",
            ),
            (
                5,
                "jd-R-1500004",
                "300012345679",
                "2026-09-30 18:00:00",
                "return",
                "不想要了",
                "2026-09-30 19:00:00",
                "2026-09-30 19:00:00",
                "rejected",
                "79.80",
                "refused",
                "审核不通过",
            ),
            (
                6,
                "jd-R-1500005",
                "300012345679",
                "2026-10-01 08:00:00",
                "return",
                None,
                None,
                None,
                None,
                "39.90",
                "requested",
                "待审核",
            ),
        ],
    ),
    ("jd", "orders"): Expect(
        prefix="订单导出_20261001",
        rows_read=8,
        blank=2,
        summary=1,
        rejected=[(6, "unparseable_amount")],
        rows=[
            (
                1,
                "300012345678",
                "2026-09-30 10:00:00",
                "jd_lucy",
                "京造 双肩包",
                "1",
                "149.00",
                "online",
                "completed",
                "完成",
            ),
            (
                2,
                "300012345679",
                "2026-09-30 11:30:00",
                "jd_mike",
                "京造 运动水壶",
                "2",
                "79.80",
                "jd_pay",
                "paid",
                "等待出库",
            ),
            (
                3,
                "300012345680",
                "2026-09-29 16:45:00",
                "jd_nina",
                "京造 旅行箱 24寸",
                "1",
                "1199.00",
                "cod",
                "shipped",
                "等待确认收货",
            ),
            (
                7,
                "300012345682",
                "2026-09-27 22:00:00",
                "jd_pia",
                "京造 颈枕",
                "1",
                "49.00",
                "online",
                "completed",
                "已完成",
            ),
        ],
    ),
    ("jd", "reviews"): Expect(
        prefix="评价导出_20261001",
        rows_read=4,
        blank=0,
        summary=0,
        rejected=[],
        rows=[
            (
                1,
                "jd-V-300012345678-1",
                "300012345678",
                "2026-09-30 20:00:00",
                "5",
                "容量大，做工好",
                "2026-10-01 09:00:00",
            ),
            (2, "jd-V-300012345680-1", "300012345680", "2026-10-01 08:00:00", "1", "轮子一周就松了", None),
            (3, "jd-V-300012345682-1", "300012345682", "2026-10-01 09:00:00", "3", "一般般", None),
            (
                4,
                "jd-V-300012345678-2",
                "300012345678",
                "2026-10-01 10:00:00",
                "4",
                "追加：背了一周还不错",
                None,
            ),
        ],
    ),
    ("suning", "orders"): Expect(
        prefix="订单导出20261001",
        rows_read=7,
        blank=1,
        summary=1,
        rejected=[(6, "unparseable_quantity")],
        rows=[
            (
                1,
                "30021234567",
                "2026-09-30 10:10:10",
                "sn_quinn",
                "美的 空气炸锅",
                "1",
                "399.00",
                "suning_pay",
                "completed",
                "交易成功",
            ),
            (
                2,
                "30021234568",
                "2026-09-30 12:13:14",
                "sn_rose",
                "格力 电风扇",
                "2",
                "518.00",
                "wechat",
                "paid",
                "待发货",
            ),
            (
                4,
                "30021234569",
                "2026-09-29 18:00:00",
                "sn_sam",
                "海尔 冰箱 470L",
                "1",
                "3999.00",
                "cod",
                "shipped",
                "已发货",
            ),
            (
                5,
                "30021234570",
                "2026-09-28 08:00:00",
                "sn_tina",
                "九阳 豆浆机",
                "1",
                "299.00",
                "alipay",
                "cancelled",
                "已取消",
            ),
        ],
    ),
    ("suning", "refunds"): Expect(
        prefix="退货退款导出20261001",
        rows_read=5,
        blank=1,
        summary=0,
        rejected=[],
        rows=[
            (
                1,
                "suning-R-7700012345",
                "30021234567",
                "2026-09-30 15:00:00",
                "return",
                "质量问题：加热不均匀",
                "2026-09-30 16:00:00",
                "2026-10-01 09:00:00",
                "refunded",
                "399.00",
                "refunded",
                "退款完成",
            ),
            (
                2,
                "suning-R-7700012346",
                "30021234568",
                "2026-09-30 13:00:00",
                "refund",
                "不想要了",
                None,
                None,
                None,
                "259.00",
                "requested",
                "待审核",
            ),
            (
                3,
                "suning-R-7700012347",
                "30021234569",
                "2026-09-30 20:00:00",
                "return",
                "尺寸不合适：放不进厨房",
                "2026-09-30 21:00:00",
                None,
                None,
                "3999.00",
                "awaiting_return",
                "待买家退货",
            ),
            (
                5,
                "suning-R-7700012348",
                "30021234570",
                "2026-09-28 08:30:00",
                "refund",
                "拍错了",
                "2026-09-28 09:00:00",
                "2026-09-28 09:00:00",
                None,
                "299.00",
                "closed",
                "已关闭",
            ),
        ],
    ),
    ("yhd", "orders"): Expect(
        prefix="orders_20261001",
        rows_read=7,
        blank=1,
        summary=1,
        rejected=[(6, "missing_required")],
        rows=[
            (
                1,
                "1600123456789012",
                "2026-09-30 07:00:00",
                "yhd_vera",
                "金龙鱼 调和油 5L",
                "2",
                "139.80",
                "online",
                "completed",
                "已完成",
            ),
            (
                2,
                "1600123456789013",
                "2026-09-30 08:08:00",
                "yhd_will",
                "蒙牛 纯牛奶 24盒",
                "1",
                "65.00",
                "cod",
                "shipped",
                "已出库",
            ),
            (
                3,
                "1600123456789014",
                "2026-09-29 19:20:00",
                "yhd_xia",
                "维达 抽纸 24包",
                "3",
                "119.70",
                "wechat",
                "paid",
                "待发货",
            ),
            (
                5,
                "1600123456789015",
                "2026-09-29 20:00:00",
                "yhd_yan",
                "农夫山泉 24瓶",
                "1",
                "36.00",
                "alipay",
                "delivered",
                "已签收",
            ),
        ],
    ),
    ("yhd", "refunds"): Expect(
        prefix="returns_20261001",
        rows_read=5,
        blank=1,
        summary=0,
        rejected=[],
        rows=[
            (
                1,
                "yhd-R-88000001",
                "1600123456789012",
                "2026-09-30 12:00:00",
                "return",
                "包装破损：漏油",
                "2026-09-30 12:30:00",
                "2026-10-01 08:00:00",
                "refunded",
                "69.90",
                "refunded",
                "已退款",
            ),
            (
                2,
                "yhd-R-88000002",
                "1600123456789013",
                "2026-09-30 13:00:00",
                "return",
                "临近保质期",
                "2026-09-30 13:10:00",
                "2026-10-01 09:00:00",
                "replaced",
                None,
                "closed",
                "换货完成",
            ),
            (
                4,
                "yhd-R-88000003",
                "1600123456789014",
                "2026-09-30 14:00:00",
                "refund",
                "不想要了",
                None,
                None,
                None,
                "119.70",
                "requested",
                "待审核",
            ),
            (
                5,
                "yhd-R-88000004",
                "1600123456789015",
                "2026-09-30 15:00:00",
                "return",
                "其他：已饮用",
                "2026-09-30 16:00:00",
                "2026-09-30 16:00:00",
                "rejected",
                "36.00",
                "refused",
                "已拒绝",
            ),
        ],
    ),
}


@pytest.fixture(scope="module")
def sources() -> dict:
    """The built-in mapping files."""
    return mk.load_sources()


def _fixture_files() -> list[tuple[str, str, Path]]:
    """(platform, subkind, path) of every fixture file."""
    out = []
    for (platform, subkind), exp in EXPECTED.items():
        for fmt in FORMATS:
            out.append((platform, subkind, FIXTURES / platform / LANDING / f"{exp.prefix}{fmt}"))
    return out


def _conserved(r) -> bool:
    """Every data row is landed, rejected, a summary row or blank."""
    return r.rows_read == len(r.rows) + len(r.rejected) + r.dropped_summary_rows + r.blank_rows


def _write(tmp_path: Path, platform: str, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write a file under tmp_path/<platform>/<landing date>/."""
    path = tmp_path / platform / LANDING / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


# ---------------------------------------------------------------- mapping files


def test_load_sources_finds_every_platform(sources) -> None:
    """All five marketplaces load; reviews only where the platform exports them."""
    assert set(PLATFORMS) <= set(sources)
    for name in PLATFORMS:
        assert sources[name].channel == name
        assert {"orders", "refunds"} <= set(sources[name].kinds)
    assert {n for n in PLATFORMS if "reviews" in sources[n].kinds} == {"taobao", "tmall", "jd"}
    assert "gb18030" in sources["taobao"].encodings and "utf-8-sig" in sources["taobao"].encodings


def test_every_fixture_exists_in_every_format() -> None:
    """Each platform/kind has a GB18030, UTF-8 BOM, UTF-8 and xlsx fixture."""
    for _, _, path in _fixture_files():
        assert path.is_file(), path
    assert {p for p, _ in EXPECTED} == set(PLATFORMS)


def test_fixtures_are_generated_deterministically(tmp_path: Path) -> None:
    """make_fixtures.py regenerates byte-identical files (the committed fixtures are current)."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written = module.write_all(tmp_path)
    assert len(written) == len(_fixture_files())
    for path in written:
        committed = FIXTURES / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), committed


# ---------------------------------------------------------------- fixtures land the expected rows


@pytest.mark.parametrize(
    ("platform", "subkind", "path"), _fixture_files(), ids=[f"{p}/{f.name}" for p, _, f in _fixture_files()]
)
def test_fixture_lands_expected_rows(sources, platform: str, subkind: str, path: Path) -> None:
    """Exact ids, amounts, timestamps, canonical and original statuses, rejections and counts per file."""
    exp = EXPECTED[(platform, subkind)]
    r = mk.read_export(path, sources[platform], landing_dir=FIXTURES)
    assert (r.subkind, r.kind) == (subkind, "orders" if subkind == "orders" else "feedback")
    assert r.file == f"{platform}/{LANDING}/{path.name}"
    assert r.landing_date.isoformat() == LANDING
    expected_columns = mk.ORDER_COLUMNS if subkind == "orders" else mk.FEEDBACK_COLUMNS
    assert tuple(r.rows.columns) == expected_columns
    assert all(r.rows[c].dtype == object for c in r.rows.columns)
    assert all(v is None or isinstance(v, str) for v in r.rows.to_numpy().ravel())
    got = [
        tuple(int(v) if i == 0 else v for i, v in enumerate(rec))
        for rec in r.rows[list(KEYS[subkind])].itertuples(index=False)
    ]
    assert got == exp.rows
    assert list(zip(r.rejected["source_row"], r.rejected["rule"], strict=True)) == exp.rejected
    assert (r.rows_read, r.blank_rows, r.dropped_summary_rows) == (exp.rows_read, exp.blank, exp.summary)
    assert _conserved(r)
    assert set(r.rows["channel"]) <= {platform}
    if subkind != "orders":
        assert set(r.rows["reopened"]) <= {"false"}
    if subkind == "reviews":
        assert set(r.rows["issue_type"]) <= {"review"}
        assert r.rows["refund_status"].isna().all()
    if subkind == "refunds":
        assert r.rows["rating"].isna().all()
    for _, rej in r.rejected.iterrows():
        assert rej["reason"].startswith(f"{platform}/{LANDING}/{path.name} row {rej['source_row']}, column ")
        assert rej["column"] in rej["reason"]
        raw = json.loads(rej["raw"])
        assert isinstance(raw, dict) and len(raw) >= 4


@pytest.mark.slow
def test_fixture_formats_agree_on_encodings(sources) -> None:
    """GB18030 files are decoded as GB18030, BOM/plain UTF-8 files as UTF-8, xlsx has no encoding."""
    for platform, _, path in _fixture_files():
        r = mk.read_export(path, sources[platform])
        if path.name.endswith("_gb18030.csv"):
            assert r.encoding == "gb18030"
        elif path.suffix == ".csv":
            assert r.encoding == "utf-8-sig"
        else:
            assert r.encoding is None and r.sheet == "Sheet1"


@pytest.mark.slow
def test_header_variants_and_unmapped_columns_warn(sources) -> None:
    """A second header matching the same field is reported; known extra columns are silently ignored."""
    r = mk.read_export(FIXTURES / "jd" / LANDING / "订单导出_20261001_utf8.csv", sources["jd"])
    assert r.warnings == ["column(s) 订单金额 also match amount; using 应付金额"]
    assert r.columns_used["amount"] == "应付金额"
    gb = mk.read_export(
        FIXTURES / "taobao" / LANDING / "ExportOrderList202610011230_gb18030.csv", sources["taobao"]
    )
    assert gb.columns_used["product"] == "商品标题" and gb.columns_used["created_at"] == "创建时间"


# ---------------------------------------------------------------- a sixth source: only a YAML file

SHOPEE_YAML = """\
# Shopee Seller Centre (English export) - added with no code change.
channel: shopee
label: Shopee
encodings: [utf-8-sig, cp1252]
date_formats: ["%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S%z"]
ids:
  pattern: '[0-9A-Z]{8,20}'
amounts:
  strip: ["S$", "RM", "$"]
  thousands: [","]
summary_rows: ['Total.*']
kinds:
  orders:
    required: [order_id, created_at, amount, status]
    columns:
      order_id: [Order ID]
      created_at: [Order Creation Date]
      user: [Username (Buyer)]
      product: [Product Name]
      quantity: [Quantity]
      amount: [Grand Total, Total Amount]
      payment_method: [Payment Method]
      status: [Order Status]
    ignore: [Tracking Number]
    maps:
      status: {Unpaid: pending_payment, To ship: paid, Shipping: shipped, Completed: completed,
               Cancelled: cancelled}
      payment_method: {ShopeePay: shopeepay, Credit Card/Debit Card: card, Cash on Delivery: cod}
  refunds:
    required: [refund_id, order_id, created_at, refund_status]
    columns:
      refund_id: [Return ID]
      order_id: [Order ID]
      created_at: [Request Time]
      refund_amount: [Refund Amount]
      refund_status: [Return Status]
      refund_reason: [Reason]
      issue_description: [Buyer Remarks]
      resolved_at: [Completed Time]
    maps:
      refund_status: {Requested: requested, Accepted: awaiting_return, Refund Paid: refunded,
                      Rejected: refused}
    derive:
      feedback_id: {templates: ["{platform}-R-{refund_id}"]}
      issue_type:
        default: refund
        rules:
          - when: {refund_reason: {contains: [damaged, wrong item]}}
            value: return
      resolution:
        rules:
          - {when: {refund_status: refunded}, value: refunded}
          - {when: {refund_status: refused}, value: rejected}
"""


@pytest.fixture()
def shopee(tmp_path: Path) -> tuple[dict, Path]:
    """Built-in sources plus a shopee mapping written into a temporary folder."""
    cfg_dir = tmp_path / "mappings"
    cfg_dir.mkdir()
    (cfg_dir / "shopee.yaml").write_text(SHOPEE_YAML, encoding="utf-8")
    return mk.load_sources(extra_dirs=[cfg_dir]), tmp_path / "landing"


@pytest.mark.slow
def test_added_english_source_works_end_to_end(shopee) -> None:
    """A new YAML file plus a landing folder is all a sixth marketplace needs."""
    srcs, landing = shopee
    assert set(PLATFORMS) | {"shopee"} <= set(srcs)
    orders = _write(
        landing,
        "shopee",
        "Order.all.20261001.csv",
        (
            "Order ID,Order Status,Order Creation Date,Username (Buyer),Product Name,Quantity,Grand Total,"
            "Payment Method,Tracking Number,Voucher\r\n"
            '2310150ABCDEF1,Completed,2026-09-30 10:15,amy_sg,Water Bottle,2,"S$1,024.50",ShopeePay,SPX1,\r\n'
            "2310150ABCDEF2,To ship,30/09/2026 11:00,ben_sg,Lunch Box,1,$12.00,Cash on Delivery,,\r\n"
            "2310150ABCDEF3,Shipping,2026-09-30T02:00:00Z,cat_sg,Cup,1,RM8,Credit Card/Debit Card,SPX3,\r\n"
            "2310150ABCDEF4,Lost,2026-09-30 12:00,dan_sg,Cup,1,8.00,ShopeePay,,\r\n"
            'Total,,,,,4,"1,052.50",,,\r\n'
        ),
    )
    r = mk.read_export(orders, srcs["shopee"], landing_dir=landing)
    assert r.subkind == "orders" and r.channel == "shopee"
    assert r.rows[
        ["order_id", "created_at", "amount", "status", "status_raw", "payment_method"]
    ].values.tolist() == [
        ["2310150ABCDEF1", "2026-09-30 10:15:00", "1024.50", "completed", "Completed", "shopeepay"],
        ["2310150ABCDEF2", "2026-09-30 11:00:00", "12.00", "paid", "To ship", "cod"],
        ["2310150ABCDEF3", "2026-09-30 10:00:00", "8.00", "shipped", "Shipping", "card"],
    ]
    assert r.rejected[["source_row", "column", "rule"]].values.tolist() == [
        [4, "Order Status", "unknown_status"]
    ]
    assert (
        "shopee/2026-10-01/Order.all.20261001.csv row 4, column Order Status: unknown status 'Lost'"
        in (r.rejected["reason"].iloc[0])
    )
    assert r.dropped_summary_rows == 1 and _conserved(r)
    assert r.warnings == ["ignored 1 column(s) not in the shopee mapping: Voucher"]

    returns = _write(
        landing,
        "shopee",
        "Return.20261001.csv",
        (
            "Return ID,Order ID,Request Time,Refund Amount,Return Status,Reason,Buyer Remarks,"
            "Completed Time\n"
            "RR00000001,2310150ABCDEF1,2026-09-30 12:00,S$10.00,Refund Paid,Damaged item,Dented,"
            "2026-10-01 09:00\n"
            "RR00000002,2310150ABCDEF2,2026-09-30 13:00,$12.00,Requested,Change of mind,,\n"
        ),
    )
    f = mk.read_export(returns, srcs["shopee"], landing_dir=landing)
    assert f.subkind == "refunds" and f.kind == "feedback"
    assert f.rows[
        ["feedback_id", "issue_type", "resolution", "refund_status", "refund_amount"]
    ].values.tolist() == [
        ["shopee-R-RR00000001", "return", "refunded", "refunded", "10.00"],
        ["shopee-R-RR00000002", "refund", None, "requested", "12.00"],
    ]
    assert _conserved(f)


@pytest.mark.slow
def test_added_source_renders_samples_too(shopee) -> None:
    """The sample renderer works for an added source from its YAML alone."""
    srcs, landing = shopee
    orders = pd.DataFrame(
        {
            "order_id": ["2310150ABCDEF1"],
            "created_at": ["2026-09-30 10:15:00"],
            "user": ["amy"],
            "product": ["Cup"],
            "quantity": ["1"],
            "amount": ["8.5"],
            "payment_method": ["cod"],
            "status": ["paid"],
            "channel": ["web"],
        }
    )
    files = mk.marketplace_exports(orders, pd.DataFrame(), "shopee", seed=1, sources=srcs)
    assert [name for name, _ in files] == ["orders_202609301015.csv"]
    r = mk.read_export(_write(landing, "shopee", files[0][0], files[0][1]), srcs["shopee"])
    assert r.rows[["order_id", "amount", "status", "payment_method"]].values.tolist() == [
        ["2310150ABCDEF1", "8.50", "paid", "cod"]
    ]


def test_bad_mapping_file_names_file_and_key(tmp_path: Path) -> None:
    """A mapping value that is not canonical fails at load time with file and key named."""
    (tmp_path / "broken.yaml").write_text(
        SHOPEE_YAML.replace("Completed: completed", "Completed: done"), "utf-8"
    )
    with pytest.raises(mk.SourceConfigError, match=r"broken\.yaml: kinds\.orders\.maps\.status\.Completed"):
        mk.load_sources(extra_dirs=[tmp_path])


# ---------------------------------------------------------------- malformed files

TAOBAO_HEADER = "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题\r\n"
GOOD_ROW = '="2870061234567890123",tb_a,"¥1,299.00",交易成功,2026-09-30 09:00:00,杯子\r\n'


def test_wrong_encoding_names_encodings_and_offset(sources, tmp_path: Path) -> None:
    """A file no configured encoding decodes is a file error naming encodings and byte offset."""
    path = _write(tmp_path, "taobao", "orders.csv", (TAOBAO_HEADER + GOOD_ROW).encode("utf-16"))
    with pytest.raises(mk.ExportFileError) as err:
        mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    msg = str(err.value)
    assert msg.startswith("taobao/2026-10-01/orders.csv: cannot be decoded")
    assert "utf-8-sig:" in msg and "gb18030:" in msg and "byte offset 0" in msg
    assert isinstance(err.value, ValueError)


def test_gb18030_file_with_utf8_only_mapping(sources, tmp_path: Path) -> None:
    """A GB18030 export read with a UTF-8-only mapping names the first undecodable byte."""
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    text = (
        (mk.SOURCES_DIR / "taobao.yaml")
        .read_text("utf-8")
        .replace("encodings: [utf-8-sig, gb18030]", "encodings: [utf-8]")
    )
    (cfg / "taobao_utf8.yaml").write_text(text, "utf-8")
    src = mk.load_sources([cfg])["taobao_utf8"]
    path = _write(tmp_path, "taobao", "o.csv", (TAOBAO_HEADER + GOOD_ROW).encode("gb18030"))
    with pytest.raises(
        mk.ExportFileError, match=r"tried utf-8: invalid start byte at byte offset 0 \(byte 0xb6\)"
    ):
        mk.read_export(path, src)


def test_missing_required_column_names_column_and_kind(sources, tmp_path: Path) -> None:
    """Dropping 订单状态 from an order export is a file error naming the column and kind."""
    path = _write(
        tmp_path,
        "taobao",
        "orders.csv",
        "订单编号,买家实际支付金额,订单创建时间\r\n123456789,1,2026-10-01\r\n",
    )
    with pytest.raises(mk.ExportFileError) as err:
        mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    assert str(err.value).startswith(
        "taobao/2026-10-01/orders.csv column 订单状态: required column missing for kind 'orders'"
    )
    assert err.value.column == "订单状态"


def test_unrecognised_header_lists_expected_headers(sources, tmp_path: Path) -> None:
    """A file whose header matches no kind lists what each kind expects, never the line it found (a data row?)."""
    path = _write(tmp_path, "jd", "x.csv", "foo,bar\r\n1,2\r\n")
    with pytest.raises(
        mk.ExportFileError, match=r"expected headers .*orders: 订单号/订单编号.*the first non-empty line has 2 field"
    ) as err:
        mk.read_export(path, sources["jd"], landing_dir=tmp_path)
    assert "foo" not in str(err.value)


@pytest.mark.parametrize(
    ("body", "row", "column"),
    [
        (GOOD_ROW + '="2870061234567890124","tb_b,1,交易成功,2026-09-30,杯\r\n', 2, "买家会员名"),
        (GOOD_ROW + '="2870061234567890124",tb_b,"¥1,', 2, "买家实际支付金额"),
        (GOOD_ROW + '="2870061234567890124",tb_b,1,交易成', 2, "订单状态"),
    ],
    ids=["unbalanced-quote", "cut-in-quoted-field", "cut-mid-record"],
)
def test_truncated_csv_names_row_and_column(
    sources, tmp_path: Path, body: str, row: int, column: str
) -> None:
    """A csv cut off mid-record is a file error naming the row and the column where it stops."""
    path = _write(tmp_path, "taobao", "orders.csv", TAOBAO_HEADER + body)
    with pytest.raises(mk.ExportFileError, match="truncated") as err:
        mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    assert (err.value.row, err.value.column) == (row, column)
    assert str(err.value).startswith(f"taobao/2026-10-01/orders.csv row {row}, column {column}: ")


def test_truncated_xlsx_is_a_file_error(sources, tmp_path: Path) -> None:
    """An xlsx cut in half is not a valid zip: a file error, not an empty read."""
    data = (FIXTURES / "taobao" / LANDING / "退款导出.xlsx").read_bytes()
    path = _write(tmp_path, "taobao", "退款导出.xlsx", data[: len(data) // 2])
    with pytest.raises(mk.ExportFileError, match=r"退款导出\.xlsx: not a valid \.xlsx file"):
        mk.read_export(path, sources["taobao"], landing_dir=tmp_path)


def test_empty_file_is_an_error(sources, tmp_path: Path) -> None:
    """A 0-byte file is an error."""
    path = _write(tmp_path, "tmall", "ExportOrderList.csv", b"")
    with pytest.raises(mk.ExportFileError, match=r"ExportOrderList\.csv: empty file \(0 bytes\)"):
        mk.read_export(path, sources["tmall"], landing_dir=tmp_path)


@pytest.mark.parametrize(
    "body",
    ["", "合计,,¥0.00,,,\r\n", "\r\n共 0 条\r\n"],
    ids=["header-only", "summary-only", "blank-and-summary"],
)
def test_header_or_summary_only_is_zero_rows(sources, tmp_path: Path, body: str) -> None:
    """A header-only or summary-only export is fine: zero rows, nothing rejected."""
    path = _write(tmp_path, "taobao", "orders.csv", (TAOBAO_HEADER + body).encode("gb18030"))
    r = mk.read_export(path, sources["taobao"])
    assert r.subkind == "orders" and r.rows.empty and r.rejected.empty
    assert tuple(r.rows.columns) == mk.ORDER_COLUMNS and tuple(r.rejected.columns) == mk.REJECTED_COLUMNS
    assert _conserved(r)


def test_unknown_status_row_is_rejected_with_file_row_column(sources, tmp_path: Path) -> None:
    """One bad row is rejected with a readable reason; the others land."""
    bad = '="2870061234567890124",tb_b,¥5.00,已冻结,2026-09-30 10:00:00,杯子\r\n'
    path = _write(tmp_path, "taobao", "orders.csv", TAOBAO_HEADER + GOOD_ROW + "\r\n" + bad, "gb18030")
    r = mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    assert r.rows["order_id"].tolist() == ["2870061234567890123"]
    rej = r.rejected.iloc[0]
    assert (rej["source_row"], rej["column"], rej["rule"]) == (3, "订单状态", "unknown_status")
    assert rej["reason"] == "taobao/2026-10-01/orders.csv row 3, column 订单状态: unknown status '已冻结'"
    assert json.loads(rej["raw"])["订单状态"] == "已冻结" and "已冻结" in rej["raw"]
    assert (r.rows_read, r.blank_rows) == (3, 1) and _conserved(r)


def test_several_faults_in_one_row_are_one_rejection(sources, tmp_path: Path) -> None:
    """A row with several bad cells is rejected once, naming the first column and listing the rest."""
    path = _write(tmp_path, "taobao", "o.csv", TAOBAO_HEADER + "2.87006E+18,x,¥1.2.3,已冻结,昨天,杯\r\n")
    r = mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    assert len(r.rejected) == 1 and r.rejected["rule"].iloc[0] == "unparseable_id"
    reason = r.rejected["reason"].iloc[0]
    assert (
        "scientific notation" in reason
        and "column 买家实际支付金额" in reason
        and "column 订单创建时间" in reason
    )


def test_xlsx_numeric_long_ids_are_rejected_not_rounded(sources, tmp_path: Path) -> None:
    """Order ids stored as numbers in xlsx come back as floats: reject them, never land a rounded id."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "买家实际支付金额", "订单状态", "订单创建时间"])
    ws.append([2870061234567890123, 1299, "交易成功", "2026-09-30 09:00:00"])
    ws.append(["2870061234567890124", 1299.5, "交易成功", "2026-09-30 09:00:00"])
    path = tmp_path / "taobao" / LANDING / "orders.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    r = mk.read_export(path, sources["taobao"], landing_dir=tmp_path)
    assert r.rows[["order_id", "amount"]].values.tolist() == [["2870061234567890124", "1299.50"]]
    assert r.rejected["rule"].tolist() == ["unparseable_id"]
    assert "scientific notation" in r.rejected["reason"].iloc[0]


def test_extra_fields_beyond_header_are_rejected(sources, tmp_path: Path) -> None:
    """A row with more non-empty fields than the header is rejected; trailing empty fields are fine."""
    path = _write(
        tmp_path,
        "taobao",
        "o.csv",
        TAOBAO_HEADER + GOOD_ROW.replace("\r\n", ",,\r\n") + GOOD_ROW.replace("\r\n", ",oops\r\n"),
    )
    r = mk.read_export(path, sources["taobao"])
    assert len(r.rows) == 1 and r.rejected["rule"].tolist() == ["wrong_field_count"]


def test_title_line_above_header_is_skipped(sources, tmp_path: Path) -> None:
    """A title line above the header is skipped with a warning; rows are numbered from the header."""
    body = (
        "京东商家订单导出 2026-10-01\r\n"
        "订单号,下单时间,应付金额,订单状态\r\n"
        "\t300012345678,2026-09-30 10:00:00,¥9.90,完成\r\n"
    )
    r = mk.read_export(_write(tmp_path, "jd", "t.csv", body, "gb18030"), sources["jd"])
    assert r.header_line == 2 and r.rows["source_row"].tolist() == ["1"]
    assert r.rows[["order_id", "amount", "status"]].values.tolist() == [["300012345678", "9.90", "completed"]]
    assert r.warnings[0].startswith("skipped 1 line(s) above the header")


def test_unsupported_file_types(sources, tmp_path: Path) -> None:
    """Legacy .xls and unknown suffixes are file errors."""
    for name in ("orders.xls", "orders.json"):
        with pytest.raises(mk.ExportFileError, match=r"not supported|unsupported"):
            mk.read_export(_write(tmp_path, "jd", name, b"x"), sources["jd"])


# ---------------------------------------------------------------- sample renderer round trip

ORDERS_IN = pd.DataFrame(
    {
        "order_id": [
            "2870061234567890201",
            "2870061234567890202",
            "2870061234567890203",
            "2870061234567890204",
            "2870061234567890205",
            "2870061234567890206",
            "2870061234567890207",
            "2870061234567890208",
        ],
        "created_at": [
            "2026-09-30 09:05:03",
            "2026-09-30T10:00:00+08:00",
            "2026-09-30T02:30:00Z",
            "2026-09-29 23:59:59",
            "2026-09-28 00:00:00",
            "2026-09-28 12:00:00",
            "2026-09-27 08:00:01",
            "2026-09-27 09:00:00",
        ],
        "user": ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"],
        "product": ["保温杯", "水壶, 大号", "餐盒", "茶具", "碗", "筷", "盘", "勺"],
        "quantity": ["1", "2", "1", "3", "1", "1", "4", "1"],
        "amount": ["1299", "12.5", "0", "88.80", "1024.5", "5", "19.99", "100000"],
        "payment_method": ["alipay", "wechat", "card", "cod", "alipay", "wechat", "alipay", "card"],
        "status": [
            "completed",
            "paid",
            "shipped",
            "delivered",
            "pending_payment",
            "cancelled",
            "refunding",
            "closed",
        ],
        "channel": ["web"] * 8,
    },
    dtype=object,
)
FEEDBACK_IN = pd.DataFrame(
    {
        "feedback_id": ["51000001", "51000002", "51000003", "61000001", "61000002", "61000003"],
        "order_id": [
            "2870061234567890201",
            "2870061234567890202",
            "2870061234567890204",
            "2870061234567890201",
            "2870061234567890203",
            "2870061234567890203",
        ],
        "created_at": [
            "2026-10-01 09:00:00",
            "2026-10-01T01:00:00Z",
            "2026-10-01 10:00:00",
            "2026-10-01 11:00:00",
            "2026-10-01 12:00:00",
            "2026-10-01 13:00:00",
        ],
        "rating": [None, None, None, "5", "1", "3"],
        "issue_type": ["refund", "return", "return", "review", "review", "review"],
        "issue_description": ["不想要了", "坏了", "尺寸不对", "很好", "太差", None],
        "first_response_at": [
            "2026-10-01 09:30:00",
            None,
            "2026-10-01 10:05:00",
            None,
            "2026-10-01 12:30:00",
            None,
        ],
        "resolved_at": ["2026-10-02 09:00:00", None, "2026-10-02 10:00:00", None, None, None],
        "resolution": ["refunded", None, "rejected", None, None, None],
        "reopened": ["false"] * 6,
    },
    dtype=object,
)
REFUND_STATUS = {"51000001": "refunded", "51000002": "requested", "51000003": "refused"}


def _read_files(files: list[tuple[str, bytes]], platform: str, tmp_path: Path, srcs: dict) -> dict:
    """Read rendered files back, asserting nothing was rejected."""
    out = {}
    for name, data in files:
        r = mk.read_export(_write(tmp_path, platform, name, data), srcs[platform], landing_dir=tmp_path)
        assert r.rejected.empty, r.rejected["reason"].tolist()
        assert _conserved(r)
        out[r.subkind] = r
    return out


@pytest.mark.slow
@pytest.mark.parametrize("platform", PLATFORMS)
def test_sample_exports_round_trip(sources, tmp_path: Path, platform: str) -> None:
    """Render canonical frames as the platform's export, read them back: same canonical rows."""
    files = mk.marketplace_exports(ORDERS_IN, FEEDBACK_IN, platform, seed=7)
    src = sources[platform]
    assert all(name.endswith(".csv") and data for name, data in files)
    got = _read_files(files, platform, tmp_path / "a", sources)
    for kind, r in got.items():
        assert r.encoding == src.kinds[kind].export["encoding"]
    orders = got["orders"].rows
    assert orders["order_id"].tolist() == ORDERS_IN["order_id"].tolist()
    assert orders["created_at"].tolist() == [
        "2026-09-30 09:05:03",
        "2026-09-30 10:00:00",
        "2026-09-30 10:30:00",
        "2026-09-29 23:59:59",
        "2026-09-28 00:00:00",
        "2026-09-28 12:00:00",
        "2026-09-27 08:00:01",
        "2026-09-27 09:00:00",
    ]
    assert orders["amount"].tolist() == [
        "1299.00",
        "12.50",
        "0.00",
        "88.80",
        "1024.50",
        "5.00",
        "19.99",
        "100000.00",
    ]
    for col in ("user", "product", "quantity", "payment_method", "status"):
        assert orders[col].tolist() == ORDERS_IN[col].tolist(), col
    assert set(orders["channel"]) == {platform}

    refunds = got["refunds"].rows
    assert refunds["feedback_id"].tolist() == [
        f"{platform}-R-{i}" for i in ("51000001", "51000002", "51000003")
    ]
    assert refunds["order_id"].tolist() == FEEDBACK_IN["order_id"][:3].tolist()
    assert refunds["created_at"].tolist() == [
        "2026-10-01 09:00:00",
        "2026-10-01 09:00:00",
        "2026-10-01 10:00:00",
    ]
    assert refunds["issue_type"].tolist() == ["refund", "return", "return"]
    assert refunds["issue_description"].tolist() == ["不想要了", "坏了", "尺寸不对"]
    assert refunds["resolved_at"].tolist() == FEEDBACK_IN["resolved_at"][:3].tolist()
    assert refunds["first_response_at"].tolist() == FEEDBACK_IN["first_response_at"][:3].tolist()
    assert refunds["resolution"].tolist() == ["refunded", None, "rejected"]
    assert refunds["refund_status"].tolist() == list(REFUND_STATUS.values())
    assert refunds["refund_amount"].tolist() == ["1299.00", "12.50", "88.80"]
    if "reviews" in src.kinds:
        reviews = got["reviews"].rows
        assert reviews["feedback_id"].tolist() == [
            f"{platform}-V-{i}" for i in ("61000001", "61000002", "61000003")
        ]
        assert reviews["rating"].tolist() == ["5", "1", "3"]
        assert reviews["issue_description"].tolist() == ["很好", "太差", None]
        assert reviews["first_response_at"].tolist() == [None, "2026-10-01 12:30:00", None]
    else:
        assert "reviews" not in got

    # what was read renders back to exactly the same rows (a fixed point), whatever the seed
    again = mk.marketplace_exports(
        orders, pd.concat([g.rows for k, g in got.items() if k != "orders"]), platform, seed=99
    )
    second = _read_files(again, platform, tmp_path / "b", sources)
    for kind, first in got.items():
        a = first.rows.drop(columns=["source_row"]).reset_index(drop=True)
        b = second[kind].rows.drop(columns=["source_row"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.slow
def test_sample_is_deterministic_and_messy(sources) -> None:
    """Same seed, same bytes; exports carry =\"...\" ids, currency amounts, a blank line and a summary row."""
    a = mk.marketplace_exports(ORDERS_IN, FEEDBACK_IN, "taobao", seed=3)
    assert a == mk.marketplace_exports(ORDERS_IN, FEEDBACK_IN, "taobao", seed=3)
    text = a[0][1].decode("gb18030")
    assert a[0][0] == "ExportOrderList202609301030.csv"
    assert '="' in text and "¥" in text and "\r\n\r\n" not in text
    assert any(line.strip(",") == "" for line in text.splitlines())
    assert text.splitlines()[-1].startswith("合计")


@pytest.mark.slow
def test_sample_hashes_non_numeric_ids_consistently(sources, tmp_path: Path) -> None:
    """Own-site ids a marketplace could not have become stable digits; orders and refunds still join."""
    orders = ORDERS_IN.head(2).assign(order_id=["WEB-1", "WEB-2"])
    feedback = FEEDBACK_IN.head(1).assign(order_id=["WEB-1"], feedback_id=["FB-1"])
    got = _read_files(mk.marketplace_exports(orders, feedback, "jd", seed=1), "jd", tmp_path, sources)
    ids = got["orders"].rows["order_id"].tolist()
    assert all(i.isdigit() and len(i) == 19 for i in ids) and ids[0] != ids[1]
    assert got["refunds"].rows["order_id"].tolist() == ids[:1]
    assert got["refunds"].rows["refund_amount"].tolist() == ["1299.00"]
    again = _read_files(mk.marketplace_exports(orders, feedback, "jd", seed=2), "jd", tmp_path / "x", sources)
    assert again["orders"].rows["order_id"].tolist() == ids


# ---------------------------------------------------------------- documentation


def test_docs_header_tables_are_current() -> None:
    """docs/marketplaces.md lists exactly the headers and labels the mapping files accept."""
    text = doctables.DOC.read_text(encoding="utf-8")
    assert doctables.render(text) == text, "run `python -m after_sales.marketplaces.doctables`"


def test_docs_shopee_example_is_the_tested_one() -> None:
    """The 'adding a source' example in the docs is the mapping the end-to-end test uses."""
    text = (ROOT / "docs" / "marketplaces.md").read_text(encoding="utf-8")
    section = text.split("## Adding a source", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert yaml.safe_load(example) == yaml.safe_load(SHOPEE_YAML)
