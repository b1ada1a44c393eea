"""Sample helpdesk action logs (the actions source) and the customer behaviour each action leads to.

For every complaint on a clean order (rated below 3, or a complaint-type ticket), the helpdesk takes one of the
cause's service actions a few hours after the complaint, chosen mostly in the order of service_actions.yaml. Each
action works with its own probability (SUCCESS: some actions work better than others, so the measured ranking has
something to find). An action that works is followed by the customer coming back (a page view) and, where the cause
has one, completing what was stuck (a successful payment, a return submitted); one that does not is followed by a
contact_service event, and most of the time by a second action of another kind. None of these events fires a
behaviour signal rule. The log is written as a helpdesk exports its ticket audits (Zendesk-style headers, which
config/helpdesk_actions.yaml maps), one file per day, into actions/<day>/actions_<day>.csv.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from after_sales.behaviour.actions import cause_of_action
from after_sales.sample.generator import SampleData
from after_sales.transforms.marts import locate_causes, work_order_id
from after_sales.transforms.rules import load_cause_rules, load_service_rules
from after_sales.vocabulary import EVENT_COLUMNS

SOURCE = "actions"
HEADER = ("Audit ID", "Ticket ID", "Order ID", "Macro", "Author", "Created at", "Status")
# Probability that an action settles the problem (the sample's ground truth the loop should recover).
SUCCESS = {
    "更换支付方式": 0.85,
    "核实扣款并退还差额": 0.55,
    "查看物流进度": 0.45,
    "修改快递": 0.85,
    "更换收货地址": 0.6,
    "上门取件": 0.85,
    "以赠品补差价": 0.55,
    "立即维修": 0.65,
    "换新": 0.85,
    "人工回访": 0.6,
}
FIRST_CHOICE = (0.5, 0.3, 0.2)  # the chance an agent picks the first, second, third action of the list
SECOND_ACTION_SHARE = 0.7  # of the actions that did not work, those followed by another action
ORDER_ONLY_SHARE = 0.1  # rows naming the order instead of the work order
AGENTS = tuple(f"agent{i:02d}" for i in range(1, 13))
HOUR = pd.Timedelta(hours=1)


def _problems(sample: SampleData) -> pd.DataFrame:
    """The first problem feedback of each clean order (no fault on the order or the feedback), with its cause."""
    rules = load_cause_rules()
    f = sample.table("feedback")
    o = sample.table("orders")
    faulty = sample.faults.set_index(["source_file", "source_row"]).index
    f = f.loc[~pd.MultiIndex.from_frame(f[["source_file", "source_row"]]).isin(faulty)]
    bad_orders = o.loc[pd.MultiIndex.from_frame(o[["source_file", "source_row"]]).isin(faulty), "order_id"]
    clean = o.loc[~o["order_id"].isin(set(bad_orders)), ["order_id", "user"]].drop_duplicates("order_id")
    rating = pd.to_numeric(f["rating"], errors="coerce")
    issue = f["issue_type"].astype(str).str.strip().str.lower()
    f = f.loc[(rating < 3) | issue.isin(rules.complaint_issue_types)].copy()
    f["cause"] = locate_causes(f["issue_type"], f["issue_description"], rules)["cause"].to_numpy()
    f["at"] = pd.to_datetime(f["created_at"], errors="coerce", format="%Y-%m-%d %H:%M:%S")
    f = f.loc[f["at"].notna()].sort_values(["at", "feedback_id"], kind="stable").drop_duplicates("order_id")
    return f.merge(clean, on="order_id")[["order_id", "user", "cause", "at"]].reset_index(drop=True)


def _effect_events(
    rows: list[dict[str, object]],
    rng: np.random.Generator,
    order: str,
    user: str,
    cause: str,
    action: str,
    at: pd.Timestamp,
    worked: bool,
) -> pd.Timestamp:
    """Append the customer's events after an action; return when the customer came back or contacted."""
    visitor = "W" + user.removeprefix("U")
    later = at + pd.Timedelta(seconds=int(rng.integers(1800, 36 * 3600)))
    if worked:
        rows.append({"visitor_id": visitor, "user_id": user, "order_id": None, "occurred_at": later,
                     "event_type": "page_view", "page": "home"})
        if cause == "payment":
            rows.append({"visitor_id": visitor, "user_id": user, "order_id": order, "occurred_at": later + HOUR / 6,
                         "event_type": "payment_result", "page": "pay", "result": "success"})
        elif cause == "cumbersome_return" and action == "上门取件":
            rows.append({"visitor_id": visitor, "user_id": user, "order_id": order, "occurred_at": later + HOUR / 6,
                         "event_type": "return_submit", "page": "return"})
    else:
        rows.append({"visitor_id": visitor, "user_id": user, "order_id": order, "occurred_at": later,
                     "event_type": "contact_service", "page": "help"})
    return later


