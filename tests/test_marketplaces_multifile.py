"""A source spanning several files (Olist: orders, items, products, payments, customers, reviews) joined by key."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import after_sales.marketplaces as mk
from after_sales.assets.marketplaces import stage_reads
from after_sales.marketplaces.multi import join_files
from after_sales.resources.warehouse import open_warehouse
from after_sales.transforms.staging import StagingContext

MAPPINGS = Path(__file__).parent / "fixtures" / "marketplaces" / "olist"
LANDED = dt.date(2017, 10, 3)
CTX = StagingContext("Asia/Shanghai", 7)

# Each file's header exactly as documented (sources cited in tests/fixtures/marketplaces/olist/olist.yaml, [L1]-[L6]).
COLUMNS: dict[str, tuple[str, ...]] = {
    "olist_orders_dataset.csv": (
        "order_id", "customer_id", "order_status", "order_purchase_timestamp", "order_approved_at",
        "order_delivered_carrier_date", "order_delivered_customer_date", "order_estimated_delivery_date",
    ),
    "olist_order_items_dataset.csv": (
        "order_id", "order_item_id", "product_id", "seller_id", "shipping_limit_date", "price", "freight_value",
    ),
    "olist_order_payments_dataset.csv": (
        "order_id", "payment_sequential", "payment_type", "payment_installments", "payment_value",
    ),
    "olist_order_reviews_dataset.csv": (
        "review_id", "order_id", "review_score", "review_comment_title", "review_comment_message",
        "review_creation_date", "review_answer_timestamp",
    ),
    "olist_customers_dataset.csv": (
        "customer_id", "customer_unique_id", "customer_zip_code_prefix", "customer_city", "customer_state",
    ),
    "olist_products_dataset.csv": (
        "product_id", "product_category_name", "product_name_lenght", "product_description_lenght",
        "product_photos_qty", "product_weight_g", "product_length_cm", "product_height_cm", "product_width_cm",
    ),
}  # fmt: skip

# Orders A-D, their customers, products P1-P4, sellers S1-S3; E, F and CX are ids no order file holds.
A, B, C, D = (
    "e481f51cbdc54678b7cc49136f2d6af7",
    "53cdb2fc8bc7dce0b6741e2150273451",
    "47770eb9100c2d0c44946d9cf07ec65d",
    "949d5b44dbf5de918fe9c16f97b45f8a",
)
CA, CB, CC, CD, CX = (
    "9ef432eb6251297304e76186b10a928d",
    "b0830fb4747a6c6d20dea0b8c802d7ef",
    "41ce2a54c0b03bf3443c3d931a367089",
    "f88197465ea7920adcdbec7375364d82",
    "8ab97904e6daea8866dbdbc4fb7aad2c",
)
E, F = "a4591c265e18cb1dcee52889e2d8acc3", "136cce7faa42fdb2cefd53fdc79a6098"
P1, P2, P3, P4 = (
    "87285b34884572647811a353c7ac498a",
    "595fac2a385ac33a80bd5114aec74eb8",
    "aa4383b373c6aca5d8797843e5594415",
    "d0b61bfb1de832b15ba9d266ca96e5b0",
)
S1, S2, S3 = "3504c0cb71d7fa48d967e0e4c94d59d9", "289cdb325fb7e7f891c38608bf9e0962", "4869f7a5dfa277a7dca6462dcf3b52b2"

ROWS: dict[str, list[dict[str, str]]] = {
    "olist_orders_dataset.csv": [
        {"order_id": A, "customer_id": CA, "order_status": "delivered",
         "order_purchase_timestamp": "2017-10-02 10:56:33", "order_approved_at": "2017-10-02 11:07:15",
         "order_delivered_carrier_date": "2017-10-04 19:55:00", "order_delivered_customer_date": "2017-10-10 21:25:13",
         "order_estimated_delivery_date": "2017-10-18 00:00:00"},
        {"order_id": B, "customer_id": CB, "order_status": "shipped",
         "order_purchase_timestamp": "2017-10-01 20:41:37", "order_approved_at": "2017-10-01 21:03:01",
         "order_delivered_carrier_date": "2017-10-02 14:31:00", "order_delivered_customer_date": "",
         "order_estimated_delivery_date": "2017-10-13 00:00:00"},
        {"order_id": C, "customer_id": CC, "order_status": "invoiced",
         "order_purchase_timestamp": "2017-10-02 08:38:49", "order_approved_at": "2017-10-02 08:55:23",
         "order_delivered_carrier_date": "", "order_delivered_customer_date": "",
         "order_estimated_delivery_date": "2017-10-24 00:00:00"},
        {"order_id": D, "customer_id": CD, "order_status": "canceled",
         "order_purchase_timestamp": "2017-10-01 18:10:00", "order_approved_at": "",
         "order_delivered_carrier_date": "", "order_delivered_customer_date": "",
         "order_estimated_delivery_date": "2017-10-20 00:00:00"},
    ],
    "olist_order_items_dataset.csv": [
        {"order_id": A, "order_item_id": "1", "product_id": P1, "seller_id": S1,
         "shipping_limit_date": "2017-10-06 11:07:15", "price": "29.99", "freight_value": "8.72"},
        {"order_id": B, "order_item_id": "1", "product_id": P2, "seller_id": S2,
         "shipping_limit_date": "2017-10-05 21:03:01", "price": "118.70", "freight_value": "22.76"},
        {"order_id": B, "order_item_id": "2", "product_id": P2, "seller_id": S2,
         "shipping_limit_date": "2017-10-05 21:03:01", "price": "118.70", "freight_value": "22.76"},
        {"order_id": B, "order_item_id": "3", "product_id": P3, "seller_id": S3,
         "shipping_limit_date": "2017-10-05 21:03:01", "price": "45.10", "freight_value": "7.00"},
        {"order_id": C, "order_item_id": "1", "product_id": P3, "seller_id": S3,
         "shipping_limit_date": "2017-10-06 08:55:23", "price": "45.10", "freight_value": "15.10"},
        {"order_id": D, "order_item_id": "1", "product_id": P1, "seller_id": S1,
         "shipping_limit_date": "2017-10-05 18:10:00", "price": "29.99", "freight_value": "8.72"},
    ],
    "olist_products_dataset.csv": [
        {"product_id": P1, "product_category_name": "perfumaria", "product_name_lenght": "40",
         "product_description_lenght": "287", "product_photos_qty": "1", "product_weight_g": "225",
         "product_length_cm": "16", "product_height_cm": "10", "product_width_cm": "14"},
        {"product_id": P2, "product_category_name": "automotivo", "product_name_lenght": "44",
         "product_description_lenght": "276", "product_photos_qty": "1", "product_weight_g": "1000",
         "product_length_cm": "30", "product_height_cm": "18", "product_width_cm": "20"},
        {"product_id": P3, "product_category_name": "", "product_name_lenght": "", "product_description_lenght": "",
         "product_photos_qty": "", "product_weight_g": "1800", "product_length_cm": "30",
         "product_height_cm": "10", "product_width_cm": "25"},
        {"product_id": P4, "product_category_name": "moveis_decoracao", "product_name_lenght": "58",
         "product_description_lenght": "1141", "product_photos_qty": "2", "product_weight_g": "1050",
         "product_length_cm": "26", "product_height_cm": "8", "product_width_cm": "20"},
    ],
    # A pays with a card and two vouchers (rows out of sequence order), D in installments plus a voucher; B's second
    # row has no value; E is no order of the window.
    "olist_order_payments_dataset.csv": [
        {"order_id": A, "payment_sequential": "2", "payment_type": "voucher", "payment_installments": "1",
         "payment_value": "18.59"},
        {"order_id": A, "payment_sequential": "1", "payment_type": "credit_card", "payment_installments": "1",
         "payment_value": "18.12"},
        {"order_id": A, "payment_sequential": "3", "payment_type": "voucher", "payment_installments": "1",
         "payment_value": "2.00"},
        {"order_id": B, "payment_sequential": "1", "payment_type": "boleto", "payment_installments": "1",
         "payment_value": "335.02"},
        {"order_id": B, "payment_sequential": "2", "payment_type": "voucher", "payment_installments": "1",
         "payment_value": ""},
        {"order_id": C, "payment_sequential": "1", "payment_type": "credit_card", "payment_installments": "8",
         "payment_value": "60.20"},
        {"order_id": D, "payment_sequential": "1", "payment_type": "credit_card", "payment_installments": "3",
         "payment_value": "30.00"},
        {"order_id": D, "payment_sequential": "2", "payment_type": "voucher", "payment_installments": "1",
         "payment_value": "8.71"},
        {"order_id": E, "payment_sequential": "1", "payment_type": "boleto", "payment_installments": "1",
         "payment_value": "99.90"},
    ],
    # CB twice (the second is a duplicate), CX has no order.
    "olist_customers_dataset.csv": [
        {"customer_id": CA, "customer_unique_id": "861eff4711a542e4b93843c6dd7febb0",
         "customer_zip_code_prefix": "14409", "customer_city": "franca", "customer_state": "SP"},
        {"customer_id": CB, "customer_unique_id": "290c77bc529b7ac935b93aa66c333dc3",
         "customer_zip_code_prefix": "9790", "customer_city": "sao bernardo do campo", "customer_state": "SP"},
        {"customer_id": CC, "customer_unique_id": "060e732b5b29e8181a18229c7b0b2b5e",
         "customer_zip_code_prefix": "1151", "customer_city": "sao paulo", "customer_state": "SP"},
        {"customer_id": CB, "customer_unique_id": "290c77bc529b7ac935b93aa66c333dc3",
         "customer_zip_code_prefix": "8775", "customer_city": "mogi das cruzes", "customer_state": "SP"},
        {"customer_id": CD, "customer_unique_id": "259dac757896d24d7702b9acbbff3f3c",
         "customer_zip_code_prefix": "13056", "customer_city": "campinas", "customer_state": "SP"},
        {"customer_id": CX, "customer_unique_id": "345ecd01c38d18a9036ed96c73b8d066",
         "customer_zip_code_prefix": "4534", "customer_city": "sao paulo", "customer_state": "SP"},
    ],
    "olist_order_reviews_dataset.csv": [
        {"review_id": "7bc2406110b926393aa56f80a40eba40", "order_id": A, "review_score": "4",
         "review_comment_title": "", "review_comment_message": "Recebi bem antes do prazo estipulado.",
         "review_creation_date": "2017-10-02 00:00:00", "review_answer_timestamp": "2017-10-02 21:46:59"},
        {"review_id": "80e641a11e56f04c1ad469d5645fdfde", "order_id": B, "review_score": "1",
         "review_comment_title": "Produto errado", "review_comment_message": "Veio outro produto",
         "review_creation_date": "2017-10-02 00:00:00", "review_answer_timestamp": ""},
        {"review_id": "228ce5500dc1d8e020d8d1322874b6f0", "order_id": F, "review_score": "5",
         "review_comment_title": "", "review_comment_message": "",
         "review_creation_date": "2017-10-02 00:00:00", "review_answer_timestamp": "2017-10-02 10:00:00"},
    ],
}  # fmt: skip


def land(landing: Path) -> Path:
    """Write every file (documented header, then its rows in that column order) into one landing day."""
    day = landing / "olist" / LANDED.isoformat()
    day.mkdir(parents=True, exist_ok=True)
    for name, header in COLUMNS.items():
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(header)
        for row in ROWS[name]:
            assert set(row) == set(header), name  # every row has exactly the documented columns
            writer.writerow([row[c] for c in header])
        (day / name).write_text(buf.getvalue(), encoding="utf-8")
    return day


@pytest.fixture(scope="module")
def olist() -> mk.SourceConfig:
    """The Olist test mapping."""
    return mk.load_sources(extra_dirs=[MAPPINGS])["olist"]


def _reads(landing: Path, olist: mk.SourceConfig) -> dict[str, mk.ExportRead]:
    """Every landed file read with the Olist mapping, by kind."""
    day = land(landing)
    reads = [mk.read_export(day / name, olist, landing_dir=landing) for name in sorted(COLUMNS)]
    return {r.kind_name: r for r in reads}


def test_each_documented_file_is_recognised_and_fully_mapped(olist: mk.SourceConfig, tmp_path: Path) -> None:
    """Every file's kind comes from its header; every documented column is read or deliberately ignored."""
    reads = _reads(tmp_path, olist)
    assert {k: Path(r.file).name for k, r in reads.items()} == {
        "orders": "olist_orders_dataset.csv",
        "items": "olist_order_items_dataset.csv",
        "products": "olist_products_dataset.csv",
        "payments": "olist_order_payments_dataset.csv",
        "customers": "olist_customers_dataset.csv",
        "reviews": "olist_order_reviews_dataset.csv",
    }
    for r in reads.values():
        assert not [w for w in r.warnings if "not in the" in w], r.warnings
    # B's second payment has no value: the reader rejects it (payment_value is required)
    assert reads["payments"].rejected[["source_row", "rule"]].values.tolist() == [[5, "missing_required"]]
    assert all(r.rejected.empty for k, r in reads.items() if k != "payments")


