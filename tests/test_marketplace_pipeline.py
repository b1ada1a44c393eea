"""Marketplace exports through the Dagster assets into a real DuckDB file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from after_sales.marketplaces import load_sources, read_export
from after_sales.resources.warehouse import Warehouse, open_warehouse
from tests.support.runs import run_range
from tests.test_marketplaces import SHOPEE_YAML

FIXTURES = Path(__file__).parent / "fixtures" / "marketplaces"
DAY = "2026-10-01"
# One encoding or format per platform, so each export lands once.
VARIANT = {
    "taobao": "_utf8bom.csv",
    "tmall": "_gb18030.csv",
    "jd": ".xlsx",
    "suning": "_utf8.csv",
    "yhd": "_gb18030.csv",
}


def land_fixtures(landing: Path) -> dict[str, list[Path]]:
    """Copy one variant of each platform's fixtures into the landing zone."""
    copied: dict[str, list[Path]] = {}
    for platform, suffix in VARIANT.items():
        target = landing / platform / DAY
        target.mkdir(parents=True)
        for path in sorted((FIXTURES / platform / DAY).iterdir()):
            if path.name.endswith(suffix):
                copied.setdefault(platform, []).append(Path(shutil.copy(path, target / path.name)))
    return copied


@pytest.mark.slow
def test_every_platform_lands_in_the_fact_and_nothing_is_lost(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    copied = land_fixtures(landing)
    staging = [f"stg_{p}_{k}" for p in VARIANT for k in ("orders", "feedback")]
    assert run_range(
        resources, "2026-09-28", DAY, [*staging, "stg_orders", "stg_feedback", "fct_order_feedback"]
    ).success
    sources = load_sources()
    for platform, files in copied.items():
        reads = [read_export(p, sources[platform], landing) for p in files]
        data_rows = {
            kind: sum(
                r.rows_read - r.dropped_summary_rows - r.blank_rows - r.merged_lines for r in reads if r.kind == kind
            )
            for kind in ("orders", "feedback")
        }
        for kind, expected in data_rows.items():
            table = f"stg_{platform}_{kind}"
            staged = len(warehouse.query(f"SELECT 1 FROM after_sales.{table}"))
            quarantined = len(warehouse.query(f"SELECT 1 FROM after_sales.quarantine WHERE staging_table = '{table}'"))
            assert staged + quarantined == expected, table
        lines = sum(len(r.items) for r in reads if r.items is not None)
        if lines:  # per-SKU order lines (JD) are kept line by line in the order-items side table
            n = warehouse.query(f"SELECT count(*) AS n FROM after_sales.stg_{platform}_order_items")["n"].iloc[0]
            assert int(n) == lines, platform
    channels = warehouse.query("SELECT DISTINCT channel FROM after_sales.fct_order_feedback")["channel"]
    assert set(VARIANT) <= set(channels)
    ids = warehouse.query("SELECT order_id FROM after_sales.stg_taobao_orders")["order_id"]
    assert ids.str.fullmatch(r"\d{16,19}").all()  # long ids stay exact text
    types = warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'after_sales' AND table_name = 'stg_jd_orders'"
    ).set_index("column_name")["data_type"]
    assert (types["order_id"], types["amount"], types["created_at"]) == (
        "VARCHAR",
        "DECIMAL(18,2)",
        "TIMESTAMP WITH TIME ZONE",
    )
    checks = warehouse.query("SELECT bool_and(passed) AS ok FROM after_sales.data_quality_runs")
    assert bool(checks["ok"].iloc[0])


