"""Sample behaviour events (the events source) with problem journeys planted in them, and their manifest.

Built from the generated orders and feedback: every order gets ordinary events (a product view, checkout, a
successful payment, sometimes a tracking view before the promised date), anonymous visitors browse and search
for products, and problem journeys are planted:

- before a share of the complaints located to payment, not_delivered or cumbersome_return, the journey that
  led to it (failed payments; anxious tracking of a late parcel or a 快递到哪了 search; a return started and
  abandoned, or stepped back and forth), sometimes with a how-to search (怎么付款 / 快递到哪了 / 退货流程);
- silent journeys on orders without feedback (the customer gives up and never complains);
- near misses that no rule should fire on (one failed payment then a success, two tracking views, a return
  finished in minutes).

_sample/planted_journeys.csv lists each planted journey with the rule expected to find it (empty for near
misses), its subject (order, or the order the user's search is attributed to), the complaint that follows and
its event ids, so the signals' recall on the manifest and their false-positive rate can be measured.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import after_sales.sample.texts as texts
from after_sales.behaviour.rules import load_signal_rules
from after_sales.sample.generator import SampleData, landing_relpath
from after_sales.sample.landing import SAMPLE_DIR, write_frame_csv
from after_sales.transforms.marts import locate_causes
from after_sales.transforms.rules import load_cause_rules
from after_sales.vocabulary import EVENT_COLUMNS

SOURCE = "events"
MANIFEST = "planted_journeys.csv"
MANIFEST_COLUMNS = (
    "journey_id",
    "journey",
    "expected_rule",
    "subject_id",
    "order_id",
    "visitor_id",
    "user_id",
    "first_event_at",
    "last_event_at",
    "complaint_id",
    "event_ids",
)
PLANT_SHARE = 0.6  # of the complaints with a behaviour cause, those whose journey is in the events
HOWTO_SHARE = 0.3  # of the planted journeys, those with a how-to search by the logged-in user
SILENT_SHARE = 0.006  # of the orders without feedback, a problem journey and no complaint
DECOY_SHARE = 0.01  # of the orders, a near miss
TRACKED_SHARE = 0.4  # of the orders, one tracking view before the promised date
ANONYMOUS_PER_ORDER = 0.5  # anonymous product browsing per order
ZERO_RESULT_SHARE = 0.05
CONTACT_SHARE = 0.3  # of the complaints, those preceded by a visit to the contact page
HOWTO_QUERIES = {
    "payment": ("怎么付款", "付款失败怎么办", "支付方式"),
    "not_delivered": ("快递到哪了", "物流查询", "我的快递怎么还没到"),
    "cumbersome_return": ("退货流程", "怎么退货", "退款流程"),
}
JOURNEY_RULE = {
    "payment_failures": "repeated_payment_failure",
    "late_parcel_tracking": "late_parcel_tracking",
    "delivery_search": "delivery_search",
    "abandoned_return": "abandoned_return",
    "return_back_and_forth": "return_back_and_forth",
    "payment_search": "payment_search",
    "return_search": "return_search",
}
PAY_FAILURES = ("insufficient_funds", "card_declined", "bank_timeout", "risk_control")
MIN = pd.Timedelta(minutes=1)
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


@dataclass
class _Builder:
    """Collects planted event rows (journey number per row) and the manifest rows."""

    rng: np.random.Generator
    rows: list[dict[str, object]] = field(default_factory=list)
    journeys: list[dict[str, object]] = field(default_factory=list)

    def event(
        self,
        journey: int,
        visitor: str,
        user: str | None,
        order: str | None,
        at: pd.Timestamp,
        kind: str,
        **values: object,
    ) -> None:
        self.rows.append(
            {
                "journey": journey,
                "visitor_id": visitor,
                "user_id": user,
                "order_id": order,
                "occurred_at": at,
                "event_type": kind,
                **values,
            }
        )

    def journey(self, name: str, order: str, visitor: str, user: str, complaint: str = "") -> int:
        self.journeys.append(
            {
                "journey_id": len(self.journeys) + 1,
                "journey": name,
                "expected_rule": JOURNEY_RULE.get(name, ""),
                "order_id": order,
                "visitor_id": visitor,
                "user_id": user,
                "complaint_id": complaint,
            }
        )
        return len(self.journeys)


def _visitor(user: str) -> str:
    return "W" + user.removeprefix("U")


def _plant(
    b: _Builder,
    name: str,
    order: pd.Series,
    before: pd.Timestamp,
    complaint: str,
    promised_days: int,
) -> bool:
    """Plant one journey of an order that must be complete before `before`; False when it does not fit."""
    rng, created, user = b.rng, order["created"], order["user"]
    visitor = _visitor(user)
    oid = order["order_id"]
    if name == "payment_failures":
        n = int(rng.integers(2, 5))
        times = [created + MIN * (1 + 2 * i + float(rng.random())) for i in range(n)]
        if times[-1] >= before - 5 * MIN:
            return False
        j = b.journey(name, oid, visitor, user, complaint)
        for t in times:
            b.event(j, visitor, user, oid, t - 0.5 * MIN, "payment_attempt", page="pay")
            b.event(
                j,
                visitor,
                user,
                oid,
                t,
                "payment_result",
                page="pay",
                result="failure",
                reason_code=str(rng.choice(PAY_FAILURES)),
            )
        if rng.random() < 0.4:  # paid at last another way, after the signal fired
            b.event(
                j,
                visitor,
                user,
                oid,
                times[-1] + MIN * float(rng.integers(5, 60)),
                "payment_result",
                page="pay",
                result="success",
            )
        return True
    if name == "late_parcel_tracking":
        promised = created + DAY * promised_days
        n = int(rng.integers(3, 6))
        span = (before - promised - HOUR) / HOUR
        if span < n:
            return False
        hours = np.sort(rng.uniform(0.5, min(span, 72.0), n))
        j = b.journey(name, oid, visitor, user, complaint)
        for h in hours:
            b.event(j, visitor, user, oid, promised + HOUR * float(h), "order_track_view", page="order_tracking")
        return True
    if name in ("delivery_search", "payment_search", "return_search"):
        cause = {"delivery_search": "not_delivered", "payment_search": "payment", "return_search": "cumbersome_return"}
        at = before - HOUR * float(rng.uniform(0.5, 12.0))
        if at <= created + MIN:
            at = created + (before - created) / 2
        if at >= before or at <= created:
            return False
        j = b.journey(name, oid, visitor, user, complaint)
        query = str(rng.choice(HOWTO_QUERIES[cause[name]]))
        b.event(
            j, visitor, user, None, at, "search", page="search", search_query=query, result=str(int(rng.integers(0, 4)))
        )
        return True
    if name == "abandoned_return":
        start = before - HOUR * float(rng.uniform(26.0, 72.0))
        if start <= created + HOUR:
            return False
        j = b.journey(name, oid, visitor, user, complaint)
        b.event(j, visitor, user, oid, start, "return_start", page="return")
        for step in range(1, int(rng.integers(1, 4)) + 1):
            b.event(j, visitor, user, oid, start + MIN * (2 * step), "return_step", page=f"return_step_{step}")
        return True
    if name == "return_back_and_forth":
        start = before - HOUR * float(rng.uniform(1.0, 6.0))
        if start <= created + HOUR:
            return False
        j = b.journey(name, oid, visitor, user, complaint)
        b.event(j, visitor, user, oid, start, "return_start", page="return")
        for i, step in enumerate((1, 2, 1, 2, 3, 2)):
            b.event(j, visitor, user, oid, start + MIN * (i + 1), "return_step", page=f"return_step_{step}")
        # ... and submit it in the end, then complain how cumbersome it was (so no abandoned_return)
        b.event(j, visitor, user, oid, start + MIN * float(rng.integers(10, 40)), "return_submit", page="return")
        return True
    raise ValueError(f"unknown journey {name}")


def _decoy(b: _Builder, name: str, order: pd.Series, promised_days: int, last: pd.Timestamp) -> None:
    """Plant a near miss: behaviour just short of every rule."""
    created, user, oid = order["created"], order["user"], order["order_id"]
    visitor = _visitor(user)
    if name == "decoy_payment":
        j = b.journey(name, oid, visitor, user)
        b.event(
            j,
            visitor,
            user,
            oid,
            created + MIN,
            "payment_result",
            page="pay",
            result="failure",
            reason_code="card_declined",
        )
        b.event(j, visitor, user, oid, created + 3 * MIN, "payment_result", page="pay", result="success")
    elif name == "decoy_tracking":
        promised = created + DAY * promised_days
        if promised + 10 * HOUR > last:
            return
        j = b.journey(name, oid, visitor, user)
        for h in (2, 9):
            b.event(j, visitor, user, oid, promised + HOUR * h, "order_track_view", page="order_tracking")
    elif name == "decoy_return":
        start = created + DAY * 2
        if start + HOUR > last:
            return
        j = b.journey(name, oid, visitor, user)
        b.event(j, visitor, user, oid, start, "return_start", page="return")
        for step in (1, 2, 3):
            b.event(j, visitor, user, oid, start + MIN * step, "return_step", page=f"return_step_{step}")
        b.event(j, visitor, user, oid, start + MIN * 5, "return_submit", page="return")


def _orders(sample: SampleData) -> pd.DataFrame:
    o = sample.table("orders")
    created = pd.to_datetime(o["created_at"], errors="coerce", format="%Y-%m-%d %H:%M:%S")
    out = pd.DataFrame({"order_id": o["order_id"], "created": created, "user": o["user"].astype(str)})
    out = out.loc[out["created"].notna() & out["user"].str.startswith("U") & out["order_id"].ne("")]
    return out.drop_duplicates("order_id").reset_index(drop=True)


def _complaints(sample: SampleData) -> pd.DataFrame:
    f = sample.table("feedback")
    rating = pd.to_numeric(f["rating"], errors="coerce")
    issue = f["issue_type"].astype(str).str.strip().str.lower()
    f = f.loc[(rating < 3) | (issue.ne("review") & issue.ne(""))].copy()
    f["cause"] = locate_causes(f["issue_type"], f["issue_description"], load_cause_rules())["cause"].to_numpy()
    f["at"] = pd.to_datetime(f["created_at"], errors="coerce", format="%Y-%m-%d %H:%M:%S")
    return f.loc[f["at"].notna()].sort_values("at", kind="stable").drop_duplicates("order_id")


def _background(
    rng: np.random.Generator,
    orders: pd.DataFrame,
    planted_pay: set[str],
    sample: SampleData,
) -> pd.DataFrame:
    """Ordinary events: every order's view, checkout and payment; tracking before the promise; anonymous browsing."""
    n = len(orders)
    visitor = "W" + orders["user"].str.removeprefix("U")
    created = orders["created"]
    products = [name for name, _, _ in texts.PRODUCTS]
    parts = [
        pd.DataFrame(
            {
                "visitor_id": visitor,
                "user_id": orders["user"],
                "order_id": None,
                "occurred_at": created - MIN * rng.uniform(2, 20, n),
                "event_type": "page_view",
                "page": "product",
            }
        ),
        pd.DataFrame(
            {
                "visitor_id": visitor,
                "user_id": orders["user"],
                "order_id": orders["order_id"],
                "occurred_at": created - 0.5 * MIN,
                "event_type": "checkout_start",
                "page": "checkout",
            }
        ),
    ]
    paid = ~orders["order_id"].isin(planted_pay)
    parts.append(
        pd.DataFrame(
            {
                "visitor_id": visitor[paid],
                "user_id": orders["user"][paid],
                "order_id": orders["order_id"][paid],
                "occurred_at": created[paid] + pd.to_timedelta(rng.uniform(5, 90, int(paid.sum())), unit="s"),
                "event_type": "payment_result",
                "page": "pay",
                "result": "success",
            }
        )
    )
    tracked = rng.random(n) < TRACKED_SHARE
    parts.append(
        pd.DataFrame(
            {
                "visitor_id": visitor[tracked],
                "user_id": orders["user"][tracked],
                "order_id": orders["order_id"][tracked],
                "occurred_at": created[tracked] + DAY * rng.uniform(0.5, 2.5, int(tracked.sum())),
                "event_type": "order_track_view",
                "page": "order_tracking",
            }
        )
    )
    m = int(n * ANONYMOUS_PER_ORDER)
    start = pd.Timestamp(sample.start)
    at = start + DAY * rng.integers(0, sample.days, m) + pd.to_timedelta(rng.integers(0, 86_400, m), unit="s")
    anonymous = "VA" + pd.Series(rng.integers(1, max(2, m), m)).astype(str).str.zfill(7)
    query = pd.Series(np.asarray(products, dtype=object)[rng.integers(0, len(products), m)])
    zero = rng.random(m) < ZERO_RESULT_SHARE
    counts = pd.Series(rng.integers(1, 60, m)).astype(str).where(~zero, "0")
    query = query.where(~zero, query + " 限量版")
    parts.append(
        pd.DataFrame(
            {
                "visitor_id": anonymous,
                "user_id": None,
                "order_id": None,
                "occurred_at": at,
                "event_type": "search",
                "page": "search",
                "search_query": query,
                "result": counts,
            }
        )
    )
    parts.append(
        pd.DataFrame(
            {
                "visitor_id": anonymous,
                "user_id": None,
                "order_id": None,
                "occurred_at": at + pd.to_timedelta(rng.integers(5, 300, m), unit="s"),
                "event_type": "page_view",
                "page": "product",
            }
        )
    )
    return pd.concat(parts, ignore_index=True).assign(journey=0)


