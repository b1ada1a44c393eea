"""Service metrics of a small hand-made dataset, every figure computed by hand and written out below.

The dataset (landing lines, reused by tests/test_metrics_pipeline.py, which runs it through Dagster): orders
O1-O6 on 2026-10-01 (D1), O7-O8 on 2026-10-02 (D2), sessions on 09-30 (D0), D1 and D2; times are D1 unless said.

- O1 web 100: F1 12:00 rating 1 complaint 没收到货, answered in 1 h, resolved 18:00 info_provided; F2 D2 09:00
  rating 4 review. -> WO1 not_delivered, P1 (4 h), due 16:00, resolved late.
- O2 web 50: F3 11:00 rating 2 return 退货流程太麻烦, 0.5 h, resolved D2 11:00 refunded, reopened; F4 15:00
  rating 3 inquiry, 2 h, resolved after 4 h. -> WO2 cumbersome_return, P2 (24 h), met, status reopened.
- O3 tmall 200: F5 10:30 no rating, dispute 商品破损, 0.25 h, still open, refund_amount 200. -> WO3 quality,
  P2 (dispute), due D2 10:30, open past due -> breached.
- O4 tmall 80: F6 20:00 rating 5 refund 不想要了, 3 h, resolved D2 02:00 refunded, refund_amount 80. -> WO4
  other, P3 (72 h), met.
- O5 web 20: no feedback.
- O6 web 30: F7 09:00 rating 2 complaint 付款后重复扣款, 0.5 h, resolved 12:00 rejected; F8 14:00 rating 1
  complaint 还是扣款了, 10 min, resolved 16:00 refunded. -> WO5 payment, P1, two issues, due 13:00, late.
- O7 web 60 (D2): F9 D2 10:00 rating 5 inquiry, 0.5 h, resolved after 1 h. O8 web 40 (D2): no feedback.

Work orders are judged at the work-order build's reference time, 2026-10-18 00:00 (the 14-day horizon of a
run over 09-30 .. 10-03).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from after_sales.resources.warehouse import DateWindow
from after_sales.tables import (
    METRICS_DAILY,
    METRICS_DAILY_BY_CHANNEL,
    METRICS_ROLLUPS,
    SERVICE_MEASURES,
)
from after_sales.transforms.marts import build_order_feedback, build_problem_orders, build_work_orders
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.metrics import (
    ADDITIVE,
    QUANTILES,
    RATIOS,
    SLA_RATES,
    build_metrics_daily,
    build_metrics_daily_by_cause,
    build_metrics_daily_by_channel,
    ticket_rows,
)
from after_sales.transforms.rollups import (
    PeriodReads,
    build_cause_rollups,
    build_metrics_rollups,
    build_service_item_scores,
    periods_ending_between,
    plan_rollups,
)
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.transforms.service_scores import build_metrics_daily_by_service_item, score_items
from after_sales.transforms.staging import stage_behaviour, stage_feedback, stage_orders
from tests.support.landing import BEHAVIOUR_HEADER, FEEDBACK_HEADER, ORDERS_HEADER
from tests.test_transforms import CTX, landed

TZ = "Asia/Shanghai"
D0, D1, D2, D3 = (dt.date(2026, 9, 30) + dt.timedelta(days=i) for i in range(4))
FIRST, LAST = D0, D3
AS_OF = pd.Timestamp("2026-10-18 00:00", tz=TZ)
HAND_FEEDBACK_HEADER = FEEDBACK_HEADER + ",refund_amount"

# Landing day -> lines, per source.
HAND_ORDERS = {
    D1: [
        "O1,2026-10-01 08:00:00,U1,保温杯,1,100.00,alipay,completed,web",
        "O2,2026-10-01 08:30:00,U2,耳机,1,50.00,wechat,completed,web",
        "O3,2026-10-01 09:00:00,U3,台灯,1,200.00,alipay,completed,tmall",
        "O4,2026-10-01 09:30:00,U4,毛巾,2,80.00,alipay,completed,tmall",
        "O5,2026-10-01 10:00:00,U5,袜子,1,20.00,wechat,completed,web",
        "O6,2026-10-01 08:45:00,U6,雨伞,1,30.00,card,completed,web",
    ],
    D2: [
        "O7,2026-10-02 09:00:00,U7,杯,1,60.00,alipay,completed,web",
        "O8,2026-10-02 09:30:00,U8,杯,1,40.00,alipay,completed,web",
    ],
}
HAND_FEEDBACK = {
    D3: [
        "F1,O1,2026-10-01 12:00:00,1,complaint,没收到货,2026-10-01 13:00:00,2026-10-01 18:00:00,info_provided,false,",
        "F2,O1,2026-10-02 09:00:00,4,review,好,,,,false,",
        "F3,O2,2026-10-01 11:00:00,2,return,退货流程太麻烦,2026-10-01 11:30:00,2026-10-02 11:00:00,refunded,true,",
        "F4,O2,2026-10-01 15:00:00,3,inquiry,请问什么时候到账,2026-10-01 17:00:00,2026-10-01 19:00:00,"
        "info_provided,false,",
        "F5,O3,2026-10-01 10:30:00,,dispute,商品破损,2026-10-01 10:45:00,,,false,200.00",
        "F6,O4,2026-10-01 20:00:00,5,refund,不想要了,2026-10-01 23:00:00,2026-10-02 02:00:00,refunded,false,80.00",
        "F7,O6,2026-10-01 09:00:00,2,complaint,付款后重复扣款,2026-10-01 09:30:00,2026-10-01 12:00:00,rejected,false,",
        "F8,O6,2026-10-01 14:00:00,1,complaint,还是扣款了,2026-10-01 14:10:00,2026-10-01 16:00:00,refunded,false,",
        "F9,O7,2026-10-02 10:00:00,5,inquiry,怎么开发票,2026-10-02 10:30:00,2026-10-02 11:00:00,info_provided,false,",
    ]
}


def _sessions(day: dt.date, visitors: list[str], submitted: set[int]) -> list[str]:
    return [
        f"S{day:%m%d}-{i},{v},{day} 1{i % 10}:00:00,{day} 1{i % 10}:05:00,2,{'true' if i in submitted else 'false'}"
        for i, v in enumerate(visitors)
    ]


HAND_SESSIONS = {
    D0: _sessions(D0, ["V1", "V2", "V3", "V4"], set()),  # 4 visitors, 4 sessions
    D1: _sessions(D1, ["V1", "V2", "V3", "V4", "V5", "V6", "V1", "V2"], {3}),  # 6 visitors, 8 sessions, 1 form
    D2: _sessions(D2, ["V1", "V7", "V8"], {0}),  # 3 visitors, 3 sessions, 1 form
}


def hand_marts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The dataset staged and built into fact, problem issues, work orders and sessions for D0 .. D3."""
    orders = pd.concat(
        [stage_orders(landed("orders", ORDERS_HEADER, ls, d), CTX).rows for d, ls in HAND_ORDERS.items()]
    )
    staged = [stage_feedback(landed("feedback", HAND_FEEDBACK_HEADER, ls, d), CTX) for d, ls in HAND_FEEDBACK.items()]
    assert all(s.quarantined.empty for s in staged)
    feedback = pd.concat([s.rows for s in staged])
    sessions = pd.concat(
        [stage_behaviour(landed("behaviour", BEHAVIOUR_HEADER, ls, d), CTX).rows for d, ls in HAND_SESSIONS.items()]
    )
    end = LAST + dt.timedelta(days=1)
    fact = build_order_feedback(orders, feedback, FIRST, end, load_cause_rules().complaint_issue_types)
    problems = build_problem_orders(fact, load_cause_rules())
    work_orders = build_work_orders(problems, load_service_rules(), AS_OF)
    return fact, problems, work_orders, sessions


