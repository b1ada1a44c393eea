"""Order keys per order scope: order `1` of the own site, of Tmall and of JD are three orders everywhere.

The own site (every own channel and the own helpdesk, whose feedback has no channel) is one order-id namespace,
each marketplace channel another. The marketplace files below use the platforms' export headers as the
built-in mappings document them (tmall.yaml [T1] 订单报表 and [R1] 退款管理; jd.yaml 订单导出 and 服务单导出).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from after_sales.resources.postgres_warehouse import PostgresWarehouse
from after_sales.resources.warehouse import open_warehouse, quote_ident
from after_sales.tables import FCT_ORDER_FEEDBACK, PROBLEM_ORDERS
from after_sales.transforms.marts import build_order_feedback, build_problem_orders, build_work_orders, work_order_id
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from tests.support.landing import FEEDBACK_HEADER, ORDERS_HEADER, write_landing

DAY = "2026-10-01"
TZ = "Asia/Shanghai"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=5"
SKIP_PG_ENV = "AFTER_SALES_SKIP_POSTGRES"

# A second Tmall source (a refund export landed in its own folder) and JD with small order ids: both extend the
# built-in mappings with one key.
MAPPINGS = {
    "tmall_refunds.yaml": "extend: tmall\nids: {pattern: '\\d{1,25}'}\n",
    "jd.yaml": "extend: jd\nids: {pattern: '\\d{1,25}'}\n",
}


def land(landing: Path) -> None:
    """Order `1` on the own site, on Tmall (order report) and on JD, each with one problem feedback."""
    write_landing(landing, "orders", DAY, ["1,2026-10-01 09:00:00,U1,保温杯,1,59.90,alipay,completed,web"],
                  ORDERS_HEADER)
    write_landing(
        landing,
        "feedback",
        DAY,
        ["F1,1,2026-10-01 12:00:00,1,complaint,物流一直不更新，没收到货,2026-10-01 12:30:00,,,false"],
        FEEDBACK_HEADER,
    )
    write_landing(
        landing,
        "tmall",
        DAY,
        ["1,199.00,199.00,上海市浦东新区,2026-10-01 09:30:00,2026-10-01 09:31:00,0.00"],
        "订单编号,总金额,买家实际支付金额,收货地址,订单创建时间,订单付款时间,退款金额",
        "tmall_order_report.csv",
    )
    write_landing(
        landing,
        "tmall_refunds",
        DAY,
        ["98765432109876501,1,电热水壶,¥199.00,SUCCESS,仅退款,未收到货,,2026-10-01 12:00:00,2026-10-01 12:05:00,"
         "2026-10-01 18:00:00,"],
        "退款编号,订单编号,商品标题,退款金额,退款状态,售后类型,退款原因,退款说明,退款申请时间,卖家首次响应时间,"
        "退款完结时间,小二介入状态",
        "售后退款导出.csv",
    )
    write_landing(
        landing,
        "jd",
        DAY,
        ["1,100023456789,京造 双肩包,1,在线支付,2026-10-01 10:00:00,¥159.00,¥159.00,¥149.00,完成,普通订单,jd_lucy,刘*"],
        "订单号,商品ID,商品名称,订购数量,支付方式,下单时间,京东价,订单金额,应付金额,订单状态,订单类型,下单帐号,客户姓名",
        "订单导出_20261001.csv",
    )
    write_landing(
        landing,
        "jd",
        DAY,
        ["1500001,1,京造 双肩包,退货,完成,2026-10-01 12:00:00,拉链坏了,2026-10-01 13:00:00,2026-10-01 16:00:00,"
         "¥149.00"],
        "服务单号,订单号,商品名称,服务类型,服务单状态,申请时间,问题描述,审核时间,处理完成时间,退款金额",
        "服务单导出_20261001.csv",
    )


# Runs the daily job in one process (tests.support.runs.run_range) in a fresh interpreter: the mapping folder
# is read when the definitions are imported, so it must be set before that.
RUNNER = """
import sys
from after_sales.resources import ExportDirectory, LandingZone, WarehouseResource
from after_sales.settings import load_settings
from tests.support.runs import run_range

