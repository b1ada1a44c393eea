"""Proactive work orders: a behaviour signal opens the work order before the complaint; the complaint joins it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from after_sales.behaviour.proactive import mark_found_by, order_signals, with_proactive
from after_sales.tables import PROBLEM_ORDERS
from after_sales.transforms.marts import build_work_orders, work_order_id
from after_sales.transforms.rules import load_service_rules

TZ = "Asia/Shanghai"
D = dt.date(2025, 3, 10)


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


SIGNALS = pd.DataFrame(
    {
        "rule": ["repeated_payment_failure", "late_parcel_tracking"],
        "cause": ["payment", "not_delivered"],
        "order_id": ["O1", "O9"],
        "order_date": [D, D - dt.timedelta(days=9)],  # O9 belongs to another partition
        "channel": ["web", "app"],
        "detected_at": [t("2025-03-10 09:03"), t("2025-03-10 09:00")],
    }
)


def complaint(created: str, scope: str = "own", channel: str = "web") -> pd.DataFrame:
    row = {c: None for c in PROBLEM_ORDERS.column_names}
    row.update(
        business_date=D,
        order_id="O1",
        order_scope=scope,
        feedback_id="F1",
        channel=channel,
        amount=99.0,
        feedback_created_at=t(created),
        rating=1,
        issue_type="complaint",
        issue_description="付款失败还扣款了",
        is_low_rating=True,
        is_complaint=True,
        cause="payment",
        matched_causes="payment",
        reopened=False,
    )
    return pd.DataFrame([row])


def test_proactive_work_order_opens_before_the_complaint_and_the_complaint_joins_it() -> None:
    rules = load_service_rules()
    signals = order_signals(SIGNALS, D, D + dt.timedelta(days=1))
    assert signals["order_id"].tolist() == ["O1"]
    as_of = t("2025-03-10 12:00")

    # Before any complaint: the payment signal opens the work order, proactively.
    before = with_proactive(build_work_orders(complaint("2025-03-11 10:00").iloc[:0], rules, as_of), signals, rules)
    assert len(before) == 1
    wo = before.iloc[0]
    assert wo["work_order_id"] == work_order_id("O1", "payment")
    assert (wo["proactive"], wo["found_by"], wo["issue_count"], wo["status"]) == (True, "behaviour", 0, "open")
    assert (wo["opened_at"], wo["priority"], wo["suggested_action"]) == (t("2025-03-10 09:03"), "P1", "更换支付方式")
    assert wo["business_date"] == D and wo["signal_rule"] == "repeated_payment_failure"

    # The complaint arrives the next day: the same work order, now with the complaint, still opened at the signal.
    as_of = t("2025-03-11 12:00")
    problems = mark_found_by(complaint("2025-03-11 10:00"), signals, window_days=7)
    assert (problems["found_by"].iloc[0], problems["found_at"].iloc[0]) == ("both", t("2025-03-10 09:03"))
    after = with_proactive(build_work_orders(problems, rules, as_of), signals, rules)
    assert len(after) == 1  # joined, not a second work order
    wo = after.iloc[0]
    assert wo["work_order_id"] == before.iloc[0]["work_order_id"]
    assert (wo["proactive"], wo["found_by"], wo["issue_count"]) == (True, "both", 1)
    assert wo["opened_at"] == t("2025-03-10 09:03") and wo["first_signal_at"] == t("2025-03-10 09:03")
    assert wo["due_at"] == t("2025-03-11 14:00")  # P1: 4 hours from the complaint (the SLA is the customer's)
    assert before.iloc[0]["sla_breached"] == False  # noqa: E712 (no complaint yet: no SLA promise was running)


def test_complaint_without_signal_is_found_by_feedback_and_not_proactive() -> None:
    rules = load_service_rules()
    problems = mark_found_by(complaint("2025-03-11 10:00"), SIGNALS.iloc[:0], window_days=7)
    assert (problems["found_by"].iloc[0], problems["found_at"].iloc[0]) == ("feedback", t("2025-03-11 10:00"))
    late_signal = SIGNALS.iloc[:1].assign(detected_at=t("2025-03-12 09:00"))  # behaviour after the complaint
    problems = mark_found_by(complaint("2025-03-11 10:00"), late_signal, window_days=7)
    assert problems["found_by"].iloc[0] == "feedback"
    wo = with_proactive(build_work_orders(problems, rules, None), late_signal, rules).iloc[0]
    assert (wo["proactive"], wo["found_by"], wo["opened_at"]) == (False, "both", t("2025-03-11 10:00"))


def test_own_site_signal_leaves_a_marketplace_order_with_the_same_id_alone() -> None:
    """Behaviour is the own site's: its signal on order O1 neither marks nor joins tmall's order O1."""
    rules = load_service_rules()
    signals = order_signals(SIGNALS, D, D + dt.timedelta(days=1))
    problems = mark_found_by(complaint("2025-03-11 10:00", scope="tmall", channel="tmall"), signals, window_days=7)
    assert problems["found_by"].iloc[0] == "feedback"
    wo = with_proactive(build_work_orders(problems, rules, None), signals, rules)
    by_scope = wo.set_index("order_scope")
    assert sorted(wo["order_scope"]) == ["own", "tmall"]  # the signal opens the own order's work order
    assert by_scope.at["tmall", "found_by"] == "feedback" and not by_scope.at["tmall", "proactive"]
    assert by_scope.at["own", "work_order_id"] == work_order_id("O1", "payment")
    assert by_scope.at["tmall", "work_order_id"] == work_order_id("O1", "payment", "tmall")
    assert by_scope.at["tmall", "work_order_id"] != by_scope.at["own", "work_order_id"]


def test_materialized_proactive_work_order_then_the_complaint_joins_it(
    landing: Path, resources: dict[str, object]
) -> None:
    from tests.behaviour_fixture import write_fixture
    from tests.test_pipeline import run_range

    chain = [
        "stg_orders",
        "stg_feedback",
        "stg_events",
        "behaviour_signals",
        "fct_order_feedback",
        "problem_orders",
        "work_orders",
    ]
    write_fixture(landing)
    later = landing.parent / "later"
    later.mkdir()
    for day in ("2025-03-11", "2025-03-12"):  # F1 (O1, payment) and F2 (O2) have not landed yet
        (landing / "feedback" / day).rename(later / day)
    assert run_range(resources, "2025-03-01", "2025-03-10", chain).success
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    query = (
        "SELECT work_order_id, order_id, cause, issue_count, proactive, found_by, opened_at "
        "FROM after_sales.work_orders WHERE order_id = 'O1'"
    )
    first = wh.query(query)
    assert len(first) == 1
    wo = first.iloc[0]
    assert (wo["cause"], wo["issue_count"], bool(wo["proactive"]), wo["found_by"]) == ("payment", 0, True, "behaviour")
    assert wo["opened_at"] == t("2025-03-10 09:03")
    all_first = wh.query("SELECT order_id, cause, found_by, proactive FROM after_sales.work_orders ORDER BY 1, 2")
    assert list(all_first.itertuples(index=False, name=None)) == [
        ("O1", "payment", "behaviour", True),
        ("O2", "not_delivered", "behaviour", True),  # tracking a late parcel
        ("O3", "cumbersome_return", "behaviour", True),  # return abandoned
        ("O4", "cumbersome_return", "both", True),  # back and forth at 11:05, complaint F5 at 12:00
        ("O6", "not_delivered", "behaviour", True),  # 快递到哪了
        ("O7", "not_delivered", "feedback", False),  # F3, no behaviour
    ]

    for day in ("2025-03-11", "2025-03-12"):  # the complaints land
        (later / day).rename(landing / "feedback" / day)
    assert run_range(resources, "2025-03-01", "2025-03-12", chain).success
    second = wh.query(query)
    assert len(second) == 1  # the complaint joined the proactive work order: no second one
    wo = second.iloc[0]
    assert wo["work_order_id"] == first.iloc[0]["work_order_id"]
    assert (wo["issue_count"], bool(wo["proactive"]), wo["found_by"]) == (1, True, "both")
    assert wo["opened_at"] == t("2025-03-10 09:03")
    found = wh.query(
        "SELECT feedback_id, found_by, found_at, signal_rule FROM after_sales.problem_orders WHERE order_id = 'O1'"
    ).iloc[0]
    assert (found["feedback_id"], found["found_by"], found["signal_rule"]) == ("F1", "both", "repeated_payment_failure")
    assert found["found_at"] == t("2025-03-10 09:03")