# ---- The figures, by hand -------------------------------------------------------------------------------

# D1 over all channels. Tickets: F1 F3 F4 F5 F6 F7 F8 (F2 is a review). First-response hours 1, 0.5, 2, 0.25,
# 3, 0.5, 1/6; handling hours F1 6, F3 24, F4 4, F6 6, F7 3, F8 2 (F5 open). Work orders: WO1 6 h, WO2 24 h,
# WO4 6 h, WO5 7 h to resolution (WO3 open); one-touch WO1 and WO4 (WO2 reopened, WO5 two issues).
ALL_D1 = {
    "orders": 6,
    "orders_with_feedback": 5,
    "feedback_count": 8,
    "problem_orders": 5,  # O1 O2 O3 O4 O6 (F1 F3 F5 F6 F7 F8 are problems)
    "complaint_rate": 5 / 6,
    "visitors": 6,
    "visitors_trailing_7d_mean": 4.0,  # only D0 has sessions among D1-7 .. D1-1
    "rolling_visitor_rate": 1.5,
    "sessions": 8,
    "sessions_with_submission": 1,
    "submission_rate": 1 / 8,
    "effective_after_sales_count": 4,  # F1 F4 F6 F8 (F3 reopened, F5 open, F7 rejected)
    "handled_tickets": 6,
    "handling_time_hours_mean": 45 / 6,
    "handling_time_hours_median": 5.0,  # (4 + 6) / 2 of 2 3 4 6 6 24
    "work_orders": 5,
    "order_amount": 480.0,
    "tickets": 7,
    "handling_time_hours_sum": 45.0,
    "rated_tickets": 6,
    "satisfied_tickets": 1,  # F6
    "csat": 1 / 6,
    "responded_tickets": 7,
    "first_response_hours_sum": 89 / 12,
    "first_response_hours_mean": 89 / 84,
    "first_response_hours_median": 0.5,  # of 1/6 0.25 0.5 0.5 1 2 3
    "first_response_hours_p90": 2.4,  # position 0.9 * 6 = 5.4: 2 + 0.4 * (3 - 2)
    "reopened_tickets": 1,
    "reopen_rate": 1 / 6,
    "resolved_work_orders": 4,
    "resolution_hours_sum": 43.0,
    "resolution_hours_mean": 10.75,
    "resolution_hours_median": 6.5,  # of 6 6 7 24
    "resolution_hours_p90": 18.9,  # position 2.7: 7 + 0.7 * (24 - 7)
    "one_touch_work_orders": 2,
    "one_touch_rate": 0.5,
    "sla_met": 2,  # WO2 WO4
    "sla_breached": 3,  # WO1 WO5 late, WO3 open past due
    "sla_pending": 0,
    "sla_achieved_rate": 0.4,
    "work_orders_p1": 2,
    "sla_met_p1": 0,
    "sla_breached_p1": 2,
    "sla_achieved_rate_p1": 0.0,
    "work_orders_p2": 2,
    "sla_met_p2": 1,
    "sla_breached_p2": 1,
    "sla_achieved_rate_p2": 0.5,
    "work_orders_p3": 1,
    "sla_met_p3": 1,
    "sla_breached_p3": 0,
    "sla_achieved_rate_p3": 1.0,
    "refund_orders": 3,  # O2 (return), O3 (refund amount), O4 (refund)
    "refund_rate": 0.5,
    "refund_amount": 280.0,
    "dispute_orders": 1,
    "dispute_rate": 1 / 6,
}
ALL_D2 = {
    "orders": 2,
    "orders_with_feedback": 1,
    "feedback_count": 1,
    "problem_orders": 0,
    "complaint_rate": 0.0,
    "visitors": 3,
    "visitors_trailing_7d_mean": 5.0,  # (4 + 6) / 2
    "rolling_visitor_rate": 0.6,
    "sessions": 3,
    "sessions_with_submission": 1,
    "submission_rate": 1 / 3,
    "effective_after_sales_count": 1,
    "handled_tickets": 1,
    "handling_time_hours_mean": 1.0,
    "handling_time_hours_median": 1.0,
    "work_orders": 0,
    "order_amount": 100.0,
    "tickets": 1,
    "handling_time_hours_sum": 1.0,
    "rated_tickets": 1,
    "satisfied_tickets": 1,
    "csat": 1.0,
    "responded_tickets": 1,
    "first_response_hours_sum": 0.5,
    "first_response_hours_mean": 0.5,
    "first_response_hours_median": 0.5,
    "first_response_hours_p90": 0.5,
    "reopened_tickets": 0,
    "reopen_rate": 0.0,
    "resolved_work_orders": 0,
    "resolution_hours_sum": 0.0,
    "resolution_hours_mean": None,
    "resolution_hours_median": None,
    "resolution_hours_p90": None,
    "one_touch_work_orders": 0,
    "one_touch_rate": None,
    "sla_met": 0,
    "sla_breached": 0,
    "sla_pending": 0,
    "sla_achieved_rate": None,
    **{f"{m}_p{i}": 0 for i in (1, 2, 3) for m in ("work_orders", "sla_met", "sla_breached")},
    **{f"sla_achieved_rate_p{i}": None for i in (1, 2, 3)},
    "refund_orders": 0,
    "refund_rate": 0.0,
    "refund_amount": 0.0,
    "dispute_orders": 0,
    "dispute_rate": 0.0,
}
WEB_D1 = {
    "orders": 4,
    "orders_with_feedback": 3,
    "feedback_count": 6,
    "problem_orders": 3,
    "complaint_rate": 0.75,
    "effective_after_sales_count": 3,
    "handled_tickets": 5,
    "handling_time_hours_mean": 7.8,
    "handling_time_hours_median": 4.0,
    "work_orders": 3,
    "order_amount": 200.0,
    "tickets": 5,
    "handling_time_hours_sum": 39.0,
    "rated_tickets": 5,
    "satisfied_tickets": 0,
    "csat": 0.0,
    "responded_tickets": 5,
    "first_response_hours_sum": 25 / 6,
    "first_response_hours_mean": 5 / 6,
    "first_response_hours_median": 0.5,
    "first_response_hours_p90": 1.6,  # of 1/6 0.5 0.5 1 2: position 3.6
    "reopened_tickets": 1,
    "reopen_rate": 0.2,
    "resolved_work_orders": 3,
    "resolution_hours_sum": 37.0,
    "resolution_hours_mean": 37 / 3,
    "resolution_hours_median": 7.0,
    "resolution_hours_p90": 20.6,  # of 6 7 24: position 1.8
    "one_touch_work_orders": 1,
    "one_touch_rate": 1 / 3,
    "sla_met": 1,
    "sla_breached": 2,
    "sla_pending": 0,
    "sla_achieved_rate": 1 / 3,
    "work_orders_p1": 2,
    "sla_met_p1": 0,
    "sla_breached_p1": 2,
    "sla_achieved_rate_p1": 0.0,
    "work_orders_p2": 1,
    "sla_met_p2": 1,
    "sla_breached_p2": 0,
    "sla_achieved_rate_p2": 1.0,
    "work_orders_p3": 0,
    "sla_met_p3": 0,
    "sla_breached_p3": 0,
    "sla_achieved_rate_p3": None,
    "refund_orders": 1,
    "refund_rate": 0.25,
    "refund_amount": 0.0,
    "dispute_orders": 0,
    "dispute_rate": 0.0,
}
TMALL_D1 = {
    "orders": 2,
    "orders_with_feedback": 2,
    "feedback_count": 2,
    "problem_orders": 2,
    "complaint_rate": 1.0,
    "effective_after_sales_count": 1,
    "handled_tickets": 1,
    "handling_time_hours_mean": 6.0,
    "handling_time_hours_median": 6.0,
    "work_orders": 2,
    "order_amount": 280.0,
    "tickets": 2,
    "handling_time_hours_sum": 6.0,
    "rated_tickets": 1,
    "satisfied_tickets": 1,
    "csat": 1.0,
    "responded_tickets": 2,
    "first_response_hours_sum": 3.25,
    "first_response_hours_mean": 1.625,
    "first_response_hours_median": 1.625,
    "first_response_hours_p90": 2.725,  # 0.25 + 0.9 * 2.75
    "reopened_tickets": 0,
    "reopen_rate": 0.0,
    "resolved_work_orders": 1,
    "resolution_hours_sum": 6.0,
    "resolution_hours_mean": 6.0,
    "resolution_hours_median": 6.0,
    "resolution_hours_p90": 6.0,
    "one_touch_work_orders": 1,
    "one_touch_rate": 1.0,
    "sla_met": 1,
    "sla_breached": 1,
    "sla_pending": 0,
    "sla_achieved_rate": 0.5,
    "work_orders_p1": 0,
    "sla_met_p1": 0,
    "sla_breached_p1": 0,
    "sla_achieved_rate_p1": None,
    "work_orders_p2": 1,
    "sla_met_p2": 0,
    "sla_breached_p2": 1,
    "sla_achieved_rate_p2": 0.0,
    "work_orders_p3": 1,
    "sla_met_p3": 1,
    "sla_breached_p3": 0,
    "sla_achieved_rate_p3": 1.0,
    "refund_orders": 2,
    "refund_rate": 1.0,
    "refund_amount": 280.0,
    "dispute_orders": 1,
    "dispute_rate": 0.5,
}
# D1 per cause: (problem_issues, problem_orders, work_orders, resolved, resolution median, one-touch, met,
# breached, reopened work orders, follow-up ratings, follow-up sum). Follow-ups: WO1 <- F2 (4), WO2 <- F4 (3),
# WO5 <- F8 (1); WO3 and WO4 have no rated feedback after they opened.
CAUSES_D1 = {
    "cumbersome_return": (1, 1, 1, 1, 24.0, 0, 1, 0, 1, 1, 3),
    "not_delivered": (1, 1, 1, 1, 6.0, 1, 0, 1, 0, 1, 4),
    "other": (1, 1, 1, 1, 6.0, 1, 1, 0, 0, 0, 0),
    "payment": (2, 1, 1, 1, 7.0, 0, 0, 1, 0, 1, 1),
    "quality": (1, 1, 1, 0, None, 0, 0, 1, 0, 0, 0),
}
CAUSE_FIELDS = (
    "problem_issues",
    "problem_orders",
    "work_orders",
    "resolved_work_orders",
    "resolution_hours_median",
    "one_touch_work_orders",
    "sla_met",
    "sla_breached",
    "reopened_work_orders",
    "followup_ratings",
    "followup_rating_sum",
)
# D1 per service item: (suggested, used, used by resolution, resolved, follow-ups, follow-up sum, satisfied).
# WO1 info_provided -> 查看物流进度; WO2 refunded -> 上门取件; WO3 open -> primary 立即维修; WO4 refunded, nothing
# of its list matches -> primary 人工回访; WO5 last resolution refunded -> 核实扣款并退还差额.
ITEMS_D1 = {
    "更换支付方式": (1, 0, 0, 0, 0, 0, 0),
    "核实扣款并退还差额": (1, 1, 1, 1, 1, 1, 0),
    "查看物流进度": (1, 1, 1, 1, 1, 4, 1),
    "修改快递": (1, 0, 0, 0, 0, 0, 0),
    "更换收货地址": (1, 0, 0, 0, 0, 0, 0),
    "上门取件": (1, 1, 1, 1, 1, 3, 0),
    "以赠品补差价": (2, 0, 0, 0, 0, 0, 0),
    "立即维修": (1, 1, 0, 0, 0, 0, 0),
    "换新": (1, 0, 0, 0, 0, 0, 0),
    "人工回访": (1, 1, 0, 1, 0, 0, 0),
}
ITEM_FIELDS = (
    "suggested_work_orders",
    "work_orders",
    "used_by_resolution",
    "resolved_work_orders",
    "followup_ratings",
    "followup_rating_sum",
    "satisfied_followups",
)
# metrics_rollups, channel all. Backlog at the end of D1 (10-02 00:00): WO2 (opened 11:00, 13 h), WO3 (10:30,
# 13.5 h), WO4 (20:00, 4 h); at the end of D2: WO3 only, 37.5 h old and overdue; end of D3: WO3, 61.5 h.
ROLLUP_ALL = {
    ("day", D0): {
        "period_start": D0,
        "days_with_data": 1,
        "orders": 0,
        "complaint_rate": None,
        "visitor_days": 4,
        "visitors_daily_mean": 4.0,
        "rolling_visitor_rate": None,
        "backlog_work_orders": 0,
        "backlog_age_hours_max": None,
    },
    ("day", D1): {
        "visitor_days": 6,
        "visitors_daily_mean": 6.0,
        "rolling_visitor_rate": 1.5,
        "sessions": 8,
        "submission_rate": 1 / 8,
        "backlog_work_orders": 3,
        "backlog_overdue": 0,
        "backlog_age_hours_mean": 30.5 / 3,
        "backlog_age_hours_median": 13.0,
        "backlog_age_hours_max": 13.5,
    },
    ("day", D3): {
        "orders": 0,
        "visitor_days": 0,
        "visitors_daily_mean": 0.0,
        "rolling_visitor_rate": 0.0,  # 0 / mean(4, 6, 3)
        "submission_rate": None,
        "backlog_work_orders": 1,
        "backlog_overdue": 1,
        "backlog_age_hours_max": 61.5,
    },
    # The 7 days 09-26 .. 10-02, built days D0 D1 D2: sums of the days, rates from the sums.
    ("rolling_7d", D2): {
        "period_start": dt.date(2026, 9, 26),
        "days_with_data": 3,
        "as_of_date": D2,
        "orders": 8,
        "orders_with_feedback": 6,
        "feedback_count": 9,
        "problem_orders": 5,
        "complaint_rate": 5 / 8,  # not the mean of the daily rates 5/6 and 0
        "effective_after_sales_count": 5,
        "handled_tickets": 7,
        "handling_time_hours_mean": 46 / 7,
        "handling_time_hours_median": 4.0,  # of 1 2 3 4 6 6 24
        "work_orders": 5,
        "order_amount": 580.0,
        "tickets": 8,
        "handling_time_hours_sum": 46.0,
        "rated_tickets": 7,
        "satisfied_tickets": 2,
        "csat": 2 / 7,
        "responded_tickets": 8,
        "first_response_hours_sum": 95 / 12,
        "first_response_hours_mean": 95 / 96,
        "first_response_hours_median": 0.5,  # of 1/6 0.25 0.5 0.5 0.5 1 2 3
        "first_response_hours_p90": 2.3,  # position 6.3: 2 + 0.3 * (3 - 2)
        "reopened_tickets": 1,
        "reopen_rate": 1 / 7,
        "resolved_work_orders": 4,
        "resolution_hours_sum": 43.0,
        "resolution_hours_mean": 10.75,
        "resolution_hours_median": 6.5,
        "resolution_hours_p90": 18.9,
        "one_touch_work_orders": 2,
        "one_touch_rate": 0.5,
        "sla_met": 2,
        "sla_breached": 3,
        "sla_pending": 0,
        "sla_achieved_rate": 0.4,
        "work_orders_p1": 2,
        "sla_met_p1": 0,
        "sla_breached_p1": 2,
        "sla_achieved_rate_p1": 0.0,
        "work_orders_p2": 2,
        "sla_met_p2": 1,
        "sla_breached_p2": 1,
        "sla_achieved_rate_p2": 0.5,
        "work_orders_p3": 1,
        "sla_met_p3": 1,
        "sla_breached_p3": 0,
        "sla_achieved_rate_p3": 1.0,
        "refund_orders": 3,
        "refund_rate": 3 / 8,
        "refund_amount": 280.0,
        "dispute_orders": 1,
        "dispute_rate": 1 / 8,
        "visitor_days": 13,
        "visitors_daily_mean": 13 / 3,
        "rolling_visitor_rate": None,  # nothing built in 09-19 .. 09-25
        "sessions": 15,
        "sessions_with_submission": 2,
        "submission_rate": 2 / 15,
        "backlog_work_orders": 1,
        "backlog_overdue": 1,
        "backlog_age_hours_mean": 37.5,
        "backlog_age_hours_median": 37.5,
        "backlog_age_hours_max": 37.5,
    },
    # ISO week Monday 09-28 .. Sunday 10-04, still running: built days D0 .. D3.
    ("week", dt.date(2026, 10, 4)): {
        "period_start": dt.date(2026, 9, 28),
        "days_with_data": 4,
        "as_of_date": D3,
        "orders": 8,
        "complaint_rate": 5 / 8,
        "csat": 2 / 7,
        "visitor_days": 13,
        "visitors_daily_mean": 13 / 4,
        "rolling_visitor_rate": None,
        "backlog_work_orders": 1,
        "backlog_age_hours_median": 61.5,
    },
    # October: D1 .. D3 built; the week before it (09-24 .. 09-30) has sessions on D0 only.
    ("month", dt.date(2026, 10, 31)): {
        "period_start": D1,
        "days_with_data": 3,
        "as_of_date": D3,
        "orders": 8,
        "sla_achieved_rate": 0.4,
        "visitor_days": 9,
        "visitors_daily_mean": 3.0,
        "rolling_visitor_rate": 0.75,
        "sessions": 11,
        "submission_rate": 2 / 11,
    },
    ("rolling_28d", D3): {"period_start": dt.date(2026, 9, 6), "days_with_data": 4, "orders": 8, "csat": 2 / 7},
}
# Per channel: tmall has no order on D2 but still a backlog (WO3), so it has a D2 row.
ROLLUP_CHANNELS = {
    ("day", D1, "web"): {**WEB_D1, "backlog_work_orders": 1, "backlog_age_hours_max": 13.0, "visitor_days": None},
    ("day", D1, "tmall"): {
        **TMALL_D1,
        "backlog_work_orders": 2,
        "backlog_age_hours_mean": 8.75,
        "backlog_age_hours_median": 8.75,
        "backlog_age_hours_max": 13.5,
    },
    ("day", D2, "tmall"): {"orders": 0, "complaint_rate": None, "backlog_work_orders": 1, "backlog_overdue": 1},
    ("rolling_7d", D2, "web"): {"orders": 6, "problem_orders": 3, "complaint_rate": 0.5, "csat": 1 / 6},
}
# No landing file was refused in these pure builds: every day and channel is complete (issue 13).
WHOLE = {"files_refused": 0, "complete": True}
for _figures in (ALL_D1, ALL_D2, WEB_D1, TMALL_D1):
    _figures.update(WHOLE)


