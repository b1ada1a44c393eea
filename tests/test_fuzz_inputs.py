"""Property tests (hypothesis): random bytes, random headers and random values per column through the readers and
the staging of every source. Whatever lands: no crash, only the documented whole-file errors (LandingFileError,
ExportFileError), and every row read is staged or quarantined (duplicates counted), in rows every warehouse stores.

`make test` runs the default profile (bounded); HYPOTHESIS_PROFILE=long runs many more examples (tests/conftest.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import string
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from after_sales.assets.marketplaces import STG_ORDER_ITEMS, stage_reads
from after_sales.landing import read_landed_file
from after_sales.marketplaces import SourceConfig, load_sources, read_export
from after_sales.marketplaces.config import KindConfig
from after_sales.marketplaces.reader import ExportFileError
from after_sales.resources.arrow_frames import frame_to_arrow
from after_sales.tables import QUARANTINE, TableSpec
from after_sales.transforms.parsing import not_storable
from after_sales.transforms.staging import (
    BEHAVIOUR_OPTIONAL,
    BEHAVIOUR_REQUIRED,
    EVENTS_OPTIONAL,
    EVENTS_REQUIRED,
    FEEDBACK_OPTIONAL,
    FEEDBACK_REQUIRED,
    KINDS,
    ORDERS_OPTIONAL,
    ORDERS_REQUIRED,
    LandingFileError,
    StagingContext,
    StagingResult,
    combine,
)
from after_sales.vocabulary import EVENT_TYPES, PAYMENT_RESULTS

DAY = dt.date(2026, 10, 5)
CTX = StagingContext("Asia/Shanghai", 7)
# A zone with a DST start at midnight: business dates must not build local midnights.
CTX_DST = StagingContext("America/Sao_Paulo", 7)
SOURCES = load_sources()
COLUMNS = {
    "orders": (ORDERS_REQUIRED, ORDERS_OPTIONAL),
    "feedback": (FEEDBACK_REQUIRED, FEEDBACK_OPTIONAL),
    "behaviour": (BEHAVIOUR_REQUIRED, BEHAVIOUR_OPTIONAL),
    "events": (EVENTS_REQUIRED, EVENTS_OPTIONAL),
}

# Values real exports carry, good and bad, next to random text.
TRICKY = [
    "",
    " ",
    "inf",
    "-Infinity",
    "NaN",
    "1e20",
    "1e308",
    "-1e-400",
    "9999999999999999.99",
    "99999999999999.99",
    "0.005",
    "1,309.00",
    "¥398.00",
    "-0.00",
    "١٢٣",
    "１２",
    "1759000000",
    "1759000000000",
    "20261005",
    "2026-10-05T10:00:00+08",
    "2026-10-05T10:00:00-05",
    "2026-10-05 10:00:00.1234567",
    "2026-10-05T10:00:00.123456789+08:00",
    "2026-10-05 10:00:00",
    "2026/10/05 10:00",
    "2026年10月5日 10:00:00",
    "2017-10-15 00:30:00",
    "2026-10-04 23:59:59.9999999",
    "0001-01-01",
    "9999-12-31 23:59:59",
    "2026-02-30",
    "true",
    "是",
    "否",
    "reopened",
    "completed",
    "delivered",
    "refund",
    "review",
    "complaint",
    "5",
    "2.0",
    "2.5",
    "0",
    "-3",
    "1e3",
    "a\x00b",
    "\x00",
    "=cmd|' /C calc'!A0",
    '"quoted, with comma"',
    "line\nbreak",
    "\r",
    "\ufeff",
    "\u2028",
    "O1",
    "O1 ",
    "F1",
]
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
VALUE = st.one_of(st.sampled_from(TRICKY), ANY_TEXT, st.integers(-(10**20), 10**20).map(str))
ID_VALUE = st.one_of(st.sampled_from(["O1", "O2", "F1", "S1", "", " O1", "O1\x00"]), VALUE)
TIMESTAMP = st.datetimes(dt.datetime(2026, 9, 20), dt.datetime(2026, 10, 6)).map(
    lambda t: t.strftime("%Y-%m-%d %H:%M:%S")
)


def _value_for(column: str) -> st.SearchStrategy[str]:
    """Mostly plausible values for the column, often broken ones."""
    if column.endswith("_id") or column in ("user", "channel"):
        return ID_VALUE
    if column.endswith("_at"):
        return st.one_of(TIMESTAMP, TIMESTAMP, VALUE)
    if column == "event_type":
        return st.one_of(st.sampled_from(sorted(EVENT_TYPES)), VALUE)
    if column == "result":
        return st.one_of(st.sampled_from(sorted(PAYMENT_RESULTS)), st.integers(-1, 99).map(str), VALUE)
    return VALUE


def _csv_bytes(
    header: list[str], rows: list[list[str]], newline: str, encoding: str, preamble: list[list[str]] | None = None
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerows(preamble or [])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace")  # gb18030 cannot write every character


def _landed(data: bytes, source: str, name: str = "fuzz.csv") -> tuple[Path, Path, tempfile.TemporaryDirectory[str]]:
    tmp = tempfile.TemporaryDirectory()
    landing = Path(tmp.name)
    folder = landing / source / DAY.isoformat()
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return landing, path, tmp


def _assert_storable(spec: TableSpec, result: StagingResult) -> None:
    """Conservation, the duplicate count, and rows and quarantine that cast to their tables with storable text."""
    assert result.balanced, (result.rows_read, len(result.rows), len(result.quarantined))
    assert result.duplicates_removed == int((result.quarantined["rule"] == "duplicate_row").sum())
    frame_to_arrow(spec, result.rows)
    frame_to_arrow(QUARANTINE, result.quarantined.assign(staging_table=spec.name))
    for frame in (result.rows, result.quarantined):
        for column in frame.columns:
            assert not not_storable(frame[column]).any(), column


def _stage_own(data: bytes, kind: str, ctx: StagingContext = CTX, suffix: str = ".csv") -> StagingResult | None:
    """Read and stage one own-source file; None when it is refused as a whole (the documented error)."""
    landing, path, tmp = _landed(data, kind, f"fuzz{suffix}")
    with tmp:
        try:
            landed = read_landed_file(landing, kind, DAY, path)
        except LandingFileError:
            return None
        try:
            result = KINDS[kind].stage(landed, ctx)
        except LandingFileError:
            return None
        assert result.rows_read == len(landed.frame)
        _assert_storable(KINDS[kind].spec, result)
        return result


# ---------------------------------------------------------------- own sources


@given(data=st.binary(max_size=400), kind=st.sampled_from(sorted(KINDS)), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_random_bytes(data: bytes, kind: str, suffix: str) -> None:
    """Any bytes: a staged file or a LandingFileError, never another exception."""
    _stage_own(data, kind, suffix=suffix)


@given(
    kind=st.sampled_from(sorted(KINDS)),
    extra=st.lists(st.one_of(ANY_TEXT, st.sampled_from(["amount", " amount", "", "source_row", "Amount"])), max_size=3),
    drop=st.integers(0, 6),
    rows=st.lists(st.lists(VALUE, max_size=12), max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    data=st.data(),
)
def test_random_headers(
    kind: str, extra: list[str], drop: int, rows: list[list[str]], newline: str, encoding: str, data: st.DataObject
) -> None:
    """Known columns shuffled, some dropped, random extra ones (repeated, blank, near-misses) and ragged rows."""
    required, optional = COLUMNS[kind]
    header = data.draw(st.permutations([*required, *optional]))[drop:] + extra
    _stage_own(_csv_bytes(header, rows, newline, encoding), kind)


@st.composite
def _own_file(draw: st.DrawFn, kind: str) -> tuple[list[str], list[list[str]]]:
    required, optional = COLUMNS[kind]
    header = [*required, *draw(st.lists(st.sampled_from(optional), unique=True))]
    rows = draw(st.lists(st.tuples(*[_value_for(c) for c in header]).map(list), min_size=1, max_size=8))
    copies = draw(st.lists(st.integers(0, len(rows) - 1), max_size=2))
    return header, rows + [list(rows[i]) for i in copies]


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(data=st.data(), dst=st.booleans())
def test_random_values_per_column(kind: str, data: st.DataObject, dst: bool) -> None:
    """A valid header, values per column from plausible to hostile, exact copies: every row accounted for."""
    header, rows = data.draw(_own_file(kind))
    result = _stage_own(_csv_bytes(header, rows, "\n", "utf-8"), kind, CTX_DST if dst else CTX)
    assert result is not None  # a well-formed file with every required column is never refused


@given(data=st.data())
def test_files_of_one_day_combine_and_balance(data: st.DataObject) -> None:
    """Several files of a landing day: cross-file duplicate ids are quarantined, the day still balances."""
    results = []
    for _ in range(data.draw(st.integers(2, 3))):
        header, rows = data.draw(_own_file("orders"))
        staged = _stage_own(_csv_bytes(header, rows, "\n", "utf-8"), "orders")
        assert staged is not None
        results.append(staged)
    combined = combine(results, KINDS["orders"].spec, "order_id")
    _assert_storable(KINDS["orders"].spec, combined)


# ---------------------------------------------------------------- marketplace exports


def _stage_marketplace(data: bytes, source: SourceConfig, name: str = "fuzz.csv") -> None:
    """Read and stage one export; an ExportFileError refuses it, anything else must balance."""
    landing, path, tmp = _landed(data, source.name, name)
    with tmp:
        try:
            read = read_export(path, source, landing)
        except ExportFileError:
            return
        n = len(read.rows) + len(read.rejected) + read.blank_rows + read.dropped_summary_rows
        assert read.rows_read == n, (read.rows_read, n)
        results, item_rows, _ = stage_reads([(DAY, read)], source, CTX)
        for kind, staged in results.items():
            for result in staged:
                _assert_storable(KINDS[kind].spec, result)
        for rows in item_rows:
            frame_to_arrow(STG_ORDER_ITEMS, rows)
        # Every data row is staged or quarantined, or (items files) a line of the order-items table.
        accounted = sum(r.rows_read for staged in results.values() for r in staged)
        if read.kind == "items":
            accounted += sum(len(rows) for rows in item_rows)
        assert accounted == len(read.rows) + len(read.rejected)


@given(data=st.binary(max_size=400), platform=st.sampled_from(sorted(SOURCES)), xlsx=st.booleans())
def test_marketplace_random_bytes(data: bytes, platform: str, xlsx: bool) -> None:
    """Any bytes as a marketplace export: staged or an ExportFileError."""
    _stage_marketplace(data, SOURCES[platform], "fuzz.xlsx" if xlsx else "fuzz.csv")


def _marketplace_value(kc: KindConfig, field: str) -> st.SearchStrategy[str]:
    kind = kc.field_type(field)
    labels = list(kc.maps.get(field, {}))
    if kind == "id":
        return st.one_of(st.text(string.digits, min_size=6, max_size=19), st.sampled_from(['="123456789012"']), VALUE)
    if kind == "datetime":
        return st.one_of(TIMESTAMP, VALUE)
    if labels:
        return st.one_of(st.sampled_from(labels), VALUE)
    return VALUE


@given(platform=st.sampled_from(sorted(SOURCES)), data=st.data())
def test_marketplace_random_headers_and_values(platform: str, data: st.DataObject) -> None:
    """A kind's synonyms as the header (some missing, repeated or extra), values per field type, summary lines."""
    source = SOURCES[platform]
    kc = data.draw(st.sampled_from(list(source.kinds.values())))
    fields = data.draw(st.permutations(list(kc.columns)))
    fields = fields[: data.draw(st.integers(max(1, len(fields) - 2), len(fields)))]
    header = [data.draw(st.sampled_from(kc.columns[f])) for f in fields]
    header += data.draw(st.lists(st.one_of(ANY_TEXT, st.sampled_from([*header, "x\x00", ""])), max_size=2))
    strategies = [_marketplace_value(kc, f) for f in fields] + [VALUE] * (len(header) - len(fields))
    overflow = st.lists(VALUE, max_size=2)  # fields beyond the header: wrong_field_count
    rows = data.draw(st.lists(st.tuples(st.tuples(*strategies), overflow).map(lambda r: [*r[0], *r[1]]), max_size=8))
    rows += data.draw(st.lists(st.sampled_from([["合计: 3"], [], ["共 3 条"]]), max_size=2))
    preamble = data.draw(st.lists(st.lists(ANY_TEXT, max_size=2), max_size=2))
    encoding = data.draw(st.sampled_from(source.encodings))
    _stage_marketplace(_csv_bytes(header, rows, "\n", encoding, preamble), source)


def test_harness_stages_a_valid_file() -> None:
    """Sanity check of the harness: a valid orders file stages its one row."""
    header = [*ORDERS_REQUIRED]
    data = _csv_bytes(header, [["O1", "2026-10-05 10:00:00", "1.00", "completed", "web"]], "\n", "utf-8")
    result = _stage_own(data, "orders")
    assert result is not None and len(result.rows) == 1 and pd.isna(result.rows["user_id"].iloc[0])