def test_reviews_are_feedback_on_the_orders(olist: mk.SourceConfig, tmp_path: Path) -> None:
    """The reviews file is an ordinary reviews kind: one feedback row per review, title and message joined."""
    reviews = _reads(tmp_path, olist)["reviews"]
    assert reviews.kind == "feedback"
    assert reviews.rows[["feedback_id", "order_id", "rating", "issue_type", "issue_description"]].values.tolist() == [
        ["olist-V-7bc2406110b926393aa56f80a40eba40", A, "4", "review", "Recebi bem antes do prazo estipulado."],
        ["olist-V-80e641a11e56f04c1ad469d5645fdfde", B, "1", "review", "Produto errado: Veio outro produto"],
        ["olist-V-228ce5500dc1d8e020d8d1322874b6f0", F, "5", "review", None],
    ]
    assert reviews.rows["first_response_at"].tolist() == ["2017-10-02 21:46:59", None, "2017-10-02 10:00:00"]


def test_orders_take_items_payments_customers_and_products(olist: mk.SourceConfig, tmp_path: Path) -> None:
    """Amounts and quantities from the items, categories from the products, payment fields and customers joined."""
    reads = _reads(tmp_path, olist)
    joined = {r.kind_name: r for r in join_files(list(reads.values()), olist)}
    orders = joined["orders"]
    # A: 29.99; B: 118.70 + 118.70 + 45.10 = 282.50 over 3 items; the categories of their products (P3 has none)
    assert orders.rows[["order_id", "amount", "quantity", "product", "payment_method"]].values.tolist() == [
        [A, "29.99", "1", "perfumaria", "credit_card"],  # sequence 1 is the card, though a voucher comes first
        [B, "282.50", "3", "automotivo", "boleto"],
        [C, "45.10", "1", None, "credit_card"],
        [D, "29.99", "1", "perfumaria", "credit_card"],
    ]
    details = orders.details
    assert details is not None
    assert details.to_dict("list") == {
        "freight_amount": ["8.72", "52.52", "15.10", "8.72"],  # B: 22.76 + 22.76 + 7.00
        "sellers": ["1", "2", "1", "1"],
        "payment_types": ["credit_card+voucher", "boleto", "credit_card", "credit_card+voucher"],
        "paid_amount": ["38.71", "335.02", "60.20", "38.71"],  # A: 18.12 + 18.59 + 2.00; items + freight
        "installments": ["1", "1", "8", "3"],
        "payment_count": ["3", "1", "1", "2"],
        "customer_unique_id": [
            "861eff4711a542e4b93843c6dd7febb0",
            "290c77bc529b7ac935b93aa66c333dc3",
            "060e732b5b29e8181a18229c7b0b2b5e",
            "259dac757896d24d7702b9acbbff3f3c",
        ],
        "customer_city": ["franca", "sao bernardo do campo", "sao paulo", "campinas"],  # CB's first row wins
        "customer_state": ["SP", "SP", "SP", "SP"],
        "customer_zip_prefix": ["14409", "9790", "1151", "13056"],
    }
    # paid = goods + freight for every order (checks the exact sums against each other)
    sums = zip(details["paid_amount"], orders.rows["amount"], details["freight_amount"], strict=True)
    assert all(Decimal(paid) == Decimal(goods) + Decimal(freight) for paid, goods, freight in sums)
    assert joined["items"].rows["product"].tolist() == ["perfumaria", "automotivo", "automotivo", None, None,
                                                        "perfumaria"]  # fmt: skip


