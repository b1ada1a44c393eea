"""Landed text rows to typed staging rows; every row is staged or quarantined with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from after_sales.tables import QUARANTINE, STG_BEHAVIOUR, STG_EVENTS, STG_FEEDBACK, STG_ORDERS, TableSpec
from after_sales.transforms.arrow_ops import has_duplicates
from after_sales.transforms.parsing import (
    AMOUNT_LIMIT,
    blank,
    business_dates,
    not_storable,
    parse_booleans,
    parse_money,
    parse_numbers,
    parse_timestamps,
    parse_whole_numbers,
    printable,
)
from after_sales.transforms.sql_models import POSITION, run_model, to_arrow
from after_sales.vocabulary import EVENT_TYPES, ORDER_STATUSES, PAYMENT_RESULTS

ORDERS_REQUIRED = ("order_id", "created_at", "amount", "status", "channel")
ORDERS_OPTIONAL = ("user", "product", "quantity", "payment_method", "status_raw")
FEEDBACK_REQUIRED = ("feedback_id", "order_id", "created_at", "rating", "issue_type")
FEEDBACK_OPTIONAL = (
    "issue_description",
    "first_response_at",
    "resolved_at",
    "resolution",
    "reopened",
    "refund_amount",
    "refund_status",
    "refund_status_raw",
    "channel",
)
BEHAVIOUR_REQUIRED = ("session_id", "visitor_id", "started_at")
BEHAVIOUR_OPTIONAL = ("ended_at", "pages", "submitted_after_sales_form")
EVENTS_REQUIRED = ("event_id", "visitor_id", "occurred_at", "event_type")
EVENTS_OPTIONAL = ("session_id", "user_id", "order_id", "page", "search_query", "result", "reason_code")


class LandingFileError(ValueError):
    """A whole landed file cannot be staged; the message names the file (and row and column if known)."""


@dataclass(frozen=True)
class LandedFile:
    """The text rows of one landed file, with source_row numbers."""

    source: str
    landing_date: dt.date
    path: str
    frame: pd.DataFrame


@dataclass
class StagingResult:
    """Staged rows, quarantined rows and the counts that must add up."""

    rows: pd.DataFrame
    quarantined: pd.DataFrame
    rows_read: int
    duplicates_removed: int
    warnings: list[str] = field(default_factory=list)
    rows_read_by_day: dict[dt.date, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        """Rows read equal rows staged plus rows quarantined (duplicates are quarantined too)."""
        return self.rows_read == len(self.rows) + len(self.quarantined)


@dataclass(frozen=True)
class StagingContext:
    """What a staging transform needs to know beyond the rows."""

    timezone: str
    late_arrival_days: int


class _Rejector:
    """Collects row-rule rejections; each row is rejected at most once, by the first rule it breaks."""

    def __init__(self, landed: LandedFile) -> None:
        self.landed = landed
        self.frame = landed.frame
        self.alive = pd.Series(True, index=self.frame.index)
        self.parts: list[pd.DataFrame] = []

    def reject(self, mask: pd.Series, rule: str, column: str | None, message: str) -> None:
        hit = mask.fillna(False).astype(bool) & self.alive
        if not hit.any():
            return
        rows = self.frame.loc[hit]
        where = f"{self.landed.path} row " + rows["source_row"].astype(str)
        if column is not None and column not in rows.columns:  # an optional column the file does not have
            reason = where + f", column {column} (not in the file): {message} ''"
        elif column is not None:
            value = printable(rows[column].astype("string").fillna(""))
            reason = where + f", column {column}: {message} '" + value + "'"
        else:
            reason = where + f": {message}"
        data_cols = [c for c in self.frame.columns if c != "source_row"]
        raw = rows[data_cols].astype("string").fillna("").to_json(orient="records", force_ascii=False, lines=True)
        self.parts.append(
            pd.DataFrame(
                {
                    "landing_date": self.landed.landing_date,
                    "source": self.landed.source,
                    "staging_table": "",
                    "source_file": self.landed.path,
                    "source_row": rows["source_row"].astype("int64").to_numpy(),
                    "column_name": column,
                    "rule": rule,
                    "reason": reason.to_numpy(),
                    "raw": raw.strip("\n").split("\n"),
                }
            )
        )
        self.alive &= ~hit

    def quarantined(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE.column_names})
        return pd.concat(self.parts, ignore_index=True)[QUARANTINE.column_names]


def _require_columns(landed: LandedFile, required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
    present = set(landed.frame.columns)
    missing = [c for c in required if c not in present]
    if missing:
        # The header's own names are not repeated: in a file without a header line they are its first data row.
        names = [c for c in landed.frame.columns if c != "source_row"]
        expected = sum(c in set(required) | set(optional) for c in names)
        raise LandingFileError(
            f"{landed.path}: required column(s) {', '.join(missing)} missing from the header (its first line has "
            f"{len(names)} field(s), {expected} of them expected column names; a file without a header line "
            "starts with data)"
        )
    known = set(required) | set(optional) | {"source_row"}
    extra = [c for c in landed.frame.columns if c not in known]
    return [f"{landed.path}: unknown column(s) {', '.join(extra)} ignored"] if extra else []


def _reject_duplicates(rej: _Rejector, id_column: str) -> int:
    """Reject exact copies of an earlier row, then repeats of a live row's id (sql/stg_duplicates.sql); the copies."""
    frame = rej.frame
    if not has_duplicates(frame[id_column]):  # a copy repeats its id too: no id repeats, nothing to find
        return 0
    data = [c for c in frame.columns if c != "source_row"]
    text = {f"c{i}": pa.array(frame[c].astype("string"), from_pandas=True) for i, c in enumerate(data)}
    flags = {"_alive": rej.alive.to_numpy(), "_blank_id": blank(frame[id_column]).to_numpy()}
    landed = pa.table({**text, "_id": text[f"c{data.index(id_column)}"], **flags, POSITION: np.arange(len(frame))})
    found = run_model("stg_duplicates", {"landed": landed}, {}).to_pandas()
    copies = _at(frame, found, "duplicate_row")
    rej.reject(copies, "duplicate_row", None, "exact copy of an earlier row of the same file")
    message = f"{id_column} repeated in the same file with other values"
    rej.reject(_at(frame, found, "duplicate_id"), "duplicate_id", id_column, message)
    return int(copies.sum())


