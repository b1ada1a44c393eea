"""Deterministic, vectorized generation of the own-source sample landing data.

The story it tells (docs/sample-data.md): orders follow the week (more on Friday to Sunday) and the
marketplace festivals (双11 on 11-11, 618 on 06-18, 双12 on 12-12, with the days around them), with a little
noise; `orders_per_day` is the mean over the window, so the total stays days x orders_per_day. Tickets follow
their orders. Each ticket is resolved within the SLA hours of the priority its work order will get (the
rules of service_actions.yaml) with about the achievement target of metrics.yaml, varying from day to day;
the rest are resolved later with a long tail of up to six days, and a few stay open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import after_sales.sample.texts as texts
from after_sales.sample.faults import FAULT_TYPES, MANIFEST_COLUMNS, inject_faults
from after_sales.settings import DEFAULTS, ENV_TIMEZONE
from after_sales.transforms.metric_rules import load_metric_rules
from after_sales.transforms.rules import load_service_rules
from after_sales.vocabulary import LANDING_COLUMNS

SOURCES: tuple[str, ...] = ("orders", "feedback", "behaviour")
COLUMNS: dict[str, tuple[str, ...]] = LANDING_COLUMNS
DEFAULT_TIMEZONE = DEFAULTS[ENV_TIMEZONE]
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_FAULT_RATE = 0.5

LATE_ORDER_SHARE = 0.01
SESSIONS_PER_ORDER = 3.0
VISITOR_SHARE = 0.7
FORM_SUBMISSION_SHARE = 0.02
NO_RESPONSE_SHARE = 0.02
FOLLOWUP_SHARE = 0.4
UNRESOLVED_SHARE = 0.025  # tickets still open at the end however old (no answer included)
REOPENED_SHARE = 0.04
DAY = 86_400
MAX_RESOLUTION_SECONDS = 6 * DAY  # so a ticket lands within the 14 days the marts look after its order
# Orders per weekday (Monday first) relative to the mean, and the festivals: (month, day) -> factor.
WEEKDAY_FACTORS = (0.93, 0.92, 0.95, 0.98, 1.05, 1.12, 1.08)
PROMOTION_FACTORS: dict[tuple[int, int], float] = {
    (11, 10): 1.6,
    (11, 11): 3.2,
    (11, 12): 1.4,
    (6, 17): 1.3,
    (6, 18): 2.4,
    (6, 19): 1.2,
    (12, 12): 1.7,
}
DAILY_NOISE = 0.05
# The day-to-day spread of the share of tickets resolved within their SLA, around the target.
SLA_DAILY_SPREAD = 0.025
# Tickets meet their SLA this much more often than the target: a work order's SLA runs from its first ticket to
# its last resolution, and orders with a second ticket, unanswered and still open tickets pull the work-order
# figure the managers see below the per-ticket share.
SLA_TICKET_MARGIN = 0.03


def landing_relpath(source: str, day: dt.date) -> str:
    """Path of one landing file relative to the landing directory, posix style."""
    d = day.isoformat()
    return f"{source}/{d}/{source}_{d}.csv"


@dataclass(frozen=True)
class SampleData:
    """Generated landing files as text frames per source and landing day, plus the fault manifest."""

    start: dt.date
    days: int
    orders_per_day: int
    seed: int
    fault_rate: float
    tz: str
    frames: dict[str, dict[dt.date, pd.DataFrame]]
    faults: pd.DataFrame
    surge_days: tuple[dt.date, ...] = ()

    @property
    def end(self) -> dt.date:
        """Last landing day."""
        return self.start + dt.timedelta(days=self.days - 1)

    @property
    def landing_days(self) -> list[dt.date]:
        """Every landing day, oldest first."""
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def table(self, source: str) -> pd.DataFrame:
        """All rows of a source with their source_file and 1-based source_row, as written."""
        parts = []
        for day, frame in self.frames[source].items():
            part = frame.copy()
            part["source_file"] = landing_relpath(source, day)
            part["source_row"] = np.arange(1, len(frame) + 1)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> dict[str, Any]:
        """Arguments, surge days and per-source per-day row counts (good and faulty rows)."""
        faulty = self.faults.groupby(["source", "source_file"]).size().to_dict()
        files: dict[str, dict[str, dict[str, Any]]] = {}
        totals: dict[str, dict[str, int]] = {}
        for source in SOURCES:
            files[source] = {}
            total = {"rows": 0, "good_rows": 0, "faulty_rows": 0}
            for day, frame in self.frames[source].items():
                path = landing_relpath(source, day)
                bad = int(faulty.get((source, path), 0))
                counts = {"rows": len(frame), "good_rows": len(frame) - bad, "faulty_rows": bad}
                files[source][day.isoformat()] = {"file": path, **counts}
                for key, value in counts.items():
                    total[key] += value
            totals[source] = total
        by_fault = self.faults.groupby(["source", "fault"]).size().to_dict()
        return {
            "generator": "after_sales.sample",
            "args": {
                "start_date": self.start.isoformat(),
                "end_date": self.end.isoformat(),
                "days": self.days,
                "orders_per_day": self.orders_per_day,
                "seed": self.seed,
                "fault_rate": self.fault_rate,
                "timezone": self.tz,
            },
            "surge_days": [d.isoformat() for d in self.surge_days],
            "totals": totals,
            "faults": {s: {f: int(by_fault[(s, f)]) for f in FAULT_TYPES[s] if (s, f) in by_fault} for s in SOURCES},
            "files": files,
        }


def generate(
    start: dt.date,
    days: int,
    orders_per_day: int,
    seed: int,
    fault_rate: float = 0.0,
    tz: str = DEFAULT_TIMEZONE,
) -> SampleData:
    """Generate every own-source landing file for days start .. start + days - 1."""
    if days < 1:
        raise ValueError("days must be >= 1")
    if orders_per_day < 1:
        raise ValueError("orders_per_day must be >= 1")
    if not 0.0 <= fault_rate <= MAX_FAULT_RATE:
        raise ValueError(f"fault_rate must be between 0 and {MAX_FAULT_RATE}")
    ZoneInfo(tz)  # fail early on an unknown zone
    rng_orders, rng_feedback, rng_behaviour, rng_faults = np.random.default_rng(seed).spawn(4)
    clock = _Clock(start, days, tz)

    orders, order_land, order_info = _orders(rng_orders, clock, orders_per_day)
    feedback, feedback_land, feedback_orders = _feedback(rng_feedback, clock, order_info)
    behaviour, behaviour_land, surge = _behaviour(rng_behaviour, clock, orders_per_day)

    referenced = np.zeros(len(orders), dtype=bool)
    referenced[order_info["rank"][feedback_orders]] = True  # orders that have feedback keep clean rows
    frames: dict[str, dict[dt.date, pd.DataFrame]] = {}
    manifest: list[pd.DataFrame] = []
    for source, frame, land, protected in (
        ("orders", orders, order_land, referenced),
        ("feedback", feedback, feedback_land, None),
        ("behaviour", behaviour, behaviour_land, None),
    ):
        frames[source] = {}
        bounds = np.searchsorted(land, np.arange(days + 1))
        for i, day in enumerate(clock.days):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            part = frame.iloc[lo:hi].reset_index(drop=True)
            eligible = None if protected is None else ~protected[lo:hi]
            part, bad = inject_faults(part, source, day, rng_faults, fault_rate, eligible)
            frames[source][day] = part
            if bad:
                rows, kinds = zip(*bad, strict=True)
                manifest.append(
                    pd.DataFrame(
                        {
                            "source": source,
                            "source_file": landing_relpath(source, day),
                            "source_row": np.asarray(rows, dtype=np.int64),
                            "fault": list(kinds),
                        }
                    )
                )
    empty = {c: pd.Series(dtype="int64" if c == "source_row" else "str") for c in MANIFEST_COLUMNS}
    faults = pd.concat(manifest, ignore_index=True) if manifest else pd.DataFrame(empty)
    return SampleData(
        start=start,
        days=days,
        orders_per_day=orders_per_day,
        seed=seed,
        fault_rate=fault_rate,
        tz=tz,
        frames=frames,
        faults=faults,
        surge_days=tuple(clock.days[i] for i in surge),
    )


class _Clock:
    """Converts between local day/second offsets, UTC epoch seconds and text timestamps."""

    def __init__(self, start: dt.date, days: int, tz: str) -> None:
        self.start = start
        self.n_days = days
        self.tz = tz
        self.days = [start + dt.timedelta(days=i) for i in range(days)]
        self.ymd = [d.strftime("%Y%m%d") for d in self.days]
        self.epoch = np.datetime64(start, "s")

    def utc(self, local_seconds: np.ndarray) -> np.ndarray:
        """UTC epoch seconds of local wall-clock seconds counted from start's midnight."""
        naive = pd.DatetimeIndex(self.epoch + local_seconds.astype("timedelta64[s]"))
        aware = naive.tz_localize(self.tz, nonexistent="shift_forward", ambiguous=np.zeros(len(naive), dtype=bool))
        return aware.as_unit("s").asi8

    def local(self, utc: np.ndarray) -> pd.DatetimeIndex:
        """Local wall-clock times (naive) of UTC epoch seconds."""
        aware = pd.DatetimeIndex(utc.astype("datetime64[s]")).tz_localize("UTC")
        return aware.tz_convert(self.tz).tz_localize(None)

    def day_index(self, utc: np.ndarray) -> np.ndarray:
        """Local day of UTC epoch seconds, as an offset from start."""
        local = self.local(utc).to_numpy().astype("datetime64[D]")
        return (local - np.datetime64(self.start, "D")).astype(np.int64)

    def text(self, utc: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
        """Local timestamps as YYYY-MM-DD HH:MM:SS text, empty where missing."""
        seconds = pa.array(self.local(utc).to_numpy().astype("datetime64[s]"))
        out = pd.Series(pd.array(seconds.cast(pa.string()), dtype="str"))  # YYYY-MM-DD HH:MM:SS
        return out if missing is None else out.where(~missing, "")

    def ymd_of(self, day_idx: np.ndarray) -> pd.Series:
        """YYYYMMDD text of day offsets within the range."""
        return _take(self.ymd, day_idx)


def _take(values: Sequence[str], idx: np.ndarray) -> pd.Series:
    """Text Series of values picked by index."""
    return pd.Series(pd.array(list(values), dtype="str").take(np.asarray(idx, dtype=np.intp)))


def _text(ints: np.ndarray, width: int = 0) -> pd.Series:
    """Integers as text, zero-padded to width."""
    out = pa.array(np.asarray(ints, dtype=np.int64)).cast(pa.string())
    return pd.Series(pd.array(pc.utf8_lpad(out, width, "0") if width else out, dtype="str"))


def _width(largest: int, minimum: int) -> int:
    """Digits needed for largest, at least minimum."""
    return max(minimum, len(str(int(largest))))


def _pick(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """n indices drawn with the given relative weights."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum())


def _pick_by(rng: np.random.Generator, groups: np.ndarray, table: Sequence[Sequence[float]]) -> np.ndarray:
    """One index per row drawn from the weight row of its group."""
    t = np.asarray(table, dtype=float)
    cum = np.cumsum(t / t.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(len(groups))
    return np.minimum((u[:, None] >= cum[groups]).sum(axis=1), t.shape[1] - 1)


def _seconds_of_day(rng: np.random.Generator, n: int, hour_weights: Sequence[float]) -> np.ndarray:
    """Local seconds after midnight, following an hourly activity profile."""
    return _pick(rng, n, hour_weights) * 3600 + rng.integers(0, 3600, n)


def _money(cents: np.ndarray) -> pd.Series:
    """Non-negative cents as yuan text with two decimals."""
    return _text(cents // 100) + "." + _text(cents % 100, 2)


def daily_order_counts(rng: np.random.Generator, days: list[dt.date], per_day: int) -> np.ndarray:
    """Orders per day: weekday pattern, festivals and noise, summing exactly to len(days) * per_day."""
    weight = np.asarray(
        [WEEKDAY_FACTORS[d.weekday()] * PROMOTION_FACTORS.get((d.month, d.day), 1.0) for d in days], dtype=float
    )
    weight *= rng.normal(1.0, DAILY_NOISE, len(days)).clip(0.8, 1.2)
    total = len(days) * per_day
    exact = weight / weight.sum() * total
    counts = np.floor(exact).astype(np.int64)
    # Largest remainders get the orders rounding left over, so the total is exact.
    counts[np.argsort(counts - exact, kind="stable")[: total - int(counts.sum())]] += 1
    if len(days) * per_day >= len(days):  # every day keeps at least one order
        short = counts < 1
        while short.any():
            counts[int(np.argmax(counts))] -= int(short.sum())
            counts[short] = 1
            short = counts < 1
    return counts


def _orders(rng: np.random.Generator, clock: _Clock, per_day: int) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Orders sorted by landing day, their landing day offsets and what feedback needs of them."""
    days = clock.n_days
    counts = daily_order_counts(rng, clock.days, per_day)
    total = int(counts.sum())
    day_idx = np.repeat(np.arange(days), counts)
    secs = _seconds_of_day(rng, total, texts.ORDER_HOUR_WEIGHTS)
    secs = secs[np.lexsort((secs, day_idx))]  # day_idx is sorted already: times ascend within each day
    created = clock.utc(day_idx * DAY + secs)
    gaps = np.cumsum(rng.integers(1, 3, size=total))
    first_of_day = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seq = gaps - np.concatenate([[0], gaps])[first_of_day][day_idx]
    order_id = "O" + clock.ymd_of(day_idx) + _text(seq, _width(seq.max(), 6))

    pool = max(100, int(total * 0.45))
    loyal = max(10, pool // 20)
    regular = rng.random(total) < 0.3
    users = np.where(regular, rng.integers(1, loyal + 1, total), rng.integers(1, pool + 1, total))
    product = _pick(rng, total, [w for _, _, w in texts.PRODUCTS])
    quantity = np.asarray(texts.QUANTITIES)[_pick(rng, total, texts.QUANTITY_WEIGHTS)]
    discount = np.asarray(texts.DISCOUNTS)[_pick(rng, total, texts.DISCOUNT_WEIGHTS)]
    price_cents = np.round(np.asarray([p for _, p, _ in texts.PRODUCTS]) * 100)
    cents = np.round(price_cents[product] * quantity * discount).astype(np.int64)
    payment = _pick(rng, total, texts.PAYMENT_WEIGHTS)
    status = _pick(rng, total, texts.ORDER_STATUS_WEIGHTS)
    channel = _pick(rng, total, texts.CHANNEL_WEIGHTS)

    late = rng.random(total) < LATE_ORDER_SHARE
    landing = day_idx + np.where(late, rng.integers(1, 4, total), 0)
    landing = np.where(landing < days, landing, day_idx)

    frame = pd.DataFrame(
        {
            "order_id": order_id,
            "created_at": clock.text(created),
            "user": "U" + _text(users, _width(pool, 6)),
            "product": _take([name for name, _, _ in texts.PRODUCTS], product),
            "quantity": _text(quantity),
            "amount": _money(cents),
            "payment_method": _take(texts.PAYMENT_METHODS, payment),
            "status": _take(texts.ORDER_STATUSES, status),
            "channel": _take(texts.CHANNELS, channel),
        }
    )
    troubled_codes = [i for i, s in enumerate(texts.ORDER_STATUSES) if s in texts.TROUBLED_STATUSES]
    troubled = np.isin(status, troubled_codes)
    order = np.argsort(landing, kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total)
    info = {"order_id": order_id, "created": created, "day_idx": day_idx, "troubled": troubled, "rank": rank}
    return frame.iloc[order].reset_index(drop=True), landing[order], info


def _feedback(
    rng: np.random.Generator, clock: _Clock, orders: dict[str, Any]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Feedback rows sorted by created time, their landing day offsets and the order (index) of each."""
    count = _pick(rng, len(orders["created"]), texts.FEEDBACK_COUNT_WEIGHTS)
    oi = np.repeat(np.arange(len(count)), count)
    m = len(oi)
    itype = _pick_by(
        rng, orders["troubled"][oi].astype(np.intp), [texts.ISSUE_TYPE_WEIGHTS, texts.TROUBLED_ISSUE_TYPE_WEIGHTS]
    )
    delay = _pick(rng, m, texts.FEEDBACK_DELAY_WEIGHTS)
    tod = _seconds_of_day(rng, m, texts.FEEDBACK_HOUR_WEIGHTS)
    created = clock.utc((orders["day_idx"][oi] + delay) * DAY + tod)
    order_created = orders["created"][oi]
    created = np.where(created <= order_created, order_created + rng.integers(300, 3 * 3600, m), created)

    rating = _pick_by(rng, itype, texts.RATING_WEIGHTS) + 1
    no_rating = (itype != 0) & (rng.random(m) < texts.RATING_MISSING_SHARE)
    low = ~no_rating & (rating < 3)
    cause = _pick_by(rng, itype, texts.CAUSE_WEIGHTS)
    pools = [
        texts.PRAISE_TEXTS,
        texts.NEUTRAL_TEXTS,
        texts.INQUIRY_TEXTS,
        *(texts.CAUSE_TEXTS[c] for c in texts.CAUSES),
    ]
    pool = np.select(
        [(itype == 0) & (rating >= 4), (itype == 0) & ~low, (itype == 1) & ~low],
        [0, 1, 2],
        default=3 + cause,
    )
    sizes = np.asarray([len(p) for p in pools])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    text_idx = offsets[pool] + (rng.random(m) * sizes[pool]).astype(np.int64)

    created_day = orders["day_idx"][oi] + delay
    priority = _expected_priority(rating, no_rating, itype, cause, pool >= 3)
    took = _resolution_seconds(rng, priority, created_day, clock.n_days + 7)
    answer = np.clip(rng.lognormal(np.log(3600), 1.3, m), 60, DAY).astype(np.int64)
    response = created + np.minimum(answer, np.maximum(60, took // 2))
    no_response = rng.random(m) < NO_RESPONSE_SHARE
    resolved = np.maximum(created + took, response + 60)
    open_share = (UNRESOLVED_SHARE - NO_RESPONSE_SHARE) / (1 - NO_RESPONSE_SHARE)
    unresolved = no_response | (rng.random(m) < open_share)
    resolution = _pick_by(rng, itype, texts.RESOLUTION_WEIGHTS)
    reopened = ~unresolved & (rng.random(m) < REOPENED_SHARE)

    # A helpdesk export lists a ticket on the day of its last update, with its state as of then;
    # what happens after the last landing day has not been exported yet.
    cutoff = clock.utc(np.asarray([clock.n_days * DAY]))[0]
    no_response = no_response | (response >= cutoff)
    unresolved = unresolved | no_response | (resolved >= cutoff)
    reopened = reopened & ~unresolved

    # Some customers rate the service again after their problem was resolved: a follow-up review on
    # the same order, 1-72 h after the resolution, rated by how the problem was settled.
    complaint = itype >= texts.ISSUE_TYPES.index("complaint")
    follow = np.flatnonzero((low | complaint) & ~unresolved & (rng.random(m) < FOLLOWUP_SHARE))
    f_created = resolved[follow] + rng.integers(3600, 72 * 3600, len(follow))
    follow, f_created = follow[f_created < cutoff], f_created[f_created < cutoff]
    k = len(follow)
    outcome = resolution[follow]
    rejected = outcome == texts.RESOLUTIONS.index("rejected")
    informed = outcome == texts.RESOLUTIONS.index("info_provided")
    settled = np.where(rng.random(k) < 0.85, rng.integers(4, 6, k), rng.integers(2, 4, k))
    f_rating = np.where(rejected, rng.integers(1, 3, k), np.where(informed, rng.integers(3, 6, k), settled))
    f_pool = np.where(f_rating >= 4, 0, np.where(f_rating == 3, 1, 3 + cause[follow]))
    f_text = offsets[f_pool] + (rng.random(k) * sizes[f_pool]).astype(np.int64)
    zeros = np.zeros(k, dtype=bool)
    oi = np.concatenate([oi, oi[follow]])
    created = np.concatenate([created, f_created])
    rating = np.concatenate([rating, f_rating])
    no_rating = np.concatenate([no_rating, zeros])
    itype = np.concatenate([itype, np.zeros(k, dtype=itype.dtype)])
    text_idx = np.concatenate([text_idx, f_text])
    # A low follow-up rating is a problem the helpdesk answers and closes within two hours (a callback); otherwise
    # it would keep its work order open for ever. Only when that stays on the review's day and before the end,
    # so the review lands when it would have anyway.
    f_response = f_created + rng.integers(60, 1800, k)
    f_resolved = f_response + rng.integers(3600, 5400, k)
    same_day = clock.day_index(f_resolved) == clock.day_index(f_created)
    closed = (f_rating < 3) & same_day & (f_resolved < cutoff)
    info = texts.RESOLUTIONS.index("info_provided")
    response = np.concatenate([response, np.where(closed, f_response, f_created)])
    no_response = np.concatenate([no_response, ~closed])
    resolved = np.concatenate([resolved, np.where(closed, f_resolved, f_created)])
    unresolved = np.concatenate([unresolved, ~closed])
    resolution = np.concatenate([resolution, np.where(closed, info, 0).astype(resolution.dtype)])
    reopened = np.concatenate([reopened, zeros])

    last_update = np.where(unresolved, np.where(no_response, created, response), resolved)
    land = clock.day_index(last_update)
    keep = clock.day_index(created) < clock.n_days
    order = np.flatnonzero(keep)[np.lexsort((created[keep], land[keep]))]
    land = land[order]
    gaps = np.cumsum(rng.integers(1, 3, len(order)))
    first = np.searchsorted(land, land)
    seq = gaps - np.concatenate([[0], gaps])[first]

    frame = pd.DataFrame(
        {
            "feedback_id": "F" + clock.ymd_of(land) + _text(seq, _width(seq.max() if len(seq) else 0, 6)),
            "order_id": orders["order_id"].take(oi[order]).reset_index(drop=True),
            "created_at": clock.text(created[order]),
            "rating": _text(rating[order]).where(~no_rating[order], ""),
            "issue_type": _take(texts.ISSUE_TYPES, itype[order]),
            "issue_description": _take([t for p in pools for t in p], text_idx[order]),
            "first_response_at": clock.text(response[order], no_response[order]),
            "resolved_at": clock.text(resolved[order], unresolved[order]),
            "resolution": _take(texts.RESOLUTIONS, resolution[order]).where(~unresolved[order], ""),
            "reopened": _take(("false", "true"), reopened[order].astype(np.intp)),
        }
    )
    return frame, land, oi[order]


def _expected_priority(
    rating: np.ndarray, no_rating: np.ndarray, itype: np.ndarray, cause: np.ndarray, problem_text: np.ndarray
) -> np.ndarray:
    """0, 1, 2 for P1, P2, P3: the priority a work order for this ticket gets (service_actions.yaml rules)."""
    rules = load_service_rules()
    rated = np.where(no_rating, 99, rating)
    payment = np.isin(cause, [texts.CAUSES.index(c) for c in rules.p1_causes if c in texts.CAUSES]) & problem_text
    p2_types = np.isin(itype, [texts.ISSUE_TYPES.index(t) for t in rules.p2_issue_types if t in texts.ISSUE_TYPES])
    p1 = (rated <= rules.p1_max_rating) | payment
    p2 = (rated <= rules.p2_max_rating) | p2_types
    return np.where(p1, 0, np.where(p2, 1, 2))


def _resolution_seconds(rng: np.random.Generator, priority: np.ndarray, day: np.ndarray, days: int) -> np.ndarray:
    """Seconds from ticket to resolution: within the priority's SLA hours about as often as its target says
    (varying by day), else later, with a long tail up to MAX_RESOLUTION_SECONDS."""
    sla_hours, targets = load_service_rules().sla_hours, load_metric_rules().sla_achievement_targets
    hours = np.asarray([sla_hours[p] for p in ("P1", "P2", "P3")], dtype=float)[priority] * 3600
    target = np.asarray([targets.get(p, 0.9) for p in ("P1", "P2", "P3")])[priority]
    by_day = rng.normal(SLA_TICKET_MARGIN, SLA_DAILY_SPREAD, days + 1)
    share = np.clip(target + by_day[np.clip(day, 0, days)], 0.5, 0.995)
    within = rng.random(len(priority)) < share
    # Within the SLA: most of the allowed time, never under an hour; late: a lognormal overshoot.
    early = np.maximum(3600.0, hours * rng.uniform(0.25, 0.97, len(priority)))
    late = hours * (1.0 + rng.lognormal(np.log(0.6), 0.9, len(priority)))
    took = np.where(within, early, late)
    return np.clip(took, 3600, MAX_RESOLUTION_SECONDS).astype(np.int64)


def _behaviour(rng: np.random.Generator, clock: _Clock, per_day: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Sessions sorted by start, their landing day offsets and the surge day offsets."""
    days = clock.n_days
    factor = rng.uniform(0.92, 1.08, days)
    n_surge = int(rng.integers(2, 4))
    candidates = np.arange(7, days) if days >= 10 else np.arange(days)
    n_surge = min(n_surge, len(candidates) // 3) if days >= 7 else 0
    surge = np.sort(rng.choice(candidates, n_surge, replace=False)) if n_surge else np.zeros(0, np.int64)
    factor[surge] = rng.uniform(2.5, 4.0, n_surge)
    counts = np.maximum(1, np.round(SESSIONS_PER_ORDER * per_day * factor)).astype(np.int64)
    total = int(counts.sum())
    day_idx = np.repeat(np.arange(days), counts)

    local = np.sort(day_idx * DAY + _seconds_of_day(rng, total, texts.SESSION_HOUR_WEIGHTS))
    started = clock.utc(local)
    duration = np.clip(rng.lognormal(np.log(240), 1.0, total), 10, 7200).astype(np.int64)
    pages = np.clip(rng.poisson(1 + duration / 75), 1, 30)
    submitted = rng.random(total) < FORM_SUBMISSION_SHARE

    share = VISITOR_SHARE + rng.uniform(-0.03, 0.03, days)
    per_day_visitors = np.maximum(1, np.round(share * counts)).astype(np.int64)
    # Visitor ids come from a pool of about ten ordinary days' visitors, so some return on later days.
    pool = max(int(np.median(per_day_visitors) * 10), int(per_day_visitors.max() * 1.25)) + 100
    visitor = np.empty(total, dtype=np.int64)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for d in range(days):
        n, nv = int(counts[d]), int(per_day_visitors[d])
        people = rng.choice(pool, nv, replace=False) + 1
        assign = np.concatenate([np.arange(nv), rng.integers(0, nv, n - nv)])
        visitor[bounds[d] : bounds[d + 1]] = people[rng.permutation(assign)]
    seq = np.arange(total) - bounds[day_idx] + 1

    frame = pd.DataFrame(
        {
            "session_id": "S" + clock.ymd_of(day_idx) + _text(seq, _width(counts.max(), 7)),
            "visitor_id": "V" + _text(visitor, _width(pool, 7)),
            "started_at": clock.text(started),
            "ended_at": clock.text(started + duration),
            "pages": _text(pages),
            "submitted_after_sales_form": _take(("false", "true"), submitted.astype(np.intp)),
        }
    )
    return frame, day_idx, surge