def assert_figures(row: pd.Series | dict, expected: dict[str, object], what: str) -> None:
    """Every expected figure, floats to 1e-9, None meaning null."""
    for name, want in expected.items():
        got = row[name]
        if want is None:
            assert got is None or pd.isna(got), f"{what} {name}: expected null, got {got!r}"
        elif isinstance(want, float):
            assert got == pytest.approx(want, abs=1e-9), f"{what} {name}: expected {want}, got {got!r}"
        else:
            assert got == want, f"{what} {name}: expected {want!r}, got {got!r}"


def check_daily(daily: pd.DataFrame) -> None:
    """metrics_daily rows of the dataset match the hand figures."""
    rows = daily.set_index("business_date")
    assert list(rows.index) == [D0, D1, D2, D3]
    assert_figures(rows.loc[D1], ALL_D1, "metrics_daily D1")
    assert_figures(rows.loc[D2], ALL_D2, "metrics_daily D2")
    assert_figures(rows.loc[D0], {"orders": 0, "visitors": 4, "rolling_visitor_rate": None}, "metrics_daily D0")


def check_by_channel(frame: pd.DataFrame) -> None:
    """metrics_daily_by_channel rows match the hand figures."""
    rows = frame.set_index(["business_date", "channel"])
    assert sorted(rows.index) == [(D1, "tmall"), (D1, "web"), (D2, "web")]
    assert_figures(rows.loc[(D1, "web")], WEB_D1, "by_channel web D1")
    assert_figures(rows.loc[(D1, "tmall")], TMALL_D1, "by_channel tmall D1")
    d2 = {k: v for k, v in ALL_D2.items() if k in METRICS_DAILY_BY_CHANNEL.column_names}
    assert_figures(rows.loc[(D2, "web")], d2, "by_channel web D2")