def generate_actions(sample: SampleData) -> tuple[dict[dt.date, pd.DataFrame], dict[dt.date, pd.DataFrame]]:
    """Action-log frames per landing day (as the helpdesk exports them) and the effect events per day."""
    rng = np.random.default_rng([sample.seed, 17])
    rules = load_service_rules()
    last = pd.Timestamp(sample.end) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    log: list[dict[str, object]] = []
    events: list[dict[str, object]] = []
    for p in _problems(sample).itertuples(index=False):
        choices = rules.actions.get(p.cause) or rules.actions.get("other") or ("人工回访",)
        weights = np.asarray(FIRST_CHOICE[: len(choices)]) / sum(FIRST_CHOICE[: len(choices)])
        first = int(rng.choice(len(choices), p=weights))
        at = p.at + pd.Timedelta(seconds=int(rng.integers(1800, 8 * 3600)))
        taken = [first]
        while at <= last:
            action = choices[taken[-1]]
            worked = bool(rng.random() < SUCCESS.get(action, 0.5))
            log.append({"order_id": p.order_id, "cause": p.cause, "action": action, "at": at, "worked": worked})
            back = _effect_events(events, rng, p.order_id, p.user, p.cause, action, at, worked)
            others = [i for i in range(len(choices)) if i not in taken]
            if worked or not others or len(taken) >= 2 or rng.random() >= SECOND_ACTION_SHARE:
                break
            taken.append(int(rng.choice(others)))
            at = back + pd.Timedelta(seconds=int(rng.integers(1800, 4 * 3600)))
    return _log_frames(sample, rng, log), _event_frames(events, last)


def _log_frames(
    sample: SampleData, rng: np.random.Generator, log: list[dict[str, object]]
) -> dict[dt.date, pd.DataFrame]:
    frame = pd.DataFrame(log, columns=["order_id", "cause", "action", "at", "worked"])
    frame = frame.sort_values("at", kind="stable").reset_index(drop=True)
    n = len(frame)
    ids = [work_order_id(o, c) for o, c in zip(frame["order_id"], frame["cause"], strict=True)]
    # A row naming only the order names its cause through the action: only where that is the work order's cause.
    first_cause = frame["action"].map(cause_of_action()).to_numpy()
    order_only = (rng.random(n) < ORDER_ONLY_SHARE) & (first_cause == frame["cause"].to_numpy())
    text = pd.DataFrame(
        {
            "Audit ID": [f"AU{i:08d}" for i in range(1, n + 1)],
            "Ticket ID": np.where(order_only, "", ids),
            "Order ID": np.where(order_only, frame["order_id"], ""),
            "Macro": frame["action"].to_numpy(),
            "Author": np.asarray(AGENTS)[rng.integers(0, len(AGENTS), n)],
            "Created at": frame["at"].dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy(),
            "Status": np.where(frame["worked"], "Solved", "Pending"),
        }
    )
    day = frame["at"].dt.date.to_numpy()
    frames = {d: text.loc[day == d].reset_index(drop=True) for d in sample.landing_days}
    return {d: f if len(f) else pd.DataFrame(columns=list(HEADER)) for d, f in frames.items()}


def _event_frames(rows: list[dict[str, object]], last: pd.Timestamp) -> dict[dt.date, pd.DataFrame]:
    if not rows:
        return {}
    e = pd.DataFrame(rows).reindex(columns=[c for c in EVENT_COLUMNS if c not in ("event_id", "session_id")])
    e = e.loc[e["occurred_at"] <= last].sort_values(["occurred_at", "visitor_id"], kind="stable")
    e["occurred_at"] = e["occurred_at"].dt.floor("s")
    day = e["occurred_at"].dt.strftime("%Y%m%d")
    e["event_id"] = "EA" + day + (e.groupby(day).cumcount() + 1).astype(str).str.zfill(6)
    e["session_id"] = "S" + e["visitor_id"] + "-" + e["occurred_at"].dt.strftime("%Y%m%d%H")
    text = e.reindex(columns=list(EVENT_COLUMNS)).astype(object)
    text["occurred_at"] = e["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text = text.where(text.notna(), "").astype(str)
    return {d.date(): part.reset_index(drop=True) for d, part in text.groupby(e["occurred_at"].dt.normalize())}
