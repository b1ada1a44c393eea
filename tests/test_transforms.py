"""Pure transforms on small hand-made frames: staging rules, fact, problems, work orders, metrics."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.tables import STG_BEHAVIOUR
from after_sales.transforms.marts import (
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
    locate_causes,
    work_order_id,
)
from after_sales.transforms.metrics import build_metrics_daily
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.transforms.staging import (
    LandedFile,
    LandingFileError,
    StagingContext,
    combine,
    quarantine_unknown_orders,
    stage_behaviour,
    stage_feedback,
    stage_orders,
)
from tests.support.landing import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER

CTX = StagingContext(timezone="Asia/Shanghai", late_arrival_days=7)
DAY = dt.date(2026, 10, 1)


def landed(source: str, header: str, lines: list[str], day: dt.date = DAY) -> LandedFile:
    """A LandedFile from csv text lines."""
    frame = pd.read_csv(io.StringIO("\n".join([header, *lines])), dtype=str, keep_default_na=False)
    frame["source_row"] = range(1, len(frame) + 1)
    return LandedFile(source, day, f"{source}/{day}/x.csv", frame)


def orders_file(lines: list[str], day: dt.date = DAY) -> LandedFile:
    return landed("orders", ORDERS_HEADER, lines, day)


def feedback_file(lines: list[str], day: dt.date = DAY) -> LandedFile:
    return landed("feedback", FEEDBACK_HEADER, lines, day)


def test_orders_are_typed_and_business_dated() -> None:
    r = stage_orders(
        orders_file(["2870061234567890123,2026-10-01 00:30:00+08:00,U1,杯,2,1299.50,alipay,Paid,WEB"]), CTX
    )
    row = r.rows.iloc[0]
    assert row["order_id"] == "2870061234567890123"
    assert row["created_at"] == pd.Timestamp("2026-10-01 00:30", tz="Asia/Shanghai")
    assert row["business_date"] == DAY
    assert (row["amount"], row["quantity"], row["status"], row["status_raw"], row["channel"]) == (
        1299.5,
        2,
        "paid",
        "Paid",
        "web",
    )
    assert (row["source_file"], row["source_row"], row["landing_date"]) == ("orders/2026-10-01/x.csv", 1, DAY)


def test_utc_timestamp_lands_on_local_business_date() -> None:
    r = stage_orders(orders_file(["O1,2026-09-30T17:00:00Z,U1,杯,1,1,alipay,paid,web"]), CTX)
    assert r.rows.iloc[0]["business_date"] == DAY


@pytest.mark.parametrize(
    ("line", "rule", "column"),
    [
        (",2026-10-01 10:00:00,U1,杯,1,10,alipay,paid,web", "missing_id", "order_id"),
        ("O1,2026/13/45 25:61,U1,杯,1,10,alipay,paid,web", "unparseable_date", "created_at"),
        ("O1,2026-11-20 10:00:00,U1,杯,1,10,alipay,paid,web", "future_date", "created_at"),
        ("O1,2026-09-01 10:00:00,U1,杯,1,10,alipay,paid,web", "too_late", "created_at"),
        ("O1,2026-10-01 10:00:00,U1,杯,1,-5,alipay,paid,web", "negative_amount", "amount"),
        ("O1,2026-10-01 10:00:00,U1,杯,1,abc,alipay,paid,web", "unparseable_amount", "amount"),
        ("O1,2026-10-01 10:00:00,U1,杯,1.5,10,alipay,paid,web", "invalid_quantity", "quantity"),
        ("O1,2026-10-01 10:00:00,U1,杯,1,10,alipay,frozen,web", "unknown_status", "status"),
    ],
)
def test_order_row_rules(line: str, rule: str, column: str) -> None:
    r = stage_orders(orders_file(["O0,2026-10-01 09:00:00,U1,杯,1,10,alipay,paid,web", line]), CTX)
    assert len(r.rows) == 1 and r.balanced
    q = r.quarantined.iloc[0]
    assert (q["rule"], q["column_name"], q["source_row"]) == (rule, column, 2)
    assert q["reason"].startswith(f"orders/2026-10-01/x.csv row 2, column {column}:")


def test_exact_duplicates_and_repeated_ids_are_quarantined_and_counted() -> None:
    line = "O1,2026-10-01 10:00:00,U1,杯,1,10,alipay,paid,web"
    r = stage_orders(orders_file([line, line, "O1,2026-10-01 10:00:00,U1,杯,1,11,alipay,paid,web"]), CTX)
    assert len(r.rows) == 1 and r.duplicates_removed == 1 and r.balanced
    assert list(r.quarantined["rule"]) == ["duplicate_row", "duplicate_id"]


def test_an_exact_copy_has_the_same_text_missing_in_the_same_places() -> None:
    base = {"session_id": "S1", "visitor_id": "V1", "started_at": "2026-10-01 10:00:00", "pages": "1"}
    ended = [None, np.nan, pd.NA, "", "", "2026-10-01 10:05:00"]  # missing equals missing, but not ''
    frame = pd.DataFrame([{**base, "ended_at": e} for e in ended], dtype=object)
    frame["submitted_after_sales_form"] = ["no", "no", "no", "no", "no", None]
    frame["source_row"] = range(1, len(frame) + 1)
    r = stage_behaviour(LandedFile("behaviour", DAY, "behaviour/x.csv", frame), CTX)
    assert r.duplicates_removed == 3 and r.balanced and list(r.rows["source_row"]) == [1]
    rules = dict(zip(r.quarantined["source_row"], r.quarantined["rule"], strict=True))
    assert rules == {2: "duplicate_row", 3: "duplicate_row", 4: "duplicate_id", 5: "duplicate_row", 6: "duplicate_id"}


@pytest.mark.slow
def test_a_row_staged_again_from_a_later_file_of_the_day() -> None:
    first = landed(
        "behaviour",
        BEHAVIOUR_HEADER,
        ["S1,V1,2026-10-01 10:00:00,,,no", "S2,V2,2026-10-01 11:00:00,2026-10-01 11:05:00,3,yes"],
    )
    later = landed(
        "behaviour",
        BEHAVIOUR_HEADER,
        [
            "S1,V1,2026-10-01 10:00:00,,,no",
            "S2,V2,2026-10-01 11:00:00,2026-10-01 11:05:00,4,yes",
            "S3,V1,2026-10-01 12:00:00,,,no",
        ],
    )
    later = LandedFile(later.source, later.landing_date, "behaviour/2026-10-01/y.csv", later.frame)
    r = combine([stage_behaviour(first, CTX), stage_behaviour(later, CTX)], STG_BEHAVIOUR, "session_id")
    assert list(r.rows["session_id"]) == ["S1", "S2", "S3"] and r.duplicates_removed == 1 and r.balanced
    assert r.quarantined[["source_row", "rule"]].values.tolist() == [[1, "duplicate_row"], [2, "duplicate_id"]]
    assert r.quarantined["reason"].iloc[0] == (
        "behaviour/2026-10-01/y.csv row 1: exact copy of behaviour/2026-10-01/x.csv row 1"
    )


@pytest.mark.parametrize(
    ("rating", "issue_type", "rule"),
    [
        ("0", "review", "rating_out_of_range"),
        ("6", "review", "rating_out_of_range"),
        ("五", "review", "rating_not_numeric"),
        ("", "review", "missing_rating"),
        ("4.5", "review", "rating_out_of_range"),
    ],
)
def test_feedback_rating_rules(rating: str, issue_type: str, rule: str) -> None:
    r = stage_feedback(feedback_file([f"F1,O1,2026-10-01 10:00:00,{rating},{issue_type},text,,,,false"]), CTX)
    assert r.rows.empty and list(r.quarantined["rule"]) == [rule]


def test_ticket_without_rating_is_kept_and_text_is_verbatim() -> None:
    text = "Robert'); DROP TABLE stg_feedback;-- 😡 \x07 退货"
    r = stage_feedback(feedback_file([f'F1,O1,2026-10-01 10:00:00,,complaint,"{text}",,,,否']), CTX)
    row = r.rows.iloc[0]
    assert pd.isna(row["rating"]) and row["issue_description"] == text and not row["reopened"]


def test_unknown_order_feedback_is_quarantined_with_reason() -> None:
    r = stage_feedback(
        feedback_file(
            ["F1,O1,2026-10-01 10:00:00,5,review,好,,,,false", "F2,O404,2026-10-01 10:00:00,1,complaint,差,,,,false"]
        ),
        CTX,
    )
    orders = pd.DataFrame({"order_id": ["O1"], "landing_date": [DAY]})
    r = quarantine_unknown_orders(r, orders, 14, 7)
    assert list(r.rows["feedback_id"]) == ["F1"] and r.balanced
    q = r.quarantined.iloc[0]
    assert q["rule"] == "unknown_order" and "O404" in q["reason"] and q["source_row"] == 2


def test_feedback_for_an_order_landed_too_long_before_is_unknown() -> None:
    r = stage_feedback(feedback_file(["F1,O1,2026-10-01 10:00:00,5,review,好,,,,false"]), CTX)
    orders = pd.DataFrame({"order_id": ["O1"], "landing_date": [DAY - dt.timedelta(days=30)]})
    assert list(quarantine_unknown_orders(r, orders, 14, 7).quarantined["rule"]) == ["unknown_order"]


def test_missing_required_column_fails_the_file() -> None:
    with pytest.raises(LandingFileError, match=r"orders/2026-10-01/x.csv: required column\(s\) amount"):
        stage_orders(landed("orders", "order_id,created_at,status,channel", ["O1,2026-10-01 10:00:00,paid,web"]), CTX)


def test_extra_column_is_a_warning_not_an_error() -> None:
    r = stage_orders(
        landed("orders", ORDERS_HEADER + ",coupon", ["O1,2026-10-01 10:00:00,U1,杯,1,10,alipay,paid,web,X"]), CTX
    )
    assert len(r.rows) == 1 and "coupon" in r.warnings[0]


def test_ticket_times_after_the_export_or_before_creation_are_quarantined() -> None:
    r = stage_feedback(
        feedback_file(
            [
                "F1,O1,2026-10-01 10:00:00,1,complaint,x,2026-10-01 11:00:00,2026-10-02 09:00:00,refunded,false",
                "F2,O2,2026-10-01 10:00:00,1,complaint,x,2026-10-01 09:00:00,,,false",
            ]
        ),
        CTX,
    )
    q = r.quarantined.sort_values("source_row")
    assert list(zip(q["rule"], q["column_name"], strict=True)) == [
        ("future_date", "resolved_at"),
        ("invalid_interval", "first_response_at"),
    ]


def test_behaviour_rules() -> None:
    r = stage_behaviour(
        landed(
            "behaviour",
            BEHAVIOUR_HEADER,
            [
                "S1,V1,2026-10-01 10:00:00,2026-10-01 10:05:00,3,true",
                "S2,V1,2026-10-01 10:00:00,2026-10-01 09:00:00,3,x",
            ],
        ),
        CTX,
    )
    assert len(r.rows) == 1 and list(r.quarantined["rule"]) == ["invalid_interval"]


# --- marts -------------------------------------------------------------------------------------


def staged_orders(lines: list[str], day: dt.date = DAY) -> pd.DataFrame:
    return stage_orders(orders_file(lines, day), CTX).rows


def staged_feedback(lines: list[str], day: dt.date = DAY + dt.timedelta(days=3)) -> pd.DataFrame:
    result = stage_feedback(feedback_file(lines, day), CTX)
    assert result.quarantined.empty, result.quarantined["reason"].tolist()
    return result.rows


def seed_problem_rows(orders: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """The seed behaviour, written independently: inner merge, rating < 3, one row per issue of each problem order."""
    merged = orders.merge(feedback, on="order_id", how="inner")
    problems = merged[merged["rating"] < 3]
    per_order = [problems[problems["order_id"] == oid] for oid in problems["order_id"].unique()]
    return pd.concat(per_order)[["order_id", "feedback_id", "rating"]] if per_order else problems


@pytest.mark.slow
def test_seed_behaviour_is_reproduced() -> None:
    orders = staged_orders([f"O{i},2026-10-01 10:0{i}:00,U{i},杯,1,10,alipay,completed,web" for i in range(1, 7)])
    feedback = staged_feedback(
        [
            "F1,O1,2026-10-01 12:00:00,1,review,物流太慢 没收到货,,,,false",
            "F2,O1,2026-10-01 13:00:00,2,review,支付失败 重复扣款,,,,false",
            "F3,O2,2026-10-01 12:00:00,5,review,很好,,,,false",
            "F4,O3,2026-10-01 12:00:00,2,review,arrived broken,,,,false",
            "F5,O4,2026-10-01 12:00:00,3,review,一般,,,,false",
            "F6,O6,2026-10-01 12:00:00,1,review,return process too complicated,,,,false",
        ]
    )
    seed = seed_problem_rows(
        orders[["order_id"]], feedback[["order_id", "feedback_id", "rating"]].astype({"rating": "float64"})
    )
    fact = build_order_feedback(orders, feedback, DAY, DAY + dt.timedelta(days=1), ("complaint",))
    assert len(fact) == 7  # six orders, O1 twice, O5 without feedback kept
    problems = build_problem_orders(fact, load_cause_rules())
    ours = problems.loc[problems["is_low_rating"], ["order_id", "feedback_id", "rating"]]
    key = ["order_id", "feedback_id"]
    ours = ours.astype({"rating": "float64"}).sort_values(key).values.tolist()
    assert ours == seed.sort_values(key).values.tolist()
    wo = build_work_orders(problems, load_service_rules(), None)
    assert len(wo) == len(seed)  # one work order per issue here: every issue has its own cause
    covered = {(o, f) for o, fs in zip(wo["order_id"], wo["feedback_ids"], strict=True) for f in fs}  # lists
    assert covered == set(map(tuple, seed[key].values.tolist()))
    assert dict(zip(wo["feedback_ids"].map(",".join), wo["cause"], strict=True)) == {
        "F1": "not_delivered",
        "F2": "payment",
        "F4": "quality",
        "F6": "cumbersome_return",
    }


def test_cause_rules_chinese_english_and_fallback() -> None:
    located = locate_causes(
        pd.Series(["complaint", "review", "return", "review", "payment"]),
        pd.Series(["没收到货", "Item arrived BROKEN", "", "客服态度差", None]),
        load_cause_rules(),
    )
    assert list(located["cause"]) == ["not_delivered", "quality", "cumbersome_return", "other", "payment"]


@pytest.mark.slow
def test_work_orders_actions_priority_sla_and_stable_ids() -> None:
    orders = staged_orders(["O1,2026-10-01 10:00:00,U1,杯,1,10,alipay,completed,web"])
    feedback = staged_feedback(
        [
            "F1,O1,2026-10-01 12:00:00,2,complaint,快递丢件 and the cup is broken,2026-10-01 12:10:00,"
            "2026-10-03 12:00:00,replaced,false"
        ]
    )
    fact = build_order_feedback(orders, feedback, DAY, DAY + dt.timedelta(days=1), ("complaint",))
    wo = build_work_orders(build_problem_orders(fact, load_cause_rules()), load_service_rules(), None)
    assert list(wo["cause"]) == ["not_delivered", "quality"]
    first = wo.iloc[0]
    assert first["suggested_action"] == "查看物流进度" and "更换收货地址" in first["suggested_actions"]
    assert "立即维修" in wo.iloc[1]["suggested_actions"]
    assert (first["priority"], first["sla_hours"], first["status"]) == ("P2", 24, "resolved")
    assert bool(first["sla_breached"])  # resolved 48 h after a 24 h SLA
    assert first["work_order_id"] == work_order_id("O1", "not_delivered")


@pytest.mark.slow
def test_metrics_daily_five_measures() -> None:
    orders = staged_orders([f"O{i},2026-10-01 10:00:00,U{i},杯,1,10,alipay,completed,web" for i in range(1, 5)])
    feedback = staged_feedback(
        [
            "F1,O1,2026-10-01 12:00:00,1,complaint,没收到货,2026-10-01 12:30:00,2026-10-01 18:00:00,"
            "info_provided,false",
            "F2,O2,2026-10-01 12:00:00,5,review,好,,,,false",
            "F3,O3,2026-10-01 12:00:00,2,return,太麻烦,2026-10-01 13:00:00,2026-10-02 00:00:00,refunded,true",
        ]
    )
    fact = build_order_feedback(orders, feedback, DAY, DAY + dt.timedelta(days=1), ("complaint", "return"))
    problems = build_problem_orders(fact, load_cause_rules())
    wo = build_work_orders(problems, load_service_rules(), None)
    sessions = []
    for back, n in [(7, 10), (6, 10), (5, 10), (4, 10), (3, 10), (2, 10), (1, 10), (0, 20)]:
        day = DAY - dt.timedelta(days=back)
        for i in range(n):
            sessions.append(
                f"S{back}-{i},V{i},{day} 10:00:00,{day} 10:01:00,1,{'true' if (back, i) == (0, 0) else 'false'}"
            )
    behaviour = stage_behaviour(landed("behaviour", BEHAVIOUR_HEADER, sessions), CTX).rows
    m = build_metrics_daily(fact, problems, wo, behaviour, DAY, DAY + dt.timedelta(days=1)).iloc[0]
    assert (m["orders"], m["problem_orders"], m["complaint_rate"]) == (4, 2, 0.5)
    assert (m["visitors"], m["visitors_trailing_7d_mean"], m["rolling_visitor_rate"]) == (20, 10.0, 2.0)
    assert (m["sessions"], m["sessions_with_submission"], m["submission_rate"]) == (20, 1, 0.05)
    # F1 answered and resolved; F3 reopened so not effective; F2 is a review, not a ticket.
    assert (m["effective_after_sales_count"], m["handled_tickets"]) == (1, 2)
    assert (m["handling_time_hours_mean"], m["handling_time_hours_median"]) == (9.0, 9.0)
    assert m["work_orders"] == 2


def test_has_duplicates_counts_missing_values_as_one_value() -> None:
    from after_sales.transforms.arrow_ops import has_duplicates

    assert not has_duplicates(pd.Series(["a", "b", None], dtype="string"))
    assert has_duplicates(pd.Series(["a", "b", "a"], dtype="string"))
    assert has_duplicates(pd.Series(["a", None, None], dtype="string"))  # as Series.duplicated counts them
    assert not has_duplicates(pd.Series([], dtype="string"))


@given(
    st.lists(st.sampled_from(["W1", "W2", "W3", "中"]), max_size=5),
    st.lists(st.tuples(st.sampled_from(["W1", "W2", "W9", "中"]), st.text(max_size=3)), max_size=12),
)
def test_feedback_ids_are_rebuilt_from_the_bridge_as_sorted_lists(orders: list[str], links: list[tuple]) -> None:
    from after_sales.transforms.marts import FEEDBACK_IDS, with_feedback_ids

    work_orders = pd.DataFrame({"work_order_id": pd.Series(orders, dtype="string"), "n": range(len(orders))})
    bridge = pd.DataFrame(links, columns=["work_order_id", "feedback_id"]).astype("string")
    got = with_feedback_ids(work_orders, bridge)
    lists: dict[str, list[str]] = {}
    for w, f in links:  # the Python loop it replaced
        lists.setdefault(w, []).append(f)
    assert got[FEEDBACK_IDS].tolist() == [sorted(lists.get(w, [])) for w in orders]
    pd.testing.assert_frame_equal(got.drop(columns=FEEDBACK_IDS), work_orders)
