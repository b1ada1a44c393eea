"""Arrow's CSV parser reads a regular file as the same text cells as pandas; everything else goes to pandas."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from after_sales.landing import _regular_csv

PIECES = ["a", "1", "007", " ", ",", '"', '""', "\n", "\r\n", "\r", "中", "NA", "\t", "'", "=", "\u3000", "\x01"]


def _pandas(text: str) -> pd.DataFrame | None:
    """The reader's pandas path; None where it refuses the file."""
    try:
        raw = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error):
        return None
    return raw.astype("string").fillna("")  # as the reader does next


def _same_as_pandas(text: str) -> None:
    fast = _regular_csv(text)
    if fast is None:
        return
    slow = _pandas(text)
    assert slow is not None, f"Arrow read a file pandas refuses: {text!r}"
    fast = fast.astype("string").fillna("")
    assert fast.shape == slow.shape and (fast.to_numpy() == slow.to_numpy()).all(), text


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_any_text_arrow_reads_is_read_as_pandas_reads_it(text: str) -> None:
    _same_as_pandas(text)


CELL = st.lists(st.sampled_from(["a", "中", " ", '"', ",", "\n", "\r\n", "0", "07", "é", "'", "="]), max_size=5).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 5).flatmap(lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), min_size=1, max_size=6)),
    st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    st.sampled_from(["\n", "\r\n"]),
    st.integers(0, 200),
)
def test_exports_written_by_a_csv_writer_and_cut_anywhere(
    rows: list[list[str]], quoting: int, newline: str, cut: int
) -> None:
    buf = io.StringIO()
    csv.writer(buf, quoting=quoting, lineterminator=newline).writerows(rows)
    text = buf.getvalue()
    _same_as_pandas(text)
    _same_as_pandas(text[: min(cut, len(text))])  # an export cut off mid-way


def test_short_lines_nul_and_open_quotes_are_left_to_pandas() -> None:
    assert _regular_csv("a,b\n\n1,2\n").iloc[1].tolist() == ["", ""]  # a blank line is a row, as in pandas
    assert _regular_csv("a,b\n1\n") is None
    assert _regular_csv("a,b\n1,\x002\n") is None
    assert _regular_csv('a,b\n1,"cut off') is None
    assert _regular_csv('a,b\n1,"x ""y"""\n').iloc[1].tolist() == ["1", 'x "y"']
