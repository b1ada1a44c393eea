"""Conservation rules: landed rows are staged or quarantined, and each layer keeps the rows of the one before."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from after_sales.checks.quality import CustomCheck, PartitionCounts
from after_sales.transforms.arrow_ops import isin
from after_sales.transforms.marts import FEEDBACK_KEY, ORDER_KEY, key_of, latest_version
from after_sales.transforms.staging import StagingResult

ROWS_CONSERVED = "rows_conserved"
KEY_DTYPE = pd.StringDtype("python")
STAGING_CHECKS = {ROWS_CONSERVED: "Rows read = rows staged + rows quarantined (duplicates quarantined and counted)."}
FEEDBACK_CONSERVED = "feedback_conserved"
FACT_CHECKS = {
    "orders_conserved": "Every order of the day in staging (latest landed version) is in the fact, once.",
    FEEDBACK_CONSERVED: "Every feedback row staged on the days built is in the fact partition of its order's "
    "business date (with rows_conserved of staging: every landed feedback row is in the fact or in quarantine).",
}
PROBLEM_CHECKS = {"problems_conserved": "Every fact row marked is_problem is a problem issue, and no other row is."}
WORK_ORDER_CHECKS = {"issues_covered": "Every problem issue is behind at least one work order."}


def _per_day(frame: pd.DataFrame, column: str) -> dict[dt.date, int]:
    return frame[column].value_counts().to_dict() if len(frame) else {}


def staging_conservation(result: StagingResult, days: list[dt.date]) -> CustomCheck:
    """rows_read = staged + quarantined, per landing day."""
    staged = _per_day(result.rows, "landing_date")
    quarantined = _per_day(result.quarantined, "landing_date")
    dups = _per_day(result.quarantined.loc[result.quarantined["rule"] == "duplicate_row"], "landing_date")
    parts = []
    for day in days:
        read, s, q = result.rows_read_by_day.get(day, 0), staged.get(day, 0), quarantined.get(day, 0)
        parts.append(
            PartitionCounts(
                day,
                read == s + q,
                element_count=read,
                unexpected_count=read - s - q,
                rows_read=read,
                rows_staged=s,
                rows_quarantined=q,
                duplicates_removed=dups.get(day, 0),
            )
        )
    return CustomCheck(
        ROWS_CONSERVED,
        "rows_read = rows_staged + rows_quarantined",
        STAGING_CHECKS[ROWS_CONSERVED],
        parts,
        metadata={
            "rows_read": result.rows_read,
            "rows_staged": len(result.rows),
            "rows_quarantined": len(result.quarantined),
            "duplicates_removed": result.duplicates_removed,
        },
    )


def _keys_per_day(frame: pd.DataFrame, day_column: str, key: list[str]) -> pd.DataFrame:
    """The distinct (day, key) pairs of a frame (key: its columns as one value), as columns day and key."""
    pairs = frame[[day_column]].assign(key=key_of(frame, key)).dropna(subset=[day_column, "key"]).drop_duplicates()
    # Python-backed strings: pandas cannot merge two empty Arrow-backed string columns (an empty day).
    return pairs.set_axis(["day", "key"], axis=1).astype({"day": object, "key": KEY_DTYPE})


def _set_differences(expected: pd.DataFrame, actual: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per day: expected keys, keys only expected, keys only actual (vectorized set comparison)."""
    both = expected.merge(actual, on=["day", "key"], how="outer", indicator=True)
    side = both["_merge"].astype(str)
    return (
        both.loc[side != "right_only"].groupby("day").size(),
        both.loc[side == "left_only"].groupby("day").size(),
        both.loc[side == "right_only"].groupby("day").size(),
    )


def _compare_sets(
    name: str,
    rule: str,
    description: str,
    expected: pd.DataFrame,
    actual: pd.DataFrame,
    days: list[dt.date],
) -> CustomCheck:
    counted, only_expected, only_actual = _set_differences(expected, actual)
    parts = []
    for day in days:
        unexpected = int(only_expected.get(day, 0) + only_actual.get(day, 0))
        parts.append(
            PartitionCounts(day, unexpected == 0, element_count=int(counted.get(day, 0)), unexpected_count=unexpected)
        )
    return CustomCheck(name, rule, description, parts)


