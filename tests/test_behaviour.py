"""Behaviour signals and their accuracy, proved on the hand-made fixture (tests/support/behaviour.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from after_sales.behaviour.accuracy import complaints_of, measure_accuracy
from after_sales.behaviour.rules import SignalConfig, load_signal_rules, locate_query
from after_sales.behaviour.signals import detect_signals
from after_sales.landing import landed_days, landed_paths, read_landed_file
from after_sales.transforms.rules import load_cause_rules
from after_sales.transforms.staging import KINDS, StagingContext, combine
from tests.support.behaviour import write_fixture

TZ = "Asia/Shanghai"
D = dt.date(2025, 3, 10)


def staged(landing: Path, source: str) -> pd.DataFrame:
    """Every landed file of a source, staged."""
    kind = KINDS[source]
    ctx = StagingContext(timezone=TZ, late_arrival_days=7)
    files = landed_paths(landing, source, landed_days(landing, source))
    result = combine(
        [kind.stage(read_landed_file(landing, source, d, p), ctx) for d, p in files], kind.spec, kind.id_column
    )
    assert result.balanced and result.quarantined.empty, result.quarantined
    return result.rows


@pytest.fixture(scope="module")
def staged_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """The fixture's orders, events and feedback, landed and staged once for the module."""
    landing = tmp_path_factory.mktemp("behaviour") / "landing"
    write_fixture(landing)
    return {s: staged(landing, s) for s in ("orders", "events", "feedback")}


