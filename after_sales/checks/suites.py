"""The expectation suites: built from the table registry, the partition window and a few value rules."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from after_sales.checks.gx_runner import Rule
from after_sales.tables import TableSpec
from after_sales.windows import DateWindow

# Allowed ranges by column name, wherever the column appears.
VALUE_RANGES: dict[str, tuple[float | None, float | None]] = {
    "rating": (1, 5),
    "min_rating": (1, 5),
    "amount": (0, None),
    "refund_amount": (0, None),
    "quantity": (1, None),
    "pages": (0, None),
    "issue_count": (0, None),  # 0: a work order opened proactively from behaviour, before any complaint
    "sla_hours": (0, None),
    "complaint_rate": (0, 1),
    "submission_rate": (0, 1),
    "rolling_visitor_rate": (0, None),
    **{
        name: (0, 1)
        for name in (
            "csat",
            "followup_csat",
            "one_touch_rate",
            "reopen_rate",
            "sla_achieved_rate",
            "sla_achieved_rate_p1",
            "sla_achieved_rate_p2",
            "sla_achieved_rate_p3",
            "refund_rate",
            "dispute_rate",
        )
    },
    **{name: (1, 5) for name in ("score", "score_ci_low", "score_ci_high", "followup_score")},
    "score_stddev": (0, None),
    # behaviour (docs/behaviour.md)
    "precision": (0, 1),
    "recall": (0, 1),
    "event_count": (1, None),
    "events": (1, None),
    "result_count": (0, None),
    # the closed loop (docs/behaviour.md)
    **{name: (0, 1) for name in ("resolution_rate", "recontact_rate", "wilson_low")},
    "followup_rating": (1, 5),
    "rank": (1, None),
    "prior_rank": (1, None),
    **{
        name: (0, 1)
        for name in (
            "checkout_payment_rate",
            "payment_failure_rate",
            "tracked_late_rate",
            "return_completion_rate",
            "contact_rate",
            "zero_result_rate",
        )
    },
}
# Every duration column (*_hours_mean, *_hours_p90, ...) is non-negative.
HOURS_MARKER = "_hours_"
# Event timestamps that cannot lie in the future.
EVENT_TIMES = (
    "created_at",
    "started_at",
    "order_created_at",
    "feedback_created_at",
    "first_response_at",
    "resolved_at",
    "occurred_at",
    "detected_at",
)
CLOCK_SKEW = pd.Timedelta(minutes=10)
BETWEEN = "expect_column_values_to_be_between"

# Staged inputs run these expectations in GX (their key's uniqueness in SQL), derived tables all in SQL
# (checks/quality.py: uses_gx).
CHECK_DESCRIPTIONS = {
    "schema": "Columns are exactly the table's columns, castable to its types (expect_table_columns_to_match_set).",
    "keys": "Key columns are never null and the table key is unique (expect not null, unique).",
    "values": "Required columns are filled; ratings 1-5, amounts and counts non-negative, rates in range "
    "(expect between).",
    "window": "Partition dates inside the run's window; event times not in the future; rows not dated after "
    "they landed (expect between, pair A >= B).",
}


def rules_for(spec: TableSpec, window: DateWindow | None, now: pd.Timestamp) -> list[Rule]:
    """Every expectation rule for a table's rows in a partition window."""
    rules = [
        Rule("schema", "expect_table_columns_to_match_set", {"column_set": spec.column_names, "exact_match": True})
    ]
    key = list(spec.primary_key)
    for c in spec.columns:
        if not c.nullable:
            check = "keys" if c.name in key else "values"
            rules.append(Rule(check, "expect_column_values_to_not_be_null", {"column": c.name}, c.name))
    if len(key) == 1:
        rules.append(Rule("keys", "expect_column_values_to_be_unique", {"column": key[0]}, key[0]))
    elif key:
        rules.append(Rule("keys", "expect_compound_columns_to_be_unique", {"column_list": key}))
    for c in spec.columns:
        low, high = VALUE_RANGES.get(c.name, (0, None) if HOURS_MARKER in c.name else (None, None))
        if c.type == "int" and c.name not in VALUE_RANGES and spec.name.startswith("metrics"):
            low = 0
        if low is not None or high is not None:
            rules.append(Rule("values", BETWEEN, {"column": c.name, "min_value": low, "max_value": high}, c.name))
    if window is not None and spec.partition_column:
        # The GX runner hands date columns to GX as midnight UTC timestamps, so it compares them vectorized.
        first = pd.Timestamp(window.start, tz="UTC")
        last = pd.Timestamp(window.end - dt.timedelta(days=1), tz="UTC")
        rules.append(
            Rule(
                "window",
                BETWEEN,
                {"column": spec.partition_column, "min_value": first, "max_value": last},
                spec.partition_column,
            )
        )
    latest = (now + CLOCK_SKEW).tz_convert("UTC")
    for name in EVENT_TIMES:
        if name in spec.column_names:
            rules.append(Rule("window", BETWEEN, {"column": name, "max_value": latest}, name))
    if {"landing_date", "business_date"} <= set(spec.column_names):
        rules.append(
            Rule(
                "window",
                "expect_column_pair_values_a_to_be_greater_than_b",
                {"column_A": "landing_date", "column_B": "business_date", "or_equal": True},
                "business_date",
            )
        )
    return rules
