"""The marts against the oracle captured from the former pandas marts (tests/fixtures/marts_oracle/README.md)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.arrow_frames import arrow_to_frame, frame_to_arrow
from after_sales.tables import FCT_ORDER_FEEDBACK, PROBLEM_ORDERS, WORK_ORDERS, TableSpec
from after_sales.transforms.marts import (
    FEEDBACK_IDS,
    WORK_ORDER_FRAME_COLUMNS,
    build_order_feedback,
    build_problem_orders,
    build_work_orders,
    locate_causes,
)
from after_sales.transforms.rules import CauseRules, load_cause_rules, load_service_rules

ORACLE = Path(__file__).parent / "fixtures" / "marts_oracle"
TZ = "Asia/Shanghai"
START = dt.date(2026, 10, 1)
CASES = {
    "sample": (START, dt.date(2026, 10, 6), (), pd.Timestamp("2026-10-08 12:00", tz=TZ)),
    "window": (dt.date(2026, 10, 2), dt.date(2026, 10, 4), (), None),
    "duplicates": (START, dt.date(2026, 10, 5), (), pd.Timestamp("2026-10-03 00:00", tz=TZ)),
    "marketplaces": (START, dt.date(2026, 10, 6), ("tmall", "jd"), pd.Timestamp("2026-10-20 00:00", tz=TZ)),
    "scoped": (START, dt.date(2026, 10, 6), ("tmall",), None),
    "empty_feedback": (START, dt.date(2026, 10, 3), (), None),
    "empty": (START, dt.date(2026, 10, 3), (), None),
}


def expected(case: str, spec: TableSpec) -> pd.DataFrame:
    """The oracle rows of one table, typed by its spec."""
    return arrow_to_frame(spec, pq.read_table(ORACLE / case / f"{spec.name}.parquet"), TZ)


def typed(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """A built frame after the round trip through its table spec (as the warehouse stores it)."""
    return arrow_to_frame(spec, frame_to_arrow(spec, frame[spec.column_names]), TZ)


@pytest.mark.parametrize("case", sorted(CASES))
def test_marts_equal_the_oracle(case: str) -> None:
    start, end, marketplaces, as_of = CASES[case]
    orders = pd.read_parquet(ORACLE / case / "orders.parquet")
    feedback = pd.read_parquet(ORACLE / case / "feedback.parquet")
    rules = load_cause_rules()
    fact = build_order_feedback(orders, feedback, start, end, rules.complaint_issue_types, marketplaces)
    pd.testing.assert_frame_equal(typed(FCT_ORDER_FEEDBACK, fact), expected(case, FCT_ORDER_FEEDBACK))
    problems = build_problem_orders(fact, rules)
    pd.testing.assert_frame_equal(typed(PROBLEM_ORDERS, problems), expected(case, PROBLEM_ORDERS))
    work = build_work_orders(problems, load_service_rules(), as_of)
    assert list(work.columns) == WORK_ORDER_FRAME_COLUMNS
    want = expected(case, WORK_ORDERS)
    pd.testing.assert_frame_equal(typed(WORK_ORDERS, work), want[WORK_ORDERS.column_names])
    assert all(type(ids) is list for ids in work[FEEDBACK_IDS])
    assert work[FEEDBACK_IDS].tolist() == [list(ids) for ids in want[FEEDBACK_IDS]]


def test_locate_causes_equal_the_oracle() -> None:
    cases = pd.read_parquet(ORACLE / "locate_causes.parquet")
    located = locate_causes(cases["issue_type"], cases["issue_description"], load_cause_rules())
    assert located["cause"].tolist() == cases["cause"].tolist()
    assert located["matched_causes"].tolist() == cases["matched_causes"].tolist()


def reference_causes(kind: str | None, text: str | None, rules: CauseRules) -> tuple[str, str]:
    """The rule table read literally: keywords as escaped Python regexes on the lower-cased text."""
    t, k = (text or "").lower(), (kind or "").lower()
    by_word = [bool(re.search("|".join(re.escape(w.lower()) for w in r.keywords), t)) for r in rules.causes]
    by_type = [k in r.issue_types for r in rules.causes]
    names = [r.cause for r in rules.causes]
    cause = next((n for n, w in zip(names, by_word, strict=True) if w), None)
    cause = cause or next((n for n, y in zip(names, by_type, strict=True) if y), rules.fallback)
    matched = [n for n, w, y in zip(names, by_word, by_type, strict=True) if w or y]
    return cause, ",".join(matched) or rules.fallback


_RULES = load_cause_rules()
_WORDS = sorted({w for r in _RULES.causes for w in r.keywords})
_TEXT = st.lists(
    st.one_of(st.sampled_from(_WORDS).map(lambda w: w.upper() if len(w) % 2 else w), st.text(max_size=6)),
    max_size=4,
).map(" ".join)
_KIND = st.one_of(st.none(), st.sampled_from(["payment", "Return", "quality", "review", "", "LOGISTICS"]))


@given(st.lists(st.tuples(_KIND, st.one_of(st.none(), _TEXT)), min_size=1, max_size=20))
def test_locate_causes_read_the_rules_literally(rows: list[tuple[str | None, str | None]]) -> None:
    kinds, texts = zip(*rows, strict=True)
    located = locate_causes(pd.Series(kinds, dtype=object), pd.Series(texts, dtype=object), _RULES)
    want = [reference_causes(k, t, _RULES) for k, t in rows]
    assert list(zip(located["cause"], located["matched_causes"], strict=True)) == want