@pytest.mark.slow
def test_a_new_source_is_a_mapping_file_and_a_folder(tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    (mappings / "shopee.yaml").write_text(SHOPEE_YAML, encoding="utf-8")
    folder = tmp_path / "landing" / "shopee" / DAY
    folder.mkdir(parents=True)
    (folder / "Order.all.20261001.csv").write_text(
        "Order ID,Order Status,Order Creation Date,Username (Buyer),Product Name,Quantity,Grand Total,"
        "Payment Method,Tracking Number\n"
        '2310150ABCDEF1,Completed,2026-09-30 10:15,amy_sg,Water Bottle,2,"S$1,024.50",ShopeePay,SPX1\n'
        "2310150ABCDEF2,To ship,30/09/2026 11:00,ben_sg,Lunch Box,1,$12.00,Cash on Delivery,\n"
        "2310150ABCDEF4,Lost,2026-09-30 12:00,dan_sg,Cup,1,8.00,ShopeePay,\n",
        encoding="utf-8",
    )
    (folder / "Return.20261001.csv").write_text(
        "Return ID,Order ID,Request Time,Refund Amount,Return Status,Reason,Buyer Remarks,Completed Time\n"
        "RR00000001,2310150ABCDEF1,2026-09-30 12:00,S$10.00,Refund Paid,Damaged item,Dented,2026-10-01 09:00\n",
        encoding="utf-8",
    )
    (tmp_path / "dagster_home").mkdir()
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    env = {
        **os.environ,
        "AFTER_SALES_SOURCES_DIRS": str(mappings),
        "AFTER_SALES_LANDING_DIR": str(tmp_path / "landing"),
        "AFTER_SALES_WAREHOUSE_URL": url,
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "after_sales.definitions",
            "--select",
            "stg_shopee_orders,stg_shopee_feedback,fct_order_feedback,problem_orders",
            "--partition-range",
            f"2026-09-30...{DAY}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    wh = open_warehouse(url, "after_sales", "Asia/Shanghai")
    fact = wh.query(
        "SELECT order_id, channel, amount, feedback_id, is_problem FROM after_sales.fct_order_feedback ORDER BY 1"
    )
    assert fact["order_id"].tolist() == ["2310150ABCDEF1", "2310150ABCDEF2"]
    assert set(fact["channel"]) == {"shopee"}
    assert [str(a) for a in fact["amount"]] == ["1024.50", "12.00"]
    assert fact["feedback_id"].iloc[0] == "shopee-R-RR00000001" and fact["feedback_id"].isna().iloc[1]
    assert fact["is_problem"].tolist() == [True, False]
    q = wh.query("SELECT staging_table, source_row, rule, reason FROM after_sales.quarantine")
    assert q[["staging_table", "source_row", "rule"]].values.tolist() == [["stg_shopee_orders", 3, "unknown_status"]]
    assert "shopee/2026-10-01/Order.all.20261001.csv row 3, column Order Status" in q["reason"].iloc[0]
    causes = wh.query("SELECT order_id, cause FROM after_sales.problem_orders")
    assert causes.values.tolist() == [["2310150ABCDEF1", "quality"]]


@pytest.mark.slow
def test_a_file_of_no_kind_is_reported_and_skipped(
    resources: dict[str, object], landing: Path, warehouse: Warehouse
) -> None:
    """A payments file among a source's exports matches no kind: it is skipped with a warning, the rest stages."""
    folder = landing / "taobao" / DAY
    folder.mkdir(parents=True)
    (folder / "orders.csv").write_text(
        "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间\n"
        "2870061234567890123,tb_a,1.00,交易成功,2026-10-01 09:00:00\n",
        encoding="utf-8",
    )
    (folder / "payments.csv").write_text("支付流水号,金额\n2024,1.00\n", encoding="utf-8")
    result = run_range(resources, DAY, DAY, ["stg_taobao_orders", "stg_taobao_feedback"])
    assert result.success
    assert len(warehouse.query("SELECT 1 FROM after_sales.stg_taobao_orders")) == 1
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "stg_taobao_orders"
    ]
    skipped = event.materialization.metadata["skipped_files"].value
    assert len(skipped) == 1 and skipped[0].startswith("taobao/2026-10-01/payments.csv: no header row")
