"""Signals and funnels where people look: per-partition Dagster figures and the report's behaviour section.

Every figure below is worked out by hand from the rows written here (signal_accuracy and behaviour_funnels rows
as the assets write them).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from after_sales.behaviour.charts import BehaviourData, behaviour_html, render_behaviour_png, window_accuracy
from after_sales.behaviour.figures import accuracy_figures, funnel_figures, signal_figures
from after_sales.behaviour.rules import load_signal_rules
from after_sales.behaviour.signals import EVENT_INPUT, ORDER_INPUT, detect_signals, measure_funnels, to_arrow
from after_sales.tables import BEHAVIOUR_FUNNELS, STG_EVENTS, STG_ORDERS
from after_sales.transforms.staging import stage_events
from tests.support.behaviour import EVENTS_HEADER
from tests.test_transforms import CTX, landed

TZ = "Asia/Shanghai"
D1, D2, D3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


def accuracy_row(day: dt.date, rule: str, **figures: object) -> dict[str, object]:
    row: dict[str, object] = {
        "business_date": day,
        "rule": rule,
        "cause": "payment",
        "signals": 0,
        "signals_with_order": 0,
        "confirmed_signals": 0,
        "complaints": 0,
        "anticipated_complaints": 0,
        "lead_hours_mean": None,
        "lead_hours_median": None,
        "window_closed": True,
    }
    row.update(figures)
    s, k = row["signals"], row["complaints"]
    row["precision"] = row["confirmed_signals"] / s if s else None  # type: ignore[operator]
    row["recall"] = row["anticipated_complaints"] / k if k else None  # type: ignore[operator]
    return row


# repeated_payment_failure: D1 4 signals (2 confirmed), 2 complaints (1 anticipated, 10 h ahead); D2 1 signal
# (confirmed), 3 complaints (all anticipated, 2 h ahead on average); D3 not closed yet (left out of the window).
ACCURACY = pd.DataFrame(
    [
        accuracy_row(D1, "repeated_payment_failure", signals=4, confirmed_signals=2, complaints=2,
                     anticipated_complaints=1, lead_hours_mean=10.0, lead_hours_median=10.0),
        accuracy_row(D2, "repeated_payment_failure", signals=1, confirmed_signals=1, complaints=3,
                     anticipated_complaints=3, lead_hours_mean=2.0, lead_hours_median=1.0),
        accuracy_row(D3, "repeated_payment_failure", signals=9, confirmed_signals=0, window_closed=False),
        accuracy_row(D1, "payment_search", signals=0, complaints=2),
        accuracy_row(D1, "all", signals=4, confirmed_signals=2, complaints=2, anticipated_complaints=1,
                     lead_hours_mean=10.0),
    ]
)


def funnel_rows() -> pd.DataFrame:
    filler = {"int": 0, "float": None, "text": None}
    rows = [{c.name: filler.get(c.type) for c in BEHAVIOUR_FUNNELS.columns} for _ in (D1, D2)]
    rows[0].update(business_date=D1, checkout_orders=4, paid_checkout_orders=3, checkout_payment_rate=0.75,
                   searches=10, after_sales_searches=4, zero_result_searches=1, zero_result_rate=0.1,
                   top_after_sales_terms="怎么付款 3, 快递到哪了 1", top_zero_result_terms="xyzzy 1")
    rows[1].update(business_date=D2, return_starts=2, returns_submitted=1, return_completion_rate=0.5)
    return pd.DataFrame(rows)


def test_window_accuracy_sums_counts_of_closed_days() -> None:
    out = window_accuracy(ACCURACY).set_index("rule")
    rpf = out.loc["repeated_payment_failure"]
    assert (rpf["signals"], rpf["complaints"], rpf["closed_days"]) == (5, 5, 2)
    assert rpf["precision"] == pytest.approx(3 / 5)  # (2 + 1) / (4 + 1), not the mean of 0.5 and 1.0
    assert rpf["recall"] == pytest.approx(4 / 5)  # (1 + 3) / (2 + 3)
    assert rpf["lead_hours_mean"] == pytest.approx((10 * 1 + 2 * 3) / 4)  # weighted by anticipated complaints
    assert pd.isna(out.loc["payment_search", "precision"]) and out.loc["payment_search", "recall"] == 0
    assert list(out.index)[-1] == "all"


def test_partition_figures_for_dagster_plots() -> None:
    acc = accuracy_figures(ACCURACY)
    assert acc[D1]["precision/repeated_payment_failure"] == 0.5
    assert acc[D2]["recall/repeated_payment_failure"] == 1.0
    assert acc[D1]["lead_hours_mean/repeated_payment_failure"] == 10.0
    assert "precision/payment_search" not in acc[D1]  # no signal: no rate to plot (not a 0)
    assert acc[D1]["recall/payment_search"] == 0.0
    table = acc[D1]["accuracy_table"]
    assert [r.data["rule"] for r in table.records] == ["repeated_payment_failure", "payment_search", "all"]
    funnels = funnel_figures(funnel_rows())
    assert funnels[D1]["checkout_payment_rate"] == 0.75 and funnels[D1]["searches"] == 10
    assert "return_completion_rate" not in funnels[D1] and funnels[D2]["return_completion_rate"] == 0.5
    assert funnels[D1]["top_after_sales_terms"].value == "- 怎么付款 3\n- 快递到哪了 1"
    assert funnels[D2]["top_zero_result_terms"].value == "none"
    signals = pd.DataFrame({"signal_date": [D1, D1, D2], "rule": ["a", "b", "a"]})
    per_day = signal_figures(signals, ["a", "b", "c"], [D1, D2, D3])
    assert per_day[D1] == {"signals/a": 1, "signals/b": 1, "signals/c": 0, "signals": 2}
    assert per_day[D3]["signals"] == 0


@pytest.mark.slow
def test_report_section_draws_and_tabulates_signals_and_funnels(tmp_path: Path) -> None:
    data = BehaviourData(D1, D3, ACCURACY, funnel_rows())
    png = render_behaviour_png(data, tmp_path / "behaviour_30d.png", "warehouse x")
    assert png.stat().st_size > 10_000
    page = behaviour_html(data, "AAAA")
    assert "<td>repeated_payment_failure</td><td>5</td><td>60.0%</td><td>5</td><td>80.0%</td><td>4.0</td>" in page
    assert "怎么付款 3, 快递到哪了 1" in page and "xyzzy 1" in page
    assert "<td>2025-03-02</td>" in page and "50.0%" in page
    empty = BehaviourData(D1, D1, ACCURACY.iloc[0:0], funnel_rows().iloc[0:0])
    assert render_behaviour_png(empty, tmp_path / "empty.png").exists()
    assert "No day with a closed 7-day window yet." in behaviour_html(empty, "")


SEARCHES = [
    "E1,,V9,,,2025-03-01 10:00:00,search,search,怎么付款,2,",
    "E2,,V9,,,2025-03-01 20:00:00,search,search,怎么付款,2,",  # within 24 h of E1: the count did not fall
    "E3,,V9,,,2025-03-03 10:00:00,search,search,怎么付款,2,",  # 48 h after E1, 38 h after E2: fires again
]


@pytest.mark.slow
def test_a_rule_fires_again_once_its_window_emptied_whatever_the_events_handed_in(tmp_path: Path) -> None:
    staged = [stage_events(landed("events", EVENTS_HEADER, SEARCHES[:2], D1), CTX)]
    staged.append(stage_events(landed("events", EVENTS_HEADER, SEARCHES[2:], D3), CTX))
    assert all(s.quarantined.empty for s in staged)
    events = pd.concat([s.rows for s in staged], ignore_index=True)
    orders = pd.DataFrame(columns=list(ORDER_INPUT))
    config = load_signal_rules()
    found = detect_signals(events, orders, config, D1, D3 + dt.timedelta(days=1), TZ)
    search = found.loc[found["rule"] == "payment_search"]
    assert search["event_ids"].tolist() == ["E1", "E3"]
    assert search["signal_date"].tolist() == [D1, D3]
    # The same rows handed in as Parquet files (a DuckDB warehouse's window) give the same signals and funnels.
    pq.write_table(to_arrow(STG_EVENTS, events, EVENT_INPUT), tmp_path / "events.parquet")
    pq.write_table(to_arrow(STG_ORDERS, orders, ORDER_INPUT), tmp_path / "orders.parquet")
    from_files = detect_signals(tmp_path / "events.parquet", tmp_path / "orders.parquet", config, D1, D3, TZ)
    pd.testing.assert_frame_equal(from_files, detect_signals(events, orders, config, D1, D3, TZ))
    funnels = measure_funnels(tmp_path / "events.parquet", tmp_path / "orders.parquet", config, D1, D3, TZ)
    pd.testing.assert_frame_equal(funnels, measure_funnels(events, orders, config, D1, D3, TZ))
    assert funnels["searches"].tolist() == [2, 0]


def test_latest_landing_decides_the_type_and_evidence_lists_every_type(tmp_path: Path) -> None:
    """Only a few event types are attributed and read by the rules: exact whatever a later landing changes."""
    first = [
        "P1,,V1,,O1,2025-03-01 10:00:00,payment_result,pay,,failure,card",
        "P2,,V1,,O1,2025-03-01 10:30:00,payment_result,pay,,failure,card",
        "R1,,V2,,O2,2025-03-01 09:00:00,return_start,return_step_1,,,",
        "R2,,V2,,O2,2025-03-01 10:00:00,page_view,return_help,,,",
    ]
    # P2 lands again as a page view: its latest landing counts, so O1 has one failure, not two.
    again = ["P2,,V1,,O1,2025-03-01 10:30:00,page_view,pay,,,", "X1,,V3,,,2025-03-02 12:00:00,page_view,home,,,"]
    staged = [stage_events(landed("events", EVENTS_HEADER, first, D1), CTX)]
    staged.append(stage_events(landed("events", EVENTS_HEADER, again, D2), CTX))
    assert all(s.quarantined.empty for s in staged)
    events = pd.concat([s.rows for s in staged], ignore_index=True)
    orders = pd.DataFrame(columns=list(ORDER_INPUT))
    config = load_signal_rules()
    found = detect_signals(events, orders, config, D1, D3, TZ)
    # The return started at 09:00 on D1 and not submitted is detected 24 h later, with the page view between.
    assert found[["rule", "signal_date", "subject_id", "event_count", "event_ids"]].values.tolist() == [
        ["abandoned_return", D2, "O2", 2, "R1,R2"]
    ]
    funnels = measure_funnels(events, orders, config, D1, D3, TZ)
    assert funnels[["payment_results", "payment_failures", "return_starts", "visitors"]].values.tolist() == [
        [1, 1, 1, 2],
        [0, 0, 0, 1],
    ]
    pq.write_table(to_arrow(STG_EVENTS, events, EVENT_INPUT), tmp_path / "events.parquet")
    pq.write_table(to_arrow(STG_ORDERS, orders, ORDER_INPUT), tmp_path / "orders.parquet")
    pd.testing.assert_frame_equal(
        detect_signals(tmp_path / "events.parquet", tmp_path / "orders.parquet", config, D1, D3, TZ), found
    )