def test_rows_that_cannot_join_are_quarantined_with_a_reason(olist: mk.SourceConfig, tmp_path: Path) -> None:
    """A payment for an unknown order, a repeated or unknown customer, an unsold product: rejected, named."""
    reads = _reads(tmp_path, olist)
    joined = {r.kind_name: r for r in join_files(list(reads.values()), olist)}
    rejected = {k: r.rejected[["source_row", "rule"]].values.tolist() for k, r in joined.items() if len(r.rejected)}
    assert rejected == {
        "payments": [[5, "missing_required"], [9, "unknown_key"]],
        "customers": [[4, "duplicate_key"], [6, "unknown_key"]],
        "products": [[4, "unknown_key"]],
    }
    reasons = {k: r.rejected["reason"].tolist() for k, r in joined.items()}
    assert reasons["payments"][1] == (
        f"olist/2017-10-03/olist_order_payments_dataset.csv row 9, column order_id: no orders row with order_id {E} "
        "read in this window (payments rows join onto orders by order_id)"
    )
    assert reasons["customers"][0].endswith(
        f"customer_id {CB} repeats row 2 of olist/2017-10-03/olist_customers_dataset.csv (one customers row per "
        "customer_id)"
    )
    # the landed cells, as for every quarantined row
    assert '"customer_city": "mogi das cruzes"' in joined["customers"].rejected["raw"].iloc[0]


