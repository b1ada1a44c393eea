"""Staging's relational row rules (duplicates in a file, an id staged twice on one landing day, feedback of unknown
orders) against the pandas functions they replaced, kept here as the reference (hypothesis draws the files; the
properties are slow, the edge cases run in the quick loop)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.tables import QUARANTINE, STG_FEEDBACK, TableSpec
from after_sales.transforms.arrow_ops import isin
from after_sales.transforms.parsing import blank
from after_sales.transforms.staging import (
    FEEDBACK_REQUIRED,
    LINEAGE,
    LandedFile,
    StagingContext,
    StagingResult,
    _moved_to_quarantine,
    _reject_duplicates,
    _Rejector,
    combine,
    quarantine_unknown_orders,
    stage_feedback,
)

CTX = StagingContext("Asia/Shanghai", 7)
DAYS = (dt.date(2026, 10, 5), dt.date(2026, 10, 6))


# ---------------------------------------------------------------- the reference: the former pandas functions


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def ref_exact_copies(frame: pd.DataFrame, id_column: str, data_cols: list[str]) -> pd.Series:
    shared_id = frame[id_column].astype("string").duplicated(keep=False)
    exact = pd.Series(False, index=frame.index)
    exact[shared_id] = frame.loc[shared_id, data_cols].astype("string").duplicated(keep="first").to_numpy()
    return exact


def ref_reject_duplicates(rej: _Rejector, id_column: str) -> int:
    frame = rej.frame
    exact = ref_exact_copies(frame, id_column, [c for c in frame.columns if c != "source_row"])
    before = int(rej.alive.sum())
    rej.reject(exact, "duplicate_row", None, "exact copy of an earlier row of the same file")
    removed = before - int(rej.alive.sum())
    ids = frame[id_column].astype("string")
    same_id = ids.where(rej.alive & ~blank(frame[id_column])).duplicated(keep="first") & ids.notna()
    message = f"{id_column} repeated in the same file with other values"
    rej.reject(same_id & rej.alive, "duplicate_id", id_column, message)
    return removed


def ref_cross_file_duplicates(rows: pd.DataFrame, id_column: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    if rows.empty or rows["source_file"].nunique() < 2:
        return rows, _empty(QUARANTINE.column_names), 0
    key = ["landing_date", id_column]
    repeated = rows.duplicated(subset=key, keep="first")
    if not repeated.any():
        return rows, _empty(QUARANTINE.column_names), 0
    first = rows.loc[~repeated].set_index(key)[["source_file", "source_row"]]
    bad = rows.loc[repeated]
    origin = first.reindex(pd.MultiIndex.from_frame(bad[key]))
    exact = ref_exact_copies(rows, id_column, [c for c in rows.columns if c not in LINEAGE]) & repeated
    where = bad["source_file"] + " row " + bad["source_row"].astype(str)
    seen = origin["source_file"].to_numpy() + " row " + origin["source_row"].astype(str).to_numpy()
    exact_bad = exact.loc[repeated].to_numpy()
    parts = []
    if exact_bad.any():
        reasons = where[exact_bad] + ": exact copy of " + pd.Series(seen[exact_bad], index=where[exact_bad].index)
        parts.append(_moved_to_quarantine(bad.loc[exact_bad], None, "duplicate_row", reasons))
    if (~exact_bad).any():
        other = bad.loc[~exact_bad]
        reasons = (
            where[~exact_bad]
            + f", column {id_column}: '"
            + other[id_column]
            + "' already staged from "
            + pd.Series(seen[~exact_bad], index=other.index)
            + " with other values"
        )
        parts.append(_moved_to_quarantine(other, id_column, "duplicate_id", reasons))
    return rows.loc[~repeated].reset_index(drop=True), pd.concat(parts, ignore_index=True), int(exact_bad.sum())


def ref_combine(results: list[StagingResult], spec: TableSpec, id_column: str) -> StagingResult:
    if not results:
        return StagingResult(_empty(spec.column_names), _empty(QUARANTINE.column_names), 0, 0)
    rows = pd.concat([r.rows for r in results if len(r.rows)] or [results[0].rows], ignore_index=True)
    rows, cross, exact = ref_cross_file_duplicates(rows, id_column)
    quarantined = [r.quarantined for r in results if len(r.quarantined)] + ([cross] if len(cross) else [])
    by_day: dict[dt.date, int] = {}
    for r in results:
        for day, n in r.rows_read_by_day.items():
            by_day[day] = by_day.get(day, 0) + n
    return StagingResult(
        rows=rows,
        quarantined=pd.concat(quarantined, ignore_index=True) if quarantined else _empty(QUARANTINE.column_names),
        rows_read=sum(r.rows_read for r in results),
        duplicates_removed=sum(r.duplicates_removed for r in results) + exact,
        warnings=[w for r in results for w in r.warnings],
        rows_read_by_day=by_day,
    )


def ref_quarantine_unknown_orders(
    result: StagingResult, orders: pd.DataFrame, days_before: int, days_after: int
) -> StagingResult:
    rows = result.rows
    if rows.empty:
        return result
    named = orders.loc[isin(orders["order_id"], rows["order_id"]), ["order_id", "landing_date"]]
    pairs = (
        rows[["order_id", "landing_date"]]
        .reset_index()
        .merge(named.drop_duplicates().rename(columns={"landing_date": "order_landed"}), on="order_id")
    )
    gap = (pd.to_datetime(pairs["order_landed"]) - pd.to_datetime(pairs["landing_date"])).dt.days
    found = pairs.loc[(gap >= -days_before) & (gap <= days_after), "index"].unique()
    unknown = ~rows.index.isin(found)
    searched = f"from {days_before} days before to {days_after} days after its landing day"
    if not unknown.any():
        return result
    bad = rows.loc[unknown]
    reasons = (
        bad["source_file"]
        + " row "
        + bad["source_row"].astype(str)
        + ", column order_id: no order '"
        + bad["order_id"]
        + f"' among orders landed {searched}"
    )
    moved = _moved_to_quarantine(bad, "order_id", "unknown_order", reasons)
    quarantined = moved if result.quarantined.empty else pd.concat([result.quarantined, moved], ignore_index=True)
    return dataclasses.replace(result, rows=rows.loc[~unknown].reset_index(drop=True), quarantined=quarantined)


# ---------------------------------------------------------------- drawn landed files


IDS = st.sampled_from(["F1", "F2", "F3", "F1 ", "", " ", None])
ORDER_IDS = st.sampled_from(["O1", "O2", "O3", "O4", "", None])
RATINGS = st.sampled_from(["5", "1", "", None])
ISSUES = st.sampled_from(["review", "complaint", "Complaint"])


@st.composite
def landed_file(draw: st.DrawFn, day: dt.date) -> LandedFile:
    """One feedback file of a landing day: repeated ids, exact copies, NA next to '' and ' '."""
    created = st.sampled_from([f"{day} 10:00:00", f"{day - dt.timedelta(days=1)} 23:30:00", "not a time"])
    row = st.tuples(IDS, ORDER_IDS, created, RATINGS, ISSUES, st.sampled_from(["web", "", None]))
    rows = draw(st.lists(row, max_size=8))
    copies = draw(st.lists(st.integers(0, max(len(rows) - 1, 0)), max_size=3)) if rows else []
    rows = rows + [rows[i] for i in copies]
    order = draw(st.permutations(range(len(rows))))
    frame = pd.DataFrame([rows[i] for i in order], columns=[*FEEDBACK_REQUIRED, "channel"], dtype="string")
    frame["source_row"] = range(1, len(frame) + 1)
    # Repeated names: two reads of one export file share their source_file.
    path = f"feedback/{day}/f{draw(st.integers(0, 2))}.csv"
    return LandedFile("feedback", day, path, frame)


@st.composite
def landed_days(draw: st.DrawFn) -> list[LandedFile]:
    """Several files per landing day, in landing order; a later file may re-export an earlier one's rows."""
    days = DAYS[: draw(st.integers(1, 2))]
    files = [draw(landed_file(day)) for day in days for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()) and len(files[0].frame):
        # Its rows shuffled, one of them changed: exact copies and ids with other values from one file.
        frame = files[0].frame.drop(columns="source_row")
        frame = frame.iloc[draw(st.permutations(range(len(frame))))].reset_index(drop=True)
        frame.loc[draw(st.integers(0, len(frame) - 1)), "issue_type"] = "refund"
        frame["source_row"] = range(1, len(frame) + 1)
        files.append(LandedFile("feedback", files[0].landing_date, "feedback/again.csv", frame))
    return files


