"""Conservation checks between layers: set comparisons per day, counted as before and after the vectorized form."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from after_sales.checks.conservation import fact_conservation, problem_conservation, work_order_coverage

D1, D2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def _orders(ids: list[str], days: list[dt.date]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": pd.Series(ids, dtype="string"),
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
            "business_date": [D1, D1, D2],
            "has_feedback": [False, False, False],
        }
    )
    check = fact_conservation(orders, fact, [D1, D2])
    by_day = {p.day: (p.passed, p.element_count, p.unexpected_count) for p in check.partitions}
    assert by_day == {D1: (False, 2, 2), D2: (True, 1, 0)}  # B missing and X extra on D1


def test_problem_and_coverage_checks_on_empty_frames_pass() -> None:
    fact = pd.DataFrame({"feedback_id": pd.Series([], dtype="string"), "business_date": [], "is_problem": []})
    problems = pd.DataFrame({"feedback_id": pd.Series([], dtype="string"), "business_date": []})
    work_orders = pd.DataFrame({"feedback_ids": pd.Series([], dtype="string"), "business_date": []})
    assert problem_conservation(fact, problems, [D1]).passed
    assert work_order_coverage(problems, work_orders, [D1]).passed


def test_coverage_reports_problem_feedback_missing_from_work_orders() -> None:
    problems = pd.DataFrame({"feedback_id": pd.Series(["F1", "F2", "F3"], dtype="string"), "business_date": [D1] * 3})
    # feedback_ids is a list per work order (issue 13: never a comma-joined string)
    work_orders = pd.DataFrame({"feedback_ids": [["F1", "F3"], ["F9"]], "business_date": [D1] * 2})
    [part] = work_order_coverage(problems, work_orders, [D1]).partitions
    assert (part.passed, part.element_count, part.unexpected_count) == (False, 3, 1)
