"""Text and date columns go to Arrow without Python objects, with the same result as value by value."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from after_sales.arrow_frames import SchemaMismatchError, frame_to_arrow
from after_sales.tables import Column, TableSpec

D1, D2 = dt.date(2024, 3, 1), dt.date(2024, 12, 31)
SPEC = TableSpec(
    name="texts_and_dates",
    description="Text and date columns.",
    columns=(Column("txt", "text", "Text."), Column("d", "date", "Date.")),
)


def reference(frame: pd.DataFrame) -> pa.Table:
    """The value-by-value conversion frame_to_arrow used before: every pandas null as null."""
    arrays = [
        pa.array(frame[c].astype(object).where(frame[c].notna(), None), type=t)
        for c, t in (("txt", pa.string()), ("d", pa.date32()))
    ]
    return pa.Table.from_arrays(arrays, names=["txt", "d"])


def chunked_strings() -> pd.Series:
    """Arrow-backed strings in several chunks, as pd.concat leaves them."""
    parts = [pd.Series(v, dtype="string[pyarrow]") for v in (["a", None], ["中", ""], [None, "z"])]
    return pd.concat(parts, ignore_index=True)


TEXTS: dict[str, pd.Series] = {
    "object with None, NaN, pd.NA, NaT": pd.Series(["a", None, np.nan, pd.NA, pd.NaT, ""], dtype=object),
    "python-backed string": pd.Series(["a", None, "中", "", "b", None], dtype="string[python]"),
    "python-backed string, NaN missing": pd.Series(
        ["a", None, "中", "", "b", None], dtype=pd.StringDtype("python", na_value=np.nan)
    ),
    "arrow-backed string": pd.Series(["a", None, "中", "", "b", None], dtype="string[pyarrow]"),
    "arrow-backed string in chunks": chunked_strings(),
    "default str": pd.Series(["a", None, "中", "", "b", None]),
    "object, all missing": pd.Series([None, np.nan, pd.NA, pd.NaT, None, np.nan], dtype=object),
    "object, numpy missing values": pd.Series(
        ["a", np.float32("nan"), np.datetime64("NaT"), np.timedelta64("NaT"), "b", None], dtype=object
    ),
    "float, all NaN": pd.Series([np.nan] * 6),
}
DATES: dict[str, pd.Series] = {
    "object with None, NaN, pd.NA, NaT": pd.Series([D1, None, np.nan, pd.NA, pd.NaT, D2], dtype=object),
    "object, only dates": pd.Series([D1, D2, D1, D2, D1, D2], dtype=object),
    "object, timestamps and datetimes": pd.Series(
        [pd.Timestamp("2024-03-01"), dt.datetime(2024, 3, 2, 5), None, D2, pd.NaT, D1], dtype=object
    ),
    "object, all missing": pd.Series([None, np.nan, pd.NA, pd.NaT, None, np.nan], dtype=object),
    "object, numpy missing values": pd.Series(
        [D1, np.float32("nan"), np.datetime64("NaT"), np.timedelta64("NaT"), D2, None], dtype=object
    ),
    "float, all NaN": pd.Series([np.nan] * 6),
}


@pytest.mark.parametrize("text", list(TEXTS))
@pytest.mark.parametrize("date", list(DATES))
def test_text_and_date_columns_convert_as_value_by_value(text: str, date: str) -> None:
    frame = pd.DataFrame({"txt": TEXTS[text], "d": DATES[date]}, index=range(10, 16))
    got = frame_to_arrow(SPEC, frame)
    assert got.equals(reference(frame))
    assert all(got.column(c).num_chunks == 1 for c in got.column_names)


def test_empty_columns_convert() -> None:
    frame = pd.DataFrame({"txt": pd.Series(dtype=object), "d": pd.Series(dtype=object)})
    assert frame_to_arrow(SPEC, frame).equals(reference(frame))


@pytest.mark.parametrize(
    ("txt", "d"),
    [
        (pd.Series([1, "a"], dtype=object), pd.Series([D1, D2], dtype=object)),
        (pd.Series([1, 2]), pd.Series([D1, D2], dtype=object)),
        (pd.Series(["a", "b"]), pd.Series(["2024-03-01", None], dtype=object)),
        (pd.Series(["a", "b"]), pd.Series(["2024-03-01", None])),
        (pd.Series(["a", "b"]), pd.Series([np.datetime64("2024-03-01"), None], dtype=object)),
    ],
)
def test_values_that_are_not_text_or_dates_are_still_rejected(txt: pd.Series, d: pd.Series) -> None:
    with pytest.raises(SchemaMismatchError):
        frame_to_arrow(SPEC, pd.DataFrame({"txt": txt, "d": d}))
