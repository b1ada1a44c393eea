"""Documented state-label lists (Taobao/Tmall, JD, 1号店) read through the mappings and staged, in every encoding.

The labels come from the platforms' API documentation as quoted in public code (cited in the mapping files and
`docs/marketplaces.md`); the expected canonical values below are written by hand, one per documented label.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import pytest

import after_sales.marketplaces as mk
from after_sales.assets.marketplaces import stage_export
from after_sales.transforms.staging import StagingContext

ROOT = Path(__file__).resolve().parents[1]
if "documented" not in sys.modules:
    _spec = importlib.util.spec_from_file_location(
        "documented", ROOT / "tests" / "fixtures" / "marketplaces" / "documented.py"
    )
    sys.modules["documented"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["documented"])
documented = sys.modules["documented"]
LABEL_EXPORTS = documented.label_exports()
DAY = "2026-10-01"

# [S1] Taobao/Tmall refund states, description and code.
REFUND_STATES = {
    "买家已经申请退款，等待卖家同意": "requested",
    "WAIT_SELLER_AGREE": "requested",
    "卖家已经同意退款，等待买家退货": "awaiting_return",
    "WAIT_BUYER_RETURN_GOODS": "awaiting_return",
    "买家已经退货，等待卖家确认收货": "return_received",
    "WAIT_SELLER_CONFIRM_GOODS": "return_received",
    "卖家拒绝退款": "refused",
    "SELLER_REFUSE_BUYER": "refused",
    "退款关闭": "closed",
    "CLOSED": "closed",
    "退款成功": "refunded",
    "SUCCESS": "refunded",
}
# [S3] Taobao/Tmall trade states.
TRADE_STATES = {
    "TRADE_NO_CREATE_PAY": "pending_payment",
    "WAIT_BUYER_PAY": "pending_payment",
    "SELLER_CONSIGNED_PART": "shipped",
    "WAIT_SELLER_SEND_GOODS": "paid",
    "WAIT_BUYER_CONFIRM_GOODS": "shipped",
    "TRADE_BUYER_SIGNED": "delivered",
    "TRADE_FINISHED": "completed",
    "TRADE_CLOSED": "closed",
    "TRADE_CLOSED_BY_TAOBAO": "cancelled",
    "PAY_PENDING": "pending_payment",
    "WAIT_PRE_AUTH_CONFIRM": "pending_payment",
    "PAID_FORBID_CONSIGN": "paid",
    "没有创建支付宝交易": "pending_payment",
    "国际信用卡支付付款确认中": "pending_payment",
    "0元购合约中": "pending_payment",
}
# [S4] rate results.
RATE_RESULTS = {"good": "5", "neutral": "3", "bad": "1", "好评": "5", "中评": "3", "差评": "1"}
# [J2] JD service states (with 服务类型 退货).
JD_STATES = {
    "待审核": "requested",
    "待客户反馈": "requested",
    "客户已反馈": "requested",
    "已收货，待处理": "return_received",
    "原返取消，待处理": "return_received",
    "换新取消，待处理": "return_received",
    "线下换新取消，待处理": "return_received",
    "商家催收": "awaiting_return",
    "待收货": "return_received",
    "审核关闭": "refused",
    "取消": "closed",
    "完成": "refunded",
}
# [J3] JD VOP service steps (with 服务类型 退货).
JD_STEPS = {
    "申请阶段": "requested",
    "审核不通过": "refused",
    "客服审核": "requested",
    "商家审核": "requested",
    "京东收货": "return_received",
    "商家收货": "return_received",
    "京东处理": "return_received",
    "商家处理": "return_received",
    "用户确认": "return_received",
    "完成": "refunded",
    "取消": "closed",
}
# [Y1] 1号店 order states, description and code.
YHD_ORDER_STATES = {
    "已下单（货款未全收）": "pending_payment",
    "ORDER_WAIT_PAY": "pending_payment",
    "已下单（货款已收）": "paid",
    "ORDER_PAYED": "paid",
    "可以发货（已送仓库）": "paid",
    "ORDER_WAIT_SEND": "paid",
    "已出库（货在途）": "shipped",
    "ORDER_ON_SENDING": "shipped",
    "货物用户已收到": "delivered",
    "ORDER_RECEIVED": "delivered",
    "订单完成": "completed",
    "ORDER_FINISH": "completed",
    "订单取消": "cancelled",
    "ORDER_CANCEL": "cancelled",
}
# [Y2] 1号店 returns states (with 退换货类型 退货).
YHD_REFUND_STATES = {
    "待审核": "requested",
    "待退货": "awaiting_return",
    "审批通过": "awaiting_return",
    "待顾客寄回": "awaiting_return",
    "待确认退款或确认换货": "return_received",
    "待完成换货": "return_received",
    "退换货完成": "refunded",
    "已关闭": "closed",
    "客服仲裁": "requested",
    "退款完成": "refunded",
}
EXPECTED = {
    "refund_states": ("refund_status", REFUND_STATES),
    "trade_states": ("status", TRADE_STATES),
    "rate_results": ("rating", RATE_RESULTS),
    "service_states": ("refund_status", JD_STATES),
    "service_steps": ("refund_status", JD_STEPS),
    "order_states": ("status", YHD_ORDER_STATES),
}
STATUS_COLUMN = {
    ("taobao", "refund_states"): "退款状态",
    ("tmall", "refund_states"): "退款状态",
    ("taobao", "trade_states"): "订单状态",
    ("tmall", "trade_states"): "订单状态",
    ("taobao", "rate_results"): "评价",
    ("tmall", "rate_results"): "评价",
    ("jd", "service_states"): "服务单状态",
    ("jd", "service_steps"): "服务单状态",
    ("yhd", "order_states"): "订单状态",
    ("yhd", "refund_states"): "退换货状态",
}


@pytest.fixture(scope="module")
def sources() -> dict[str, mk.SourceConfig]:
    """The built-in mapping files."""
    return mk.load_sources()


def _expected(export) -> tuple[str, dict[str, str]]:
    """The canonical field and the hand-written label table of one export."""
    if (export.platform, export.name) == ("yhd", "refund_states"):
        return "refund_status", YHD_REFUND_STATES
    return EXPECTED[export.name]


def _read(export, sources, tmp_path: Path, form: str) -> mk.ExportRead:
    """Write the export in one form under its landing day and read it with its platform's mapping."""
    path = documented.write(export, tmp_path / export.platform / DAY, form)
    return mk.read_export(path, sources[export.platform], landing_dir=tmp_path)


