"""The `after-sales` command line: check-file (a dry run) and history (an export of any age, one command)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from after_sales.cli import main
from after_sales.resources.warehouse import open_warehouse

HEADER = "订单编号,退款编号,买家退款金额,退款状态,{created},买家退款原因,奇怪列\r\n"
ROWS = (
    "2870061234567890125,142857000123456789,398.00,退款成功,2026-09-30 12:00:00,不想要了,x\r\n"
    "2870061234567890126,142857000123456780,-5,退款成功,2026-09-30 12:00:00,,y\r\n"
    "2870061234567890127,142857000123456781,5.00,退款成功,2026-08-30 12:00:00,,y\r\n"
)


def _files(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_check_file_names_near_misses_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A near-miss header is named with the synonym it resembles; the file would be refused; nothing written."""
    path = tmp_path / "taobao" / "2026-10-01" / "退款导出.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((HEADER.format(created="退款发起时间") + ROWS).encode("gb18030"))
    before = _files(tmp_path)
    assert main(["check-file", str(path), "--source", "taobao"]) == 1
    out = capsys.readouterr().out
    assert "  订单编号 -> order_id" in out and "  买家退款原因 -> refund_reason" in out
    assert "退款发起时间 -> UNKNOWN column, ignored; did you mean '退款申请时间' (-> created_at)?" in out
    assert "奇怪列 -> UNKNOWN column, ignored\n" in out
    assert "did you mean the landed column '退款发起时间'?" in out
    assert "REFUSED:" in out and "required column missing" in out
    assert _files(tmp_path) == before


@pytest.mark.slow
def test_check_file_reports_staged_and_quarantined_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A readable file: what would be staged, what quarantined with rule and reason; still nothing written."""
    path = tmp_path / "taobao" / "2026-10-01" / "退款导出.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes((HEADER.format(created="退款的申请时间") + ROWS).encode("utf-8-sig"))
    before = _files(tmp_path)
    assert main(["check-file", str(path), "--source", "taobao"]) == 0
    out = capsys.readouterr().out
    assert "  退款的申请时间 -> created_at" in out
    assert "landing date 2026-10-01; 3 data row(s)" in out
    assert "refunds (refunds): 1 row(s) would be staged into stg_taobao_feedback, 2 quarantined" in out
    assert "  too_late: 1" in out and "  unparseable_amount: 1" in out
    assert "row 2, column 买家退款金额: negative amount '-5'" in out
    assert "warning: ignored 1 column(s) not in the taobao mapping: 奇怪列" in out
    assert out.rstrip().endswith("nothing was written")
    assert _files(tmp_path) == before


@pytest.mark.slow
def test_check_file_shows_the_second_kind_of_an_order_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An order report read as orders and refunds: both are reported."""
    path = tmp_path / "tmall_order_report.csv"
    path.write_text(
        "订单编号,总金额,买家实际支付金额,收货地址,订单创建时间,订单付款时间,退款金额\n"
        "1,178.8,0,上海,2020/2/21 0:00,,0\n5,64.8,0,江苏省,2020/2/20 23:57,2020/2/20 23:57,64.8\n",
        encoding="utf-8",
    )
    assert main(["check-file", str(path), "--source", "tmall", "--landing-date", "2020-02-21"]) == 0
    out = capsys.readouterr().out
    assert "kind: order_report (orders) + order_report_refunds" in out
    assert "order_report (orders): 2 row(s) would be staged" in out
    assert "order_report_refunds (refunds): 1 row(s) would be staged into stg_tmall_feedback" in out