def test_every_row_of_every_file_is_joined_staged_or_quarantined(olist: mk.SourceConfig, tmp_path: Path) -> None:
    """Conservation per file: rows read = staged (orders, reviews, item lines) or joined + quarantined."""
    reads = _reads(tmp_path, olist)
    results, item_rows, detail_rows = stage_reads([(LANDED, r) for r in reads.values()], olist, CTX)
    orders, feedback = results["orders"], results["feedback"]
    staged_orders = sum(len(r.rows) for r in orders)
    quarantined = pd.concat([r.quarantined for r in [*orders, *feedback]], ignore_index=True)
    by_file = quarantined.groupby(quarantined["source_file"].map(lambda f: Path(f).name)).size().to_dict()
    details = pd.concat(detail_rows, ignore_index=True)
    n = {name: len(rows) for name, rows in ROWS.items()}
    assert staged_orders == n["olist_orders_dataset.csv"] == 4
    assert sum(len(r.rows) for r in feedback) == n["olist_order_reviews_dataset.csv"] == 3  # orders checked later
    assert sum(len(f) for f in item_rows) == n["olist_order_items_dataset.csv"] == 6
    # joined rows are counted by the mapping's own count of payments; customers and products by what they filled
    assert int(details["payment_count"].sum()) + by_file["olist_order_payments_dataset.csv"] == 9
    assert details["customer_city"].notna().sum() + by_file["olist_customers_dataset.csv"] == 6
    assert by_file == {
        "olist_order_payments_dataset.csv": 2,
        "olist_customers_dataset.csv": 2,
        "olist_products_dataset.csv": 1,
    }
    for r in orders:  # the orders' staging accounts for the joined files' quarantined rows too
        assert r.rows_read == len(r.rows) + len(r.quarantined)
    # money stays exact in the details table
    assert details["paid_amount"].tolist() == [Decimal("38.71"), Decimal("335.02"), Decimal("60.20"),
                                               Decimal("38.71")]  # fmt: skip
    assert str(details["paid_amount"].dtype).startswith("decimal128")