settings = load_settings()
warehouse = WarehouseResource(url=settings.warehouse_url, schema_name="after_sales", timezone=sys.argv[2])
resources = {
    "warehouse": warehouse,
    "landing": LandingZone(base_dir=str(settings.landing_dir)),
    "exports": ExportDirectory(base_dir=str(settings.export_dir)),
}
result = run_range(resources, sys.argv[1], sys.argv[1], sys.argv[3:])
failed = [e.message for e in result.all_events if e.is_failure]
sys.exit("\\n".join(failed) if not result.success else 0)
"""


def materialize(tmp_path: Path, url: str, selection: list[str]) -> None:
    """The daily job over the day for the selected assets, with the test mappings and landing folder."""
    env = {
        **os.environ,
        "AFTER_SALES_SOURCES_DIRS": str(tmp_path / "mappings"),
        "AFTER_SALES_LANDING_DIR": str(tmp_path / "landing"),
        "AFTER_SALES_WAREHOUSE_URL": url,
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, DAY, TZ, *selection],
        env=env, capture_output=True, text=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:
        if os.environ.get(SKIP_PG_ENV) == "1":
            pytest.skip(f"PostgreSQL not reachable and {SKIP_PG_ENV}=1: {exc}")
        raise
    name = f"after_sales_keys_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE DATABASE {quote_ident(name)}")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["duckdb", "postgresql"])
def test_order_one_of_three_shop_systems_stays_three_orders(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}" if backend == "duckdb" else request.getfixturevalue("pg_url")
    (tmp_path / "mappings").mkdir()
    for name, text in MAPPINGS.items():
        (tmp_path / "mappings" / name).write_text(text, encoding="utf-8")
    (tmp_path / "dagster_home").mkdir()
    land(tmp_path / "landing")
    # The Tmall orders are staged first: a refund of the tmall_refunds source finds them in the warehouse.
    materialize(tmp_path, url, ["stg_tmall_orders", "stg_tmall_feedback"])
    staging = [f"stg_{s}_{k}" for s in ("jd", "tmall_refunds") for k in ("orders", "feedback")]
    marts = ["fct_order_feedback", "problem_orders", "work_orders", "work_orders_csv"]
    materialize(
        tmp_path,
        url,
        ["stg_orders", "stg_feedback", *staging, *marts, "metrics_daily", "metrics_daily_by_channel", "bi_views"],
    )
    wh = open_warehouse(url, "after_sales", TZ)
    s = "after_sales"
    assert wh.query(f"SELECT count(*) AS n FROM {s}.quarantine")["n"].iloc[0] == 0

    fact = wh.query(
        f"SELECT order_scope, order_id, channel, feedback_id, is_problem FROM {s}.fct_order_feedback ORDER BY 1"
    )
    assert fact.values.tolist() == [
        ["jd", "1", "jd", "jd-R-1500001", True],
        ["own", "1", "web", "F1", True],
        ["tmall", "1", "tmall", "tmall_refunds-R-98765432109876501", True],
    ]
    # The refund came from the second Tmall source and matched the order of the Tmall order report.
    refund = wh.query(f"SELECT feedback_id FROM {s}.stg_tmall_refunds_feedback")["feedback_id"].tolist()
    assert refund == ["tmall_refunds-R-98765432109876501"]

    problems = wh.query(f"SELECT order_scope, order_id, feedback_id FROM {s}.problem_orders ORDER BY 1")
    assert problems.values.tolist() == [
        ["jd", "1", "jd-R-1500001"],
        ["own", "1", "F1"],
        ["tmall", "1", "tmall_refunds-R-98765432109876501"],
    ]

    work = wh.query(f"SELECT work_order_id, order_scope, order_id, cause FROM {s}.work_orders ORDER BY 2, 4")
    assert sorted(set(work["order_scope"])) == ["jd", "own", "tmall"]
    assert work["work_order_id"].is_unique
    for row in work.itertuples():
        assert row.work_order_id == work_order_id("1", row.cause, row.order_scope)
    # Own-site ids are the ones they always were: a hash of order id and cause alone.
    own = work.loc[work["order_scope"] == "own"]
    assert own["work_order_id"].tolist() == [work_order_id("1", c) for c in own["cause"]]
    links = wh.query(
        f"SELECT w.order_scope, l.order_scope AS link_scope, l.feedback_id FROM {s}.work_order_feedback l "
        f"JOIN {s}.work_orders w USING (work_order_id)"
    )
    assert (links["order_scope"] == links["link_scope"]).all()
    assert dict(links.drop_duplicates("order_scope")[["order_scope", "feedback_id"]].values.tolist()) == {
        "jd": "jd-R-1500001",
        "own": "F1",
        "tmall": "tmall_refunds-R-98765432109876501",
    }

    daily = wh.query(f"SELECT orders, orders_with_feedback, problem_orders FROM {s}.metrics_daily")
    assert daily.values.tolist() == [[3, 3, 3]]
    by_channel = wh.query(f"SELECT channel, orders, problem_orders FROM {s}.metrics_daily_by_channel ORDER BY 1")
    assert by_channel.values.tolist() == [["jd", 1, 1], ["tmall", 1, 1], ["web", 1, 1]]

    # The helpdesk CSV: one row per work order, each with its order scope, and the same ids.
    text = (tmp_path / "exports" / "work_orders" / f"work_orders_{DAY}.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted((r["order_scope"], r["order_id"], r["work_order_id"]) for r in rows) == sorted(
        (r.order_scope, r.order_id, r.work_order_id) for r in work.itertuples()
    )

    # BI views keep them apart, and a feedback joins its work order on order scope and feedback id.
    bi = wh.query(f"SELECT order_scope, order_id, feedback_id FROM {s}.bi_order_feedback ORDER BY 1")
    assert bi.values.tolist() == fact[["order_scope", "order_id", "feedback_id"]].values.tolist()
    joined = wh.query(
        f"SELECT p.order_scope, count(DISTINCT l.work_order_id) AS n FROM {s}.bi_problem_orders p "
        f"JOIN {s}.bi_work_order_feedback l ON l.order_scope = p.order_scope AND l.feedback_id = p.feedback_id "
        "GROUP BY 1 ORDER BY 1"
    )
    assert joined["order_scope"].tolist() == ["jd", "own", "tmall"]
    assert joined["n"].tolist() == [int((work["order_scope"] == g).sum()) for g in ("jd", "own", "tmall")]
    causes = wh.query(f"SELECT channel, sum(orders) AS orders FROM {s}.bi_causes_daily GROUP BY 1 ORDER BY 1")
    assert causes["channel"].tolist() == ["jd", "tmall", "web"]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    lineage = {"landing_date": dt.date(2026, 10, 1), "source_file": "f.csv", "source_row": 1}
    return pd.DataFrame([{**lineage, **r} for r in rows])


def test_the_same_feedback_id_in_two_marketplaces_is_two_feedbacks() -> None:
    """Refund R1 of Tmall and refund R1 of JD (each platform numbers its own) stay two issues, two work orders."""
    at = pd.Timestamp("2026-10-01 10:00", tz=TZ)
    order = {"created_at": at, "business_date": dt.date(2026, 10, 1), "user_id": "u", "product": "p", "quantity": 1,
             "amount": 10.0, "payment_method": "alipay", "status": "completed", "order_id": "1"}
    orders = _frame([{**order, "channel": "tmall"}, {**order, "channel": "jd"}, {**order, "channel": "app"}])
    refund = {"feedback_id": "R1", "order_id": "1", "created_at": at + pd.Timedelta(hours=1), "rating": None,
              "issue_type": "refund", "issue_description": "没收到货", "first_response_at": None,
              "resolved_at": None, "resolution": None, "reopened": False, "refund_amount": 10.0}
    feedback = _frame([{**refund, "channel": "tmall"}, {**refund, "channel": "jd"}, {**refund, "channel": None}])
    fact = build_order_feedback(
        orders, feedback, dt.date(2026, 10, 1), dt.date(2026, 10, 2), ("refund",), marketplaces=("tmall", "JD")
    )
    assert fact[["order_scope", "channel", "feedback_id"]].values.tolist() == [
        ["jd", "jd", "R1"],
        ["own", "app", "R1"],  # own-helpdesk feedback (no channel) matches the own order of channel app
        ["tmall", "tmall", "R1"],
    ]
    work = build_work_orders(build_problem_orders(fact, load_cause_rules()), load_service_rules(), None)
    assert work["order_scope"].tolist() == ["jd", "own", "tmall"] and work["work_order_id"].is_unique


def test_a_postgres_table_built_before_order_scopes_gets_the_wider_key(pg_url: str) -> None:
    """fct_order_feedback (a unique index) and problem_orders (a primary key) of an older warehouse are re-keyed."""
    wh = open_warehouse(pg_url, "after_sales", TZ)
    assert isinstance(wh, PostgresWarehouse)
    before = [
        replace(
            spec,
            columns=tuple(c for c in spec.columns if c.name != "order_scope"),
            primary_key=("business_date", "order_id", "feedback_id"),
        )
        for spec in (FCT_ORDER_FEEDBACK, PROBLEM_ORDERS)
    ]
    with wh.transaction() as cur:
        wh.ensure_tables(cur, before)
    with wh.transaction() as cur:
        wh.ensure_tables(cur, [FCT_ORDER_FEEDBACK, PROBLEM_ORDERS])
    unique = wh.query(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'after_sales' AND indexdef LIKE '%UNIQUE%' "
        "ORDER BY 1"
    )
    assert unique["tablename"].tolist() == ["fct_order_feedback", "problem_orders"]
    assert all("(business_date, order_scope, order_id, feedback_id)" in d for d in unique["indexdef"])
    with wh.transaction() as cur:  # order 1 of two scopes on one day, without feedback: two rows
        cur.execute(
            "INSERT INTO after_sales.fct_order_feedback (business_date, order_id, order_scope, order_created_at, "
            "channel, amount, order_status, has_feedback, is_problem) VALUES "
            "('2026-10-01', '1', 'tmall', '2026-10-01 01:00+00', 'tmall', 1, 'completed', false, false), "
            "('2026-10-01', '1', 'jd', '2026-10-01 01:00+00', 'jd', 1, 'completed', false, false)"
        )
    assert wh.query("SELECT count(*) AS n FROM after_sales.fct_order_feedback")["n"].iloc[0] == 2
