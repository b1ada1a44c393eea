"""Injection of the bad rows real exports carry, one fault per row, recorded for the manifest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import after_sales.sample.texts as texts

MANIFEST_COLUMNS: tuple[str, ...] = ("source", "source_file", "source_row", "fault")
FAULT_TYPES: dict[str, tuple[str, ...]] = {
    "orders": ("duplicate_row", "missing_id", "unparseable_date", "negative_amount", "future_date"),
    "feedback": (
        "duplicate_row", "missing_id", "rating_out_of_range", "rating_not_numeric", "unparseable_date",
        "unknown_order", "future_date",
    ),
    "behaviour": ("duplicate_row", "missing_id", "unparseable_date", "future_date"),
}
ALL_FAULTS: tuple[str, ...] = (
    "duplicate_row", "missing_id", "rating_out_of_range", "rating_not_numeric", "unparseable_date",
    "negative_amount", "unknown_order", "future_date",
)
ID_COLUMN: dict[str, str] = {"orders": "order_id", "feedback": "feedback_id", "behaviour": "session_id"}
DATE_COLUMN: dict[str, str] = {"orders": "created_at", "feedback": "created_at", "behaviour": "started_at"}
# Timestamp columns moved together by future_date, so the row shows no other inconsistency.
SHIFTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("created_at",),
    "feedback": ("created_at", "first_response_at", "resolved_at"),
    "behaviour": ("started_at", "ended_at"),
}
FUTURE_DAYS = (30, 60)  # future_date rows are this many days (inclusive) after the folder date
TS_FORMAT = "%Y-%m-%d %H:%M:%S"


def inject_faults(
    frame: pd.DataFrame,
    source: str,
    day: dt.date,
    rng: np.random.Generator,
    rate: float,
    eligible: np.ndarray | None = None,
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Corrupt about rate of the rows of one landing file; return it and its (1-based row, fault) list."""
    n = len(frame)
    if rate <= 0 or n == 0:
        return frame, []
    k = int(rng.binomial(n, rate))
    if k == 0:
        return frame, []
    kinds = rng.choice(np.asarray(FAULT_TYPES[source]), size=k)
    n_dup = int((kinds == "duplicate_row").sum())
    mutations = kinds[kinds != "duplicate_row"]
    candidates = np.arange(n) if eligible is None else np.flatnonzero(eligible)
    mutations = mutations[: len(candidates)]
    targets = np.sort(rng.choice(candidates, len(mutations), replace=False))

    edits: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for kind in FAULT_TYPES[source]:
        rows = targets[mutations == kind]
        if len(rows):
            for name, values in _mutate(frame, source, day, kind, rows, rng).items():
                edits.setdefault(name, []).append((rows, values))
    out = frame.assign(**{name: _replace(frame[name], changes) for name, changes in edits.items()})

    is_good = np.ones(n, dtype=bool)
    is_good[targets] = False
    copies = np.sort(rng.choice(np.flatnonzero(is_good), min(n_dup, int(is_good.sum())), replace=False))
    if len(copies):
        out = pd.concat([out, out.iloc[copies]], ignore_index=True)
    bad = [(int(r) + 1, str(kind)) for r, kind in zip(targets, mutations, strict=True)]
    bad += [(n + j + 1, "duplicate_row") for j in range(len(copies))]
    return out, bad


def _replace(column: pd.Series, changes: list[tuple[np.ndarray, np.ndarray]]) -> pd.Series:
    """Copy of a text column with the values at the given 0-based rows replaced."""
    rows = np.concatenate([r for r, _ in changes])
    values = np.concatenate([np.asarray(v, dtype=object) for _, v in changes])
    order = np.argsort(rows)
    mask = np.zeros(len(column), dtype=bool)
    mask[rows] = True
    base = pa.chunked_array([pa.array(column.array, type=pa.string())]).combine_chunks()
    new = pc.replace_with_mask(base, pa.array(mask), pa.array(values[order], type=pa.string()))
    return pd.Series(pd.array(new, dtype="str"), index=column.index)


def _mutate(
    frame: pd.DataFrame, source: str, day: dt.date, kind: str, rows: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """New values, per column, of the given 0-based rows for one kind of fault."""
    n = len(rows)

    def old(name: str) -> np.ndarray:
        """Current values of a column at the rows."""
        return frame[name].iloc[rows].to_numpy(dtype=object)

    if kind == "missing_id":
        return {ID_COLUMN[source]: np.full(n, "", dtype=object)}
    if kind == "unparseable_date":
        choices = np.asarray([v.format(year=day.year) for v in texts.UNPARSEABLE_DATES], dtype=object)
        return {DATE_COLUMN[source]: choices[rng.integers(0, len(choices), n)]}
    if kind == "negative_amount":
        return {"amount": np.asarray(["-" + v for v in old("amount")], dtype=object)}
    if kind == "rating_out_of_range":
        return {"rating": np.asarray(texts.RATING_OUT_OF_RANGE, dtype=object)[rng.integers(0, 2, n)]}
    if kind == "rating_not_numeric":
        return {"rating": np.full(n, texts.RATING_NOT_NUMERIC, dtype=object)}
    if kind == "unknown_order":
        # Real order ids carry at least 6 sequence digits; 5 digits never match a generated order.
        prefix = "O" + day.strftime("%Y%m%d")
        ids = [f"{prefix}{v:05d}" for v in rng.integers(0, 100_000, n)]
        return {"order_id": np.asarray(ids, dtype=object)}
    if kind == "future_date":
        anchor = pd.to_datetime(pd.Series(old(DATE_COLUMN[source]), dtype="str"), format=TS_FORMAT)
        ahead = rng.integers(FUTURE_DAYS[0], FUTURE_DAYS[1] + 1, n)
        target = pd.Timestamp(day) + pd.to_timedelta(ahead, unit="D")
        shift = target.to_numpy() - anchor.dt.normalize().to_numpy()
        moved = {}
        for name in SHIFTED_COLUMNS[source]:
            values = pd.Series(old(name), dtype="str")
            parsed = pd.to_datetime(values.where(values != ""), format=TS_FORMAT)
            moved[name] = (parsed + shift).dt.strftime(TS_FORMAT).fillna("").to_numpy(dtype=object)
        return moved
    raise ValueError(f"unknown fault {kind!r}")