def test_a_join_must_name_fields_the_files_have(tmp_path: Path) -> None:
    """Mapping errors name the file and key: a field the kind lacks, a sum of text, two kinds filling one field."""
    base = (MAPPINGS / "olist.yaml").read_text(encoding="utf-8")
    cases = {
        "paid_amount: {sum: payment_value}": (
            "paid_amount: {sum: payment_valu}",
            "kinds.payments.join.fields.paid_amount: 'payment_valu' is not a field of this kind",
        ),
        "installments: {max: payment_installments}": (
            "installments: {sum: payment_type}",
            "kinds.payments.join.fields.installments: sum needs an amount or int field; 'payment_type' is text",
        ),
        "customer_state: {first: state}": (
            "paid_amount: {first: state}",
            "kinds.customers.join.fields.paid_amount: kind 'payments' already fills it",
        ),
        "payment_count: {count: payment_value}": (
            "payment_count: {count: payment_value, sum: payment_value}",
            "kinds.payments.join.fields.payment_count: Value error, give exactly one of",
        ),
    }
    for old, (new, message) in cases.items():
        path = tmp_path / "olist.yaml"
        path.write_text(base.replace(old, new), encoding="utf-8")
        with pytest.raises(mk.SourceConfigError) as exc:
            mk.load_source(path)
        assert message in str(exc.value), str(exc.value)