def assert_same(got: StagingResult, want: StagingResult) -> None:
    pd.testing.assert_frame_equal(got.rows, want.rows)
    pd.testing.assert_frame_equal(got.quarantined, want.quarantined)
    assert (got.rows_read, got.duplicates_removed, got.warnings, got.rows_read_by_day) == (
        want.rows_read,
        want.duplicates_removed,
        want.warnings,
        want.rows_read_by_day,
    )


# ---------------------------------------------------------------- the properties


@pytest.mark.slow
@given(landed=landed_file(DAYS[0]), data=st.data())
def test_duplicates_in_a_file_equal_the_reference(landed: LandedFile, data: st.DataObject) -> None:
    """Exact copies and repeated ids of one file: the same rows rejected, by the same rule and reason."""
    got, want = _Rejector(landed), _Rejector(landed)
    killed = pd.Series(data.draw(st.lists(st.booleans(), min_size=len(landed.frame), max_size=len(landed.frame))))
    missing_first = data.draw(st.booleans(), "missing ids first")
    for rej in (got, want):
        if missing_first:
            rej.reject(blank(landed.frame["feedback_id"]), "missing_id", "feedback_id", "feedback_id is empty")
        rej.reject(killed.set_axis(landed.frame.index), "other_rule", None, "an earlier rule")
    assert _reject_duplicates(got, "feedback_id") == ref_reject_duplicates(want, "feedback_id")
    pd.testing.assert_series_equal(got.alive, want.alive)
    pd.testing.assert_frame_equal(got.quarantined(), want.quarantined())


