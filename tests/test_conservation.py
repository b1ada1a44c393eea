"""Conservation checks between layers: set comparisons per day, counted as before and after the vectorized form."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from after_sales.checks.conservation import (
    fact_conservation,
    feedback_conservation,
    problem_conservation,
    work_order_coverage,
)
from after_sales.transforms.arrow_ops import isin
from after_sales.transforms.marts import FEEDBACK_KEY, ORDER_KEY, key_of, latest_version

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def _orders(ids: list[str], days: list[dt.date]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": pd.Series(ids, dtype="string"),
            "order_scope": "own",
            "business_date": days,
            "landing_date": days,
            "source_file": "f.csv",
            "source_row": range(1, len(ids) + 1),
        }
    )


def test_fact_conservation_counts_missing_and_extra_orders_per_day() -> None:
    orders = _orders(["A", "B", "C"], [D1, D1, D2])
    fact = pd.DataFrame(
        {
            "order_id": pd.Series(["A", "X", "C"], dtype="string"),
            "order_scope": "own",
            "business_date": [D1, D1, D2],
            "has_feedback": [False, False, False],
        }
    )
    check = fact_conservation(orders, fact, [D1, D2])
    by_day = {p.day: (p.passed, p.element_count, p.unexpected_count) for p in check.partitions}
    assert by_day == {D1: (False, 2, 2), D2: (True, 1, 0)}  # B missing and X extra on D1


def test_problem_and_coverage_checks_on_empty_frames_pass() -> None:
    empty = pd.Series([], dtype="string")
    fact = pd.DataFrame({"order_scope": empty, "feedback_id": empty, "business_date": [], "is_problem": []})
    problems = pd.DataFrame({"order_scope": empty, "feedback_id": empty, "business_date": []})
    work_orders = pd.DataFrame({"order_scope": empty, "feedback_ids": empty, "business_date": []})
    assert problem_conservation(fact, problems, [D1]).passed
    assert work_order_coverage(problems, work_orders, [D1]).passed


def test_coverage_reports_problem_feedback_missing_from_work_orders() -> None:
    problems = pd.DataFrame(
        {"order_scope": "own", "feedback_id": pd.Series(["F1", "F2", "F3"], dtype="string"), "business_date": [D1] * 3}
    )
    # feedback_ids is a list per work order (issue 13: never a comma-joined string)
    work_orders = pd.DataFrame(
        {"order_scope": "own", "feedback_ids": [["F1", "F3"], ["F9"]], "business_date": [D1] * 2}
    )
    [part] = work_order_coverage(problems, work_orders, [D1]).partitions
    assert (part.passed, part.element_count, part.unexpected_count) == (False, 3, 1)


def test_coverage_tells_feedback_of_two_order_scopes_apart() -> None:
    """Refund R1 of tmall is not covered by the work order of refund R1 of jd."""
    problems = pd.DataFrame(
        {"order_scope": ["tmall", "jd"], "feedback_id": pd.Series(["R1", "R1"], dtype="string"), "business_date": D1}
    )
    work_orders = pd.DataFrame({"order_scope": ["jd"], "feedback_ids": [["R1"]], "business_date": [D1]})
    [part] = work_order_coverage(problems, work_orders, [D1]).partitions
    assert (part.passed, part.element_count, part.unexpected_count) == (False, 2, 1)


# The pandas implementation these checks had before they ran as SQL (commit 548dc65), kept as the oracle.
def _reference_pairs(frame: pd.DataFrame, day_column: str, key: list[str]) -> pd.DataFrame:
    pairs = frame[[day_column]].assign(key=key_of(frame, key)).dropna(subset=[day_column, "key"]).drop_duplicates()
    return pairs.set_axis(["day", "key"], axis=1).astype({"day": object, "key": pd.StringDtype("python")})


def _reference_set_counts(expected: pd.DataFrame, actual: pd.DataFrame, day: dt.date) -> tuple[int, int]:
    both = expected.merge(actual, on=["day", "key"], how="outer", indicator=True)
    side = both["_merge"].astype(str)
    on_day = both["day"] == day
    return int((on_day & (side != "right_only")).sum()), int((on_day & (side != "both")).sum())


def _reference_feedback(
    feedback: pd.DataFrame, orders: pd.DataFrame, fact: pd.DataFrame, days: list[dt.date], reach_days: int
) -> tuple[dict[dt.date, tuple[int, int]], int]:
    landed = feedback.loc[feedback["landing_date"].isin(days), ["landing_date", "feedback_id", *ORDER_KEY]]
    expected = missing = landed.iloc[:0]
    outside = 0
    if len(landed) and len(orders):
        named = orders.loc[isin(key_of(orders, ORDER_KEY), key_of(landed, ORDER_KEY))]
        dated = latest_version(named, ORDER_KEY)[[*ORDER_KEY, "business_date"]]
        expected = landed.merge(dated, on=ORDER_KEY)
        gap = (pd.to_datetime(expected["landing_date"]) - pd.to_datetime(expected["business_date"])).dt.days
        reach = (gap >= 0) & (gap <= reach_days)
        outside = int((~reach).sum())
        expected = expected.loc[reach & expected["business_date"].isin(set(days))]
    if len(expected):
        keys = [*FEEDBACK_KEY, "business_date"]
        text = {"order_scope": "string", "feedback_id": "string"}
        present = fact.loc[fact["feedback_id"].notna(), keys].drop_duplicates().astype(text).assign(in_fact=True)
        both = expected.astype(text).merge(present, on=keys, how="left")
        missing = both.loc[both["in_fact"].isna()]
    counted = expected.groupby("landing_date").size()
    lost = missing.groupby("landing_date").size()
    return {d: (int(counted.get(d, 0)), int(lost.get(d, 0))) for d in days}, outside


DAYS3 = [D1, D2, D2 + dt.timedelta(days=1)]
ids = st.sampled_from(["A", "B", "C", "D", None])
scopes = st.sampled_from(["own", "tmall"])
days3 = st.sampled_from([D1 - dt.timedelta(days=1), *DAYS3])


@st.composite
def rows(draw: st.DrawFn, key: str, n: int = 12) -> pd.DataFrame:
    size = draw(st.integers(0, n))
    return pd.DataFrame(
        {
            key: pd.Series([draw(ids) for _ in range(size)], dtype="string"),
            "order_scope": pd.Series([draw(scopes) for _ in range(size)], dtype="string"),
            "business_date": pd.Series([draw(days3) for _ in range(size)], dtype=object),
            "landing_date": pd.Series([draw(days3) for _ in range(size)], dtype=object),
            "source_file": pd.Series([draw(st.sampled_from(["a.csv", "b.csv"])) for _ in range(size)], dtype="string"),
            "source_row": pd.Series([draw(st.integers(1, 3)) for _ in range(size)], dtype="Int64"),
        }
    )


@given(rows("order_id"), rows("order_id"), st.booleans())
def test_set_comparisons_count_as_the_pandas_merge_did(expected: pd.DataFrame, actual: pd.DataFrame, fb: bool) -> None:
    actual = actual.assign(has_feedback=fb, is_problem=True, feedback_id=actual["order_id"])
    check = fact_conservation(expected, actual, DAYS3)
    ref_e = _reference_pairs(latest_version(expected, ORDER_KEY), "business_date", ORDER_KEY)
    ref_a = _reference_pairs(actual, "business_date", ORDER_KEY)
    duplicated = bool(actual.loc[~actual["has_feedback"], ORDER_KEY].duplicated().sum())
    for part in check.partitions:
        counted, unexpected = _reference_set_counts(ref_e, ref_a, part.day)
        assert (part.element_count, part.unexpected_count) == (counted, unexpected)
        assert part.passed == (unexpected == 0 and not duplicated)
    problems = expected.assign(feedback_id=expected["order_id"])
    check = problem_conservation(actual, problems, DAYS3)
    ref_e = _reference_pairs(actual, "business_date", FEEDBACK_KEY)
    ref_a = _reference_pairs(problems, "business_date", FEEDBACK_KEY)
    assert [(p.element_count, p.unexpected_count) for p in check.partitions] == [
        _reference_set_counts(ref_e, ref_a, d) for d in DAYS3
    ]


@given(rows("feedback_id"), rows("order_id"), rows("feedback_id"), st.integers(0, 2))
def test_feedback_conservation_counts_as_the_pandas_merge_did(
    feedback: pd.DataFrame, orders: pd.DataFrame, fact: pd.DataFrame, reach_days: int
) -> None:
    feedback = feedback.assign(order_id=feedback["feedback_id"].str.lower().str.upper())
    check = feedback_conservation(feedback, orders, fact, DAYS3, reach_days)
    per_day, outside = _reference_feedback(feedback, orders, fact, DAYS3, reach_days)
    assert {p.day: (p.element_count, p.unexpected_count) for p in check.partitions} == per_day
    assert check.metadata["feedback_outside_window"] == outside
    assert check.metadata["feedback_missing"] == sum(lost for _, lost in per_day.values())