def _attributed(events: pd.DataFrame, orders: pd.DataFrame, days: int) -> pd.Series:
    """The order each event without order_id is attributed to (the user's latest order in the days before)."""
    e = events.reset_index()[["index", "user_id", "occurred_at"]].dropna(subset=["user_id"])
    e = e.astype({"user_id": str, "occurred_at": "datetime64[ns]"}).sort_values("occurred_at", kind="stable")
    o = orders.rename(columns={"user": "user_id", "created": "occurred_at"}).sort_values("occurred_at")
    o = o.astype({"user_id": str, "order_id": str, "occurred_at": "datetime64[ns]"})
    found = pd.merge_asof(
        e,
        o[["user_id", "occurred_at", "order_id"]],
        on="occurred_at",
        by="user_id",
        tolerance=pd.Timedelta(days=days),
        direction="backward",
        allow_exact_matches=True,
    )
    return found.set_index("index")["order_id"].reindex(events.index)


def generate_events(sample: SampleData) -> tuple[dict[dt.date, pd.DataFrame], pd.DataFrame]:
    """Event landing frames per day (text, as an export writes them) and the planted-journey manifest."""
    rng = np.random.default_rng([sample.seed, 16])
    config = load_signal_rules()
    orders = _orders(sample)
    by_id = orders.set_index("order_id")
    first = pd.Timestamp(sample.start)
    last = pd.Timestamp(sample.end) + DAY - pd.Timedelta(seconds=1)
    b = _Builder(rng)
    complaints = _complaints(sample)
    complaints = complaints.loc[complaints["order_id"].isin(by_id.index)]
    choices = {
        "payment": (["payment_failures"], ["payment_search"]),
        "not_delivered": (["late_parcel_tracking", "delivery_search"], ["delivery_search"]),
        "cumbersome_return": (["abandoned_return", "return_back_and_forth"], ["return_search"]),
    }
    planted_pay: set[str] = set()
    for c in complaints.itertuples():
        if c.cause not in choices or rng.random() >= PLANT_SHARE:
            continue
        order = by_id.loc[c.order_id].copy()
        order["order_id"] = c.order_id
        journeys, searches = choices[c.cause]
        planted = False
        for name in journeys:  # the first that fits the time between order and complaint
            if _plant(b, str(name), order, c.at, c.feedback_id, config.promised_delivery_days):
                planted = True
                planted_pay |= {c.order_id} if name == "payment_failures" else set()
                break
        if planted and rng.random() < HOWTO_SHARE and searches[0] not in journeys:
            _plant(b, searches[0], order, c.at, c.feedback_id, config.promised_delivery_days)
    with_feedback = set(sample.table("feedback")["order_id"])
    quiet = orders.loc[~orders["order_id"].isin(with_feedback)]
    for o in quiet.loc[rng.random(len(quiet)) < SILENT_SHARE].itertuples(index=False):
        order = pd.Series({"order_id": o.order_id, "created": o.created, "user": o.user})
        name = str(rng.choice(["payment_failures", "abandoned_return", "late_parcel_tracking"]))
        horizon = min(last, o.created + DAY * (config.promised_delivery_days + 3))
        if _plant(b, name, order, horizon, "", config.promised_delivery_days) and name == "payment_failures":
            planted_pay.add(o.order_id)
    # Near misses go to users without a planted journey (a search is attributed to the user's latest order).
    untouched = orders.loc[~orders["user"].isin({str(j["user_id"]) for j in b.journeys})]
    for o in untouched.loc[rng.random(len(untouched)) < DECOY_SHARE].itertuples(index=False):
        order = pd.Series({"order_id": o.order_id, "created": o.created, "user": o.user})
        name = str(rng.choice(["decoy_payment", "decoy_tracking", "decoy_return"]))
        _decoy(b, name, order, config.promised_delivery_days, last)
        planted_pay |= {o.order_id} if name == "decoy_payment" else set()

    # Some complaining customers first open the contact page (contact_service) shortly before writing.
    asks = complaints.loc[rng.random(len(complaints)) < CONTACT_SHARE]
    asks = asks.assign(user=by_id.loc[asks["order_id"], "user"].to_numpy())
    contact = pd.DataFrame(
        {
            "visitor_id": "W" + asks["user"].str.removeprefix("U"),
            "user_id": asks["user"],
            "order_id": asks["order_id"],
            "occurred_at": asks["at"] - pd.to_timedelta(rng.integers(300, 3600, len(asks)), unit="s"),
            "event_type": "contact_service",
            "page": "help",
            "journey": 0,
        }
    )
    background = _background(rng, orders, planted_pay, sample)
    events = pd.concat([background, contact, pd.DataFrame(b.rows)], ignore_index=True)
    events = events.loc[(events["occurred_at"] >= first) & (events["occurred_at"] <= last)]
    events = events.sort_values(["occurred_at", "visitor_id"], kind="stable").reset_index(drop=True)
    events["occurred_at"] = events["occurred_at"].dt.floor("s")
    day = events["occurred_at"].dt.strftime("%Y%m%d")
    seq = events.groupby(day).cumcount() + 1
    events["event_id"] = "E" + day + seq.astype(str).str.zfill(7)
    events["session_id"] = "S" + events["visitor_id"] + "-" + events["occurred_at"].dt.strftime("%Y%m%d%H")
    manifest = _manifest(b, events, orders, config.attribution_days)
    text = events.reindex(columns=list(EVENT_COLUMNS))
    text["occurred_at"] = events["occurred_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
    text = text.fillna("").astype(str)
    frames = {d.date(): part.reset_index(drop=True) for d, part in text.groupby(events["occurred_at"].dt.normalize())}
    for d in sample.landing_days:
        frames.setdefault(d, pd.DataFrame(columns=list(EVENT_COLUMNS)))
    return dict(sorted(frames.items())), manifest


def _manifest(b: _Builder, events: pd.DataFrame, orders: pd.DataFrame, attribution_days: int) -> pd.DataFrame:
    planted = events.loc[events["journey"] > 0]
    j = pd.DataFrame(b.journeys)
    if j.empty:
        return pd.DataFrame(columns=list(MANIFEST_COLUMNS))
    g = planted.groupby("journey")
    j = j.set_index("journey_id")
    j["event_ids"] = g["event_id"].agg(",".join)
    j["first_event_at"] = g["occurred_at"].min().dt.strftime("%Y-%m-%d %H:%M:%S")
    j["last_event_at"] = g["occurred_at"].max().dt.strftime("%Y-%m-%d %H:%M:%S")
    j = j.loc[j["event_ids"].notna()]
    searches = planted.loc[planted["order_id"].isna()]
    subject = _attributed(searches, orders, attribution_days)
    by_journey = pd.Series(subject.to_numpy(), index=searches["journey"].to_numpy())
    by_journey = by_journey[~by_journey.index.duplicated()]
    j["subject_id"] = by_journey.reindex(j.index).fillna(j["order_id"]).to_numpy()
    return j.reset_index()[list(MANIFEST_COLUMNS)]


def write_events_landing(sample: SampleData, landing_dir: str | Path) -> list[Path]:
    """Write events/<day>/events_<day>.csv and actions/<day>/actions_<day>.csv (the helpdesk action log, with the
    customers' events after each action among the events) for every sample day, and _sample/planted_journeys.csv."""
    from after_sales.sample.actions import SOURCE as ACTIONS
    from after_sales.sample.actions import generate_actions

    root = Path(landing_dir)
    frames, manifest = generate_events(sample)
    logs, effects = generate_actions(sample)
    written = []
    for day, frame in frames.items():
        extra = effects.get(day)
        frame = pd.concat([frame, extra], ignore_index=True) if extra is not None else frame
        path = root / landing_relpath(SOURCE, day)  # the folder was cleared of earlier runs' files by the caller
        write_frame_csv(frame, path)
        written.append(path)
    for day, frame in logs.items():
        path = root / landing_relpath(ACTIONS, day)
        write_frame_csv(frame, path)
        written.append(path)
    path = root / SAMPLE_DIR / MANIFEST
    write_frame_csv(manifest, path)
    return [*written, path]
