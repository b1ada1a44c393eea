"""Conservation rules: landed rows are staged or quarantined, and each layer keeps the rows of the one before."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from after_sales.checks.quality import CustomCheck, PartitionCounts
from after_sales.transforms.marts import FEEDBACK_KEY, ORDER_KEY, latest_version
from after_sales.transforms.sql_models import POSITION, cursor, run_sql
from after_sales.transforms.staging import StagingResult

ROWS_CONSERVED = "rows_conserved"
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


def _keys_per_day(frame: pd.DataFrame, day_column: str, key: list[str]) -> pa.Table:
    """The (day, key columns) of a frame as Arrow, for the set comparison in SQL (rows missing any: not counted)."""
    day = pa.array(frame[day_column], from_pandas=True)
    # An empty (or all-missing) column may come typed as anything: as dates it is only nulls.
    columns = {"day": pa.nulls(len(day), pa.date32()) if day.null_count == len(day) else day.cast(pa.date32())}
    for i, c in enumerate(key):
        columns[f"k{i}"] = pa.array(frame[c].astype("string"), type=pa.large_string(), from_pandas=True)
    return pa.table(columns)


_SET_DIFFERENCES = """
WITH e AS (SELECT DISTINCT * FROM expected WHERE COLUMNS(*) IS NOT NULL),
     a AS (SELECT DISTINCT * FROM actual WHERE COLUMNS(*) IS NOT NULL)
SELECT coalesce(e.day, a.day) AS day, count(e.day) AS counted,
       count(*) FILTER (WHERE a.day IS NULL) AS only_expected, count(*) FILTER (WHERE e.day IS NULL) AS only_actual
FROM e FULL OUTER JOIN a USING ({key})
GROUP BY ALL
"""


def _set_differences(expected: pa.Table, actual: pa.Table) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Per day: expected keys, keys only expected, keys only actual (distinct (day, key) pairs compared in SQL)."""
    key = ", ".join(expected.column_names)
    con = cursor()
    try:
        con.register("expected", expected)
        con.register("actual", actual)
        counts = con.sql(_SET_DIFFERENCES.format(key=key)).to_arrow_table().to_pydict()
    finally:
        con.close()
    days = counts["day"]
    return tuple(pd.Series(counts[c], index=days, dtype="int64") for c in ("counted", "only_expected", "only_actual"))


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


LINEAGE = ["landing_date", "source_file", "source_row"]
# Feedback landed on the days, each with its order's business date (the order's latest landed version) and
# whether the fact holds it there; feedback naming no order among those read is not judged.
_FEEDBACK_JUDGED = """
CREATE TEMP VIEW landed AS
SELECT CAST(landing_date AS DATE) AS landing_date, CAST(feedback_id AS VARCHAR) AS feedback_id,
       CAST(order_scope AS VARCHAR) AS order_scope, CAST(order_id AS VARCHAR) AS order_id, _pos
FROM feedback WHERE CAST(landing_date AS DATE) IN (SELECT day FROM run_days);
CREATE TEMP VIEW judged AS
WITH typed_orders AS (
    SELECT CAST(order_scope AS VARCHAR) AS order_scope, CAST(order_id AS VARCHAR) AS order_id,
           CAST(business_date AS DATE) AS business_date, CAST(landing_date AS DATE) AS landing_date,
           CAST(source_file AS VARCHAR) AS source_file, CAST(source_row AS BIGINT) AS source_row, _pos
    FROM orders
), dated AS (
    SELECT order_scope, order_id, business_date
    FROM typed_orders SEMI JOIN landed USING (order_scope, order_id)
    QUALIFY row_number() OVER (
        PARTITION BY order_scope, order_id
        ORDER BY landing_date DESC NULLS FIRST, source_file DESC NULLS FIRST, source_row DESC NULLS FIRST, _pos DESC
    ) = 1
), present AS (
    SELECT DISTINCT CAST(order_scope AS VARCHAR) AS order_scope, CAST(feedback_id AS VARCHAR) AS feedback_id,
           CAST(business_date AS DATE) AS business_date
    FROM fact WHERE feedback_id IS NOT NULL
), expected AS (
    SELECT l.*, d.business_date,
           coalesce(date_diff('day', d.business_date, l.landing_date) BETWEEN 0 AND {feedback_days}, false)
               AS in_reach
    FROM landed l JOIN dated d USING (order_scope, order_id)
)
SELECT e.*, in_reach AND e.business_date IN (SELECT day FROM judged_days) AS counted,
       p.feedback_id IS NULL AS missing
FROM expected e LEFT JOIN present p USING (order_scope, feedback_id, business_date)
"""
_FEEDBACK_PER_DAY = """
SELECT landing_date, count(*) FILTER (WHERE counted) AS counted, count(*) FILTER (WHERE counted AND missing) AS lost,
       count(*) FILTER (WHERE NOT in_reach) AS outside
FROM judged GROUP BY landing_date
"""
_FEEDBACK_MISSING_EXAMPLES = """
SELECT landing_date, feedback_id, order_scope, business_date FROM judged
WHERE counted AND missing ORDER BY _pos LIMIT 20
"""


def _columns(frame: pd.DataFrame, columns: list[str], positions: bool = False) -> pa.Table:
    """The columns of a frame as Arrow for the checks' SQL, with each row's position (_pos) when asked."""
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    return table.append_column(POSITION, pa.array(np.arange(len(frame)))) if positions else table


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
    inputs = {
        "feedback": _columns(feedback, ["landing_date", "feedback_id", *ORDER_KEY], positions=True),
        "orders": _columns(orders, [*ORDER_KEY, "business_date", *LINEAGE], positions=True),
        "fact": _columns(fact, [*FEEDBACK_KEY, "business_date"]),
    }
    # Views cannot take bound parameters: the day sets are tables, the reach an integer written in.
    inputs["run_days"] = pa.table({"day": pa.array(days, pa.date32())})
    inputs["judged_days"] = pa.table({"day": pa.array(sorted(set(days) | (built or set())), pa.date32())})
    con = cursor()
    try:
        for name, table in inputs.items():
            con.register(name, table)
        run_sql(con, _FEEDBACK_JUDGED.format(feedback_days=int(feedback_days)), {})
        per_day = con.sql(_FEEDBACK_PER_DAY).to_arrow_table().to_pydict()
        examples = [
            f"{fid} of {scope} (landed {landed}, fct partition {business})"
            for landed, fid, scope, business in con.sql(_FEEDBACK_MISSING_EXAMPLES).fetchall()
        ]
    finally:
        con.close()
    counted = dict(zip(per_day["landing_date"], per_day["counted"], strict=True))
    lost = dict(zip(per_day["landing_date"], per_day["lost"], strict=True))
    outside_window = sum(per_day["outside"])
    parts = [
        PartitionCounts(day, int(lost.get(day, 0)) == 0, int(counted.get(day, 0)), int(lost.get(day, 0)))
        for day in days
    ]
    return CustomCheck(
        FEEDBACK_CONSERVED,
        "staged feedback of the days ⊆ fct feedback of its order's business date",
        FACT_CHECKS["feedback_conserved"],
        parts,
        blocking=False,
        metadata={
            "feedback_missing": sum(lost.values()),
            # Staged, but landed outside the fact's feedback window of its order's date: by definition not in it.
            "feedback_outside_window": outside_window,
            **({"missing_examples": ", ".join(examples)} if examples else {}),
        },
    )