def test_one_materialization_through_the_dagster_assets_into_duckdb(tmp_path: Path) -> None:
    """`dagster asset materialize` of the Olist source: orders, details, lines, reviews and quarantine in DuckDB."""
    landing = tmp_path / "landing"
    land(landing)
    (tmp_path / "dagster_home").mkdir()
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    env = {
        **os.environ,
        "AFTER_SALES_SOURCES_DIRS": str(MAPPINGS),
        "AFTER_SALES_LANDING_DIR": str(landing),
        "AFTER_SALES_START_DATE": "2017-09-25",
        "AFTER_SALES_WAREHOUSE_URL": url,
        "AFTER_SALES_EXPORT_DIR": str(tmp_path / "exports"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "after_sales.definitions",
         "--select", "stg_olist_orders,stg_olist_feedback,fct_order_feedback",
         "--partition-range", "2017-10-01...2017-10-03"],
        env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    wh = open_warehouse(url, "after_sales", "Asia/Shanghai")
    orders = wh.query(
        "SELECT order_id, amount, quantity, payment_method FROM after_sales.stg_olist_orders ORDER BY 2, 1"
    )
    assert [(o, str(a), q, p) for o, a, q, p in orders.values.tolist()] == [
        (D, "29.99", 1, "credit_card"),
        (A, "29.99", 1, "credit_card"),
        (C, "45.10", 1, "credit_card"),
        (B, "282.50", 3, "boleto"),
    ]
    details = wh.query(
        "SELECT order_id, paid_amount, installments, payment_count, payment_types, customer_city, customer_state "
        "FROM after_sales.stg_olist_order_details ORDER BY order_id"
    )
    assert [[str(v) for v in row] for row in details.values.tolist()] == [
        [C, "60.20", "8", "1", "credit_card", "sao paulo", "SP"],
        [B, "335.02", "1", "1", "boleto", "sao bernardo do campo", "SP"],
        [D, "38.71", "3", "2", "credit_card+voucher", "campinas", "SP"],
        [A, "38.71", "1", "3", "credit_card+voucher", "franca", "SP"],
    ]
    types = wh.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'after_sales' AND table_name = 'stg_olist_order_details'"
    ).set_index("column_name")["data_type"]
    assert (types["paid_amount"], types["installments"], types["customer_city"]) == ("DECIMAL(18,2)", "BIGINT",
                                                                                       "VARCHAR")  # fmt: skip
    lines = wh.query("SELECT count(*) AS n, sum(amount) AS total FROM after_sales.stg_olist_order_items")
    assert int(lines["n"].iloc[0]) == 6 and lines["total"].iloc[0] == Decimal("387.58")
    reviews = wh.query("SELECT order_id, rating FROM after_sales.stg_olist_feedback ORDER BY rating")
    assert reviews.values.tolist() == [[B, 1], [A, 4]]
    q = wh.query("SELECT source_file, source_row, rule FROM after_sales.quarantine ORDER BY 1, 2")
    assert [(Path(f).name, r, rule) for f, r, rule in q.values.tolist()] == [
        ("olist_customers_dataset.csv", 4, "duplicate_key"),
        ("olist_customers_dataset.csv", 6, "unknown_key"),
        ("olist_order_payments_dataset.csv", 5, "missing_required"),
        ("olist_order_payments_dataset.csv", 9, "unknown_key"),
        ("olist_order_reviews_dataset.csv", 3, "unknown_order"),
        ("olist_products_dataset.csv", 4, "unknown_key"),
    ]
    # conservation over the whole source: every landed data row is staged, joined or quarantined
    landed = sum(len(rows) for rows in ROWS.values())
    joined = 3 + int(details["payment_count"].sum()) + int(details["customer_city"].notna().sum())  # products 3
    assert len(orders) + 6 + len(reviews) + joined + len(q) == landed == 32
    fact = wh.query("SELECT order_id, rating FROM after_sales.fct_order_feedback WHERE rating IS NOT NULL ORDER BY 2")
    assert fact.values.tolist() == [[B, 1], [A, 4]]
    checks = wh.query("SELECT bool_and(passed) AS ok FROM after_sales.data_quality_runs")  # conservation included
    assert bool(checks["ok"].iloc[0])


def test_the_documented_example_loads_and_joins_the_same(tmp_path: Path) -> None:
    """The example in docs/marketplaces.md is a valid mapping: same amounts and payment fields as the test mapping."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "marketplaces.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Files joined by key") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml\n") + 8)]
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "olist.yaml").write_text(example, encoding="utf-8")
    source = mk.load_sources(extra_dirs=[tmp_path / "mappings"])["olist"]
    day = land(tmp_path / "landing")
    reads = []
    for name in sorted(COLUMNS):
        try:
            reads.append(mk.read_export(day / name, source, landing_dir=tmp_path / "landing"))
        except mk.ExportFileError as exc:
            # the example declares no products or reviews kind: those files are skipped
            assert exc.no_kind and name in {"olist_products_dataset.csv", "olist_order_reviews_dataset.csv"}
            continue
    [orders] = [r for r in join_files(reads, source) if r.kind == "orders"]
    assert orders.rows["amount"].tolist() == ["29.99", "282.50", "45.10", "29.99"]
    assert orders.details is not None
    assert orders.details["paid_amount"].tolist() == ["38.71", "335.02", "60.20", "38.71"]
    assert orders.details["customer_city"].tolist() == ["franca", "sao bernardo do campo", "sao paulo", "campinas"]
