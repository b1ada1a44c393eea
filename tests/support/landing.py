"""Small hand-made landing files for tests."""

from __future__ import annotations

from pathlib import Path

ORDERS_HEADER = "order_id,created_at,user,product,quantity,amount,payment_method,status,channel"
FEEDBACK_HEADER = (
    "feedback_id,order_id,created_at,rating,issue_type,issue_description,"
    "first_response_at,resolved_at,resolution,reopened"
)
BEHAVIOUR_HEADER = "session_id,visitor_id,started_at,ended_at,pages,submitted_after_sales_form"


def write_landing(
    landing: Path, source: str, day: str, lines: list[str], header: str, name: str = "export.csv"
) -> Path:
    """Write one landed csv file and return its path."""
    folder = landing / source / day
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def small_landing(landing: Path) -> None:
    """Two days of orders, feedback and sessions, with one late order and one unknown-order feedback."""
    write_landing(
        landing,
        "orders",
        "2026-10-01",
        [
            "O1,2026-10-01 10:00:00,U1,保温杯,1,59.90,alipay,completed,web",
            "O2,2026-10-01 11:00:00,U2,耳机,2,199.00,wechat,delivered,app",
            "O3,2026-10-01 12:00:00,U3,耳机,1,99.00,wechat,delivered,app",
        ],
        ORDERS_HEADER,
    )
    write_landing(
        landing,
        "orders",
        "2026-10-02",
        [
            "O4,2026-10-02 10:00:00,U1,保温杯,1,59.90,alipay,completed,web",
            "O5,2026-10-01 23:00:00,U5,Running shoes,1,399.00,card,completed,web",
        ],
        ORDERS_HEADER,
    )
    write_landing(
        landing,
        "feedback",
        "2026-10-02",
        [
            "F1,O1,2026-10-02 09:00:00,1,complaint,物流一直不更新，没收到货,2026-10-02 09:30:00,"
            "2026-10-02 15:00:00,info_provided,false",
            "F2,O2,2026-10-02 09:00:00,5,review,很好,,,,false",
            "F3,O3,2026-10-02 09:00:00,2,return,退货流程太麻烦 and it arrived broken,2026-10-02 10:00:00,,,false",
            "F4,O9,2026-10-02 09:00:00,2,return,unknown order,,,,false",
        ],
        FEEDBACK_HEADER,
    )
    for day in ("2026-10-01", "2026-10-02"):
        write_landing(
            landing,
            "behaviour",
            day,
            [
                f"S1-{day},V1,{day} 10:00:00,{day} 10:05:00,3,false",
                f"S2-{day},V2,{day} 11:00:00,{day} 11:05:00,5,true",
            ],
            BEHAVIOUR_HEADER,
        )
