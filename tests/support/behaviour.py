"""A small hand-made behaviour fixture: events, orders and feedback whose signals and accuracy are worked out by hand.

Day D is 2025-03-10 (Asia/Shanghai). The expected figures are in tests/test_behaviour.py, each with its reason.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.landing import FEEDBACK_HEADER, ORDERS_HEADER, write_landing

EVENTS_HEADER = (
    "event_id,session_id,visitor_id,user_id,order_id,occurred_at,event_type,page,search_query,result,reason_code"
)

ORDERS = {
    "2025-03-01": [
        "O2,2025-03-01 10:00:00,U2,耳机,1,99.00,alipay,shipped,web",
        "O7,2025-03-01 12:00:00,U7,耳机,1,99.00,alipay,shipped,web",
    ],
    "2025-03-02": ["O6,2025-03-02 10:00:00,U6,耳机,1,99.00,alipay,shipped,web"],
    "2025-03-05": [
        "O3,2025-03-05 10:00:00,U3,保温杯,1,59.90,wechat,delivered,app",
        "O4,2025-03-05 11:00:00,U4,保温杯,1,59.90,wechat,delivered,app",
    ],
    "2025-03-09": ["O5,2025-03-09 12:00:00,U5,耳机,1,99.00,card,paid,web"],
    "2025-03-10": ["O1,2025-03-10 09:00:00,U1,耳机,1,99.00,card,pending_payment,web"],
}
EVENTS = {
    "2025-03-03": ["E20,S20,V2,U2,O2,2025-03-03 08:00:00,order_track_view,order,,,"],  # before the promised time
    "2025-03-09": [
        "E21,S21,V2,U2,O2,2025-03-09 20:00:00,order_track_view,order,,,",
        "E30,S30,V3,U3,O3,2025-03-09 10:00:00,return_start,return,,,",
        "E31,S30,V3,U3,O3,2025-03-09 10:02:00,return_step,return_step_1,,,",
    ],
    "2025-03-10": [
        "E1,S1,V1,U1,O1,2025-03-10 09:01:00,payment_result,pay,,failure,insufficient_funds",
        "E2,S1,V1,U1,O1,2025-03-10 09:03:00,payment_result,pay,,failure,card_declined",
        "E3,S1,V1,U1,O1,2025-03-10 09:10:00,payment_result,pay,,failure,card_declined",
        "E10,S5,V5,U5,O5,2025-03-10 12:00:00,payment_result,pay,,failure,timeout",
        "E11,S5,V5,U5,O5,2025-03-10 12:01:00,payment_result,pay,,success,",
        "E12,S5,V5,U5,O5,2025-03-10 12:05:00,payment_result,pay,,failure,timeout",
        "E22,S22,V2,U2,O2,2025-03-10 08:00:00,order_track_view,order,,,",
        "E23,S22,V2,U2,O2,2025-03-10 09:00:00,order_track_view,order,,,",
        "E40,S4,V4,U4,O4,2025-03-10 11:00:00,return_start,return,,,",
        "E41,S4,V4,U4,O4,2025-03-10 11:01:00,return_step,return_step_1,,,",
        "E42,S4,V4,U4,O4,2025-03-10 11:02:00,return_step,return_step_2,,,",
        "E43,S4,V4,U4,O4,2025-03-10 11:03:00,return_step,return_step_1,,,",
        "E44,S4,V4,U4,O4,2025-03-10 11:04:00,return_step,return_step_2,,,",
        "E45,S4,V4,U4,O4,2025-03-10 11:05:00,return_step,return_step_1,,,",
        "E46,S4,V4,U4,O4,2025-03-10 11:10:00,return_submit,return,,,",
        "E50,S6,V6,U6,,2025-03-10 15:00:00,search,search,快递到哪了,3,",
        "E51,S9,V9,,,2025-03-10 16:00:00,search,search,怎么付款,0,",
        "E52,S9,V9,,,2025-03-10 16:10:00,search,search,蓝牙耳机,12,",
        "E53,S9,V9,,,2025-03-10 16:20:00,page_view,home,,,",
        "E54,S10,V9,,,2025-03-10 17:00:00,page_view,home,,,",
        "E60,S1,V1,U1,O1,2025-03-10 09:00:30,checkout_start,checkout,,,",  # never paid within 24 h
        "E61,S5,V5,U5,O5,2025-03-10 11:59:00,checkout_start,checkout,,,",  # paid at 12:01 (E11)
        "E70,S7,V7,U7,,2025-03-10 19:00:00,contact_service,help,,,",  # contacts before complaining (F3)
    ],
}
FEEDBACK = {
    "2025-03-10": [
        "F3,O7,2025-03-10 20:00:00,1,complaint,物流太慢,,,,false",
        "F4,O6,2025-03-10 18:00:00,5,review,好评,,,,false",
        "F5,O4,2025-03-10 12:00:00,,return,退货流程太麻烦,,,,false",
    ],
    "2025-03-11": ["F1,O1,2025-03-11 10:00:00,1,complaint,付款失败还扣款了,,,,false"],
    "2025-03-12": ["F2,O2,2025-03-12 09:00:00,2,complaint,快递一直没收到,,,,false"],
}


def write_fixture(landing: Path) -> None:
    """Write the fixture's orders, events and feedback into a landing directory, one folder per day."""
    for day, lines in ORDERS.items():
        write_landing(landing, "orders", day, lines, ORDERS_HEADER)
    for day, lines in EVENTS.items():
        write_landing(landing, "events", day, lines, EVENTS_HEADER)
    for day, lines in FEEDBACK.items():
        write_landing(landing, "feedback", day, lines, FEEDBACK_HEADER)
