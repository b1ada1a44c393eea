"""Custom checks of the behaviour tables: signal evidence that adds up, accuracy counts that nest."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from after_sales.checks.quality import CustomCheck, PartitionCounts

EVIDENCE = "evidence_consistent"
COUNTS_NEST = "counts_nest"
SIGNAL_CHECKS = {
    EVIDENCE: "Each signal's event_count equals its listed event ids, and first_event_at <= last_event_at and "
    "first_event_at <= detected_at.",
}
FUNNEL_NESTS = "funnel_nests"
FUNNEL_CHECKS = {
    FUNNEL_NESTS: "Each funnel step is at most the step before it (paid <= checkouts, failures <= results, late <= "
    "tracked, submitted <= started, contacting <= visitors, zero-result and after-sales <= searches).",
}
FUNNEL_PAIRS = (
    ("paid_checkout_orders", "checkout_orders"),
    ("payment_failures", "payment_results"),
    ("tracked_late_orders", "tracked_orders"),
    ("returns_submitted", "return_starts"),
    ("contacting_visitors", "visitors"),
    ("zero_result_searches", "searches"),
    ("after_sales_searches", "searches"),
)
ACCURACY_CHECKS = {
    COUNTS_NEST: "confirmed_signals <= signals_with_order <= signals and anticipated_complaints <= complaints; "
    "every rule has a row per day.",
}


def _per_day(bad: pd.Series, days_of: pd.Series, days: list[dt.date]) -> list[PartitionCounts]:
    total = days_of.value_counts().to_dict()
    wrong = days_of[bad].value_counts().to_dict()
    return [
        PartitionCounts(d, wrong.get(d, 0) == 0, element_count=total.get(d, 0), unexpected_count=wrong.get(d, 0))
        for d in days
    ]


def evidence_check(signals: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """Signal rows whose evidence does not add up, per signal day."""
    listed = signals["event_ids"].astype("string").str.count(",") + 1
    bad = (
        listed.ne(signals["event_count"].astype("Int64")).fillna(True)
        | (signals["first_event_at"] > signals["last_event_at"])
        | (signals["first_event_at"] > signals["detected_at"])
    ).astype(bool)
    rule = "event_count = ids listed; first_event_at <= last_event_at, detected_at"
    return CustomCheck(EVIDENCE, rule, SIGNAL_CHECKS[EVIDENCE], _per_day(bad, signals["signal_date"], days))


def accuracy_check(accuracy: pd.DataFrame, rules: int, days: list[dt.date]) -> CustomCheck:
    """Accuracy rows whose counts do not nest, or days missing a rule's row."""
    a = accuracy
    bad = (
        (a["confirmed_signals"] > a["signals_with_order"])
        | (a["signals_with_order"] > a["signals"])
        | (a["anticipated_complaints"] > a["complaints"])
    ).astype(bool)
    parts = _per_day(bad, a["business_date"], days)
    for p in parts:
        if p.element_count != rules + 1:
            p.passed = False
    rule = "confirmed <= with_order <= signals; anticipated <= complaints; one row per rule and 'all'"
    return CustomCheck(COUNTS_NEST, rule, ACCURACY_CHECKS[COUNTS_NEST], parts)


def funnel_check(funnels: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """Funnel rows where a step exceeds the step before it."""
    bad = pd.Series(False, index=funnels.index)
    for part, whole in FUNNEL_PAIRS:
        bad |= (funnels[part] > funnels[whole]).fillna(False).astype(bool)
    rule = "; ".join(f"{p} <= {w}" for p, w in FUNNEL_PAIRS)
    return CustomCheck(FUNNEL_NESTS, rule, FUNNEL_CHECKS[FUNNEL_NESTS], _per_day(bad, funnels["business_date"], days))