@pytest.fixture
def fixture_rows(staged_fixture: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A copy of the staged fixture for one test."""
    return {s: frame.copy() for s, frame in staged_fixture.items()}


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


@pytest.mark.slow
def test_every_signal_on_the_fixture(fixture_rows: dict[str, pd.DataFrame]) -> None:
    signals = detect_signals(
        fixture_rows["events"], fixture_rows["orders"], load_signal_rules(), D, D + dt.timedelta(days=1), TZ
    )
    got = {(r.rule, r.subject_id): r for r in signals.itertuples()}
    assert sorted(got) == [
        ("abandoned_return", "O3"),  # started 03-09 10:00, never submitted: fires at 03-10 10:00
        ("delivery_search", "O6"),  # 快递到哪了 by U6 (no order id): U6's latest order O6
        ("late_parcel_tracking", "O2"),  # views 03-09 20:00, 03-10 08:00, 09:00 after the promise 03-04 10:00
        ("payment_search", "visitor:V9"),  # 怎么付款, anonymous
        ("repeated_payment_failure", "O1"),  # E1, E2 fail; O5 fails, succeeds, fails: no signal
        ("return_back_and_forth", "O4"),  # steps 1,2,1,2,1: two steps back (E43, E45)
    ]
    pay = got[("repeated_payment_failure", "O1")]
    assert (pay.event_ids, pay.event_count, pay.detected_at) == ("E1,E2", 2, t("2025-03-10 09:03"))
    assert (pay.first_event_at, pay.last_event_at, pay.cause, pay.suggested_action) == (
        t("2025-03-10 09:01"),
        t("2025-03-10 09:03"),
        "payment",
        "更换支付方式",
    )
    track = got[("late_parcel_tracking", "O2")]
    assert (track.event_ids, track.event_count, track.first_event_at, track.detected_at) == (
        "E21,E22,E23",
        3,
        t("2025-03-09 20:00"),
        t("2025-03-10 09:00"),
    )
    ret = got[("abandoned_return", "O3")]
    assert (ret.event_ids, ret.event_count, ret.detected_at, ret.last_event_at) == (
        "E30,E31",
        2,
        t("2025-03-10 10:00"),
        t("2025-03-09 10:02"),
    )
    back = got[("return_back_and_forth", "O4")]
    assert (back.event_ids, back.event_count, back.detected_at, back.suggested_action) == (
        "E43,E45",
        2,
        t("2025-03-10 11:05"),
        "上门取件",
    )
    search = got[("delivery_search", "O6")]
    assert (search.order_id, bool(search.order_attributed), search.user_id, search.event_ids) == (
        "O6",
        True,
        "U6",
        "E50",
    )
    anon = got[("payment_search", "visitor:V9")]
    assert pd.isna(anon.order_id) and not anon.order_attributed and anon.visitor_id == "V9"
    assert (pay.order_date, pay.channel, search.order_date) == (D, "web", dt.date(2025, 3, 2))
    assert set(signals["signal_date"]) == {D}


@pytest.mark.slow
def test_signals_only_on_their_detection_day(fixture_rows: dict[str, pd.DataFrame]) -> None:
    before = detect_signals(
        fixture_rows["events"], fixture_rows["orders"], load_signal_rules(), D - dt.timedelta(days=1), D, TZ
    )
    assert before.empty  # on 03-09 no rule is complete yet (the return wait ends 03-10 10:00)


@pytest.mark.slow
def test_accuracy_figures_by_hand(fixture_rows: dict[str, pd.DataFrame]) -> None:
    config = load_signal_rules()
    signals = detect_signals(fixture_rows["events"], fixture_rows["orders"], config, D, D + dt.timedelta(days=3), TZ)
    complaints = complaints_of(fixture_rows["feedback"])
    assert sorted(complaints["feedback_id"]) == ["F1", "F2", "F3", "F5"]  # F4 is a 5-star review
    acc = measure_accuracy(signals, complaints, config, D, D + dt.timedelta(days=3), TZ, dt.date(2025, 3, 12))
    row = {(r.business_date, r.rule): r for r in acc.itertuples()}
    assert len(acc) == 3 * (len(config.signals) + 1)

    def figures(day: dt.date, rule: str) -> tuple[object, ...]:
        r = row[(day, rule)]
        return (
            r.signals,
            r.signals_with_order,
            r.confirmed_signals,
            _n(r.precision),
            r.complaints,
            r.anticipated_complaints,
            _n(r.recall),
            _n(r.lead_hours_mean),
        )

    # 03-10: O1 confirmed by F1 (03-11), O2 by F2 (03-12), O4 by F5 (12:00 after 11:05); O3, O6, V9 not.
    assert figures(D, "repeated_payment_failure") == (1, 1, 1, 1.0, 0, 0, None, None)
    assert figures(D, "payment_search") == (1, 0, 0, 0.0, 0, 0, None, None)
    assert figures(D, "late_parcel_tracking") == (1, 1, 1, 1.0, 1, 0, 0.0, None)  # F3 (O7) not anticipated
    assert figures(D, "delivery_search") == (1, 1, 0, 0.0, 1, 0, 0.0, None)
    assert figures(D, "abandoned_return") == (1, 1, 0, 0.0, 1, 0, 0.0, None)
    assert figures(D, "return_back_and_forth") == (1, 1, 1, 1.0, 1, 1, 1.0, pytest.approx(55 / 60))
    assert figures(D, "return_search") == (0, 0, 0, None, 1, 0, 0.0, None)
    assert figures(D, "all") == (6, 5, 3, 0.5, 2, 1, 0.5, pytest.approx(55 / 60))
    # 03-11: F1 anticipated by the payment signal of 03-10 09:03, 24 h 57 min before.
    assert figures(D + dt.timedelta(days=1), "repeated_payment_failure") == (
        0,
        0,
        0,
        None,
        1,
        1,
        1.0,
        pytest.approx(24.95),
    )
    # 03-12: F2 anticipated by the tracking signal of 03-10 09:00, 48 h before.
    assert figures(D + dt.timedelta(days=2), "late_parcel_tracking") == (0, 0, 0, None, 1, 1, 1.0, 48.0)
    assert figures(D + dt.timedelta(days=2), "all") == (0, 0, 0, None, 1, 1, 1.0, 48.0)
    assert not row[(D, "all")].window_closed  # complaints seen through 03-12 only

    # A subject flagged by two rules on one day is one subject for 'all'.
    twice = signals.loc[signals["subject_id"] == "O1"].assign(rule="payment_search", detected_at=t("2025-03-10 10:00"))
    acc = measure_accuracy(
        pd.concat([signals, twice], ignore_index=True),
        complaints,
        config,
        D,
        D + dt.timedelta(days=1),
        TZ,
        dt.date(2025, 3, 12),
    )
    by_rule = acc.set_index("rule")
    assert (by_rule.loc["payment_search", "signals"], by_rule.loc["all", "signals"]) == (2, 6)
    assert by_rule.loc["all", "confirmed_signals"] == 3


def _n(value: object) -> object:
    return None if pd.isna(value) else value


def test_queries_are_segmented_not_substring_matched() -> None:
    rules = load_cause_rules()
    assert locate_query("怎么付款", rules) == "payment"
    assert locate_query("快递到哪了", rules) == "not_delivered"
    assert locate_query("退货流程", rules) == "cumbersome_return"
    assert locate_query("蓝牙耳机", rules) is None
    # 发货 is a keyword, but in 批发货品 jieba reads 批发 + 货品: no match (a substring test would say not_delivered).
    assert locate_query("批发货品", rules) is None


def test_rule_file_is_validated() -> None:
    good = load_signal_rules().model_dump()
    bad = {**good, "signals": [{**good["signals"][0], "action": "立即维修"}]}
    with pytest.raises(ValueError, match="not an action of payment"):
        SignalConfig.model_validate(bad)
    bad = {**good, "signals": [{**good["signals"][0], "kind": "made_up"}]}
    with pytest.raises(ValueError):
        SignalConfig.model_validate(bad)
    bad = {**good, "signals": [good["signals"][0], good["signals"][0]]}
    with pytest.raises(ValueError, match="unique"):
        SignalConfig.model_validate(bad)


def test_sessions_from_events_30_minute_rule(fixture_rows: dict[str, pd.DataFrame]) -> None:
    from after_sales.behaviour.signals import derive_sessions

    sessions = derive_sessions(fixture_rows["events"], D, D + dt.timedelta(days=1), TZ)
    per_visitor = sessions.groupby("visitor_id").size().to_dict()
    # V2: 08:00 and 09:00 (60 min apart: two); V9: 16:00, 16:10, 16:20 then 17:00 (40 min gap: two).
    assert per_visitor == {"V1": 1, "V2": 2, "V4": 1, "V5": 1, "V6": 1, "V7": 1, "V9": 2}
    v9 = sessions.loc[sessions["visitor_id"] == "V9"].sort_values("started_at")
    assert v9["events"].tolist() == [3, 1] and v9["pages"].tolist() == [1, 1]
    assert v9["session_id"].iloc[0] == "V9@20250310T080000"  # 16:00 in Shanghai is 08:00 UTC
    assert not sessions["submitted_after_sales_form"].any()


BEHAVIOUR_CHAIN = [
    "stg_orders",
    "stg_feedback",
    "stg_events",
    "event_sessions",
    "behaviour_signals",
    "signal_accuracy",
    "behaviour_funnels",
]


@pytest.mark.slow
def test_materialize_events_to_signals_and_accuracy(landing: Path, resources: dict[str, object]) -> None:
    from after_sales.resources.warehouse import Warehouse
    from tests.support.runs import run_range

    write_fixture(landing)
    # One bad event row: quarantined alone, naming file, row and column.
    bad = landing / "events" / "2025-03-10" / "more.csv"
    bad.write_text(
        "event_id,visitor_id,occurred_at,event_type,result\nX1,V1,2025-03-10 10:00:00,payment_result,maybe\n"
        "X2,V1,2025-03-10 10:01:00,page_view,\n",
        encoding="utf-8",
    )
    result = run_range(resources, "2025-03-01", "2025-03-12", BEHAVIOUR_CHAIN)
    assert result.success
    wh: Warehouse = resources["warehouse"].open()  # type: ignore[attr-defined]
    q = wh.query("SELECT rule, reason FROM after_sales.quarantine WHERE staging_table = 'stg_events'")
    assert q["rule"].tolist() == ["invalid_result"]
    assert "events/2025-03-10/more.csv row 1, column result" in q["reason"].iloc[0]
    assert wh.query("SELECT count(*) AS n FROM after_sales.stg_events")["n"].iloc[0] == 28  # 27 fixture events and X2
    signals = wh.query("SELECT rule, subject_id FROM after_sales.behaviour_signals ORDER BY rule")
    assert list(zip(signals["rule"], signals["subject_id"], strict=True)) == [
        ("abandoned_return", "O3"),
        ("delivery_search", "O6"),
        ("late_parcel_tracking", "O2"),
        ("payment_search", "visitor:V9"),
        ("repeated_payment_failure", "O1"),
        ("return_back_and_forth", "O4"),
    ]
    acc = wh.query(
        "SELECT signals, confirmed_signals, precision, complaints, anticipated_complaints, recall "
        "FROM after_sales.signal_accuracy WHERE business_date = DATE '2025-03-10' AND rule = 'all'"
    ).iloc[0]
    assert acc.tolist() == [6, 3, 0.5, 2, 1, 0.5]
    sessions = wh.query("SELECT count(*) AS n FROM after_sales.event_sessions WHERE business_date = '2025-03-10'")
    assert sessions["n"].iloc[0] == 10  # the 9 of the fixture and X2 (V1 at 10:01, 51 minutes after 09:10)
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[("behaviour_signals", "evidence_consistent")] and checks[("signal_accuracy", "counts_nest")]
    assert checks[("stg_events", "rows_conserved")] and checks[("behaviour_funnels", "funnel_nests")]
    from after_sales.behaviour_summary import summary_lines

    lines = summary_lines(wh, "after_sales", landing)  # what the demo prints (no window closed by 03-12 yet)
    assert lines[0].startswith("Behaviour signals: 5 signals on orders, 5 problem orders")
    funnels = wh.query("SELECT * FROM after_sales.behaviour_funnels WHERE business_date = '2025-03-10'").iloc[0]
    assert (funnels["payment_results"], funnels["searches"], funnels["return_completion_rate"]) == (6, 3, 1.0)


def test_funnels_and_search_analytics_by_hand(fixture_rows: dict[str, pd.DataFrame]) -> None:
    from after_sales.behaviour.signals import measure_funnels

    f = measure_funnels(
        fixture_rows["events"], fixture_rows["orders"], load_signal_rules(), D, D + dt.timedelta(days=1), TZ
    ).iloc[0]
    assert f["business_date"] == D
    # O1 checked out at 09:00:30 and never paid; O5 checked out at 11:59 and paid at 12:01.
    assert (f["checkout_orders"], f["paid_checkout_orders"], f["checkout_payment_rate"]) == (2, 1, 0.5)
    # E1, E2, E3, E10, E12 failed, E11 succeeded.
    assert (f["payment_results"], f["payment_failures"]) == (6, 5)
    assert f["payment_failure_rate"] == pytest.approx(5 / 6)
    assert f["payment_failure_reasons"] == "card_declined 2, timeout 2, insufficient_funds 1"
    # O2 viewed twice on 03-10, after its promise (03-04 10:00).
    assert (f["tracked_orders"], f["tracked_late_orders"], f["tracked_late_rate"]) == (1, 1, 1.0)
    # E40 started on 03-10 and submitted at 11:10 (E30 started the day before).
    assert (f["return_starts"], f["returns_submitted"], f["return_completion_rate"]) == (1, 1, 1.0)
    # V1, V2, V4, V5, V6, V7, V9; V7 contacted the helpdesk.
    assert (f["visitors"], f["contacting_visitors"]) == (7, 1)
    assert f["contact_rate"] == pytest.approx(1 / 7)
    assert (f["searches"], f["after_sales_searches"], f["zero_result_searches"]) == (3, 2, 1)
    assert f["zero_result_rate"] == pytest.approx(1 / 3)
    assert f["top_after_sales_terms"] == "快递到哪了 1, 怎么付款 1"
    assert f["top_zero_result_terms"] == "怎么付款 1"


def test_payment_result_without_a_result_column_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzzing: a payment_result row in a file without the optional result column is invalid_result."""
    folder = tmp_path / "events" / "2026-10-05"
    folder.mkdir(parents=True)
    (folder / "e.csv").write_text(
        "event_id,visitor_id,occurred_at,event_type\nE1,V1,2026-10-05 10:00:00,payment_result\n"
        "E2,V1,2026-10-05 10:01:00,page_view\n",
        encoding="utf-8",
    )
    landed = read_landed_file(tmp_path, "events", dt.date(2026, 10, 5), folder / "e.csv")
    result = KINDS["events"].stage(landed, StagingContext(timezone="Asia/Shanghai", late_arrival_days=7))
    assert result.rows["event_id"].tolist() == ["E2"]
    assert result.quarantined["rule"].tolist() == ["invalid_result"]
    assert "column result (not in the file)" in result.quarantined["reason"].iloc[0]
