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