def check_by_cause(frame: pd.DataFrame) -> None:
    """metrics_daily_by_cause rows match the hand figures."""
    rows = frame.set_index(["business_date", "cause"])
    assert sorted(rows.index) == [(D1, c) for c in sorted(CAUSES_D1)]
    for cause, values in CAUSES_D1.items():
        expected = {f: (float(v) if isinstance(v, float) else v) for f, v in zip(CAUSE_FIELDS, values, strict=True)}
        assert_figures(rows.loc[(D1, cause)], expected, f"by_cause {cause}")
    assert_figures(rows.loc[(D1, "not_delivered")], {"followup_score": 4.0, "sla_achieved_rate": 0.0}, "nd")
    assert_figures(rows.loc[(D1, "payment")], {"followup_rating_sq_sum": 1, "one_touch_rate": 0.0}, "payment")


def check_by_item(frame: pd.DataFrame) -> None:
    """metrics_daily_by_service_item rows match the hand figures; the other days have zeros."""
    rows = frame.set_index(["business_date", "service_action"])
    assert len(rows) == 4 * len(ITEMS_D1)
    for item, values in ITEMS_D1.items():
        assert_figures(rows.loc[(D1, item)], dict(zip(ITEM_FIELDS, values, strict=True)), f"item {item}")
        assert_figures(rows.loc[(D2, item)], dict.fromkeys(ITEM_FIELDS, 0), f"item {item} D2")
    assert rows.loc[(D1, "查看物流进度"), "followup_rating_sq_sum"] == 16