@pytest.mark.slow
@given(files=landed_days())
def test_combined_files_equal_the_reference(files: list[LandedFile]) -> None:
    """An id staged twice on one landing day (from two files or two reads of one file): same rows kept."""
    results = [stage_feedback(landed, CTX) for landed in files]
    assert_same(combine(results, STG_FEEDBACK, "feedback_id"), ref_combine(results, STG_FEEDBACK, "feedback_id"))


@pytest.mark.slow
@given(files=landed_days(), days_before=st.integers(0, 31), days_after=st.integers(0, 7), data=st.data())
def test_unknown_orders_equal_the_reference(
    files: list[LandedFile], days_before: int, days_after: int, data: st.DataObject
) -> None:
    """Feedback whose order landed outside the window around its landing day is quarantined, as before."""
    # Orders landed on and just beyond the edges of the window of either landing day.
    gaps = [-days_before - 1, -days_before, -days_before + 1, 0, days_after, days_after + 1, days_after + 2]
    orders = data.draw(st.lists(st.tuples(st.sampled_from(["O1", "O2", "O3", "O4"]), st.sampled_from(gaps))))
    as_timestamps = data.draw(st.booleans(), "landing dates as timestamps")
    feedback = ref_combine([stage_feedback(landed, CTX) for landed in files], STG_FEEDBACK, "feedback_id")
    known = pd.DataFrame(
        {
            "order_id": pd.Series([o for o, _ in orders], dtype="string"),
            "landing_date": [DAYS[0] + dt.timedelta(days=d) for _, d in orders],
        }
    )
    if as_timestamps:  # as a warehouse may read the dates back
        known["landing_date"] = pd.to_datetime(known["landing_date"])
    assert_same(
        quarantine_unknown_orders(feedback, known, days_before, days_after),
        ref_quarantine_unknown_orders(feedback, known, days_before, days_after),
    )


def _feedback_file(path: str, rows: list[tuple[str, str, str]]) -> LandedFile:
    """A feedback file of DAYS[0] with rows (feedback_id, order_id, rating), reviews created that morning."""
    frame = pd.DataFrame(
        [(f, o, f"{DAYS[0]} 10:00:00", r, "review") for f, o, r in rows], columns=FEEDBACK_REQUIRED, dtype="string"
    )
    frame["source_row"] = range(1, len(frame) + 1)
    return LandedFile("feedback", DAYS[0], path, frame)


def test_a_later_file_with_an_id_repeated_before_a_copy_equals_the_reference() -> None:
    """Exact copies are quarantined first, then ids with other values, each in file and row order."""
    first = _feedback_file("a.csv", [("F1", "O1", "5"), ("F2", "O2", "4")])
    second = _feedback_file("b.csv", [("F2", "O2", "1"), ("F1", "O1", "5")])
    results = [stage_feedback(landed, CTX) for landed in (first, second)]
    got = combine(results, STG_FEEDBACK, "feedback_id")
    assert list(got.quarantined["rule"]) == ["duplicate_row", "duplicate_id"]
    assert_same(got, ref_combine(results, STG_FEEDBACK, "feedback_id"))


def test_orders_on_the_edges_of_the_window_equal_the_reference() -> None:
    """An order landed days_before before or days_after after the feedback's day counts; one day further does not."""
    feedback = combine([stage_feedback(_feedback_file("a.csv", [("F1", "O1", "5")]), CTX)], STG_FEEDBACK, "feedback_id")
    for gap, unknown in ((-4, True), (-3, False), (2, False), (3, True)):
        known = pd.DataFrame(
            {"order_id": pd.Series(["O1"], dtype="string"), "landing_date": [DAYS[0] + dt.timedelta(days=gap)]}
        )
        got = quarantine_unknown_orders(feedback, known, 3, 2)
        assert len(got.quarantined) == unknown
        assert_same(got, ref_quarantine_unknown_orders(feedback, known, 3, 2))