def _at(frame: pd.DataFrame, found: pd.DataFrame, rule: str | None = None) -> pd.Series:
    """True at the row positions an SQL rule found (those of one rule, if given)."""
    hits = found[POSITION] if rule is None else found.loc[found["rule"] == rule, POSITION]
    return pd.Series(np.isin(np.arange(len(frame)), hits.to_numpy()), index=frame.index)


def _check_time(rej: _Rejector, column: str, parsed: pd.Series, ctx: StagingContext, business_date: pd.Series) -> None:
    raw = rej.frame[column]
    rej.reject(blank(raw), "missing_value", column, "required timestamp is empty")
    rej.reject(parsed.isna(), "unparseable_date", column, "cannot read timestamp")
    landing = pd.Timestamp(rej.landed.landing_date)
    days = (pd.to_datetime(business_date) - landing).dt.days
    rej.reject(days > 0, "future_date", column, f"after the landing date {rej.landed.landing_date}:")
    rej.reject(
        days < -ctx.late_arrival_days,
        "too_late",
        column,
        f"landed more than AFTER_SALES_LATE_ARRIVAL_DAYS={ctx.late_arrival_days} days after its business date:",
    )


def _optional(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def _text(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    return text.where(text != "")


def _business_date(ts: pd.Series) -> pd.Series:
    return business_dates(ts)


def _reject_unstorable_text(rej: _Rejector, columns: tuple[str, ...]) -> None:
    """A value PostgreSQL text cannot hold (NUL, a lone surrogate) quarantines its row, on every backend alike."""
    for column in columns:
        if column in rej.frame.columns:
            message = "text holds a character no warehouse text column can store (NUL or a lone surrogate):"
            rej.reject(not_storable(rej.frame[column]), "text_not_storable", column, message)


def _check_money(rej: _Rejector, column: str, what: str) -> pd.Series:
    """Exact amounts of a money column; bad ones are quarantined by rule, never rounded."""
    raw = _optional(rej.frame, column)
    money = parse_money(raw)
    rej.reject(money.unparseable, "unparseable_amount", column, f"{what} is not a number")
    rej.reject(
        money.out_of_range,
        "amount_out_of_range",
        column,
        f"{what} is infinite or not below {AMOUNT_LIMIT:,} (money is stored as numeric(18,2)):",
    )
    rej.reject(money.too_precise, "amount_too_precise", column, f"{what} has more than two decimals (never rounded):")
    rej.reject(money.values.lt(0), "negative_amount", column, f"{what} is negative")
    return money.values


def _finish(
    rej: _Rejector,
    spec: TableSpec,
    typed: pd.DataFrame,
    removed: int,
    warnings: list[str],
) -> StagingResult:
    landed = rej.landed
    rows = typed.loc[rej.alive].copy()
    rows["landing_date"] = landed.landing_date
    rows["source"] = landed.source
    rows["source_file"] = landed.path
    rows["source_row"] = landed.frame.loc[rej.alive, "source_row"].astype("int64")
    rows["business_date"] = rows["business_date"].dt.date
    return StagingResult(
        rows=rows[spec.column_names].reset_index(drop=True),
        quarantined=rej.quarantined(),
        rows_read=len(landed.frame),
        duplicates_removed=removed,
        warnings=warnings,
        rows_read_by_day={landed.landing_date: len(landed.frame)},
    )


def stage_orders(landed: LandedFile, ctx: StagingContext) -> StagingResult:
    """Type one landed orders file."""
    warnings = _require_columns(landed, ORDERS_REQUIRED, ORDERS_OPTIONAL)
    raw = landed.frame
    rej = _Rejector(landed)
    _reject_unstorable_text(rej, ORDERS_REQUIRED + ORDERS_OPTIONAL)
    rej.reject(blank(raw["order_id"]), "missing_id", "order_id", "order_id is empty")
    removed = _reject_duplicates(rej, "order_id")
    created = parse_timestamps(raw["created_at"], ctx.timezone)
    business = _business_date(created)
    _check_time(rej, "created_at", created, ctx, business)
    rej.reject(blank(raw["amount"]), "missing_value", "amount", "amount is empty")
    amount = _check_money(rej, "amount", "amount")
    qty, not_whole = parse_whole_numbers(_optional(raw, "quantity"))
    bad_qty = not_whole | qty.lt(1).fillna(False)
    rej.reject(bad_qty, "invalid_quantity", "quantity", "quantity is not a whole number >= 1")
    status = _text(raw["status"]).str.lower()
    rej.reject(~status.isin(ORDER_STATUSES), "unknown_status", "status", "unknown order status")
    rej.reject(blank(raw["channel"]), "missing_value", "channel", "channel is empty")
    status_raw = _text(_optional(raw, "status_raw")).fillna(_text(raw["status"]))
    typed = pd.DataFrame(
        {
            "order_id": _text(raw["order_id"]),
            "created_at": created,
            "business_date": business,
            "user_id": _text(_optional(raw, "user")),
            "product": _text(_optional(raw, "product")),
            "quantity": qty,
            "amount": amount,
            "payment_method": _text(_optional(raw, "payment_method")),
            "status": status,
            "status_raw": status_raw,
            "channel": _text(raw["channel"]).str.lower(),
        }
    )
    return _finish(rej, STG_ORDERS, typed, removed, warnings)


def stage_feedback(landed: LandedFile, ctx: StagingContext) -> StagingResult:
    """Type one landed feedback file (tickets, reviews, refunds)."""
    warnings = _require_columns(landed, FEEDBACK_REQUIRED, FEEDBACK_OPTIONAL)
    raw = landed.frame
    rej = _Rejector(landed)
    _reject_unstorable_text(rej, FEEDBACK_REQUIRED + FEEDBACK_OPTIONAL)
    rej.reject(blank(raw["feedback_id"]), "missing_id", "feedback_id", "feedback_id is empty")
    rej.reject(blank(raw["order_id"]), "missing_id", "order_id", "order_id is empty")
    removed = _reject_duplicates(rej, "feedback_id")
    created = parse_timestamps(raw["created_at"], ctx.timezone)
    business = _business_date(created)
    _check_time(rej, "created_at", created, ctx, business)
    issue_type = _text(raw["issue_type"]).str.lower()
    rating = parse_numbers(raw["rating"])
    rating_blank = blank(raw["rating"])
    rej.reject(rating_blank & (issue_type == "review"), "missing_rating", "rating", "a review needs a rating")
    rej.reject(~rating_blank & rating.isna(), "rating_not_numeric", "rating", "rating is not a number")
    rating_ok = (rating >= 1) & (rating <= 5) & (rating % 1 == 0)
    rej.reject(
        ~rating_blank & ~rating_ok,
        "rating_out_of_range",
        "rating",
        "rating is not a whole number from 1 to 5",
    )
    optional_times = {}
    # Midnight after the landing day; a midnight skipped by a DST start moves to the first real instant.
    export_end = (
        pd.Series([pd.Timestamp(landed.landing_date + dt.timedelta(days=1))])
        .dt.tz_localize(ctx.timezone, nonexistent="shift_forward", ambiguous=True)
        .iloc[0]
    )
    for column in ("first_response_at", "resolved_at"):
        text = _optional(raw, column)
        parsed = parse_timestamps(text, ctx.timezone)
        rej.reject(~blank(text) & parsed.isna(), "unparseable_date", column, "cannot read timestamp")
        rej.reject(parsed >= export_end, "future_date", column, f"after the landing date {landed.landing_date}:")
        rej.reject(parsed < created, "invalid_interval", column, "before the feedback was created:")
        optional_times[column] = parsed
    reopened_raw = _optional(raw, "reopened")
    reopened = parse_booleans(reopened_raw.fillna(""))
    rej.reject(reopened.isna(), "invalid_boolean", "reopened", "not a yes/no value")
    refund = _check_money(rej, "refund_amount", "refund amount")
    typed = pd.DataFrame(
        {
            "feedback_id": _text(raw["feedback_id"]),
            "order_id": _text(raw["order_id"]),
            "created_at": created,
            "business_date": business,
            "rating": rating.where(rating_ok).astype("Int64"),
            "issue_type": issue_type,
            "issue_description": _optional(raw, "issue_description").astype("string"),
            "first_response_at": optional_times["first_response_at"],
            "resolved_at": optional_times["resolved_at"],
            "resolution": _text(_optional(raw, "resolution")).str.lower(),
            "reopened": reopened.fillna(False),
            "refund_amount": refund,
            "refund_status": _text(_optional(raw, "refund_status")),
            "refund_status_raw": _text(_optional(raw, "refund_status_raw")).fillna(
                _text(_optional(raw, "refund_status"))
            ),
            "channel": _text(_optional(raw, "channel")).str.lower(),
        }
    )
    return _finish(rej, STG_FEEDBACK, typed, removed, warnings)


def stage_behaviour(landed: LandedFile, ctx: StagingContext) -> StagingResult:
    """Type one landed behaviour-log file."""
    warnings = _require_columns(landed, BEHAVIOUR_REQUIRED, BEHAVIOUR_OPTIONAL)
    raw = landed.frame
    rej = _Rejector(landed)
    _reject_unstorable_text(rej, BEHAVIOUR_REQUIRED + BEHAVIOUR_OPTIONAL)
    rej.reject(blank(raw["session_id"]), "missing_id", "session_id", "session_id is empty")
    rej.reject(blank(raw["visitor_id"]), "missing_id", "visitor_id", "visitor_id is empty")
    removed = _reject_duplicates(rej, "session_id")
    started = parse_timestamps(raw["started_at"], ctx.timezone)
    business = _business_date(started)
    _check_time(rej, "started_at", started, ctx, business)
    ended_raw = _optional(raw, "ended_at")
    ended = parse_timestamps(ended_raw, ctx.timezone)
    rej.reject(~blank(ended_raw) & ended.isna(), "unparseable_date", "ended_at", "cannot read timestamp")
    rej.reject(ended < started, "invalid_interval", "ended_at", "session ends before it starts:")
    pages, not_whole = parse_whole_numbers(_optional(raw, "pages"))
    rej.reject(
        not_whole | pages.lt(0).fillna(False),
        "invalid_number",
        "pages",
        "pages is not a whole number >= 0",
    )
    submitted = parse_booleans(_optional(raw, "submitted_after_sales_form").fillna(""))
    rej.reject(submitted.isna(), "invalid_boolean", "submitted_after_sales_form", "not a yes/no value")
    typed = pd.DataFrame(
        {
            "session_id": _text(raw["session_id"]),
            "visitor_id": _text(raw["visitor_id"]),
            "started_at": started,
            "ended_at": ended,
            "business_date": business,
            "pages": pages,
            "submitted_after_sales_form": submitted.fillna(False),
        }
    )
    return _finish(rej, STG_BEHAVIOUR, typed, removed, warnings)


def stage_events(landed: LandedFile, ctx: StagingContext) -> StagingResult:
    """Type one landed behaviour-event file."""
    warnings = _require_columns(landed, EVENTS_REQUIRED, EVENTS_OPTIONAL)
    raw = landed.frame
    rej = _Rejector(landed)
    _reject_unstorable_text(rej, EVENTS_REQUIRED + EVENTS_OPTIONAL)
    rej.reject(blank(raw["event_id"]), "missing_id", "event_id", "event_id is empty")
    rej.reject(blank(raw["visitor_id"]), "missing_id", "visitor_id", "visitor_id is empty")
    removed = _reject_duplicates(rej, "event_id")
    occurred = parse_timestamps(raw["occurred_at"], ctx.timezone)
    business = _business_date(occurred)
    _check_time(rej, "occurred_at", occurred, ctx, business)
    event_type = _text(raw["event_type"]).str.lower()
    rej.reject(~event_type.isin(EVENT_TYPES), "unknown_event_type", "event_type", "unknown event type")
    result = _text(_optional(raw, "result")).str.lower()
    is_payment = event_type == "payment_result"
    rej.reject(
        is_payment & ~result.isin(PAYMENT_RESULTS),
        "invalid_result",
        "result",
        "a payment_result needs result success or failure, got",
    )
    count, not_whole = parse_whole_numbers(result.where(event_type == "search"))
    rej.reject(
        (event_type == "search") & (not_whole | count.lt(0).fillna(False)),
        "invalid_number",
        "result",
        "a search result count is not a whole number >= 0:",
    )
    typed = pd.DataFrame(
        {
            "event_id": _text(raw["event_id"]),
            "session_id": _text(_optional(raw, "session_id")),
            "visitor_id": _text(raw["visitor_id"]),
            "user_id": _text(_optional(raw, "user_id")),
            "order_id": _text(_optional(raw, "order_id")),
            "occurred_at": occurred,
            "business_date": business,
            "event_type": event_type,
            "page": _text(_optional(raw, "page")),
            "search_query": _text(_optional(raw, "search_query")),
            "result": result,
            "result_count": count,
            "reason_code": _text(_optional(raw, "reason_code")),
        }
    )
    return _finish(rej, STG_EVENTS, typed, removed, warnings)


@dataclass(frozen=True)
class SourceKind:
    """A kind of landed rows: its staging table shape, id column and staging transform."""

    name: str
    spec: TableSpec
    id_column: str
    stage: Callable[[LandedFile, StagingContext], StagingResult]


KINDS: dict[str, SourceKind] = {
    "orders": SourceKind("orders", STG_ORDERS, "order_id", stage_orders),
    "feedback": SourceKind("feedback", STG_FEEDBACK, "feedback_id", stage_feedback),
    "behaviour": SourceKind("behaviour", STG_BEHAVIOUR, "session_id", stage_behaviour),
    "events": SourceKind("events", STG_EVENTS, "event_id", stage_events),
}


LINEAGE = ("landing_date", "source", "source_file", "source_row")


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _moved_to_quarantine(bad: pd.DataFrame, column: str | None, rule: str, reasons: pd.Series) -> pd.DataFrame:
    data_cols = [c for c in bad.columns if c not in LINEAGE]
    raw = bad[data_cols].astype("string").fillna("").to_json(orient="records", force_ascii=False, lines=True)
    return pd.DataFrame(
        {
            "landing_date": bad["landing_date"].to_numpy(),
            "source": bad["source"].to_numpy(),
            "staging_table": "",
            "source_file": bad["source_file"].to_numpy(),
            "source_row": bad["source_row"].astype("int64").to_numpy(),
            "column_name": column,
            "rule": rule,
            "reason": reasons.to_numpy(),
            "raw": raw.strip("\n").split("\n") if len(bad) else [],
        }
    )[QUARANTINE.column_names]


def _cross_file_duplicates(
    rows: pd.DataFrame, spec: TableSpec, id_column: str
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Quarantine rows whose id an earlier file of the same landing day staged (sql/stg_cross_file_duplicates.sql)."""
    data = [c for c in rows.columns if c not in LINEAGE]
    staged = to_arrow(spec, rows, [*data, "landing_date", "source_file", "source_row"], positions=True)
    staged = staged.rename_columns([f"c{i}" for i in range(len(data))] + staged.column_names[len(data) :])
    staged = staged.append_column("_id", staged.column(f"c{data.index(id_column)}"))
    found = run_model("stg_cross_file_duplicates", {"staged": staged}, {}).to_pandas()
    if found.empty:
        return rows, _empty(QUARANTINE.column_names), 0
    bad = rows.iloc[found[POSITION].to_numpy()]
    where = bad["source_file"] + " row " + bad["source_row"].astype(str)
    seen = pd.Series((found["first_file"] + " row " + found["first_row"].astype(str)).to_numpy(), index=bad.index)
    copy = (found["rule"] == "duplicate_row").to_numpy()
    reasons = (
        where + f", column {id_column}: '" + bad[id_column] + "' already staged from " + seen + " with other values"
    )
    parts = [
        _moved_to_quarantine(bad.loc[copy], None, "duplicate_row", (where + ": exact copy of " + seen)[copy]),
        _moved_to_quarantine(bad.loc[~copy], id_column, "duplicate_id", reasons[~copy]),
    ]
    kept = rows.loc[~_at(rows, found)].reset_index(drop=True)
    return kept, pd.concat([p for p in parts if len(p)], ignore_index=True), int(copy.sum())


def _ids_repeat_within_a_day(results: list[StagingResult], id_column: str) -> bool:
    """Whether an id occurs twice among the staged rows of one landing day: else no row is a cross-file duplicate."""
    by_day: dict[dt.date, list[pd.Series]] = {}
    for r in results:
        if len(r.rows_read_by_day) != 1:  # not one file's result: the SQL judges
            return True
        by_day.setdefault(next(iter(r.rows_read_by_day)), []).append(r.rows[id_column])
    return any(has_duplicates(pd.concat(ids) if len(ids) > 1 else ids[0]) for ids in by_day.values())


def combine(results: list[StagingResult], spec: TableSpec, id_column: str) -> StagingResult:
    """Concatenate the staging results of several files; an id staged twice on one landing day is quarantined."""
    if not results:
        return StagingResult(
            rows=_empty(spec.column_names),
            quarantined=_empty(QUARANTINE.column_names),
            rows_read=0,
            duplicates_removed=0,
        )
    rows = pd.concat([r.rows for r in results if len(r.rows)] or [results[0].rows], ignore_index=True)
    cross, exact = _empty(QUARANTINE.column_names), 0
    if _ids_repeat_within_a_day(results, id_column):  # a month of one file a day converts nothing
        rows, cross, exact = _cross_file_duplicates(rows, spec, id_column)
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


def quarantine_unknown_orders(
    result: StagingResult, orders: pd.DataFrame, days_before: int, days_after: int
) -> StagingResult:
    """Quarantine feedback (rule unknown_order) with no order landed days_before .. days_after its landing day."""
    rows = result.rows
    if rows.empty:
        return result
    feedback = to_arrow(STG_FEEDBACK, rows, ("order_id", "landing_date"), positions=True)
    inputs = {"feedback": feedback, "orders": to_arrow(STG_ORDERS, orders, ("order_id", "landing_date"))}
    found = run_model("stg_unknown_orders", inputs, {"days_before": days_before, "days_after": days_after})
    if not found.num_rows:
        return result
    unknown = _at(rows, found.to_pandas())
    searched = f"from {days_before} days before to {days_after} days after its landing day"
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
    return StagingResult(
        rows=rows.loc[~unknown].reset_index(drop=True),
        quarantined=quarantined,
        rows_read=result.rows_read,
        duplicates_removed=result.duplicates_removed,
        warnings=result.warnings,
        rows_read_by_day=result.rows_read_by_day,
    )