def check_rollups(frame: pd.DataFrame) -> None:
    """metrics_rollups rows match the hand figures; every day row equals the daily figures."""
    rows = frame.set_index(["period", "period_end", "channel"])
    service = [c.name for c in SERVICE_MEASURES]
    assert_figures(rows.loc[("day", D1, "all")], {k: v for k, v in ALL_D1.items() if k in service}, "day D1")
    assert_figures(rows.loc[("day", D2, "all")], {k: v for k, v in ALL_D2.items() if k in service}, "day D2")
    for (period, end), expected in ROLLUP_ALL.items():
        assert_figures(rows.loc[(period, end, "all")], expected, f"{period} {end} all")
    for (period, end, channel), expected in ROLLUP_CHANNELS.items():
        assert_figures(rows.loc[(period, end, channel)], expected, f"{period} {end} {channel}")
    days = sorted({e for p, e, _ in rows.index if p == "day"})
    assert days == [D0, D1, D2, D3]  # no day or rolling row for a day that was not built
    assert max(e for p, e, _ in rows.index if p == "rolling_28d") == D3


def check_cause_rollups(frame: pd.DataFrame) -> None:
    """metrics_rollups_by_cause: the 28 days ending D3 hold D1's causes."""
    rows = frame.set_index(["period", "period_end", "cause"])
    for cause, values in CAUSES_D1.items():
        expected = {f: (float(v) if isinstance(v, float) else v) for f, v in zip(CAUSE_FIELDS, values, strict=True)}
        assert_figures(rows.loc[("rolling_28d", D3, cause)], expected, f"cause rollup {cause}")


