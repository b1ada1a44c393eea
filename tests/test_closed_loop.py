"""The closed loop, proven on a hand-made fixture: the helpdesk action log staged (mapping, quarantine, conservation),
each action's measured effect, the effectiveness per day, cause and action, the ranking and its use.

Day D1 is 2026-03-02 (Asia/Shanghai). Orders O1, O2, O3 were placed on 2026-03-01 by users U1, U2, U3.
- O1: complaint F1 (2026-03-01 20:00, 快递一直没到: not_delivered). Agent tries 查看物流进度 (A1, 03-02 10:00); the
  customer tracks the parcel (E1, 20:00) and contacts the service again (E2, 21:00); the agent then changes the
  courier (A2, 03-03 10:00), after which nothing more happens in the 7 days.
- O2: a 快递到哪了 search by U2 (E0, 03-02 08:00) raises the delivery_search signal (not_delivered, proactive work
  order); 查看物流进度 (A3, 12:00); U2 browses again (E3, 03-04) and rates 4 (F3, 03-05).
- O3: complaint F2 (03-01 12:00, 付款失败: payment); 更换支付方式 logged against the order (A4, 03-02 09:00); the
  customer pays (E4, 09:30).
Events and feedback land through 2026-03-12, so every 7-day window has closed.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pandas as pd
import pytest

from after_sales.behaviour.actions import load_action_log_config, resolve_work_orders, stage_actions
from after_sales.behaviour.effects import apply_ranking, rank_actions
from after_sales.landing import read_landed_file
from after_sales.tables import ACTION_EFFECTS, STG_ACTIONS
from after_sales.transforms.marts import work_order_id
from after_sales.transforms.rules import load_service_rules
from after_sales.transforms.staging import StagingContext
from tests.landing_builders import FEEDBACK_HEADER, ORDERS_HEADER, write_landing

TZ = "Asia/Shanghai"
EVENTS_HEADER = (
    "event_id,session_id,visitor_id,user_id,order_id,occurred_at,event_type,page,search_query,result,reason_code"
)
# As a helpdesk exports its ticket audits (Zendesk-style headers, helpdesk_actions.yaml maps them).
ACTIONS_HEADER = "Audit ID,Ticket ID,Order ID,Macro,Author,Created at,Status"
W1, W2 = work_order_id("O1", "not_delivered"), work_order_id("O2", "not_delivered")
W3 = work_order_id("O3", "payment")
ACTIONS_D1 = [
    f"A1,{W1},,查询物流,agent1,2026-03-02 10:00:00,Pending",  # -> 查看物流进度
    f"A3,{W2},,查看物流进度,agent2,2026-03-02 12:00:00,已解决",
    "A4,,O3,更换支付方式,agent2,2026-03-02 09:00:00,resolved",  # an order only: cause payment (first listing it)
    "A5,WO-FFFFFFFFFFFF,,查看物流进度,agent1,2026-03-02 11:00:00,",  # unknown_work_order
    f"A6,{W1},,飞书通知,agent1,2026-03-02 11:00:00,",  # unknown_action
    "A7,,O9,更换支付方式,agent1,2026-03-02 11:00:00,",  # unknown_order
    f"A8,{W2},,查看物流进度,agent1,yesterday,",  # unparseable_date
    f"A9,{W2},O1,查看物流进度,agent1,2026-03-02 11:00:00,",  # work_order_mismatch: W2 is O2's
    f"A10,{W2},,查看物流进度,agent1,2026-03-02 11:00:00,maybe",  # invalid_outcome
    f"A3,{W2},,查看物流进度,agent2,2026-03-02 12:00:00,已解决",  # duplicate_row
]
ACTIONS_D2 = [f"A2,{W1},,change courier,agent1,2026-03-03 10:00:00,solved"]  # -> 修改快递


def write_loop_fixture(landing: Path) -> None:
    """The landing files of the module docstring."""
    write_landing(
        landing,
        "orders",
        "2026-03-01",
        [
            "O1,2026-03-01 10:00:00,U1,耳机,1,99.00,alipay,shipped,web",
            "O2,2026-03-01 10:00:00,U2,耳机,1,99.00,alipay,shipped,web",
            "O3,2026-03-01 10:00:00,U3,耳机,1,99.00,card,pending_payment,web",
        ],
        ORDERS_HEADER,
    )
    feedback = {
        "2026-03-01": [
            "F1,O1,2026-03-01 20:00:00,2,complaint,快递一直没到,,,,false",
            "F2,O3,2026-03-01 12:00:00,1,complaint,付款失败,,,,false",
        ],
        "2026-03-05": ["F3,O2,2026-03-05 10:00:00,4,review,很好,,,,false"],
        "2026-03-12": ["F4,O3,2026-03-12 10:00:00,5,review,很好,,,,false"],
    }
    for day, lines in feedback.items():
        write_landing(landing, "feedback", day, lines, FEEDBACK_HEADER)
    events = {
        "2026-03-02": [
            "E0,S0,V2,U2,,2026-03-02 08:00:00,search,search,快递到哪了,3,",
            "E4,S4,V3,U3,O3,2026-03-02 09:30:00,payment_result,pay,,success,",
            "E1,S1,V1,U1,O1,2026-03-02 20:00:00,order_track_view,order,,,",
            "E2,S1,V1,U1,O1,2026-03-02 21:00:00,contact_service,help,,,",
        ],
        "2026-03-04": ["E3,S3,V2,U2,,2026-03-04 09:00:00,page_view,home,,,"],
        "2026-03-12": ["E5,S5,V1,U1,O1,2026-03-12 09:00:00,order_track_view,order,,,"],  # after A2's window
    }
    for day, lines in events.items():
        write_landing(landing, "events", day, lines, EVENTS_HEADER)
    write_landing(landing, "actions", "2026-03-02", ACTIONS_D1, ACTIONS_HEADER, "audits.csv")
    write_landing(landing, "actions", "2026-03-03", ACTIONS_D2, ACTIONS_HEADER, "audits.csv")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=TZ)


def test_action_log_is_mapped_staged_and_quarantined_row_for_row(tmp_path: Path) -> None:
    write_loop_fixture(tmp_path)
    path = tmp_path / "actions" / "2026-03-02" / "audits.csv"
    landed = read_landed_file(tmp_path, "actions", dt.date(2026, 3, 2), path)
    staged = stage_actions(landed, StagingContext(timezone=TZ, late_arrival_days=7))
    orders = pd.DataFrame({"order_id": ["O1", "O2", "O3"]})
    result = resolve_work_orders(staged, orders, "around it")
    assert result.rows_read == 10
    assert result.balanced  # every row read is staged or quarantined
    rows = result.rows.set_index("action_id")
    assert sorted(rows.index) == ["A1", "A3", "A4"]
    assert rows.loc["A1", "action"] == "查看物流进度" and rows.loc["A1", "action_raw"] == "查询物流"
    assert rows.loc["A1", "outcome"] == "pending" and rows.loc["A3", "outcome"] == "resolved"
    assert rows.loc["A4", ["order_id", "cause", "work_order_id"]].tolist() == ["O3", "payment", W3]
    assert (rows.loc["A3", "order_id"], rows.loc["A3", "cause"]) == ("O2", "not_delivered")
    assert rows.loc["A1", "acted_at"] == ts("2026-03-02 10:00")
    rules = dict(zip(result.quarantined["source_row"], result.quarantined["rule"], strict=True))
    assert rules == {
        4: "unknown_work_order",
        5: "unknown_action",
        6: "unknown_order",
        7: "unparseable_date",
        8: "work_order_mismatch",
        9: "invalid_outcome",
        10: "duplicate_row",
    }
    reason = result.quarantined.set_index("source_row").loc[5, "reason"]
    assert reason.startswith("actions/2026-03-02/audits.csv row 5, column action:") and "飞书通知" in reason
    assert list(result.rows.columns) == STG_ACTIONS.column_names


def test_a_mapping_naming_one_label_twice_is_refused(tmp_path: Path) -> None:
    import yaml

    from after_sales.behaviour.actions import ACTIONS_FILE

    data = yaml.safe_load(ACTIONS_FILE.read_text(encoding="utf-8"))
    data["actions"]["修改快递"].append("查询物流")  # already a label of 查看物流进度
    bad = tmp_path / "helpdesk_actions.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="names both"):
        load_action_log_config(bad)


def _effect(day: str, action: str, cause: str, resolved: bool, n: int) -> list[dict[str, object]]:
    at = ts(f"{day} 10:00")
    return [
        {
            "business_date": at.date(),
            "action_id": f"{action}-{day}-{i}",
            "work_order_id": f"WO-{action}-{day}-{i}",
            "order_id": "O",
            "cause": cause,
            "action": action,
            "agent": None,
            "acted_at": at,
            "logged_outcome": None,
            "problem_found_at": None,
            "came_back": False,
            "tracked_again": False,
            "paid": False,
            "completed_return": False,
            "recontacted": not resolved,
            "followed_by_action": False,
            "followup_rating": None,
            "window_closed": True,
            "resolved": resolved,
            "resolution_hours": 0.0 if resolved else None,
        }
        for i in range(n)
    ]


def test_ranking_by_wilson_lower_bound_with_the_yaml_order_as_prior() -> None:
    # As of D = 2026-03-20 (lookback 28 days, windows of 7 days, evidence from 3 measured actions):
    #   查看物流进度 1 of 4 resolved: p = .25, Wilson low (z = 1.95996) = 0.0456
    #   修改快递     4 of 4: 1 / (1 + z²/4) = 0.5101
    #   更换收货地址 2 of 2: too little evidence, keeps its place 3
    #   以赠品补差价 3 of 3 (not listed for not_delivered): 1 / (1 + z²/3) = 0.4385, place 4 (after the list)
    # The evidenced actions take the evidenced places 1, 2, 4 by Wilson low: 修改快递, 以赠品补差价, 查看物流进度.
    # Not counted: an action on 03-15 (its window ends 03-22, after D) and one on 02-19 (before the lookback).
    rows = (
        _effect("2026-03-05", "查看物流进度", "not_delivered", True, 1)
        + _effect("2026-03-06", "查看物流进度", "not_delivered", False, 3)
        + _effect("2026-03-05", "修改快递", "not_delivered", True, 4)
        + _effect("2026-03-05", "更换收货地址", "not_delivered", True, 2)
        + _effect("2026-03-07", "以赠品补差价", "not_delivered", True, 3)
        + _effect("2026-03-15", "查看物流进度", "not_delivered", True, 9)
        + _effect("2026-02-19", "查看物流进度", "not_delivered", True, 9)
    )
    effects = pd.DataFrame(rows, columns=ACTION_EFFECTS.column_names)
    config = load_action_log_config().model_copy(update={"min_evidence": 3})
    day = dt.date(2026, 3, 20)
    ranking = rank_actions(effects, load_service_rules(), config, day, day + dt.timedelta(days=1), TZ)
    nd = ranking.loc[ranking["cause"] == "not_delivered"].set_index("action")
    assert nd["rank"].sort_values().index.tolist() == ["修改快递", "以赠品补差价", "更换收货地址", "查看物流进度"]
    assert nd.loc["查看物流进度", ["measured_actions", "resolved_actions"]].tolist() == [4, 1]
    assert nd["prior_rank"].to_dict() == {"查看物流进度": 1, "修改快递": 2, "更换收货地址": 3, "以赠品补差价": 4}
    evidence = {"查看物流进度": True, "修改快递": True, "更换收货地址": False, "以赠品补差价": True}
    assert nd["has_evidence"].to_dict() == evidence
    z2 = 1.959963984540054**2
    assert math.isclose(nd.loc["修改快递", "wilson_low"], 1 / (1 + z2 / 4), rel_tol=1e-9)
    assert math.isclose(nd.loc["以赠品补差价", "wilson_low"], 1 / (1 + z2 / 3), rel_tol=1e-9)
    # (p + z²/2n - z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n) with p = 1/4, n = 4
    low = (0.25 + z2 / 8 - math.sqrt(z2) * math.sqrt(0.25 * 0.75 / 4 + z2 / 64)) / (1 + z2 / 4)
    assert math.isclose(nd.loc["查看物流进度", "wilson_low"], low, rel_tol=1e-9) and round(low, 4) == 0.0456
    assert bool(nd.loc["以赠品补差价", "listed"]) is False
    # No evidence for payment: the order of service_actions.yaml.
    pay = ranking.loc[ranking["cause"] == "payment"].sort_values("rank")
    assert pay["action"].tolist() == ["更换支付方式", "核实扣款并退还差额"]
    # Re-running gives the same ranking.
    again = rank_actions(effects, load_service_rules(), config, day, day + dt.timedelta(days=1), TZ)
    pd.testing.assert_frame_equal(ranking, again)

    work_orders = pd.DataFrame(
        {
            "business_date": [day, day, day + dt.timedelta(days=1)],
            "cause": ["not_delivered", "payment", "not_delivered"],
            "suggested_action": ["查看物流进度", "更换支付方式", "查看物流进度"],
            "suggested_actions": ["x", "y", "查看物流进度 | 修改快递 | 更换收货地址"],
        }
    )
    applied = apply_ranking(work_orders, ranking)
    assert applied["suggested_action"].tolist() == ["修改快递", "更换支付方式", "查看物流进度"]
    assert applied["suggested_actions"].tolist() == [
        "修改快递 | 以赠品补差价 | 更换收货地址 | 查看物流进度",
        "更换支付方式 | 核实扣款并退还差额",
        "查看物流进度 | 修改快递 | 更换收货地址",  # a day without a ranking keeps its list
    ]


CHAIN = [
    "stg_orders",
    "stg_feedback",
    "stg_events",
    "stg_actions",
    "behaviour_signals",
    "fct_order_feedback",
    "problem_orders",
    "action_effects",
    "action_effectiveness",
    "action_ranking",
    "work_orders",
    "metrics_daily_by_service_item",
]


def test_effects_and_effectiveness_materialized_through_the_assets(
    landing: Path, resources: dict[str, object]
) -> None:
    from tests.test_pipeline import run_range

    write_loop_fixture(landing)
    result = run_range(resources, "2026-03-01", "2026-03-12", CHAIN)
    assert result.success
    checks = [c for c in result.get_asset_check_evaluations() if c.asset_key.to_user_string() == "stg_actions"]
    assert checks and all(c.passed for c in checks)
    wh = resources["warehouse"].open()  # type: ignore[attr-defined]
    staged = wh.query("SELECT action_id FROM after_sales.stg_actions ORDER BY 1")
    quarantined = wh.query("SELECT rule FROM after_sales.quarantine WHERE source = 'actions'")
    assert staged["action_id"].tolist() == ["A1", "A2", "A3", "A4"]
    assert len(staged) + len(quarantined) == len(ACTIONS_D1) + len(ACTIONS_D2)  # conservation

    e = wh.query("SELECT * FROM after_sales.action_effects").set_index("action_id")
    flags = ["came_back", "tracked_again", "paid", "recontacted", "followed_by_action", "window_closed", "resolved"]
    assert {a: tuple(bool(e.loc[a, f]) for f in flags) for a in e.index} == {
        "A1": (True, True, False, True, True, True, False),  # tracked (E1), contacted (E2), then A2
        "A2": (False, False, False, False, False, True, True),  # nothing in 03-03 10:00 .. 03-10 10:00 (E5 later)
        "A3": (True, False, False, False, False, True, True),  # browsed (E3), rated 4 (F3)
        "A4": (True, False, True, False, False, True, True),  # paid (E4)
    }
    assert e.loc["A3", "followup_rating"] == 4 and pd.isna(e.loc["A1", "followup_rating"])
    # Hours from the problem being found to the action that resolved it.
    assert e.loc["A2", "resolution_hours"] == pytest.approx(38.0)  # F1 03-01 20:00 -> 03-03 10:00
    assert e.loc["A3", "resolution_hours"] == pytest.approx(4.0)  # signal E0 08:00 -> 12:00
    assert e.loc["A4", "resolution_hours"] == pytest.approx(21.0)  # F2 03-01 12:00 -> 03-02 09:00
    assert pd.isna(e.loc["A1", "resolution_hours"])

    s = wh.query("SELECT * FROM after_sales.action_effectiveness ORDER BY business_date, cause, action")
    got = {
        (str(r.business_date), r.cause, r.action): (
            r.actions, r.measured_actions, r.resolved_actions, r.recontacted_actions, r.came_back_actions,
            r.rated_actions, r.followup_rating_sum, r.resolution_hours_sum,
        )
        for r in s.itertuples()
    }
    assert got == {
        ("2026-03-02", "not_delivered", "查看物流进度"): (2, 2, 1, 1, 2, 1, 4, 4.0),
        ("2026-03-02", "payment", "更换支付方式"): (1, 1, 1, 0, 1, 0, 0, 21.0),
        ("2026-03-03", "not_delivered", "修改快递"): (1, 1, 1, 0, 0, 0, 0, 38.0),
    }
    first = s.iloc[0]
    assert (first["resolution_rate"], first["recontact_rate"], first["followup_score"]) == (0.5, 0.5, 4.0)
    assert first["resolution_hours_mean"] == 4.0
    assert pd.isna(s.iloc[1]["followup_score"])

    # Too little evidence anywhere (min_evidence 30): the ranking is the order of service_actions.yaml.
    wo = wh.query("SELECT order_id, cause, suggested_action FROM after_sales.work_orders ORDER BY 1")
    assert wo.values.tolist() == [["O1", "not_delivered", "查看物流进度"], ["O2", "not_delivered", "查看物流进度"],
                                  ["O3", "payment", "更换支付方式"]]
    # The service item each work order used is the last action logged for it.
    items = wh.query(
        "SELECT service_action, sum(work_orders) AS n, sum(used_by_log) AS logged "
        "FROM after_sales.metrics_daily_by_service_item GROUP BY 1 HAVING sum(work_orders) > 0 ORDER BY 1"
    )
    assert {r.service_action: (r.n, r.logged) for r in items.itertuples()} == {
        "修改快递": (1, 1),  # O1: A2 after A1
        "查看物流进度": (1, 1),  # O2: A3
        "更换支付方式": (1, 1),  # O3: A4
    }