@pytest.mark.slow
def test_history_loads_a_month_old_export_into_its_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """One command lands a 40-day-old export on its business dates and backfills them; every row is accounted for."""
    today = dt.date.today()
    days = [today - dt.timedelta(days=42 + i) for i in range(3)]
    lines = ["订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,宝贝标题,宝贝总数量"]
    n = 0
    for k, day in enumerate(days):
        for j in range(k + 2):
            n += 1
            lines.append(f'="28700612345678{n:05d}",tb_{n},"¥1,{n:03d}.00",交易成功,{day} 1{j}:00:00,杯子,1')
    lines.append('="2870061234567899999",tb_x,9.00,交易成功,not a date,杯子,1')  # quarantined, not lost
    export = tmp_path / "ExportOrderList_old.csv"
    export.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    landing, url = tmp_path / "landing", f"duckdb:///{tmp_path / 'wh.duckdb'}"
    (tmp_path / "home").mkdir()
    for key, value in {
        "AFTER_SALES_LANDING_DIR": str(landing),
        "AFTER_SALES_WAREHOUSE_URL": url,
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "AFTER_SALES_START_DATE": (today - dt.timedelta(days=60)).isoformat(),
        "DAGSTER_HOME": str(tmp_path / "home"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AFTER_SALES_LATE_ARRIVAL_DAYS", raising=False)

    select = "stg_taobao_orders,stg_taobao_feedback,fct_order_feedback"  # the default is everything downstream
    assert main(["history", str(export), "--source", "taobao", "--select", select]) == 0
    out = capsys.readouterr().out
    first, last = min(days), max(days)
    assert f"10 row(s) over 3 business day(s), {first} .. {last}" in out
    assert f"  {first}: 5 row(s)" in out  # 4 orders of that day + the undated row
    assert f"--partition-range {first}...{last}" in out and "backfilled" in out
    for day in days:
        assert (landing / "taobao" / day.isoformat() / "history_ExportOrderList_old.csv").is_file()

    wh = open_warehouse(url, "after_sales", "Asia/Shanghai")
    staged = wh.query("SELECT landing_date, business_date, order_id FROM after_sales.stg_taobao_orders")
    quarantined = wh.query("SELECT rule, source_row FROM after_sales.quarantine WHERE source = 'taobao'")
    assert len(staged) + len(quarantined) == 10
    assert quarantined["rule"].tolist() == ["unparseable_date"]
    assert (staged["landing_date"] == staged["business_date"]).all()
    fact = wh.query("SELECT count(DISTINCT order_id) AS n FROM after_sales.fct_order_feedback WHERE channel = 'taobao'")
    assert int(fact["n"].iloc[0]) == 9


def test_check_file_of_an_items_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 宝贝报表 is recognised as items: its lines would go to the order-items table."""
    path = tmp_path / "ExportOrderDetailList.csv"
    path.write_text(
        "订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码\n"
        '="2870061234567890123",保温杯,599.00,1,,颜色:白,,,交易成功,CUP-W\n'
        '="2870061234567890123",保温杯,355.00,2,,颜色:黑,,,交易成功,CUP-B\n',
        encoding="gb18030",
    )
    assert main(["check-file", str(path), "--source", "taobao", "--landing-date", "2026-10-01"]) == 0
    out = capsys.readouterr().out
    assert "kind: items (items)" in out and "  价格 -> unit_price" in out
    assert "items (items): 2 line(s) would be written to stg_taobao_order_items, 0 rejected" in out


@pytest.mark.slow
def test_sample_generator_never_deletes_what_it_did_not_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Re-runs replace the generator's own marketplace exports; a foreign file stops it, and is never deleted."""
    from after_sales.sample.__main__ import main as sample

    args = ["--days", "2", "--orders-per-day", "8", "--end-date", "2026-10-02", "--landing-dir", str(tmp_path)]
    assert sample([*args, "--marketplaces", "jd"]) == 0
    first = _files(tmp_path)
    out = capsys.readouterr().out
    written = [line.strip() for line in out.splitlines() if line.startswith("  jd/")]
    assert written and all(w in first for w in written)
    assert f"wrote {len(first) - 1} files" in out  # every file but the manifest itself
    assert sample([*args, "--marketplaces", "jd"]) == 0
    assert _files(tmp_path) == first

    mine = tmp_path / "jd" / "2026-10-02" / "订单导出_real.csv"
    mine.write_text("订单号\n1\n", encoding="utf-8")
    assert sample([*args, "--marketplaces", "jd"]) == 2
    assert "refusing to write: 1 file(s)" in capsys.readouterr().err
    assert _files(tmp_path) == {**first, "jd/2026-10-02/订单导出_real.csv": mine.read_bytes()}
    assert sample([*args, "--marketplaces", "jd", "--allow-foreign"]) == 0
    assert mine.read_text(encoding="utf-8") == "订单号\n1\n"


@pytest.mark.slow
def test_history_of_an_xlsx_report_lands_csv_per_day_without_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--no-materialize only lands the rows: an xlsx order report becomes one csv per business date."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["订单编号", "总金额", "买家实际支付金额", "收货地址", "订单创建时间", "订单付款时间", "退款金额"])
    ws.append(["1", "178.8", "0", "上海", "2020/2/21 0:00", "", "0"])
    ws.append(["2", "21", "21", "内蒙古自治区", "2020/2/20 23:59", "2020/2/21 0:00", "0"])
    ws.append(["5", "64.8", "0", "江苏省", "2020/2/20 23:57", "2020/2/20 23:57", "64.8"])
    ws.append(["6", "327.7", "148.9", "浙江省", "2020/2/20 23:56", "2020/2/21 0:05", "178.8"])
    path = tmp_path / "tmall_order_report.xlsx"
    wb.save(path)
    landing = tmp_path / "landing"
    args = ["history", str(path), "--source", "tmall", "--landing-dir", str(landing), "--no-materialize"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "4 row(s) over 2 business day(s), 2020-02-20 .. 2020-02-21" in out
    assert "(not run: --no-materialize)" in out
    # order 6 was placed on the 20th but paid (hence refunded) on the 21st: the row lands on the later day
    day20 = (landing / "tmall" / "2020-02-20" / "history_tmall_order_report.csv").read_text(encoding="utf-8-sig")
    day21 = (landing / "tmall" / "2020-02-21" / "history_tmall_order_report.csv").read_text(encoding="utf-8-sig")
    assert day20.splitlines()[0].startswith("订单编号,总金额")
    assert [r[:2] for r in day20.splitlines()[1:]] == ["2,", "5,"]
    assert [r[:2] for r in day21.splitlines()[1:]] == ["1,", "6,"]