def check_item_scores(frame: pd.DataFrame, graded: bool) -> None:
    """service_item_scores over the 28 days ending D3: sums of D1, graded or too few ratings."""
    rows = frame.set_index(["period", "period_end", "service_action"])
    for item, values in ITEMS_D1.items():
        assert_figures(rows.loc[("rolling_28d", D3, item)], dict(zip(ITEM_FIELDS, values, strict=True)), item)
    logistics = rows.loc[("rolling_28d", D3, "查看物流进度")]
    if graded:  # min_ratings 1: one rating of 4 scores 4.0, grade A; one rating has no interval
        assert_figures(logistics, {"score": 4.0, "score_ci_low": None, "grade": "A", "followup_csat": 1.0}, "graded")
        assert_figures(rows.loc[("rolling_28d", D3, "上门取件")], {"score": 3.0, "grade": "B"}, "pickup")
    else:  # metrics.yaml asks for 10 ratings: every item says too few ratings, no score, no grade
        assert set(frame["rating_status"]) == {"too_few_ratings"}
        assert frame["grade"].isna().all() and frame["score"].isna().all()


def test_every_metrics_daily_figure_is_written_out_by_hand() -> None:
    assert set(ALL_D1) == set(METRICS_DAILY.column_names) - {"business_date"}
    assert set(ALL_D2) == set(ALL_D1)
    assert set(WEB_D1) == set(TMALL_D1) == set(METRICS_DAILY_BY_CHANNEL.column_names) - {"business_date", "channel"}
    rollup_only = {"visitor_days", "visitors_daily_mean", "rolling_visitor_rate", "sessions"}
    rollup_only |= {"sessions_with_submission", "submission_rate"} | {
        c for c in METRICS_ROLLUPS.column_names if "backlog" in c
    }
    assert set(ROLLUP_ALL[("rolling_7d", D2)]) >= set(METRICS_ROLLUPS.column_names[6:]) - {"channel"}
    assert rollup_only <= set(ROLLUP_ALL[("rolling_7d", D2)])