def fact_conservation(orders: pd.DataFrame, fact: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """The fact holds exactly the day's orders, one row per order without feedback."""
    latest = latest_version(orders, ORDER_KEY)
    without = fact.loc[~fact["has_feedback"].astype(bool)]
    duplicated = without[ORDER_KEY].duplicated().sum()
    check = _compare_sets(
        "orders_conserved",
        "set(fct (order_scope, order_id)) = set(stg orders of the day)",
        FACT_CHECKS["orders_conserved"],
        _keys_per_day(latest, "business_date", ORDER_KEY),
        _keys_per_day(fact, "business_date", ORDER_KEY),
        days,
    )
    if duplicated:
        for p in check.partitions:
            p.passed = False
    return check


def problem_conservation(fact: pd.DataFrame, problems: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """Problem issues are exactly the fact's is_problem rows."""
    flagged = fact.loc[fact["is_problem"].astype(bool)]
    return _compare_sets(
        "problems_conserved",
        "set(problem feedback) = set(fct feedback where is_problem)",
        PROBLEM_CHECKS["problems_conserved"],
        _keys_per_day(flagged, "business_date", FEEDBACK_KEY),
        _keys_per_day(problems, "business_date", FEEDBACK_KEY),
        days,
    )


def work_order_coverage(problems: pd.DataFrame, work_orders: pd.DataFrame, days: list[dt.date]) -> CustomCheck:
    """Every problem issue appears in some work order's feedback_ids (a list per work order: ids are values, a
    comma inside an id is just a character)."""
    covered = (
        work_orders[["business_date", "order_scope", "feedback_ids"]]
        .explode("feedback_ids")
        .rename(columns={"feedback_ids": "feedback_id"})
        if len(work_orders)
        else pd.DataFrame({"business_date": [], "order_scope": [], "feedback_id": []})
    )
    counted, missing, _ = _set_differences(
        _keys_per_day(problems, "business_date", FEEDBACK_KEY), _keys_per_day(covered, "business_date", FEEDBACK_KEY)
    )
    parts = []
    for day in days:
        n = int(missing.get(day, 0))
        parts.append(PartitionCounts(day, n == 0, int(counted.get(day, 0)), n))
    return CustomCheck(
        "issues_covered", "problem feedback ⊆ work_orders.feedback_ids", WORK_ORDER_CHECKS["issues_covered"], parts
    )


def feedback_conservation(
    feedback: pd.DataFrame,
    orders: pd.DataFrame,
    fact: pd.DataFrame,
    days: list[dt.date],
    feedback_days: int,
    built: set[dt.date] | None = None,
) -> CustomCheck:
    """Feedback staged on the days is in the fact under its order's business date, as the fact reads it.

    Not blocking: a miss lies in a partition before the run's range (kept as stored), not in the rows being
    written; the check fails with severity ERROR and alert_on_failed_checks sends the alert.

    The fact of business date B reads feedback landed B .. B + feedback_days; so feedback landed on day X whose
    order (latest version) is dated B within that reach must be in fct partition B, which may lie before the
    days built: fact holds those partitions as stored, and only partitions in days or in built are judged.
    """
    landed = feedback.loc[feedback["landing_date"].isin(days), ["landing_date", "feedback_id", *ORDER_KEY]]
    expected = missing = landed.iloc[:0]
    outside_window = 0
    if len(landed) and len(orders):
        # only the orders some feedback names (same order scope)
        named = orders.loc[isin(key_of(orders, ORDER_KEY), key_of(landed, ORDER_KEY))]
        dated = latest_version(named, ORDER_KEY)[[*ORDER_KEY, "business_date"]]
        expected = landed.merge(dated, on=ORDER_KEY)
        gap = (pd.to_datetime(expected["landing_date"]) - pd.to_datetime(expected["business_date"])).dt.days
        judged = expected["business_date"].isin(set(days) | (built or set()))
        reach = (gap >= 0) & (gap <= feedback_days)
        outside_window = int((~reach).sum())
        expected = expected.loc[reach & judged]
    if len(expected):
        keys = [*FEEDBACK_KEY, "business_date"]
        present = fact.loc[fact["feedback_id"].notna(), keys].drop_duplicates()
        text = {"order_scope": "string", "feedback_id": "string"}
        present = present.astype(text).assign(in_fact=True)
        both = expected.astype(text).merge(present, on=keys, how="left")
        missing = both.loc[both["in_fact"].isna()]
    counted = expected.groupby("landing_date").size() if len(expected) else pd.Series(dtype=int)
    lost = missing.groupby("landing_date").size() if len(missing) else pd.Series(dtype=int)
    parts = [
        PartitionCounts(day, int(lost.get(day, 0)) == 0, int(counted.get(day, 0)), int(lost.get(day, 0)))
        for day in days
    ]
    examples = [
        f"{r.feedback_id} of {r.order_scope} (landed {r.landing_date}, fct partition {r.business_date})"
        for r in missing.head(20).itertuples()
    ]
    return CustomCheck(
        FEEDBACK_CONSERVED,
        "staged feedback of the days ⊆ fct feedback of its order's business date",
        FACT_CHECKS["feedback_conserved"],
        parts,
        blocking=False,
        metadata={
            "feedback_missing": len(missing),
            # Staged, but landed outside the fact's feedback window of its order's date: by definition not in it.
            "feedback_outside_window": outside_window,
            **({"missing_examples": ", ".join(examples)} if examples else {}),
        },
    )