def test_every_documented_label_has_an_expectation() -> None:
    """The fixtures carry exactly the documented labels the tables above expect (none skipped, none invented)."""
    for export in LABEL_EXPORTS:
        _, table = _expected(export)
        column = STATUS_COLUMN[(export.platform, export.name)]
        assert {r[column] for r in export.rows} == set(table), (export.platform, export.name)
    assert {d for _, d in documented.TAOBAO_REFUND_STATES} | {c for c, _ in documented.TAOBAO_REFUND_STATES} == set(
        REFUND_STATES
    )
    assert set(documented.JD_SERVICE_STATES) == set(JD_STATES) and len(JD_STATES) == 12
    assert set(documented.JD_SERVICE_STEPS) == set(JD_STEPS) and len(JD_STEPS) == 11
    assert set(documented.YHD_REFUND_STATES) == set(YHD_REFUND_STATES)


@pytest.mark.parametrize("form", sorted(documented.ENCODINGS))
@pytest.mark.parametrize("export", LABEL_EXPORTS, ids=lambda e: f"{e.platform}-{e.name}")
def test_documented_labels_map_in_every_encoding(sources, tmp_path: Path, export, form: str) -> None:
    """Every label maps to its canonical value; no row rejected, no unknown column; raw label kept."""
    r = _read(export, sources, tmp_path, form)
    assert r.kind_name == export.kind
    assert r.rejected.empty, r.rejected.to_dict("records")
    assert not [w for w in r.warnings if "not in the" in w], r.warnings
    assert len(r.rows) == len(export.rows)
    if form != "xlsx":
        assert r.encoding == documented.ENCODINGS[form]
    field, table = _expected(export)
    column = STATUS_COLUMN[(export.platform, export.name)]
    landed = [row[column] for row in export.rows]
    exchange = [row.get("服务类型") == "换货" or row.get("退换货类型") == "换货" for row in export.rows]
    got = r.rows[field].tolist()
    for label, value, is_exchange in zip(landed, got, exchange, strict=True):
        assert value == ("closed" if is_exchange else table[label]), label
    if f"{field}_raw" in r.rows:
        assert r.rows[f"{field}_raw"].tolist() == landed