def test_every_service_measure_is_additive_or_derived_from_sums_or_rows() -> None:
    derived = set(RATIOS) | set(SLA_RATES) | set(QUANTILES)
    names = {c.name for c in SERVICE_MEASURES}
    assert names == set(ADDITIVE) | (derived & names) and not set(ADDITIVE) & derived


def test_daily_metrics_match_hand_figures() -> None:
    fact, problems, work_orders, sessions = hand_marts()
    end = LAST + dt.timedelta(days=1)
    check_daily(build_metrics_daily(fact, problems, work_orders, sessions, FIRST, end))
    check_by_channel(build_metrics_daily_by_channel(fact, problems, work_orders))
    check_by_cause(build_metrics_daily_by_cause(fact, problems, work_orders))
    check_by_item(build_metrics_daily_by_service_item(work_orders, fact, FIRST, end))


def test_rollups_match_hand_figures() -> None:
    fact, problems, work_orders, sessions = hand_marts()
    end = LAST + dt.timedelta(days=1)
    daily = build_metrics_daily(fact, problems, work_orders, sessions, FIRST, end)
    by_channel = build_metrics_daily_by_channel(fact, problems, work_orders)
    plan = plan_rollups(DateWindow(FIRST, end), 28)
    rollups = build_metrics_rollups(daily, by_channel, ticket_rows(fact), work_orders, plan, TZ)
    check_rollups(rollups)
    built = set(daily["business_date"])
    by_cause = build_metrics_daily_by_cause(fact, problems, work_orders)
    check_cause_rollups(build_cause_rollups(by_cause, built, work_orders, plan_rollups(DateWindow(FIRST, end))))
    by_item = build_metrics_daily_by_service_item(work_orders, fact, FIRST, end)
    items_plan = plan_rollups(DateWindow(FIRST, end))
    check_item_scores(build_service_item_scores(by_item, built, items_plan), graded=False)
    lenient = replace(load_metric_rules(), min_ratings=1)
    check_item_scores(build_service_item_scores(by_item, built, items_plan, lenient), graded=True)


@pytest.mark.slow
def test_open_work_order_before_its_due_time_is_pending() -> None:
    fact, problems, _, sessions = hand_marts()
    early = build_work_orders(problems, load_service_rules(), pd.Timestamp("2026-10-02 08:00", tz=TZ))
    row = build_metrics_daily(fact, problems, early, sessions, D1, D2).iloc[0]
    # WO3 (due 10-02 10:30) is still pending at 08:00; WO1 and WO5 were resolved late.
    assert_figures(row, {"sla_met": 2, "sla_breached": 2, "sla_pending": 1, "sla_achieved_rate": 0.5}, "early")


def test_score_interval_and_grades_by_hand() -> None:
    rules = replace(load_metric_rules(), min_ratings=3)
    sums = pd.DataFrame(
        {
            "service_action": ["a", "b", "c"],
            # a: ratings 5 4 4 3; b: 5 5 5; c: 5 2 (too few)
            "followup_ratings": [4, 3, 2],
            "followup_rating_sum": [16, 15, 7],
            "followup_rating_sq_sum": [66, 75, 29],
            "satisfied_followups": [3, 3, 1],
        }
    )
    scored = score_items(sums, rules).set_index("service_action")
    # a: mean 4; variance (66 - 16^2 / 4) / 3 = 2/3; t(0.975, 3) = 3.182446305; half = t * sqrt(2/3) / 2.
    half = 3.182446305284263 * (2 / 3) ** 0.5 / 2
    assert_figures(
        scored.loc["a"],
        {
            "score": 4.0,
            "score_stddev": (2 / 3) ** 0.5,
            "score_ci_low": 4.0 - half,
            "score_ci_high": 5.0,  # 4 + 1.299 clipped to the 1-5 scale
            "followup_csat": 0.75,
            "grade": "A",
            "rating_status": "graded",
        },
        "a",
    )
    assert_figures(scored.loc["b"], {"score": 5.0, "score_ci_low": 5.0, "score_ci_high": 5.0, "grade": "A+"}, "b")
    assert_figures(scored.loc["c"], {"score": None, "grade": None, "rating_status": "too_few_ratings"}, "c")
    assert rules.grade_of(3.49) == "B" and rules.grade_of(2.5) == "C+" and rules.grade_of(1.0) == "C"


@pytest.mark.slow
def test_refund_amount_alone_makes_a_refund_order() -> None:
    fact, problems, work_orders, _ = hand_marts()
    row = build_metrics_daily_by_channel(fact, problems, work_orders).set_index(["business_date", "channel"])
    # O3's only feedback is a dispute; its refund_amount of 200 makes it a refund order.
    assert row.loc[(D1, "tmall"), "refund_orders"] == 2 and row.loc[(D1, "tmall"), "dispute_orders"] == 1


def test_periods_and_rewrite_plan_by_hand() -> None:
    kinds = [(p.kind, p.start, p.end) for p in periods_ending_between(dt.date(2026, 10, 31), dt.date(2026, 11, 1))]
    assert kinds == [
        ("day", dt.date(2026, 10, 31), dt.date(2026, 10, 31)),
        ("rolling_7d", dt.date(2026, 10, 25), dt.date(2026, 10, 31)),
        ("rolling_28d", dt.date(2026, 10, 4), dt.date(2026, 10, 31)),
        ("month", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("day", dt.date(2026, 11, 1), dt.date(2026, 11, 1)),
        ("rolling_7d", dt.date(2026, 10, 26), dt.date(2026, 11, 1)),
        ("rolling_28d", dt.date(2026, 10, 5), dt.date(2026, 11, 1)),
        ("week", dt.date(2026, 10, 26), dt.date(2026, 11, 1)),
    ]
    # Rebuilding 10-01 .. 10-02 with a 28-day lookback reaches the 28-day windows ending up to
    # 10-02 + 28 + 27 = 11-26; it reads from the start of the 28 days ending 10-01 (09-04) minus 28 days.
    plan = plan_rollups(DateWindow(D1, D3), 28)
    assert (plan.write.start, plan.write.end, plan.read.start, plan.read.end) == (
        D1,
        dt.date(2026, 11, 27),
        dt.date(2026, 8, 7),
        dt.date(2026, 11, 27),
    )
    # Without lookback: up to 10-02 + 27 = 10-29, or the month end 10-31 when later.
    plan = plan_rollups(DateWindow(D1, D3), 0)
    assert (plan.write.end, plan.read.start) == (dt.date(2026, 11, 1), dt.date(2026, 9, 4))


@pytest.mark.parametrize("lookback", [0, 7, 28])
def test_the_declared_dependency_covers_what_every_plan_reads(lookback: int) -> None:
    """A roll-up's Dagster dependency (days_before) and the rows its plans read come from one PeriodReads: every
    period ending on D reads nothing before D - days_before, and a period ending on a month's last day of 31 reads
    that far."""
    reads = PeriodReads(lookback)
    reached = 0
    for i in range(2 * 366):
        end = dt.date(2025, 1, 1) + dt.timedelta(days=i)
        plan = reads.of_ends(DateWindow.single(end))
        assert plan.read.end == end + dt.timedelta(days=1)
        assert plan.read.start >= end - dt.timedelta(days=reads.days_before), end
        reached = max(reached, (end - plan.read.start).days)
    assert reached == reads.days_before
    changed = DateWindow(dt.date(2025, 3, 1), dt.date(2025, 3, 4))
    assert reads.after_change(changed) == plan_rollups(changed, lookback)