@pytest.mark.parametrize("platform", ["taobao", "tmall"])
def test_taobao_cs_status_labels_are_disputes(sources, tmp_path: Path, platform: str) -> None:
    """[S2] every 客服介入状态 label but 不需客服介入 makes the refund a dispute; the others stay refunds."""
    export = next(e for e in LABEL_EXPORTS if (e.platform, e.name) == (platform, "refund_states"))
    r = _read(export, sources, tmp_path, "gb18030.csv")
    cs = [row["客服介入状态"] for row in export.rows]
    assert set(cs) == set(documented.TAOBAO_CS_STATUS)
    assert r.rows["issue_type"].tolist() == ["refund" if c == "不需客服介入" else "dispute" for c in cs]
    refunded = r.rows[r.rows["refund_status"] == "refunded"]
    refused = r.rows[r.rows["refund_status"] == "refused"]
    assert set(refunded["resolution"]) == {"refunded"} and set(refused["resolution"]) == {"rejected"}
    assert r.rows["resolution"].isna().sum() == len(r.rows) - len(refunded) - len(refused)


def test_exchanges_completed_are_replaced_not_refunded(sources, tmp_path: Path) -> None:
    """JD 完成 and 1号店 退换货完成 of an exchange (换货): closed, resolution replaced; of a return: refunded."""
    for platform, name in [("jd", "service_states"), ("yhd", "refund_states")]:
        export = next(e for e in LABEL_EXPORTS if (e.platform, e.name) == (platform, name))
        r = _read(export, sources, tmp_path, "utf8bom.csv")
        done = "完成" if platform == "jd" else "退换货完成"
        rows = r.rows[r.rows["refund_status_raw"] == done]
        assert rows[["refund_status", "resolution"]].values.tolist() == [
            ["refunded", "refunded"],
            ["closed", "replaced"],
        ]


@pytest.mark.parametrize("form", sorted(documented.ENCODINGS))
@pytest.mark.parametrize("export", LABEL_EXPORTS, ids=lambda e: f"{e.platform}-{e.name}")
def test_documented_labels_stage_conserved(sources, tmp_path: Path, export, form: str) -> None:
    """Staged through the reader: every row staged (none quarantined), ids, times and amounts as landed."""
    r = _read(export, sources, tmp_path, form)
    staged = stage_export(r, export.platform, dt.date(2026, 10, 1), StagingContext("Asia/Shanghai", 7))
    assert staged.balanced and staged.quarantined.empty, staged.quarantined.to_dict("records")
    assert len(staged.rows) == len(export.rows)
    first = export.rows[0]
    row = staged.rows.iloc[0]
    id_column = next(c for c in ("订单编号", "订单号", "订单编码") if c in first)
    assert row["order_id"] == first[id_column].strip('\t="')
    time_column = next(c for c in ("退款的申请时间", "订单创建时间", "评价时间", "申请时间", "下单时间") if c in first)
    local = row["created_at"].tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M:%S")
    assert local == first[time_column]
    if export.kind == "orders":
        amount = next(first[c] for c in ("买家实际支付金额", "订单金额") if c in first)
        assert str(row["amount"]) == amount.lstrip("¥")
    elif export.kind == "refunds":
        amount = next(first[c] for c in ("买家退款金额", "退款金额") if c in first)
        assert str(row["refund_amount"]) == amount
